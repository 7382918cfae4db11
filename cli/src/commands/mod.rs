//! One module per subcommand.

pub mod activation;
pub mod bench;
pub mod build;
pub mod classify;
pub mod compact;
pub mod devices;
pub mod fetch;
pub mod import_onnx;
pub mod inspect;
pub mod layers;
pub mod merge;
pub mod models;
pub mod onnx_ops;
pub mod publish;
pub mod render;
pub mod render_bench;
pub mod smoke;
pub mod train;
pub mod verify;
