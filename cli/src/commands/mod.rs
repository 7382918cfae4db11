//! One module per subcommand.

pub mod activation;
pub mod bench;
pub mod classify;
pub mod fetch;
pub mod import_onnx;
pub mod layers;
pub mod models;
pub mod render;
pub mod render_bench;
pub mod smoke;
pub mod train;
