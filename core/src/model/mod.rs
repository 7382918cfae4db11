//! The models Microscope visualises: EfficientNet-Lite0/1/2 (ImageNet-1k).
//!
//! - [`architecture`]: which models exist ([`ModelId`]), their stage tables and blocks, and
//!   the checkpoint tensors they need ([`Architecture::validate`]).
//! - [`layers`]: the layer catalogue users browse ([`LayerId`], [`LayerInfo`]): stable names,
//!   channels, spatial sizes and receptive fields.
//! - [`receptive_field`]: receptive-field arithmetic.
//! - [`padding`]: TensorFlow SAME padding.
//! - `efficientnet` (feature `ml`): the network in burn ([`Model`]), with batch norms folded
//!   into the convolutions and a forward pass that returns intermediate layers and stops at the
//!   deepest one requested ([`Activations`]).
//!
//! Everything but the network is plain data and builds without burn, so the viewer can list
//! layers without the tensor code.

pub mod architecture;
mod error;
#[cfg(feature = "ml")]
mod fold;
pub mod layers;
pub mod padding;
pub mod receptive_field;

#[cfg(feature = "ml")]
mod activations;
#[cfg(feature = "ml")]
mod efficientnet;
#[cfg(all(test, feature = "ml"))]
mod reference_tests;

pub use architecture::{
    Architecture, BN_EPS, BlockSpec, ExpectedTensor, HEAD_CHANNELS, INPUT_CHANNELS, ModelId,
    NUM_CLASSES, STEM_CHANNELS, STEM_KERNEL, STEM_STRIDE, Stage,
};
pub use error::ModelError;
pub use layers::{LayerId, LayerInfo};
pub use receptive_field::ReceptiveField;

#[cfg(feature = "ml")]
pub use activations::Activations;
#[cfg(feature = "ml")]
pub use efficientnet::Model;
