//! ONNX import: an `.onnx` file's bytes into a [`Graph`](crate::graph::Graph).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use burn::prelude::*;
//! use microscope_core::onnx;
//!
//! let bytes = std::fs::read("model.onnx")?;
//! let graph = onnx::import(&bytes)?.fold_batch_norms()?;
//! let layers = graph.layers([224, 224])?;
//! let model = graph.to_device(&Device::flex());
//! # let _ = (layers, model);
//! # Ok(())
//! # }
//! ```
//!
//! The file is decoded with `prost` into the message subset of [`proto`]. Initializers and
//! `Constant` nodes become weights; the graph's first input that is not an initializer is the
//! NCHW float input. Supported operators (default domain): `Conv` (2-d, groups, dilations,
//! explicit pads or `auto_pad`), `BatchNormalization`, `Relu`, `Clip`, `Sigmoid`, `Add`,
//! `Sub`, `Mul`, `Div`, `Concat`, `MaxPool`, `AveragePool`, `GlobalAveragePool`, `Gemm` (with
//! a constant `B`), `MatMul`, `Flatten`, `Reshape` (constant shape), `Pad`, `Resize`,
//! `Upsample`, `Softmax`, `Identity`, `Dropout`, `Constant`, and more (the full table, with
//! attributes and limits, is [`support::OPERATORS`], rendered as docs/onnx-support.md).
//! Shape-only subgraphs fold to constants at import. Every unsupported operator the outputs
//! need is reported at once ([`OnnxError::UnsupportedOps`]); malformed files are typed
//! errors, never panics, and nothing is allocated in proportion to a size the file declares
//! without the data being there.

mod attributes;
mod compose;
mod error;
mod exponential;
mod fold;
mod import;
mod normalization;
mod ops;
pub mod proto;
mod split;
pub mod support;
mod tensor;

pub use error::{OnnxError, UnsupportedOp};
pub use import::{decode_model, import, import_at, import_model, opset};
