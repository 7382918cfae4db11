//! What one `microscope build` does, decided once from its arguments before anything is
//! written: the model and checkpoints, layers, units, techniques, shard, corpus and the
//! options of every pass ([`BuildPlan`]). The build then only executes the plan
//! (`build::execute`); nothing later re-reads the arguments.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use microscope_core::atlas::{Name, paths};
use microscope_core::labels::ImagenetLabels;
use microscope_core::model::Model;
use microscope_core::train::{CheckpointRecord, TrainManifest};
use microscope_core::weights::{read_safetensors, sha256_hex};

use super::corpus::CorpusKind;
use super::selection::{BuildTechnique, Shard, parse_techniques, parse_units};
use super::stats::StatsOptions;
use super::visualize::FvOptions;
use crate::commands::build::BuildArgs;
use crate::device::DeviceInfo;
use crate::store;

/// Circuit connections kept per direction.
pub const CIRCUIT_LINKS: usize = 8;
/// Top classes kept per unit.
pub const TOP_CLASSES: usize = 5;
/// Histogram bins of the corpus pass.
pub const HISTOGRAM_BINS: usize = 32;
/// Crops per forward pass of the corpus pass.
pub const CORPUS_BATCH: usize = 4;
/// Side of feature visualizations when the model does not fix a smaller one.
pub const DEFAULT_FV_SIZE: usize = 128;

/// One checkpoint a build covers.
pub struct Target {
    /// Its id in the atlas.
    pub checkpoint: Name,
    /// For a model trained here: the checkpoint's record in the run's manifest.
    pub record: Option<CheckpointRecord>,
}

/// The corpus a build reads (for dataset examples and top classes).
#[derive(Debug, Clone)]
pub struct CorpusPlan {
    /// Which photos.
    pub kind: CorpusKind,
    /// A folder of extra photos.
    pub images: Option<PathBuf>,
}

/// The selection as the command line wrote it.
#[derive(Debug, Clone)]
pub struct Asked {
    /// `--layers`.
    pub layers: String,
    /// `--units`.
    pub units: String,
    /// `--fv-units` (or `--units`).
    pub fv_units: String,
}

/// Everything a build will do, decided.
pub struct BuildPlan {
    /// The model's id in the store (without `@checkpoint`).
    pub model_id: String,
    /// The model at its last target checkpoint (its catalogue and input are the same at
    /// every checkpoint).
    pub model: Model,
    /// The run's manifest, for a model trained here.
    pub trained: Option<TrainManifest>,
    /// Checkpoints, in training order.
    pub targets: Vec<Target>,
    /// Catalogue indices of the chosen layers.
    pub layers: Vec<usize>,
    /// Units of every chosen layer (`None`: all).
    pub units: Option<BTreeSet<u32>>,
    /// Units that also get feature visualizations (`None`: all).
    pub fv_units: Option<BTreeSet<u32>>,
    /// Techniques.
    pub techniques: BTreeSet<BuildTechnique>,
    /// The slice of units this run builds.
    pub shard: Shard,
    /// The corpus, when examples or classes are wanted.
    pub corpus: Option<CorpusPlan>,
    /// Render options.
    pub fv: FvOptions,
    /// Units rendered together in one batch.
    pub fv_batch: usize,
    /// Corpus pass options.
    pub stats: StatsOptions,
    /// Top classes kept per unit.
    pub top_classes: usize,
    /// Circuit connections kept per direction.
    pub circuit_links: usize,
    /// ImageNet labels, for classes of a built-in model.
    pub labels: Option<ImagenetLabels>,
    /// Short class names for unit labels (the model's own, or ImageNet's).
    pub short_names: Option<Vec<String>>,
    /// The text of layers, units and FV units asked for (recorded in the build settings).
    pub asked: Asked,
    /// The atlas folder.
    pub out: PathBuf,
    /// No progress bars.
    pub quiet: bool,
    /// Where tensors are computed.
    pub device: Device,
    /// What the device is, as the atlas's build settings record it.
    pub device_info: DeviceInfo,
}

impl BuildPlan {
    /// Decides the build `args` ask for, computing on `device`: loads the model (to
    /// resolve layer names and sizes), checks every argument, and fails before anything is
    /// written.
    pub fn new(args: &BuildArgs, device: Device, device_info: DeviceInfo) -> Result<Self> {
        let (model_id, trained, targets) = targets(args)?;
        let Some(last) = targets.last() else { bail!("no checkpoints to build") };
        let (model, _) = load_target(&model_id, last, &device)?;
        let mut techniques = parse_techniques(&args.techniques)?;
        // A model whose first output is a map (a segmenter, a detector, a feature extractor)
        // has no classes: no top classes, no class labels, no class pages.
        if trained.is_none() && model.class_count().is_none() {
            techniques.retain(|&t| t != BuildTechnique::Classes);
        }
        let units = parse_units(&args.units)?;
        let fv_units = match &args.fv_units {
            Some(text) => parse_units(text)?,
            None => units.clone(),
        };
        let shard = match args.shard.as_deref() {
            None => Shard::ALL,
            Some("auto") => Shard::from_environment()?,
            Some(text) => Shard::parse(text)?,
        };
        let layers = select_layers(&model, &args.model, &args.layers)?;
        let corpus_kind = match (args.corpus.as_deref(), trained.is_some()) {
            (None, true) | (Some("fashion-mnist"), _) => {
                CorpusKind::FashionMnist { limit: args.corpus_limit }
            }
            (None, false) | (Some("full"), _) => CorpusKind::Full,
            (Some("bundled"), _) => CorpusKind::Bundled,
            (Some(other), _) => bail!("unknown corpus `{other}`: bundled, full or fashion-mnist"),
        };
        // A labelled set of whole small images: each image is one example, not crops of it.
        let scales = match corpus_kind {
            CorpusKind::FashionMnist { .. } => vec![1.0],
            _ => args.crop_scales.clone(),
        };
        let wants_corpus = techniques.contains(&BuildTechnique::Examples)
            || techniques.contains(&BuildTechnique::Classes);
        let corpus =
            wants_corpus.then(|| CorpusPlan { kind: corpus_kind, images: args.images.clone() });
        let wants_classes = techniques.contains(&BuildTechnique::Classes);
        // ImageNet's names fit only a classifier with ImageNet's number of classes.
        let labels = if wants_classes && trained.is_none() {
            Some(store::labels()?).filter(|l| model.class_count() == Some(l.len()))
        } else {
            None
        };
        let short_names: Option<Vec<String>> = match (&trained, &labels) {
            (Some(run), _) => Some(run.dataset.classes.clone()),
            (None, Some(l)) => {
                Some((0..l.len()).map(|i| l.short(i).unwrap_or("?").to_owned()).collect())
            }
            (None, None) => None,
        };
        let size = args.size.unwrap_or(if model.fixed_input_size() {
            model.input_spec().long_side_px().min(DEFAULT_FV_SIZE)
        } else {
            DEFAULT_FV_SIZE
        });
        Ok(Self {
            model_id,
            model,
            trained,
            targets,
            layers,
            units,
            fv_units,
            techniques,
            shard,
            corpus,
            fv: FvOptions { size, steps: args.steps, seed: args.seed },
            fv_batch: args.fv_batch.max(1),
            stats: StatsOptions {
                scales,
                top_k: args.top_k,
                bins: HISTOGRAM_BINS,
                batch: CORPUS_BATCH,
            },
            top_classes: TOP_CLASSES,
            circuit_links: CIRCUIT_LINKS,
            labels,
            short_names,
            asked: Asked {
                layers: args.layers.clone(),
                units: args.units.clone(),
                fv_units: args.fv_units.clone().unwrap_or_else(|| args.units.clone()),
            },
            out: args.out.clone(),
            quiet: args.quiet,
            device,
            device_info,
        })
    }

    /// Whether the build makes `technique`.
    pub fn wants(&self, technique: BuildTechnique) -> bool {
        self.techniques.contains(&technique)
    }

    /// The feature-visualization techniques, in build order.
    pub fn fv_techniques(&self) -> Vec<BuildTechnique> {
        self.techniques.iter().copied().filter(|t| t.is_visualization()).collect()
    }

    /// Whether `unit` gets feature visualizations.
    pub fn renders(&self, unit: u32) -> bool {
        self.fv_units.as_ref().is_none_or(|set| set.contains(&unit))
    }

    /// The model of `target` and, for a model trained here, the bytes of its weights file.
    pub fn load(&self, target: &Target) -> Result<(Model, Option<Vec<u8>>)> {
        match &target.record {
            None => Ok((self.model.clone(), None)),
            Some(_) => load_target(&self.model_id, target, &self.device),
        }
    }
}

/// The catalogue indices of `--layers` (`all`, or names).
fn select_layers(model: &Model, model_name: &str, text: &str) -> Result<Vec<usize>> {
    let catalogue = model.layers();
    if text.trim() == "all" {
        return Ok((0..catalogue.len()).collect());
    }
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            catalogue.iter().position(|l| l.name == name).with_context(|| {
                format!("`{model_name}` has no layer `{name}` (see microscope layers)")
            })
        })
        .collect()
}

/// The checkpoints to build: `final` for a model without history; for a model trained here
/// the named ones (`MODEL@step-N` names one), by step.
fn targets(args: &BuildArgs) -> Result<(String, Option<TrainManifest>, Vec<Target>)> {
    let model = &args.model;
    let base = model.split('@').next().unwrap_or(model).to_owned();
    let store::Entry::Trained(trained) = store::find(model)? else {
        if args.checkpoints.is_some() {
            bail!("--checkpoints is for models trained here (`microscope train`)");
        }
        let checkpoint = Name::new(paths::DEFAULT_CHECKPOINT).context("checkpoint name")?;
        return Ok((model.clone(), None, vec![Target { checkpoint, record: None }]));
    };
    let manifest = trained.manifest;
    let mut records: Vec<CheckpointRecord> =
        match (model.contains('@'), args.checkpoints.as_deref()) {
            (true, Some(_)) => {
                bail!("name the checkpoints with --checkpoints or MODEL@CHECKPOINT, not both")
            }
            (true, None) => vec![trained.checkpoint],
            (false, None | Some("all")) => manifest.checkpoints.clone(),
            (false, Some(list)) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|name| {
                    manifest.checkpoint(name).cloned().with_context(|| {
                        let names: Vec<&str> =
                            manifest.checkpoints.iter().map(|c| c.name.as_str()).collect();
                        format!("`{base}` has no checkpoint `{name}`; it has: {}", names.join(", "))
                    })
                })
                .collect::<Result<_>>()?,
        };
    records.sort_by_key(|r| r.step);
    records.dedup_by_key(|r| r.step);
    if records.is_empty() {
        bail!("no checkpoints to build");
    }
    let targets = records
        .into_iter()
        .map(|record| {
            let checkpoint = Name::new(record.name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(Target { checkpoint, record: Some(record) })
        })
        .collect::<Result<_>>()?;
    Ok((base, Some(manifest), targets))
}

/// The model of `target` on `device`, and the bytes of its weights file when it was trained
/// here.
fn load_target(model: &str, target: &Target, device: &Device) -> Result<(Model, Option<Vec<u8>>)> {
    let Some(record) = &target.record else {
        return Ok((store::load_model(model, device)?, None));
    };
    let path = store::trained_dir(model)?.join(&record.file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if sha256_hex(&bytes) != record.sha256 {
        bail!("{} does not match its manifest; train again", path.display());
    }
    let weights =
        read_safetensors(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let loaded = Model::from_named_weights(model, &weights, device)
        .with_context(|| format!("cannot build `{model}` at {}", record.name))?;
    Ok((loaded, Some(bytes)))
}
