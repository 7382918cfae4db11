//! The one error type of ONNX import.

use crate::graph::GraphError;
pub use crate::model_import::UnsupportedOp;
use crate::model_import::unsupported_report;

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
    #[error("{}", unsupported_report(*.opset, .ops))]
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
