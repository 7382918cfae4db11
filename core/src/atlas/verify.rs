//! `verify`: walks a whole atlas from `atlas.json` down through every model, checkpoint, layer
//! and unit, parses each manifest (schema, version, limits, rules), checks that every asset it
//! lists exists with the recorded size and sha256 and is the image its name says, and that
//! the files agree with each other (coverage with unit files, references to photos, classes,
//! layers and units). It reports errors and warnings with file and field, and the coverage
//! counts per layer.
//!
//! Missing data is not an error: a layer without `layer.json` or a unit without `unit.json` is
//! a warning (the viewer shows placeholders). What a manifest *lists* but the atlas lacks is an
//! error.

use std::collections::HashMap;

use super::annotations::AnnotationsManifest;
use super::asset_path::AssetPath;
use super::coverage::TechniqueCounts;
use super::error::{AtlasError, Problem};
use super::file::{FileAsset, ImageAsset};
use super::index::{AtlasIndex, ModelEntry};
use super::layer::LayerManifest;
use super::limits::MAX_REPORTED;
use super::manifest::{ListedAsset, Manifest, parse_versioned};
use super::model::{LayerInfo, ModelManifest};
use super::name::Name;
use super::paths;
use super::photos::PhotosManifest;
use super::quote::quote;
use super::source::AtlasSource;
use super::technique::Technique;
use super::unit::{ExampleList, UnitManifest};
use super::version::Readability;
use crate::examples::diversity::{MAX_CROPS_PER_PHOTO, most_of_one_photo};

/// Decodes an image file and gives its pixel size, or says why it cannot: an image library
/// the caller has (this module reads headers only, so the viewer build carries none).
pub type DecodeImage = fn(&[u8]) -> Result<[u32; 2], String>;

/// What `verify` checks beyond the manifests.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Read every asset and compare its sha256, format and pixel size (otherwise sizes only).
    pub check_hashes: bool,
    /// Look for `unit.json` files of units a layer manifest does not list (or of layers
    /// without one): finds stale layer manifests and counts half-built layers.
    pub probe_unlisted_units: bool,
    /// With `check_hashes`, also decode every image with this and compare its pixel size.
    pub decode: Option<DecodeImage>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self { check_hashes: true, probe_unlisted_units: true, decode: None }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyReport {
    /// Problems: the atlas is broken where these point.
    pub errors: Vec<AtlasError>,
    /// Missing data and oddities that do not break the atlas.
    pub warnings: Vec<AtlasError>,
    /// Errors and warnings past [`MAX_REPORTED`] each, counted but not kept.
    pub dropped: u64,
    /// Coverage of every layer at every checkpoint of every readable model, in atlas order.
    pub layers: Vec<LayerReport>,
    /// Manifests read and parsed.
    pub manifests: u64,
    /// Assets checked.
    pub assets: u64,
    /// Their total size in bytes.
    pub asset_bytes: u64,
}

/// The coverage of one layer at one checkpoint, counted from its unit files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerReport {
    /// The model.
    pub model: Name,
    /// The checkpoint.
    pub checkpoint: Name,
    /// The layer.
    pub layer: Name,
    /// Units of the layer.
    pub units: u32,
    /// Whether it has a `layer.json`.
    pub has_manifest: bool,
    /// Units found with each technique.
    pub counts: TechniqueCounts,
}

impl VerifyReport {
    /// Whether no error was found.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The counts of all layers added up.
    pub fn totals(&self) -> TechniqueCounts {
        let mut totals = TechniqueCounts::default();
        for layer in &self.layers {
            totals.add(&layer.counts);
        }
        totals
    }
}

/// Checks the atlas that `source` holds. Never fails: whatever is wrong is in the report.
pub fn verify(source: &dyn AtlasSource, options: &VerifyOptions) -> VerifyReport {
    let mut verifier =
        Verifier { source, options, report: VerifyReport::default(), facts: HashMap::new() };
    verifier.atlas();
    verifier.report
}

/// Checks one asset against its record: present, of the recorded size, and (with
/// `check_hash`) of the recorded sha256, format and pixel size. Returns its size. The size is
/// asked first, so a file of the wrong size is never read.
pub fn check_asset(
    source: &dyn AtlasSource,
    asset: &ImageAsset,
    check_hash: bool,
) -> Result<u64, Problem> {
    let read_error =
        |error: super::source::SourceError| Problem::Read(format!("{}: {}", asset.path, error.0));
    let size = source
        .size(&asset.path)
        .map_err(read_error)?
        .ok_or_else(|| Problem::Missing(asset.path.to_string()))?;
    if size != asset.bytes {
        return Err(Problem::SizeMismatch {
            path: asset.path.to_string(),
            expected: asset.bytes,
            found: size,
        });
    }
    if check_hash {
        let content = source
            .read(&asset.path)
            .map_err(read_error)?
            .ok_or_else(|| Problem::Missing(asset.path.to_string()))?;
        asset.check_content(&content, true)?;
    }
    Ok(size)
}

/// Checks every asset a manifest lists ([`check_asset`]); the problems, with the manifest's
/// path and each asset's field. A resumed build calls this on a `unit.json` it finds to decide
/// whether the unit is done; a merge, on each unit it copies.
pub fn check_assets<M: Manifest>(
    source: &dyn AtlasSource,
    manifest: &M,
    check_hashes: bool,
) -> Vec<AtlasError> {
    let file = manifest.path();
    manifest
        .assets()
        .into_iter()
        .filter_map(|ListedAsset { field, asset }| {
            check_asset(source, asset, check_hashes)
                .err()
                .map(|problem| AtlasError::field(file.as_str(), field, problem))
        })
        .collect()
}

/// What other files need to know of a model to check references to it.
struct ModelFacts {
    default_checkpoint: Name,
    checkpoints: Vec<Name>,
    layers: HashMap<Name, u32>,
}

/// The outcome of loading one manifest.
enum Loaded<M> {
    /// There is no such file.
    Absent,
    /// There is, but it is broken (the error is already reported).
    Broken,
    /// Parsed and valid.
    Ok(M),
}

struct Verifier<'a> {
    source: &'a dyn AtlasSource,
    options: &'a VerifyOptions,
    report: VerifyReport,
    facts: HashMap<Name, ModelFacts>,
}

impl Verifier<'_> {
    fn error(&mut self, error: AtlasError) {
        if self.report.errors.len() < MAX_REPORTED {
            self.report.errors.push(error);
        } else {
            self.report.dropped += 1;
        }
    }

    fn warn(&mut self, warning: AtlasError) {
        if self.report.warnings.len() < MAX_REPORTED {
            self.report.warnings.push(warning);
        } else {
            self.report.dropped += 1;
        }
    }

    /// Reads and parses the manifest at `path`, checking that its own ids place it there.
    fn load<M: Manifest>(&mut self, path: &AssetPath) -> Loaded<M> {
        let file = path.as_str();
        let limit = M::KIND.max_bytes();
        match self.source.size(path) {
            Ok(None) => return Loaded::Absent,
            Ok(Some(bytes)) if bytes > limit => {
                self.error(AtlasError::file(file, Problem::TooLarge { bytes, limit }));
                return Loaded::Broken;
            }
            Ok(Some(_)) => {}
            Err(error) => {
                self.error(AtlasError::file(file, Problem::Read(error.0)));
                return Loaded::Broken;
            }
        }
        let bytes = match self.source.read(path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Loaded::Absent,
            Err(error) => {
                self.error(AtlasError::file(file, Problem::Read(error.0)));
                return Loaded::Broken;
            }
        };
        self.report.manifests += 1;
        let parsed = match parse_versioned::<M>(file, &bytes) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.error(error);
                return Loaded::Broken;
            }
        };
        if parsed.readability == Readability::NewerMinor {
            self.warn(AtlasError::field(
                file,
                "format_version",
                Problem::NewerMinor { found: parsed.version },
            ));
        }
        let own_path = parsed.manifest.path();
        if own_path != *path {
            self.error(AtlasError::file(
                file,
                Problem::Inconsistent(format!("its ids place it at {own_path}, not here")),
            ));
            return Loaded::Broken;
        }
        Loaded::Ok(parsed.manifest)
    }

    /// Checks the assets a manifest lists: present, of the recorded size, and (with hashes)
    /// of the recorded sha256, format and pixel size.
    fn assets(&mut self, file: &AssetPath, listed: Vec<ListedAsset<'_>>) {
        for ListedAsset { field, asset } in listed {
            match self.check_image(asset) {
                Ok(size) => {
                    self.report.assets += 1;
                    self.report.asset_bytes += size;
                }
                Err(problem) => self.error(AtlasError::field(file.as_str(), field, problem)),
            }
        }
    }

    /// [`check_asset`], then, with a decoder, the decoded image's pixel size.
    fn check_image(&self, asset: &ImageAsset) -> Result<u64, Problem> {
        let decode = self.options.decode.filter(|_| self.options.check_hashes);
        let size = check_asset(self.source, asset, self.options.check_hashes)?;
        if let Some(decode) = decode {
            let content = self
                .source
                .read(&asset.path)
                .map_err(|error| Problem::Read(format!("{}: {}", asset.path, error.0)))?
                .ok_or_else(|| Problem::Missing(asset.path.to_string()))?;
            let [width, height] = decode(&content).map_err(|error| {
                Problem::Image(format!("{} does not decode: {error}", asset.path))
            })?;
            if [width, height] != [asset.width, asset.height] {
                return Err(Problem::Image(format!(
                    "{} decodes to {width}x{height} pixels, the manifest says {}x{}",
                    asset.path, asset.width, asset.height
                )));
            }
        }
        Ok(size)
    }

    /// Checks the weights file a checkpoint records: present, of the recorded size, and
    /// (with hashes) of the recorded sha256.
    fn weights(&mut self, file: &AssetPath, field: String, weights: &FileAsset) {
        let read_error = |error: super::source::SourceError| {
            Problem::Read(format!("{}: {}", weights.path, error.0))
        };
        let checked = if self.options.check_hashes {
            self.source.read(&weights.path).map_err(read_error).and_then(|content| {
                let content = content.ok_or_else(|| Problem::Missing(weights.path.to_string()))?;
                weights.check_content(&content, true).map(|()| weights.bytes)
            })
        } else {
            self.source.size(&weights.path).map_err(read_error).and_then(|size| match size {
                None => Err(Problem::Missing(weights.path.to_string())),
                Some(size) if size != weights.bytes => Err(Problem::SizeMismatch {
                    path: weights.path.to_string(),
                    expected: weights.bytes,
                    found: size,
                }),
                Some(size) => Ok(size),
            })
        };
        match checked {
            Ok(size) => {
                self.report.assets += 1;
                self.report.asset_bytes += size;
            }
            Err(problem) => self.error(AtlasError::field(file.as_str(), field, problem)),
        }
    }

    fn atlas(&mut self) {
        let index_path = paths::index();
        let index = match self.load::<AtlasIndex>(&index_path) {
            Loaded::Ok(index) => index,
            Loaded::Absent => {
                self.error(AtlasError::file(
                    index_path.as_str(),
                    Problem::Missing(format!(
                        "{index_path} (is this the root folder of an atlas?)"
                    )),
                ));
                return;
            }
            Loaded::Broken => return,
        };
        let photos = self.photos(&index);
        for entry in &index.models {
            self.model(entry, photos.as_ref());
        }
        self.annotations(&index);
    }

    fn photos(&mut self, index: &AtlasIndex) -> Option<PhotosManifest> {
        let path = paths::photos_manifest();
        if !index.photos {
            if matches!(self.source.size(&path), Ok(Some(_))) {
                self.warn(AtlasError::field(
                    paths::index().as_str(),
                    "photos",
                    Problem::Inconsistent(format!("is false, but {path} exists and is ignored")),
                ));
            }
            return None;
        }
        match self.load::<PhotosManifest>(&path) {
            Loaded::Ok(photos) => {
                self.assets(&path, photos.assets());
                Some(photos)
            }
            Loaded::Absent => {
                self.error(AtlasError::field(
                    paths::index().as_str(),
                    "photos",
                    Problem::Missing(format!("{path}, which the index announces,")),
                ));
                None
            }
            Loaded::Broken => None,
        }
    }

    fn model(&mut self, entry: &ModelEntry, photos: Option<&PhotosManifest>) {
        let path = paths::model_manifest(&entry.id);
        let model = match self.load::<ModelManifest>(&path) {
            Loaded::Ok(model) => model,
            Loaded::Absent => {
                self.error(AtlasError::field(
                    paths::index().as_str(),
                    "models",
                    Problem::Missing(format!(
                        "{path}, the manifest of listed model {}",
                        quote(entry.id.as_str())
                    )),
                ));
                return;
            }
            Loaded::Broken => return,
        };
        let facts = ModelFacts {
            default_checkpoint: model.default_checkpoint.clone(),
            checkpoints: model.checkpoints.iter().map(|checkpoint| checkpoint.id.clone()).collect(),
            layers: model
                .graph
                .layers
                .iter()
                .map(|layer| (layer.name.clone(), layer.units))
                .collect(),
        };
        self.facts.insert(model.id.clone(), facts);
        for (i, checkpoint) in model.checkpoints.iter().enumerate() {
            if let Some(weights) = &checkpoint.weights {
                self.weights(&path, format!("checkpoints[{i}].weights"), weights);
            }
        }
        for checkpoint in &model.checkpoints {
            let mut unbuilt = Vec::new();
            for layer in &model.graph.layers {
                if !self.layer(&model, &checkpoint.id, layer, photos) {
                    unbuilt.push(layer.name.as_str());
                }
            }
            if !unbuilt.is_empty() {
                const NAMED: usize = 8;
                let more = unbuilt.len().saturating_sub(NAMED);
                let mut names = unbuilt.iter().take(NAMED).copied().collect::<Vec<_>>().join(", ");
                if more > 0 {
                    names.push_str(&format!(" and {more} more"));
                }
                self.warn(AtlasError::file(
                    paths::checkpoint_dir(&model.id, &checkpoint.id).as_str(),
                    Problem::NotBuilt(format!(
                        "{} of {} layers have no layer.json (placeholders in the viewer): {names}",
                        unbuilt.len(),
                        model.graph.layers.len()
                    )),
                ));
            }
        }
    }

    /// Checks one layer at one checkpoint and its units; returns whether it has a manifest.
    fn layer(
        &mut self,
        model: &ModelManifest,
        checkpoint: &Name,
        info: &LayerInfo,
        photos: Option<&PhotosManifest>,
    ) -> bool {
        let path = paths::layer_manifest(&model.id, checkpoint, &info.name);
        let manifest = match self.load::<LayerManifest>(&path) {
            Loaded::Ok(manifest) => Some(manifest),
            Loaded::Absent | Loaded::Broken => None,
        };
        if let Some(manifest) = &manifest {
            if manifest.units != info.units {
                self.error(AtlasError::field(
                    path.as_str(),
                    "units",
                    Problem::Inconsistent(format!(
                        "{} units, but the model manifest gives the layer {}",
                        manifest.units, info.units
                    )),
                ));
            }
            self.assets(&path, manifest.assets());
        }
        let mut counts = TechniqueCounts::default();
        // Per technique: the first unit whose file disagrees with the coverage, and how many do.
        let mut disagreements: [Option<(u32, u64)>; Technique::ALL.len()] =
            [None; Technique::ALL.len()];
        let mut unlisted = Vec::new();
        for unit in 0..info.units {
            let listed = manifest.as_ref().is_some_and(|m| m.coverage.built.contains(unit));
            if !listed && !self.options.probe_unlisted_units {
                continue;
            }
            let unit_path = paths::unit_manifest(&model.id, checkpoint, &info.name, unit);
            let unit_manifest = match self.load::<UnitManifest>(&unit_path) {
                Loaded::Ok(unit_manifest) => unit_manifest,
                Loaded::Absent => {
                    if listed {
                        self.error(AtlasError::field(
                            path.as_str(),
                            "coverage.built",
                            Problem::Missing(format!("{unit_path}, of a unit listed as built,")),
                        ));
                    }
                    continue;
                }
                Loaded::Broken => continue,
            };
            if !listed && manifest.is_some() {
                unlisted.push(unit);
            }
            self.unit(&unit_manifest, &unit_path, model, photos);
            counts.add_unit(&unit_manifest);
            // Unlisted units are reported once above; only listed ones can disagree.
            if let Some(manifest) = manifest.as_ref().filter(|_| listed) {
                for (slot, technique) in Technique::ALL.into_iter().enumerate() {
                    let stated = manifest.coverage.get(technique).contains(unit);
                    if unit_manifest.has(technique) != stated
                        && let Some(entry) = disagreements.get_mut(slot)
                    {
                        entry.get_or_insert((unit, 0)).1 += 1;
                    }
                }
            }
        }
        for (technique, disagreement) in Technique::ALL.into_iter().zip(disagreements) {
            if let Some((first, count)) = disagreement {
                self.error(AtlasError::field(
                    path.as_str(),
                    format!("coverage.{technique}"),
                    Problem::Inconsistent(format!(
                        "disagrees with the unit files for {count} unit(s), first unit {first}: regenerate the layer manifest"
                    )),
                ));
            }
        }
        if let Some(&first) = unlisted.first() {
            self.warn(AtlasError::field(
                path.as_str(),
                "coverage.built",
                Problem::Inconsistent(format!(
                    "{} unit(s) have a unit.json the layer manifest does not list, first unit {first}: regenerate it",
                    unlisted.len()
                )),
            ));
        }
        self.report.layers.push(LayerReport {
            model: model.id.clone(),
            checkpoint: checkpoint.clone(),
            layer: info.name.clone(),
            units: info.units,
            has_manifest: manifest.is_some(),
            counts,
        });
        manifest.is_some()
    }

    /// Checks one unit's assets and references.
    fn unit(
        &mut self,
        unit: &UnitManifest,
        path: &AssetPath,
        model: &ModelManifest,
        photos: Option<&PhotosManifest>,
    ) {
        self.assets(path, unit.assets());
        let file = path.as_str();
        if let Some(examples) = &unit.dataset_examples {
            for (field, list) in [("top", &examples.top), ("bottom", &examples.bottom)] {
                if let Some(list) = list {
                    self.examples(file, field, list, photos);
                }
            }
        }
        if let Some(examples) = &unit.dataset_examples {
            let lists = [("top", &examples.top), ("bottom", &examples.bottom)];
            for (field, list) in lists {
                let Some(list) = list else { continue };
                for (i, example) in list.examples.iter().enumerate() {
                    let Some(class) = example.class else { continue };
                    let known = model.labels.as_ref().map_or(0, |l| l.names.len());
                    if class as usize >= known {
                        self.error(AtlasError::field(
                            file,
                            format!("dataset_examples.{field}.examples[{i}].class"),
                            Problem::Inconsistent(format!(
                                "class {class} is past the model's {known} labels"
                            )),
                        ));
                    }
                }
            }
        }
        if let (Some(classes), Some(labels)) = (&unit.top_classes, &model.labels) {
            for (i, class) in classes.iter().enumerate() {
                if class.class as usize >= labels.names.len() {
                    self.error(AtlasError::field(
                        file,
                        format!("top_classes[{i}].class"),
                        Problem::Inconsistent(format!(
                            "class {} is past the model's {} labels",
                            class.class,
                            labels.names.len()
                        )),
                    ));
                }
            }
        }
        if let (Some(evidence), Some(labels)) = (&unit.label_evidence, &model.labels)
            && evidence.class as usize >= labels.names.len()
        {
            self.error(AtlasError::field(
                file,
                "label_evidence.class",
                Problem::Inconsistent(format!(
                    "class {} is past the model's {} labels",
                    evidence.class,
                    labels.names.len()
                )),
            ));
        }
        if let Some(circuits) = &unit.circuits {
            for (field, list) in [("inputs", &circuits.inputs), ("outputs", &circuits.outputs)] {
                for (i, connection) in list.iter().enumerate() {
                    let problem = match model.layer(connection.layer.as_str()) {
                        None => Some(format!(
                            "the model has no layer {}",
                            quote(connection.layer.as_str())
                        )),
                        Some(layer) if connection.unit >= layer.units => Some(format!(
                            "unit {} is past layer {}'s {} units",
                            connection.unit, layer.name, layer.units
                        )),
                        Some(_) => None,
                    };
                    if let Some(problem) = problem {
                        self.error(AtlasError::field(
                            file,
                            format!("circuits.{field}[{i}]"),
                            Problem::Inconsistent(problem),
                        ));
                    }
                }
            }
        }
    }

    /// Checks that examples name photos of the corpus and boxes inside them.
    fn examples(
        &mut self,
        file: &str,
        field: &str,
        list: &ExampleList,
        photos: Option<&PhotosManifest>,
    ) {
        let most = most_of_one_photo(list.examples.iter().map(|e| e.photo.as_str()));
        if most > MAX_CROPS_PER_PHOTO {
            self.warn(AtlasError::field(
                file,
                format!("dataset_examples.{field}.examples"),
                Problem::Inconsistent(format!(
                    "{most} crops of one photo, where the builder keeps at most \
                     {MAX_CROPS_PER_PHOTO} (an older build, before the diversity rule)"
                )),
            ));
        }
        let Some(photos) = photos else {
            if !list.examples.is_empty() {
                self.warn(AtlasError::field(
                    file,
                    format!("dataset_examples.{field}"),
                    Problem::NotBuilt(
                        "the examples name photos, but the atlas has no photos manifest".into(),
                    ),
                ));
            }
            return;
        };
        for (i, example) in list.examples.iter().enumerate() {
            let at = format!("dataset_examples.{field}.examples[{i}]");
            let problem = match photos.photo(example.photo.as_str()) {
                None => Some((
                    "photo",
                    format!(
                        "photo {} is not in {}",
                        quote(example.photo.as_str()),
                        paths::photos_manifest()
                    ),
                )),
                Some(photo) => {
                    let crop = example.crop;
                    let right = u64::from(crop.x) + u64::from(crop.width);
                    let bottom = u64::from(crop.y) + u64::from(crop.height);
                    (right > u64::from(photo.width) || bottom > u64::from(photo.height)).then(
                        || {
                            (
                                "box",
                                format!(
                                    "the box passes the photo's {}x{} pixels",
                                    photo.width, photo.height
                                ),
                            )
                        },
                    )
                }
            };
            if let Some((leaf, message)) = problem {
                self.error(AtlasError::field(
                    file,
                    format!("{at}.{leaf}"),
                    Problem::Inconsistent(message),
                ));
            }
        }
    }

    /// Checks that annotations point at models, checkpoints, layers and units that exist
    /// (warnings only: notes may outlive a rebuild).
    fn annotations(&mut self, index: &AtlasIndex) {
        let path = paths::annotations();
        if !index.annotations {
            return;
        }
        let annotations = match self.load::<AnnotationsManifest>(&path) {
            Loaded::Ok(annotations) => annotations,
            Loaded::Absent => {
                self.error(AtlasError::field(
                    paths::index().as_str(),
                    "annotations",
                    Problem::Missing(format!("{path}, which the index announces,")),
                ));
                return;
            }
            Loaded::Broken => return,
        };
        for (i, annotation) in annotations.annotations.iter().enumerate() {
            let problem = match self.facts.get(&annotation.model) {
                None => Some((
                    "model",
                    format!("model {} is not in the atlas", quote(annotation.model.as_str())),
                )),
                Some(facts) => {
                    let checkpoint =
                        annotation.checkpoint.as_ref().unwrap_or(&facts.default_checkpoint);
                    if !facts.checkpoints.contains(checkpoint) {
                        Some((
                            "checkpoint",
                            format!(
                                "checkpoint {} is not in the model",
                                quote(checkpoint.as_str())
                            ),
                        ))
                    } else {
                        match facts.layers.get(&annotation.layer) {
                            None => Some((
                                "layer",
                                format!(
                                    "layer {} is not in the model",
                                    quote(annotation.layer.as_str())
                                ),
                            )),
                            Some(&units) => {
                                annotation.unit.filter(|&unit| unit >= units).map(|unit| {
                                    (
                                        "unit",
                                        format!("unit {unit} is past the layer's {units} units"),
                                    )
                                })
                            }
                        }
                    }
                }
            };
            if let Some((leaf, message)) = problem {
                self.warn(AtlasError::field(
                    path.as_str(),
                    format!("annotations[{i}].{leaf}"),
                    Problem::Inconsistent(message),
                ));
            }
        }
    }
}
