//! The one error type of the model module: unknown names, weights that don't fit the
//! architecture, input specs that don't fit a graph, and graphs that cannot be built or run.

use super::ModelId;

/// Why a model name, a layer name, a set of weights or an input was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The text names no model that Microscope knows.
    #[error(
        "unknown model `{0}` (known: efficientnet-lite0, efficientnet-lite1, efficientnet-lite2)"
    )]
    UnknownModel(String),
    /// The weights lack a tensor that the architecture needs.
    #[error("the weights have no tensor `{name}`, which {model} needs")]
    MissingTensor {
        /// The model the weights were checked against.
        model: ModelId,
        /// The missing tensor's name, e.g. `_blocks.3._depthwise_conv.weight`.
        name: String,
    },
    /// A tensor has another shape than the architecture needs.
    #[error("tensor `{name}` has shape {actual:?} but {model} needs {expected:?}")]
    WrongShape {
        /// The model the weights were checked against.
        model: ModelId,
        /// The tensor's name.
        name: String,
        /// The shape the architecture needs.
        expected: Vec<usize>,
        /// The shape found in the weights.
        actual: Vec<usize>,
    },
    /// The text is not of the form of any layer name.
    #[error(
        "`{0}` is not a layer name (stem, blocks.N.expand, blocks.N.depthwise, \
         blocks.N.project, blocks.N, head or logits)"
    )]
    InvalidLayerName(String),
    /// The model has no layer of that name in its catalogue (for an organism: a block index
    /// past the end, `expand` of a block without expansion, `project` of a block without a
    /// skip).
    #[error("model `{model}` has no layer `{layer}`")]
    UnknownLayer {
        /// The model's id.
        model: String,
        /// The name asked for.
        layer: String,
    },
    /// The input spec does not fit the graph's declared input.
    #[error("the input spec does not fit the graph's input {declared}: {reason}")]
    InputSpec {
        /// The graph's declared input shape, in words.
        declared: String,
        /// What does not fit.
        reason: String,
    },
    /// The weights do not fit a model built in code (a missing or misshapen tensor).
    #[error("the weights do not fit `{model}`: {reason}")]
    Weights {
        /// The model's id.
        model: String,
        /// What does not fit.
        reason: String,
    },
    /// The graph cannot be built, analysed or run (see [`crate::graph::GraphError`]).
    #[cfg(feature = "ml")]
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    /// The ONNX file cannot be imported (see [`crate::onnx::OnnxError`]).
    #[cfg(feature = "ml")]
    #[error(transparent)]
    Onnx(#[from] crate::onnx::OnnxError),
}
