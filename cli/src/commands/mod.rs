//! One module per subcommand.

pub mod bench;
pub mod classify;
pub mod fetch;
pub mod import_onnx;
pub mod layers;
pub mod models;
pub mod smoke;
