//! `microscope build`: fills an atlas folder (format 1.0) for one model: feature
//! visualizations, dataset examples with histograms, top classes with labels, and circuits,
//! for chosen layers, units and techniques, optionally one shard of them. Each unit folder is
//! written as a whole, so a killed build loses nothing and a rerun resumes; per-layer files
//! are derived from the unit files at the end.
//!
//! ```text
//! microscope build --model efficientnet-lite0 --layers blocks.8,head --units 0-15 --out atlas
//! microscope build --model efficientnet-lite0 --shard 1/4 --out shard-1
//! microscope build --model fashion-cnn --checkpoints all --out atlas
//! ```
//!
//! A model trained here (`microscope train`) is built at several checkpoints into one atlas
//! (`--checkpoints all`, the default, or `step-0,step-30`): every checkpoint gets its own unit
//! files, dataset examples from the labelled Fashion-MNIST test set and its weights for the
//! in-browser renderer; `model.json` lists them in training order with step and test accuracy,
//! the last one the default.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use image::imageops::{FilterType, crop_imm, resize};
use indicatif::{ProgressBar, ProgressStyle};
use microscope_core::atlas::{
    AtlasSource, Checkpoint, Circuits, ClassScore, Connection, Framing, Histogram, Labels,
    ModelManifest, Name, Sha256Hex, Statistic, WeightsProvenance, check_assets, parse_unit, paths,
};
use microscope_core::circuits::{UnitLinks, circuits};
use microscope_core::dataset::{FASHION_MNIST_LICENSE, FASHION_MNIST_SOURCE};
use microscope_core::model::Model;
use microscope_core::train::{CheckpointRecord, TrainManifest};
use microscope_core::weights::{read_safetensors, sha256_hex};
use serde_json::json;

use crate::build::corpus::{self, Corpus, CorpusKind};
use crate::build::finish::finish;
use crate::build::folder::{FolderSource, remove_leftovers, write_manifest};
use crate::build::model_files::{index, merged_index, merged_photos, model_manifest};
use crate::build::selection::{BuildTechnique, Shard, layer_units, parse_techniques, parse_units};
use crate::build::stats::{self, CorpusStats, StatsOptions, TrackedLayer};
use crate::build::unit_files::{EXAMPLE_TILE, ExampleOut, UnitContent, write_unit};
use crate::build::visualize::{FvOptions, render_units};
use crate::store;

/// A checkpoint's weights for the in-browser renderer, in its folder.
const WEIGHTS_FILE: &str = "weights.safetensors";
/// Circuit connections kept per direction.
const CIRCUIT_LINKS: usize = 8;
/// Top classes kept per unit.
const TOP_CLASSES: usize = 5;

/// Arguments of `microscope build`.
#[derive(clap::Args)]
pub struct BuildArgs {
    /// Model id.
    #[arg(long)]
    model: String,
    /// Layers (comma-separated names) or `all`.
    #[arg(long, default_value = "all")]
    layers: String,
    /// Units of every chosen layer: `0-15,40` or `all`.
    #[arg(long, default_value = "all")]
    units: String,
    /// Units that also get feature visualizations (default: the same as --units).
    #[arg(long)]
    fv_units: Option<String>,
    /// Techniques: channel, neuron, negative, diversity, examples, classes, circuits, or all.
    #[arg(long, default_value = "all")]
    techniques: String,
    /// Optimisation steps of feature visualizations.
    #[arg(long, default_value_t = 256)]
    steps: usize,
    /// Side of feature visualizations in pixels [default: 128, or a fixed-size model's own
    /// input size when smaller, as `microscope render` does: 28 for the fashion-cnn].
    #[arg(long)]
    size: Option<usize>,
    /// Checkpoints of a model trained here: `all`, or names (`step-0,step-30`) [default: all].
    #[arg(long)]
    checkpoints: Option<String>,
    /// Base seed of every render.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Units rendered together in one batch.
    #[arg(long, default_value_t = 8)]
    fv_batch: usize,
    /// Build only shard K of N (`K/N`): units u with u mod N = K.
    #[arg(long)]
    shard: Option<String>,
    /// Photo corpus: `bundled` (scikit-image and scikit-learn photos), `full` (plus Debian
    /// wallpaper photographs) or `fashion-mnist` (the labelled test set) [default: full, or
    /// fashion-mnist for a model trained here].
    #[arg(long)]
    corpus: Option<String>,
    /// Test images of the `fashion-mnist` corpus (the first N).
    #[arg(long, default_value_t = 10_000)]
    corpus_limit: usize,
    /// Also use every image in this folder as a corpus photo.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Crop sides as fractions of each photo's short side.
    #[arg(long, value_delimiter = ',', default_value = "1,0.5")]
    crop_scales: Vec<f32>,
    /// Top and bottom dataset examples per unit.
    #[arg(long, default_value_t = 8)]
    top_k: usize,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// The atlas folder.
    #[arg(long)]
    out: PathBuf,
}

fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    let template =
        format!("{what:>9} {{bar:40}} {{pos}}/{{len}} {{elapsed_precise}} (eta {{eta}}) {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// One checkpoint a build covers.
struct Target {
    /// Its id in the atlas.
    checkpoint: Name,
    /// For a model trained here: the run's manifest and the checkpoint's record.
    trained: Option<(TrainManifest, CheckpointRecord)>,
}

/// The checkpoints to build: `final` for a model without history; for a model trained here
/// the named ones (`MODEL@step-N` names one), by step.
fn targets(args: &BuildArgs) -> Result<(String, Vec<Target>)> {
    let base = args.model.split('@').next().unwrap_or(&args.model).to_owned();
    let store::Entry::Trained(trained) = store::find(&args.model)? else {
        if args.checkpoints.is_some() {
            bail!("--checkpoints is for models trained here (`microscope train`)");
        }
        let checkpoint = Name::new(paths::DEFAULT_CHECKPOINT).context("checkpoint name")?;
        return Ok((args.model.clone(), vec![Target { checkpoint, trained: None }]));
    };
    let manifest = trained.manifest;
    let records: Vec<CheckpointRecord> =
        match (args.model.contains('@'), args.checkpoints.as_deref()) {
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
    let mut records = records;
    records.sort_by_key(|r| r.step);
    records.dedup_by_key(|r| r.step);
    if records.is_empty() {
        bail!("no checkpoints to build");
    }
    let targets = records
        .into_iter()
        .map(|record| {
            let checkpoint = Name::new(record.name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(Target { checkpoint, trained: Some((manifest.clone(), record)) })
        })
        .collect::<Result<_>>()?;
    Ok((base, targets))
}

/// The model of `target` on `device`, and the bytes of its weights file when it was trained
/// here.
fn load_target(model: &str, target: &Target, device: &Device) -> Result<(Model, Option<Vec<u8>>)> {
    let Some((_, record)) = &target.trained else {
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

/// Builds (or resumes) the atlas.
pub fn run(args: &BuildArgs) -> Result<()> {
    let started = Instant::now();
    let device = crate::device::current()?.device();
    let (model_id, targets) = targets(args)?;
    let trained = targets.first().and_then(|t| t.trained.as_ref()).map(|(m, _)| m.clone());
    let Some(last) = targets.last() else { bail!("no checkpoints to build") };
    let (model, _) = load_target(&model_id, last, &device)?;
    let techniques = parse_techniques(&args.techniques)?;
    let units = parse_units(&args.units)?;
    let fv_units = match &args.fv_units {
        Some(text) => parse_units(text)?,
        None => units.clone(),
    };
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?.unwrap_or(Shard::ALL);
    let default_corpus = if trained.is_some() { "fashion-mnist" } else { "full" };
    let corpus_kind = match args.corpus.as_deref().unwrap_or(default_corpus) {
        "bundled" => CorpusKind::Bundled,
        "full" => CorpusKind::Full,
        "fashion-mnist" => CorpusKind::FashionMnist { limit: args.corpus_limit },
        other => bail!("unknown corpus `{other}`: bundled, full or fashion-mnist"),
    };
    // A labelled set of whole small images: each image is one example, not crops of it.
    let crop_scales = match corpus_kind {
        CorpusKind::FashionMnist { .. } => vec![1.0],
        _ => args.crop_scales.clone(),
    };
    let catalogue = model.layers();
    let selected: Vec<usize> = if args.layers.trim() == "all" {
        (0..catalogue.len()).collect()
    } else {
        args.layers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| {
                catalogue.iter().position(|l| l.name == name).with_context(|| {
                    format!("`{}` has no layer `{name}` (see microscope layers)", args.model)
                })
            })
            .collect::<Result<_>>()?
    };
    let wants_examples = techniques.contains(&BuildTechnique::Examples);
    let wants_classes = techniques.contains(&BuildTechnique::Classes);
    let labels = if wants_classes && trained.is_none() { Some(store::labels()?) } else { None };
    // Short class names for unit labels: the model's own, or ImageNet's.
    let short_names: Option<Vec<String>> = match (&trained, &labels) {
        (Some(run), _) => Some(run.dataset.classes.clone()),
        (None, Some(l)) => {
            Some((0..l.len()).map(|i| l.short(i).unwrap_or("?").to_owned()).collect())
        }
        (None, None) => None,
    };
    let size = args.size.unwrap_or(if model.fixed_input_size() {
        model.input_spec().size_px.min(128)
    } else {
        128
    });
    let fv_techniques: Vec<BuildTechnique> =
        techniques.iter().copied().filter(|t| t.is_visualization()).collect();
    let stats_options =
        StatsOptions { scales: crop_scales.clone(), top_k: args.top_k, bins: 32, batch: 4 };
    let fv_options = FvOptions { size, steps: args.steps, seed: args.seed };

    // The corpus is needed for photos.json (identical in every shard and run).
    let corpus: Option<Corpus> = if wants_examples || wants_classes {
        Some(corpus::load(corpus_kind, args.images.as_deref())?)
    } else {
        None
    };

    let root = &args.out;
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let mut settings: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    settings.insert("layers".into(), json!(args.layers));
    settings.insert("units".into(), json!(args.units));
    settings.insert(
        "fv_units".into(),
        json!(args.fv_units.clone().unwrap_or_else(|| args.units.clone())),
    );
    settings.insert(
        "techniques".into(),
        json!(techniques.iter().map(|t| t.name()).collect::<Vec<_>>()),
    );
    settings.insert("fv_steps".into(), json!(args.steps));
    settings.insert("fv_size_px".into(), json!(size));
    settings.insert("fv".into(), json!("Fourier parameterization, decorrelated colour, lucid's standard transforms, Adam 0.05; one seed per image (from the base seed, layer, unit, technique); diversity: 4 images, objective `layer:unit + diversity(layer)`"));
    settings.insert("image_format".into(), json!("png"));
    if let Some(corpus) = &corpus {
        settings.insert("corpus".into(), json!(corpus.description));
        settings.insert("corpus_photos".into(), json!(corpus.photos.len()));
        settings.insert("corpus_working_side_px".into(), json!(corpus::WORKING_SIDE));
        settings.insert("crop_scales".into(), json!(crop_scales));
        settings.insert("examples_top_k".into(), json!(args.top_k));
        settings.insert("examples".into(), json!("square crops at each scale, half-side steps, resized (bicubic) to the input; top: largest spatial maximum, box = receptive field of its position; bottom: smallest spatial minimum"));
        settings.insert("histogram".into(), json!("spatial_max per crop, 32 bins doubling their range as needed, empty end bins trimmed"));
    }
    if wants_classes {
        settings.insert("top_classes".into(), json!("Pearson correlation over the corpus crops between the unit's spatial mean and each class logit; top 5 positive"));
        settings.insert("label".into(), json!("the first name of the top class"));
    }
    if techniques.contains(&BuildTechnique::Circuits) {
        settings.insert("circuits".into(), json!("8 strongest by |weight| per direction: conv kernel sums (1x1 expand/project: the weight; depthwise: channel to itself), fully connected weights, residual adds weight 1; through one-to-one ops (activations, pads, pooling) to the nearest catalogue layer"));
    }
    let (mut manifest, title, summary) =
        model_manifest(&model, labels.as_ref(), args.seed, settings)?;
    if let Some(run) = &trained {
        trained_manifest(&mut manifest, run, &targets)?;
    }
    let model_name = manifest.id.clone();
    let atlas_index = index(&model_name, &title, summary.as_deref(), corpus.is_some());
    write_manifest(root, &merged_index(root, atlas_index)?)?;
    write_manifest(root, &manifest)?;
    if let Some(corpus) = &corpus {
        write_manifest(root, &merged_photos(root, corpus.manifest())?)?;
    }

    let source = FolderSource::new(root);
    let mut built = 0usize;
    for target in &targets {
        let checkpoint = target.checkpoint.clone();
        let (model, weights) = match &target.trained {
            None => (model.clone(), None),
            Some(_) => load_target(&model_id, target, &device)?,
        };
        if let Some(bytes) = &weights {
            let dir = root.join(paths::checkpoint_dir(&model_name, &checkpoint).as_str());
            crate::cache::write_atomic(&dir.join(WEIGHTS_FILE), bytes)?;
        }
        let catalogue = model.layers();
        // What is left to do.
        let mut pending: Vec<(usize, Vec<u32>)> = Vec::new();
        let mut done = 0usize;
        for &layer in &selected {
            let info = &catalogue[layer];
            let name = Name::new(info.name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
            let units_dir =
                root.join(paths::layer_dir(&model_name, &checkpoint, &name).as_str()).join("units");
            remove_leftovers(&units_dir)?;
            let mut todo = Vec::new();
            for unit in layer_units(units.as_ref(), u32::try_from(info.channels)?, shard) {
                if is_complete(&source, &model_name, &checkpoint, &name, unit) {
                    done += 1;
                } else {
                    todo.push(unit);
                }
            }
            if !todo.is_empty() {
                pending.push((layer, todo));
            }
        }
        let total: usize = pending.iter().map(|(_, u)| u.len()).sum();
        eprintln!("{}@{checkpoint}: {total} units to build, {done} already complete", model_id);

        if total > 0 {
            let links = if techniques.contains(&BuildTechnique::Circuits) {
                Some(circuits(model.graph(), catalogue, CIRCUIT_LINKS))
            } else {
                None
            };
            let stats = match &corpus {
                Some(corpus) => {
                    let classes = if wants_classes {
                        let output = model.graph().outputs().first().copied();
                        catalogue.iter().position(|l| Some(l.value) == output)
                    } else {
                        None
                    };
                    let crops_bar = bar(args.quiet, 0, "corpus");
                    let stats = stats::run(
                        &model,
                        corpus,
                        &pending,
                        classes,
                        &stats_options,
                        &device,
                        &crops_bar,
                    )?;
                    crops_bar.finish_and_clear();
                    eprintln!(
                        "corpus: {} photos, {} crops in {:.0} s",
                        corpus.photos.len(),
                        stats.crops.len(),
                        started.elapsed().as_secs_f64()
                    );
                    Some(stats)
                }
                None => None,
            };
            let units_bar = bar(args.quiet, total as u64, "units");
            for (slot, (layer, todo)) in pending.iter().enumerate() {
                let info = &catalogue[*layer];
                let name = Name::new(info.name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
                let tracked = stats.as_ref().and_then(|s| s.layers.get(slot));
                let with_fv: Vec<u32> = if fv_techniques.is_empty() {
                    Vec::new()
                } else {
                    todo.iter()
                        .copied()
                        .filter(|u| fv_units.as_ref().is_none_or(|set| set.contains(u)))
                        .collect()
                };
                let fv_set: BTreeSet<u32> = with_fv.iter().copied().collect();
                let write = |unit: u32, renders| -> Result<()> {
                    let mut content = UnitContent {
                        renders,
                        steps: u32::try_from(args.steps)?,
                        ..UnitContent::default()
                    };
                    if let (Some(stats), Some(tracked), Some(corpus)) = (&stats, tracked, &corpus) {
                        fill_from_stats(
                            &mut content,
                            stats,
                            tracked,
                            corpus,
                            unit,
                            wants_examples,
                            wants_classes,
                            short_names.as_deref(),
                        )?;
                    }
                    if let Some(links) = &links {
                        content.circuits = Some(to_circuits(links, catalogue, *layer, unit)?);
                    }
                    write_unit(root, &model_name, &checkpoint, &name, unit, content)?;
                    units_bar.inc(1);
                    Ok(())
                };
                for chunk in with_fv.chunks(args.fv_batch.max(1)) {
                    units_bar.set_message(format!(
                        "{} {}..={}",
                        info.name,
                        chunk[0],
                        chunk[chunk.len() - 1]
                    ));
                    let steps_per_render = args.steps;
                    let mut renders = render_units(
                        &model,
                        &info.name,
                        chunk,
                        &fv_techniques,
                        &fv_options,
                        &device,
                        &mut |step| {
                            if step % 16 == 0 || step == steps_per_render {
                                units_bar.set_message(format!(
                                    "{} {}..={} step {step}/{steps_per_render}",
                                    info.name,
                                    chunk[0],
                                    chunk[chunk.len() - 1]
                                ));
                            }
                        },
                    )?;
                    for &unit in chunk {
                        write(unit, renders.remove(&unit).unwrap_or_default())?;
                    }
                }
                units_bar.set_message(info.name.clone());
                for &unit in todo.iter().filter(|u| !fv_set.contains(u)) {
                    write(unit, Default::default())?;
                }
            }
            units_bar.finish_and_clear();
        }
        built += total;
    }
    let layers = finish(root)?;
    eprintln!(
        "{}: {built} units built, {layers} layer manifests derived in {:.1} s",
        root.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether the unit's `unit.json` parses and its assets have their recorded sizes.
fn is_complete(
    source: &FolderSource,
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    unit: u32,
) -> bool {
    let path = paths::unit_manifest(model, checkpoint, layer, unit);
    let Ok(Some(bytes)) = source.read(&path) else { return false };
    let Ok(manifest) = parse_unit(path.as_str(), &bytes) else { return false };
    check_assets(source, &manifest, false).is_empty()
}

#[allow(clippy::too_many_arguments)]
fn fill_from_stats(
    content: &mut UnitContent,
    stats: &CorpusStats,
    tracked: &TrackedLayer,
    corpus: &Corpus,
    unit: u32,
    examples: bool,
    classes: bool,
    short_names: Option<&[String]>,
) -> Result<()> {
    let Ok(k) = tracked.units.binary_search(&unit) else { return Ok(()) };
    let unit_stats = &tracked.stats[k];
    if examples {
        let convert = |list: &[(f32, stats::ExampleRef)]| -> Result<Vec<ExampleOut>> {
            list.iter()
                .filter_map(|(activation, example)| {
                    let (photo, crop) = stats.example_box(corpus, tracked, *example)?;
                    let (_, working) = stats.working_box(tracked, *example)?;
                    let photo = &corpus.photos[photo];
                    let cut =
                        crop_imm(&photo.image, working.x, working.y, working.width, working.height)
                            .to_image();
                    let tile = resize(&cut, EXAMPLE_TILE, EXAMPLE_TILE, FilterType::Triangle);
                    Some(Ok(ExampleOut {
                        photo: photo.entry.id.clone(),
                        crop,
                        activation: *activation,
                        tile,
                        class: photo.class,
                    }))
                })
                .collect()
        };
        let top = convert(unit_stats.by_max.top())?;
        let bottom = convert(unit_stats.by_min.bottom())?;
        content.examples = Some((top, bottom));
        if let Some((min, max, counts)) = unit_stats.histogram.finish() {
            content.histogram =
                Some(Histogram { statistic: Statistic::SpatialMax, min, max, counts });
        }
    }
    if classes && let Some(top) = stats.top_classes(tracked, k, TOP_CLASSES) {
        content.label = top
            .first()
            .and_then(|(class, _)| short_names.and_then(|n| n.get(*class as usize)))
            .cloned();
        content.classes =
            Some(top.into_iter().map(|(class, score)| ClassScore { class, score }).collect());
    }
    Ok(())
}

/// Makes `manifest` describe a model trained here: its class names, how it was trained, its
/// input (whole images, stretched), and the built checkpoints in training order with step and
/// test accuracy, the last one the default.
fn trained_manifest(
    manifest: &mut ModelManifest,
    run: &TrainManifest,
    targets: &[Target],
) -> Result<()> {
    manifest.labels = Some(Labels {
        source: format!("{FASHION_MNIST_SOURCE}; {FASHION_MNIST_LICENSE}"),
        names: run.dataset.classes.clone(),
    });
    manifest.title = "Fashion-CNN (trained here)".to_owned();
    manifest.summary = Some(format!(
        "A small CNN (three 3x3 conv stages, a 128-unit fully connected layer, 10 classes) trained here by microscope train on {} Fashion-MNIST images with seed {}, batch {} and Adam {}; its checkpoints show how its features form.",
        run.dataset.train_images, run.settings.seed, run.settings.batch, run.settings.learning_rate
    ));
    manifest.input.framing = Framing::Stretch;
    manifest.input.crop_padding = None;
    manifest.input.resize = None;
    manifest.checkpoints = targets
        .iter()
        .filter_map(|t| t.trained.as_ref().map(|(_, record)| (t, record)))
        .map(|(target, record)| Checkpoint {
            id: target.checkpoint.clone(),
            step: Some(record.step as u64),
            test_accuracy: Some(record.test_accuracy),
            test_set: Some(format!("Fashion-MNIST test set, {} images", run.dataset.test_images)),
            weights_sha256: Sha256Hex::parse(&record.sha256),
        })
        .collect();
    let last = manifest.checkpoints.last().context("no checkpoints")?;
    manifest.default_checkpoint = last.id.clone();
    manifest.provenance.weights = WeightsProvenance {
        source: format!(
            "trained by microscope train (seed {}, batch {}, Adam {}) on Fashion-MNIST",
            run.settings.seed, run.settings.batch, run.settings.learning_rate
        ),
        license: "MIT".to_owned(),
        url: None,
        sha256: last.weights_sha256.clone(),
    };
    Ok(())
}

fn to_circuits(
    links: &[Vec<UnitLinks>],
    catalogue: &[microscope_core::graph::LayerInfo],
    layer: usize,
    unit: u32,
) -> Result<Circuits> {
    let Some(unit_links) = links.get(layer).and_then(|l| l.get(unit as usize)) else {
        return Ok(Circuits::default());
    };
    let convert = |list: &[microscope_core::circuits::Link]| -> Result<Vec<Connection>> {
        list.iter()
            .map(|link| {
                let name = &catalogue[link.layer].name;
                Ok(Connection {
                    layer: Name::new(name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?,
                    unit: link.unit,
                    weight: link.weight,
                })
            })
            .collect()
    };
    Ok(Circuits { inputs: convert(&unit_links.inputs)?, outputs: convert(&unit_links.outputs)? })
}
