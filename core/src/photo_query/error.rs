//! Why a photo query failed.

use crate::fv::RenderError;
use crate::fv::validate::ObjectiveError;
use crate::model::ModelError;
use crate::preprocess::PreprocessError;

use super::limits::PhotoError;

/// Why a photo could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum PhotoQueryError {
    /// The photo is unusable (too large, not an image).
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The layer or unit asked for is not in the model.
    #[error(transparent)]
    Query(#[from] ObjectiveError),
    /// The photo could not be framed for the model.
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Measuring failed (a forward pass, the device).
    #[error(transparent)]
    Measure(#[from] RenderError),
}
