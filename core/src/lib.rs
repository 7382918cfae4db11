//! Microscope's core: unit names, renderer messages and (with the `ml` feature) the tensor code
//! that models and feature visualization share between the native CLI and the browser renderer.
//!
//! The crate never touches the browser (no web-sys) and works on bytes rather than files, so the
//! same code runs natively and in wasm.

pub mod atlas;
#[cfg(feature = "ml")]
pub mod circuits;
#[cfg(feature = "ml")]
pub mod clip;
pub mod dataset;
#[cfg(feature = "ml")]
pub mod depthwise;
pub mod examples;
#[cfg(feature = "ml")]
pub mod fv;
#[cfg(feature = "ml")]
pub mod graph;
pub mod labels;
pub mod model;
pub mod model_import;
#[cfg(feature = "ml")]
pub mod network;
pub mod objective;
#[cfg(feature = "ml")]
pub mod onnx;
pub mod organisms;
pub mod photo_query;
pub mod photos;
#[cfg(feature = "ml")]
pub mod pointwise;
#[cfg(feature = "preprocess")]
pub mod preprocess;
pub mod protocol;
pub mod rng;
#[cfg(feature = "ml")]
pub mod smoke;
#[cfg(feature = "ml")]
pub mod train;
pub mod unit;
pub mod weights;

pub use unit::{UnitId, UnitIdError};
