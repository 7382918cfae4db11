//! Models: the built-in organisms (EfficientNet-Lite0/1/2, ImageNet-1k) and the one model
//! type that built-in and imported models share.
//!
//! - [`architecture`]: which organisms exist ([`ModelId`]), their stage tables and blocks, and
//!   the checkpoint tensors they need ([`Architecture::validate`]).
//! - [`layers`]: the stable layer names of the organisms ([`LayerId`]).
//! - `builder` (feature `ml`): an organism as a [`Graph`](crate::graph::Graph) from its
//!   checkpoint ([`efficientnet_graph`]), in the representation ONNX imports use.
//! - [`catalogue`] (feature `ml`): the curated layer catalogue of a graph.
//! - `loaded` (feature `ml`): [`Model`], a graph executable on a device with its catalogue,
//!   input spec and source; it implements [`Network`](crate::network::Network).
//! - `named` (feature `ml`): [`Model::from_named_weights`], a model by id (built-in or the
//!   fashion-cnn trained here) from its weights, as the in-browser renderer loads them.
//!
//! The architecture tables and layer names are plain data and build without burn, so the
//! viewer can use them without the tensor code.

pub mod architecture;
mod error;
pub mod layers;

#[cfg(feature = "ml")]
mod builder;
#[cfg(feature = "ml")]
pub mod catalogue;
#[cfg(feature = "ml")]
mod loaded;
#[cfg(feature = "ml")]
mod named;
#[cfg(all(test, feature = "ml"))]
mod reference_tests;

pub use architecture::{
    Architecture, BN_EPS, BlockSpec, ExpectedTensor, FASHION_CNN_ID, HEAD_CHANNELS, INPUT_CHANNELS,
    ModelId, NUM_CLASSES, STEM_CHANNELS, STEM_KERNEL, STEM_STRIDE, Stage,
    builds_from_named_weights,
};
pub use error::ModelError;
pub use layers::LayerId;

#[cfg(feature = "ml")]
pub use builder::{INPUT_NAME, efficientnet_graph};
#[cfg(feature = "ml")]
pub use loaded::{Model, ModelSource};
