//! The atlas format: the static files that hold everything Microscope shows about models,
//! their layers and units, as `microscope build` writes them, `microscope verify` checks them
//! and the viewer reads them over HTTP. `docs/atlas-format.md` is the specification;
//! `docs/atlas.schema.json` the JSON Schema of its manifests.
//!
//! This module parses and validates bytes and computes paths; it does no I/O (the CLI reads
//! folders, the viewer fetches URLs), so it builds for wasm without the `ml` feature.
//!
//! - Manifests, one file each: [`AtlasIndex`] (`atlas.json`), [`ModelManifest`],
//!   [`LayerManifest`], [`UnitManifest`], [`PhotosManifest`], [`AnnotationsManifest`].
//! - Reading: [`parse`] (and the `parse_*` shorthands), with [`FormatVersion`] rules and the
//!   [`limits`]; errors are [`AtlasError`]s naming file and field.
//! - Writing: [`to_json_pretty`] and [`to_json_compact`], deterministic.
//! - Where files live: [`paths`]. Which paths are allowed at all: [`AssetPath`], [`Name`].
//! - Checking a whole atlas: [`verify()`] over an [`AtlasSource`].

pub mod annotations;
pub mod asset_path;
mod bounded;
mod checker;
pub mod coverage;
mod depth;
pub mod error;
pub mod file;
pub mod image_header;
pub mod index;
mod json_layout;
mod kind;
pub mod layer;
pub mod limits;
pub mod manifest;
pub mod model;
pub mod name;
pub mod paths;
pub mod photos;
mod quote;
pub mod ranges;
pub mod sheet;
pub mod source;
pub mod technique;
pub mod unit;
pub mod verify;
pub mod version;
pub mod writer;

pub use annotations::{Annotation, AnnotationKind, AnnotationsManifest};
pub use asset_path::{AssetPath, PathError};
pub use coverage::TechniqueCounts;
pub use error::{AtlasError, Problem};
pub use file::{FileAsset, ImageAsset, Sha256Hex};
pub use image_header::{ImageContent, ImageFormat, ImageHeader, sniff};
pub use index::{AtlasIndex, ModelEntry};
pub use layer::{Coverage, LayerManifest, LayerSheets, UnitClass};
pub use manifest::{ListedAsset, Manifest, ManifestKind, Parsed, parse, parse_versioned, peek};
pub use model::{
    AxisField, BuildInfo, Checkpoint, Framing, GraphSummary, InputSpec, Labels, LayerInfo,
    ModelManifest, Provenance, ReceptiveField, WeightsProvenance,
};
pub use name::{Name, NameError};
pub use photos::{PhotoEntry, PhotosManifest};
pub use ranges::RangeSet;
pub use sheet::{Sheet, Tile};
pub use source::{AtlasSource, MemorySource, SourceError};
pub use technique::Technique;
pub use unit::{
    Circuits, ClassScore, Connection, DatasetExamples, Example, ExampleList, FeatureVisualizations,
    Histogram, LabelEvidence, PixelBox, Rendering, Statistic, UnitManifest, UnitPicture,
};
pub use verify::{
    DecodeImage, LayerReport, VerifyOptions, VerifyReport, check_asset, check_assets, verify,
};
pub use version::{FORMAT_VERSION, FormatVersion, Readability, Unreadable};
pub use writer::{to_json_compact, to_json_pretty};

/// Reads `atlas.json`; `file` names it in errors. See [`parse`].
pub fn parse_index(file: &str, bytes: &[u8]) -> Result<AtlasIndex, AtlasError> {
    parse(file, bytes)
}

/// Reads a `model.json`. See [`parse`].
pub fn parse_model(file: &str, bytes: &[u8]) -> Result<ModelManifest, AtlasError> {
    parse(file, bytes)
}

/// Reads a `layer.json`. See [`parse`].
pub fn parse_layer(file: &str, bytes: &[u8]) -> Result<LayerManifest, AtlasError> {
    parse(file, bytes)
}

/// Reads a `unit.json`. See [`parse`].
pub fn parse_unit(file: &str, bytes: &[u8]) -> Result<UnitManifest, AtlasError> {
    parse(file, bytes)
}

/// Reads `photos/photos.json`. See [`parse`].
pub fn parse_photos(file: &str, bytes: &[u8]) -> Result<PhotosManifest, AtlasError> {
    parse(file, bytes)
}

/// Reads `annotations.json`. See [`parse`].
pub fn parse_annotations(file: &str, bytes: &[u8]) -> Result<AnnotationsManifest, AtlasError> {
    parse(file, bytes)
}
