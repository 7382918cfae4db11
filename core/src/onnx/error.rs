//! The one error type of ONNX import.

use crate::graph::GraphError;

/// Why an ONNX file could not be imported. Import never panics: every malformed, truncated,
/// hostile or unsupported file is one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OnnxError {
    /// The bytes are not an ONNX protobuf message (random bytes, a truncated file).
    #[error("not a valid ONNX file: {0}")]
    Decode(String),
    /// The model has no graph.
    #[error("the ONNX model has no graph")]
    MissingGraph,
    /// The graph has no input that is not an initializer.
    #[error("the ONNX graph has no input besides its initializers")]
    MissingInput,
    /// The input is not a float tensor of rank 4 (NCHW).
    #[error("graph input `{name}` is not an NCHW float tensor: {reason}")]
    InvalidInput {
        /// The input's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Operators that Microscope does not implement: every one the outputs need, listed at
    /// once.
    #[error("{}", unsupported_list(.opset, .ops))]
    UnsupportedOps {
        /// The default domain's operator set version the file declares.
        opset: i64,
        /// Each unsupported operator, in order of first use.
        ops: Vec<UnsupportedOp>,
    },
    /// A supported operator used in a way Microscope does not implement (a mode, an
    /// attribute value, a non-constant weight).
    #[error("node `{node}` ({op_type}): unsupported: {reason}")]
    Unsupported {
        /// The node.
        node: String,
        /// The operator.
        op_type: String,
        /// What is not supported.
        reason: String,
    },
    /// A node is malformed (a missing required attribute, an attribute of the wrong type,
    /// too few inputs).
    #[error("node `{node}` ({op_type}): {reason}")]
    InvalidNode {
        /// The node.
        node: String,
        /// The operator.
        op_type: String,
        /// What is wrong.
        reason: String,
    },
    /// A node reads a value that no node, initializer or graph input defines.
    #[error("node `{node}` reads `{input}`, which no node, initializer or graph input defines")]
    DanglingInput {
        /// The node.
        node: String,
        /// The missing value's name.
        input: String,
    },
    /// A weight input names a graph input that has no initializer.
    #[error("node `{node}` reads weight `{input}`, which has no initializer")]
    MissingInitializer {
        /// The node.
        node: String,
        /// The weight's name.
        input: String,
    },
    /// A graph output names a value that nothing defines.
    #[error("graph output `{0}` is not defined by any node, initializer or input")]
    DanglingOutput(String),
    /// Two nodes write the same value.
    #[error("value `{0}` is written by more than one node")]
    DuplicateValue(String),
    /// The nodes depend on each other in a cycle.
    #[error("the ONNX graph has a cycle through node `{0}`")]
    Cycle(String),
    /// A tensor (initializer or constant) is malformed or of an unsupported type.
    #[error("tensor `{name}`: {reason}")]
    InvalidTensor {
        /// The tensor's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The imported graph is inconsistent (shapes that do not fit, invalid parameters).
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// One operator Microscope does not implement, as used by a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedOp {
    /// The operator.
    pub op_type: String,
    /// Its domain (empty for the default ONNX domain).
    pub domain: String,
    /// How many nodes use it.
    pub count: usize,
    /// The first few of those nodes' names (or first outputs', if unnamed).
    pub nodes: Vec<String>,
}

/// The report of [`OnnxError::UnsupportedOps`]: one line per operator.
fn unsupported_list(opset: &i64, ops: &[UnsupportedOp]) -> String {
    let total: usize = ops.iter().map(|o| o.count).sum();
    let mut out = format!(
        "{} unsupported operator{} ({total} node{}, opset {opset}):",
        ops.len(),
        if ops.len() == 1 { "" } else { "s" },
        if total == 1 { "" } else { "s" },
    );
    for op in ops {
        let more = op.count.saturating_sub(op.nodes.len());
        let nodes = op.nodes.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "\n  `{}`{} x{} at {nodes}{}",
            op.op_type,
            domain_note(&op.domain),
            op.count,
            if more > 0 { format!(" and {more} more") } else { String::new() },
        ));
    }
    out
}

/// ` (domain `d`)` for a non-default domain.
fn domain_note(domain: &str) -> String {
    if domain.is_empty() || domain == "ai.onnx" {
        String::new()
    } else {
        format!(" (domain `{domain}`)")
    }
}
