//! What the viewer asks about a photo and what the renderer worker answers, carried by
//! [`RendererRequest::Photo`](crate::protocol::RendererRequest::Photo) and
//! [`RendererEvent::PhotoDone`](crate::protocol::RendererEvent::PhotoDone).

use serde::{Deserialize, Serialize};

use crate::UnitId;
use crate::protocol::Picture;

/// A photo file as the visitor chose it (PNG, JPEG or WebP bytes, decoded in the worker by
/// the same decoder as the CLI's); sent as a byte array (a `Uint8Array` in the browser).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoFile {
    /// The file's bytes.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for PhotoFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhotoFile({} bytes)", self.bytes.len())
    }
}

/// What to compute on a photo; any combination.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PhotoQuery {
    /// The model's top classes ([`crate::photo_query::classes`]).
    #[serde(default)]
    pub classes: bool,
    /// Rank every unit of this layer by its value on the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// This unit's activation map and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
}

/// What a photo job is doing, for its progress events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStage {
    /// Fetching or building the model.
    Model,
    /// Decoding the photo.
    Decode,
    /// The forward pass for the classes.
    Classes,
    /// The forward pass to the layer, and its units' values.
    Layer,
    /// One unit's map and value.
    Unit,
}

/// One class and the model's probability for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// Index of the class (into the model's labels, where it has them).
    pub class: u32,
    /// Its probability, `0..=1`.
    pub probability: f32,
}

/// One unit's value on the photo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitValue {
    /// The unit (channel) index.
    pub unit: u32,
    /// Its mean activation over the layer's positions (the channel objective).
    pub value: f32,
}

/// Every unit of a layer on the photo, strongest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRanking {
    /// The layer.
    pub layer: String,
    /// All its units, in non-increasing order of value (ties by unit index).
    pub units: Vec<UnitValue>,
}

/// One unit's activations over the positions of its layer, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationMap {
    /// Positions per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `width * height` values.
    pub values: Vec<f32>,
}

/// One unit on the photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitOnPhoto {
    /// The unit.
    pub unit: UnitId,
    /// Its value: the channel objective, exactly as `microscope activation` measures it.
    pub value: f32,
    /// Its largest activation over positions (what a `spatial_max` histogram counts).
    pub max: f32,
    /// Its smallest activation over positions.
    pub min: f32,
    /// The activations at every position.
    pub map: ActivationMap,
    /// The map as a translucent picture to lay over the photo ([`super::activation_overlay`]).
    pub overlay: Picture,
}

/// The answer to a [`PhotoQuery`]: the parts it asked for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PhotoAnswer {
    /// Width of the decoded photo in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// The top classes, most probable first.
    #[serde(default)]
    pub classes: Option<Vec<ClassScore>>,
    /// The layer's units ranked.
    #[serde(default)]
    pub ranking: Option<LayerRanking>,
    /// The unit's map and value.
    #[serde(default)]
    pub unit: Option<UnitOnPhoto>,
}
