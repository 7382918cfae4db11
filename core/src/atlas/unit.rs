//! `.../layers/<layer>/units/<unit>/unit.json`: everything the atlas holds for one unit at one
//! checkpoint. Each field is optional: what is absent is not in the atlas (yet), and the
//! viewer shows a placeholder or renders it in the browser.
//!
//! A builder writes a unit's folder as a unit: its images first, then `unit.json` (to a
//! temporary name, renamed into place), so a `unit.json` that parses means the unit is done and
//! a rerun skips it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::asset_path::AssetPath;
use super::bounded;
use super::checker::Checker;
use super::error::{AtlasError, Problem};
use super::file::ImageAsset;
use super::image_header::ImageContent;
use super::limits::{
    MAX_BUILD_RECORDS, MAX_CONNECTIONS, MAX_DIVERSITY, MAX_EXAMPLES, MAX_HISTOGRAM_BINS,
    MAX_SHORT_TEXT, MAX_TEXT, MAX_TOP_CLASSES, MAX_UNITS,
};
use super::manifest::{ListedAsset, Manifest, ManifestKind, run_checks};
use super::name::Name;
use super::paths;
use super::sheet::Sheet;
use super::technique::Technique;

/// The manifest of one unit at one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitManifest {
    /// The model.
    pub model: Name,
    /// The checkpoint.
    pub checkpoint: Name,
    /// The layer.
    pub layer: Name,
    /// The unit's index in the layer.
    pub unit: u32,
    /// A short label from the builder (community labels are in `annotations.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The evidence for a label from the unit's most correlated class, present whether or
    /// not it was strong enough to make `label` (the rule: `microscope_core::examples::
    /// label_rule`). Optional (absent in older atlases, which read as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_evidence: Option<LabelEvidence>,
    /// Feature visualizations.
    #[serde(default, skip_serializing_if = "FeatureVisualizations::is_empty")]
    pub feature_visualizations: FeatureVisualizations,
    /// Photos from the corpus that excite (top) and inhibit (bottom) the unit most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_examples: Option<DatasetExamples>,
    /// Distribution of the unit's activation over the corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
    /// Classes the unit drives most through the rest of the network, strongest first.
    #[serde(
        default,
        deserialize_with = "bounded::option_vec::<_, _, MAX_TOP_CLASSES>",
        skip_serializing_if = "Option::is_none"
    )]
    pub top_classes: Option<Vec<ClassScore>>,
    /// Strongest weights into the unit and out of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuits: Option<Circuits>,
    /// What built each part: a technique's name (`channel`, `dataset_examples` ...) and a
    /// fingerprint of the builder's settings that made it. A rebuild compares fingerprints to
    /// redo exactly what changed; a technique recorded but absent was built and gave nothing.
    /// Optional (absent in older atlases); viewers ignore it.
    #[serde(
        default,
        deserialize_with = "bounded::map::<_, _, MAX_BUILD_RECORDS>",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub built: BTreeMap<String, String>,
}

/// A unit's feature visualizations; each absent one is not in the atlas.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureVisualizations {
    /// Maximising the channel's mean over positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Rendering>,
    /// Maximising the channel at the centre position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neuron: Option<Rendering>,
    /// Minimising the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative: Option<Rendering>,
    /// Several images maximising the channel while differing from each other (usually 4).
    #[serde(
        default,
        deserialize_with = "bounded::vec::<_, _, MAX_DIVERSITY>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub diversity: Vec<Rendering>,
}

/// One rendered image and how it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendering {
    /// The image (WebP or PNG).
    pub image: ImageAsset,
    /// The objective, in the objective grammar (`blocks.8:50`, `-blocks.8:50`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<String>,
    /// Random seed of this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Optimisation steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u32>,
}

/// The top and bottom dataset examples of a unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetExamples {
    /// The photos that excite the unit most, strongest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<ExampleList>,
    /// The photos that excite it least (most negative), weakest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom: Option<ExampleList>,
}

/// A ranked list of examples and, when the atlas ships crops, their sprite sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleList {
    /// Crops of the examples: tile `i` is example `i` (so `first` is 0 and `count` the number
    /// of examples). Absent when the atlas ships no crops; the viewer may then crop the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<Sheet>,
    /// The examples, in rank order.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_EXAMPLES>")]
    pub examples: Vec<Example>,
}

/// One dataset example: where in which photo the unit responded, and how strongly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The photo's id in `photos/photos.json`.
    pub photo: Name,
    /// The crop: the receptive field of the strongest position, clipped to the photo, in the
    /// photo's own pixels.
    #[serde(rename = "box")]
    pub crop: PixelBox,
    /// The unit's activation there.
    pub activation: f32,
    /// The example's class in a labelled data set (an index into the model's
    /// `labels.names`); absent for unlabelled photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<u32>,
}

/// A rectangle of a photo, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelBox {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A histogram with equal bins over `[min, max]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// What one sample is.
    pub statistic: Statistic,
    /// Lower edge of the first bin.
    pub min: f32,
    /// Upper edge of the last bin.
    pub max: f32,
    /// Samples per bin.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_HISTOGRAM_BINS>")]
    pub counts: Vec<u64>,
}

/// What a histogram counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "String")]
pub enum Statistic {
    /// One sample per photo: the unit's largest activation over positions.
    SpatialMax,
    /// One sample per photo: the mean over positions.
    SpatialMean,
    /// One sample per position of every photo.
    Positions,
    /// A statistic added by a newer format version.
    Other,
}

/// What speaks for labelling a unit with a class: how the unit's response goes with the
/// class over the corpus, and how many of the crops that excite the unit most the model
/// classifies as that class, from how many photos.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelEvidence {
    /// The class (an index into the model's labels): the unit's most correlated one.
    pub class: u32,
    /// Pearson correlation over the corpus crops of the unit's spatial mean with the
    /// class's logit, in `[-1, 1]`.
    pub correlation: f32,
    /// Crops looked at: the unit's strongest by spatial mean.
    pub pool: u32,
    /// Of those, the crops the model classifies as the class (its top-1).
    pub crops: u32,
    /// The photos those crops come from.
    pub photos: u32,
}

/// A class and how strongly the unit drives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// Index of the class in the model's labels.
    pub class: u32,
    /// Effect on the class (the builder's method is in the model's build settings); larger
    /// is stronger.
    pub score: f32,
}

/// The strongest connections of a unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Circuits {
    /// Units of earlier layers with the largest weights into this one, strongest first.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_CONNECTIONS>")]
    pub inputs: Vec<Connection>,
    /// Units of later layers this one feeds most, strongest first.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_CONNECTIONS>")]
    pub outputs: Vec<Connection>,
}

/// One weighted connection to another unit of the same model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// The other unit's layer.
    pub layer: Name,
    /// The other unit.
    pub unit: u32,
    /// The weight (signed).
    pub weight: f32,
}

impl FeatureVisualizations {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.channel.is_none()
            && self.neuron.is_none()
            && self.negative.is_none()
            && self.diversity.is_empty()
    }
}

/// A unit's picture ([`UnitManifest::picture`]) and what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitPicture<'a> {
    /// Its channel visualization.
    Channel(&'a ImageAsset),
    /// The sheet of its top dataset examples' crops.
    TopExamples(&'a ImageAsset),
}

impl<'a> UnitPicture<'a> {
    /// The image.
    pub fn image(self) -> &'a ImageAsset {
        match self {
            Self::Channel(image) | Self::TopExamples(image) => image,
        }
    }

    /// What it shows, in words, for unit `id` (`blocks.8:50`) of model `model` (its title).
    pub fn alt(self, id: &str, model: &str) -> String {
        match self {
            Self::Channel(_) => format!("Feature visualization of unit {id} of {model}"),
            Self::TopExamples(_) => {
                format!("The photographs that most excite unit {id} of {model}")
            }
        }
    }
}

impl UnitManifest {
    /// A unit manifest with nothing in it yet.
    pub fn new(model: Name, checkpoint: Name, layer: Name, unit: u32) -> Self {
        Self {
            model,
            checkpoint,
            layer,
            unit,
            label: None,
            label_evidence: None,
            feature_visualizations: FeatureVisualizations::default(),
            dataset_examples: None,
            histogram: None,
            top_classes: None,
            circuits: None,
            built: BTreeMap::new(),
        }
    }

    /// The one picture that stands for the unit (link previews, still-image embeds): its
    /// channel visualization, else the sheet of its top dataset examples.
    pub fn picture(&self) -> Option<UnitPicture<'_>> {
        if let Some(rendering) = &self.feature_visualizations.channel {
            return Some(UnitPicture::Channel(&rendering.image));
        }
        let sheet = self.dataset_examples.as_ref()?.top.as_ref()?.sheet.as_ref()?;
        Some(UnitPicture::TopExamples(&sheet.image))
    }

    /// Whether the manifest holds `technique`.
    pub fn has(&self, technique: Technique) -> bool {
        let fv = &self.feature_visualizations;
        match technique {
            Technique::Channel => fv.channel.is_some(),
            Technique::Neuron => fv.neuron.is_some(),
            Technique::Negative => fv.negative.is_some(),
            Technique::Diversity => !fv.diversity.is_empty(),
            Technique::DatasetExamples => self.dataset_examples.is_some(),
            Technique::Histogram => self.histogram.is_some(),
            Technique::TopClasses => self.top_classes.is_some(),
            Technique::Circuits => self.circuits.is_some(),
        }
    }

    /// The image that stands for `technique` in a layer's sprite sheet: the rendering, the
    /// first diversity image, or the top example's crop (a tile of its sheet).
    pub fn thumbnail_source(&self, technique: Technique) -> Option<&ImageAsset> {
        let fv = &self.feature_visualizations;
        match technique {
            Technique::Channel => fv.channel.as_ref().map(|r| &r.image),
            Technique::Neuron => fv.neuron.as_ref().map(|r| &r.image),
            Technique::Negative => fv.negative.as_ref().map(|r| &r.image),
            Technique::Diversity => fv.diversity.first().map(|r| &r.image),
            Technique::DatasetExamples => {
                let top = self.dataset_examples.as_ref()?.top.as_ref()?;
                top.sheet.as_ref().map(|sheet| &sheet.image)
            }
            Technique::Histogram | Technique::TopClasses | Technique::Circuits => None,
        }
    }

    fn check(&self, c: &mut Checker) {
        // A unit's folder is self-contained, so that copying it (a merge) copies everything.
        let dir = paths::unit_dir(&self.model, &self.checkpoint, &self.layer, self.unit);
        for listed in self.assets() {
            if !listed.asset.path.is_inside(&dir) {
                let message = format!("{} lies outside the unit's folder {dir}", listed.asset.path);
                c.fail_at_path(&format!("{}.path", listed.field), Problem::Invalid(message));
            }
        }
        if self.unit >= MAX_UNITS {
            c.invalid(
                "unit",
                format!("{} is past the largest layer ({MAX_UNITS} units)", self.unit),
            );
        }
        c.opt_text("label", self.label.as_ref(), MAX_SHORT_TEXT);
        if let Some(evidence) = &self.label_evidence {
            c.at("label_evidence", |c| evidence.check(c));
        }
        c.at("feature_visualizations", |c| {
            let fv = &self.feature_visualizations;
            for (field, rendering) in
                [("channel", &fv.channel), ("neuron", &fv.neuron), ("negative", &fv.negative)]
            {
                if let Some(rendering) = rendering {
                    c.at(field, |c| rendering.check(c));
                }
            }
            c.count("diversity", fv.diversity.len(), MAX_DIVERSITY);
            c.each("diversity", &fv.diversity, |c, rendering| rendering.check(c));
        });
        if let Some(examples) = &self.dataset_examples {
            c.at("dataset_examples", |c| {
                if let Some(top) = &examples.top {
                    c.at("top", |c| top.check(c, |a, b| a >= b, "strongest first"));
                }
                if let Some(bottom) = &examples.bottom {
                    c.at("bottom", |c| bottom.check(c, |a, b| a <= b, "weakest first"));
                }
            });
        }
        if let Some(histogram) = &self.histogram {
            c.at("histogram", |c| histogram.check(c));
        }
        if let Some(classes) = &self.top_classes {
            c.count("top_classes", classes.len(), MAX_TOP_CLASSES);
            c.each("top_classes", classes, |c, class| c.finite("score", f64::from(class.score)));
        }
        if let Some(circuits) = &self.circuits {
            c.at("circuits", |c| {
                for (field, list) in [("inputs", &circuits.inputs), ("outputs", &circuits.outputs)]
                {
                    c.count(field, list.len(), MAX_CONNECTIONS);
                    c.each(field, list, |c, connection| {
                        c.finite("weight", f64::from(connection.weight));
                        if connection.unit >= MAX_UNITS {
                            c.invalid(
                                "unit",
                                format!("{} is past the largest layer", connection.unit),
                            );
                        }
                    });
                }
            });
        }
        c.count("built", self.built.len(), MAX_BUILD_RECORDS);
        for (technique, fingerprint) in &self.built {
            c.at("built", |c| {
                c.text("", technique, MAX_SHORT_TEXT);
                c.text("", fingerprint, MAX_SHORT_TEXT);
            });
        }
    }
}

impl LabelEvidence {
    fn check(&self, c: &mut Checker) {
        c.finite("correlation", f64::from(self.correlation));
        if !(-1.0..=1.0).contains(&self.correlation) {
            c.invalid("correlation", format!("{} is outside [-1, 1]", self.correlation));
        }
        if self.crops > self.pool {
            c.invalid("crops", format!("{} crops of a pool of {}", self.crops, self.pool));
        }
        if self.photos > self.crops {
            c.invalid("photos", format!("{} photos for {} crops", self.photos, self.crops));
        }
    }
}

impl Rendering {
    fn check(&self, c: &mut Checker) {
        c.at("image", |c| self.image.check(c, ImageContent::Generated));
        c.opt_text("objective", self.objective.as_ref(), MAX_TEXT);
    }
}

impl ExampleList {
    /// `ordered(previous, next)` says whether two neighbouring activations are in rank order.
    fn check(&self, c: &mut Checker, ordered: fn(f32, f32) -> bool, order: &str) {
        c.count("examples", self.examples.len(), MAX_EXAMPLES);
        c.each("examples", &self.examples, |c, example| {
            c.finite("activation", f64::from(example.activation));
            let crop = example.crop;
            c.at("box", |c| {
                if crop.width == 0 || crop.height == 0 {
                    c.fail(Problem::Invalid("an empty box".into()));
                } else if crop.x.checked_add(crop.width).is_none()
                    || crop.y.checked_add(crop.height).is_none()
                {
                    c.fail(Problem::Invalid("the box passes the largest coordinate".into()));
                }
            });
        });
        let out_of_order = self
            .examples
            .windows(2)
            .position(|pair| matches!(pair, [a, b] if !ordered(a.activation, b.activation)));
        if let Some(i) = out_of_order {
            c.invalid("examples", format!("examples {i} and {} are out of order ({order})", i + 1));
        }
        if let Some(sheet) = &self.sheet {
            c.at("sheet", |c| {
                sheet.check(c, Technique::DatasetExamples.image_content());
                if sheet.first != 0 || sheet.count as usize != self.examples.len() {
                    c.invalid(
                        "count",
                        format!(
                            "the sheet must hold tiles 0 .. {} (one per example)",
                            self.examples.len()
                        ),
                    );
                }
            });
        }
    }
}

impl Histogram {
    fn check(&self, c: &mut Checker) {
        c.finite("min", f64::from(self.min));
        c.finite("max", f64::from(self.max));
        if self.min > self.max {
            c.invalid("max", format!("the range [{}, {}] is reversed", self.min, self.max));
        }
        if self.counts.is_empty() {
            c.invalid("counts", "a histogram has at least one bin");
        }
        c.count("counts", self.counts.len(), MAX_HISTOGRAM_BINS);
    }
}

impl Manifest for UnitManifest {
    const KIND: ManifestKind = ManifestKind::Unit;

    fn path(&self) -> AssetPath {
        paths::unit_manifest(&self.model, &self.checkpoint, &self.layer, self.unit)
    }

    fn assets(&self) -> Vec<ListedAsset<'_>> {
        let fv = &self.feature_visualizations;
        let mut assets = Vec::new();
        for (field, rendering) in
            [("channel", &fv.channel), ("neuron", &fv.neuron), ("negative", &fv.negative)]
        {
            if let Some(rendering) = rendering {
                assets.push(ListedAsset {
                    field: format!("feature_visualizations.{field}.image"),
                    asset: &rendering.image,
                });
            }
        }
        for (i, rendering) in fv.diversity.iter().enumerate() {
            assets.push(ListedAsset {
                field: format!("feature_visualizations.diversity[{i}].image"),
                asset: &rendering.image,
            });
        }
        if let Some(examples) = &self.dataset_examples {
            for (field, list) in [("top", &examples.top), ("bottom", &examples.bottom)] {
                if let Some(sheet) = list.as_ref().and_then(|list| list.sheet.as_ref()) {
                    assets.push(ListedAsset {
                        field: format!("dataset_examples.{field}.sheet.image"),
                        asset: &sheet.image,
                    });
                }
            }
        }
        assets
    }

    fn validate(&self) -> Vec<AtlasError> {
        run_checks(&self.path(), |c| self.check(c))
    }
}

/// Reads any string: unknown values (from newer format versions) become `Other`, and a
/// non-string is a type error at the field.
impl From<String> for Statistic {
    fn from(text: String) -> Self {
        match text.as_str() {
            "spatial_max" => Self::SpatialMax,
            "spatial_mean" => Self::SpatialMean,
            "positions" => Self::Positions,
            _ => Self::Other,
        }
    }
}
