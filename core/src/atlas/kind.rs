//! [`ManifestKind`]: which manifest a file is, as its `kind` field says, and the size limit of
//! each kind. A leaf module, so that errors can name a kind without depending on the reader.

use std::fmt;

use super::limits::{
    MAX_ANNOTATIONS_BYTES, MAX_INDEX_BYTES, MAX_LAYER_BYTES, MAX_MODEL_BYTES, MAX_PHOTOS_BYTES,
    MAX_UNIT_BYTES,
};

/// The kinds of manifest, as their `kind` field names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// `atlas.json`: the models of the atlas.
    Index,
    /// `model.json`: one model, its layers, checkpoints and provenance.
    Model,
    /// `layer.json`: one layer at one checkpoint: coverage and sprite sheets.
    Layer,
    /// `unit.json`: one unit at one checkpoint: everything the atlas has for it.
    Unit,
    /// `photos/photos.json`: the photo corpus and its provenance.
    Photos,
    /// `annotations.json`: community labels and notes.
    Annotations,
}

impl ManifestKind {
    /// Every kind.
    pub const ALL: [Self; 6] =
        [Self::Index, Self::Model, Self::Layer, Self::Unit, Self::Photos, Self::Annotations];

    /// The `kind` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::Model => "model",
            Self::Layer => "layer",
            Self::Unit => "unit",
            Self::Photos => "photos",
            Self::Annotations => "annotations",
        }
    }

    /// The kind a `kind` value names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Largest file of this kind.
    pub fn max_bytes(self) -> u64 {
        match self {
            Self::Index => MAX_INDEX_BYTES,
            Self::Model => MAX_MODEL_BYTES,
            Self::Layer => MAX_LAYER_BYTES,
            Self::Unit => MAX_UNIT_BYTES,
            Self::Photos => MAX_PHOTOS_BYTES,
            Self::Annotations => MAX_ANNOTATIONS_BYTES,
        }
    }
}

impl fmt::Display for ManifestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
