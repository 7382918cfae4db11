//! (ml) Training a model organism here: the fashion-cnn (a small CNN for Fashion-MNIST), its
//! seeded initialisation and data order, Adam, the training loop on any burn device with
//! autodiff, the trained weights as a [`Graph`](crate::graph::Graph), and the manifest of a
//! run's checkpoints.

mod adam;
mod error;
pub(crate) mod fashion_cnn;
mod graph;
mod manifest;
mod rng;
mod trainer;

pub use adam::{Adam, AdamConfig};
pub use error::TrainError;
pub use fashion_cnn::{
    FASHION_CNN_ID, FASHION_CNN_PARAMETERS, fashion_cnn_forward, fashion_cnn_input_spec,
    init_fashion_cnn, normalise_pixels,
};
pub use graph::{fashion_cnn_graph, fashion_cnn_model};
pub use manifest::{
    CheckpointRecord, DatasetRecord, TrainManifest, TrainSettings, checkpoint_file,
    checkpoint_name, log_spaced_checkpoints, parse_checkpoint_name,
};
pub use rng::{BatchOrder, SplitMix64};
pub use trainer::{Trainer, accuracy};
