//! An ONNX file checked and imported as a model: the one path that `microscope import-onnx`
//! and the browser's renderer worker (a visitor's dropped `.onnx` file) share, so a file is
//! refused, reported and imported identically in both.
//!
//! `limits` and `messages` need no tensor code (the viewer uses them to refuse a file before
//! reading it and to show the worker's answer); `import` needs the `ml` feature.

#[cfg(feature = "ml")]
pub mod import;
pub mod limits;
pub mod messages;

#[cfg(feature = "ml")]
pub use import::{ImportedOnnx, import_onnx};
pub use limits::OnnxLimits;
pub use messages::{
    IMAGENET_MEAN, IMAGENET_STD, ImportError, ImportSettings, ImportStage, LayerSummary,
    ModelSummary, OnnxFile, UnsupportedOp, parse_input_size, unsupported_report,
};
