//! A visitor's photo through a model, as the browser asks for it and the CLI computes it: the
//! model's top classes (`microscope classify`'s preprocessing and probabilities), the units of
//! a layer ranked by their value on the photo, and one unit's activation map and value
//! (`microscope activation`'s measurement: the whole picture stretched to the input, the
//! channel objective). The renderer worker answers [`PhotoQuery`]s with these functions, so
//! the browser and the command line measure a photo identically. A photo is also a render's
//! picture (`picture`): the reference of a caricature, or where a DeepDream starts.
//!
//! `limits`, `messages` and `overlay` need no tensor code (the viewer uses them); `decode`
//! needs the `preprocess` feature; `classes`, `units`, `picture` and `error` the `ml` feature.

#[cfg(feature = "ml")]
pub mod classes;
#[cfg(feature = "preprocess")]
pub mod decode;
#[cfg(feature = "ml")]
pub mod error;
pub mod limits;
pub mod messages;
pub mod overlay;
#[cfg(feature = "ml")]
pub mod picture;
#[cfg(feature = "ml")]
pub mod units;

#[cfg(feature = "ml")]
pub use classes::{TOP_CLASSES, class_probabilities, classify_framing, model_input, top_classes};
#[cfg(feature = "preprocess")]
pub use decode::decode_photo;
#[cfg(feature = "ml")]
pub use error::PhotoQueryError;
pub use limits::{PhotoError, PhotoLimits};
pub use messages::{
    ActivationMap, ClassScore, LayerRanking, PhotoAnswer, PhotoFile, PhotoQuery, PhotoStage,
    UnitOnPhoto, UnitValue,
};
pub use overlay::activation_overlay;
#[cfg(feature = "ml")]
pub use picture::render_picture;
#[cfg(feature = "ml")]
pub use units::{check_query, layer_activations, rank_units, unit_on_photo};
