//! Why training, checkpoint loading or building the trained graph failed.

use crate::graph::GraphError;
use crate::model::ModelError;

/// Why training, loading a checkpoint or building the trained model failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A checkpoint lacks a tensor or has it in the wrong shape.
    #[error("checkpoint tensor `{name}`: {reason}")]
    Tensor {
        /// The tensor's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The training set is empty or a batch is empty.
    #[error("nothing to train on: {0}")]
    NoData(String),
    /// Reading a value back from the device failed.
    #[error("reading back from the device failed: {0}")]
    Readback(String),
    /// The backward pass gave no gradient for a parameter.
    #[error("the backward pass produced no gradient for `{0}`")]
    NoGradient(String),
    /// The loss is not finite.
    #[error("the loss became {0} at step {1}")]
    Diverged(f32, usize),
    /// A checkpoint name is not `step-N`.
    #[error("`{0}` is not a checkpoint name (expected `step-N`, e.g. `step-300`)")]
    CheckpointName(String),
    /// Building the graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Building the model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}
