//! The one error type of the model module: unknown names, weights that don't fit the
//! architecture, and inputs the network cannot take.

use super::{LayerId, ModelId};

/// Why a model name, a layer name, a set of weights or an input was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// Folding a batch norm into its convolution gave non-finite values (for example a negative
    /// running variance, or infinities in the checkpoint).
    #[error("batch norm `{name}` cannot be folded: it gives non-finite weights")]
    NonFiniteWeights {
        /// The batch norm's name prefix, e.g. `_blocks.3._bn1`.
        name: String,
    },
    /// The text is not of the form of any layer name.
    #[error(
        "`{0}` is not a layer name (stem, blocks.N.expand, blocks.N.depthwise, \
         blocks.N.project, blocks.N, head or logits)"
    )]
    InvalidLayerName(String),
    /// The layer name is well formed but the model has no such layer (a block index past the
    /// end, `expand` of a block without expansion, `project` of a block without a skip).
    #[error("{model} has no layer `{layer}`")]
    UnknownLayer {
        /// The model.
        model: ModelId,
        /// The layer asked for.
        layer: LayerId,
    },
    /// The input is not a non-empty batch of RGB images `[N, 3, H, W]`.
    #[error("input of shape {shape:?} is not a batch of RGB images [N, 3, H, W] with N, H, W > 0")]
    InvalidInput {
        /// The input's shape.
        shape: Vec<usize>,
    },
}
