//! `microscope compact ATLAS_DIR`: makes an atlas small enough to host, in place, without
//! rebuilding it: dataset-example sheets stored as PNG (atlases of format 1.0) are re-encoded
//! as JPEG the way a build now writes them (`build::encode`), and each checkpoint's
//! `weights.safetensors` for the in-browser renderer is stored as float16 (the renderer widens
//! it to float32 on load; BENCHMARKS.md measures the renders against float32) and recorded in
//! `model.json` (its size is what the viewer tells a visitor a live render downloads).
//!
//! Each unit is rewritten as a whole (its folder swapped in atomically, as a build writes it),
//! then every layer's `layer.json` and sheets are derived again, as a build finishes; units
//! already compact are skipped, so an interrupted run resumes. The folder is locked
//! (`.build.lock`) while it runs.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use microscope_core::atlas::paths::{self, UnitImage};
use microscope_core::atlas::{
    AtlasSource, FileAsset, ImageAsset, ImageContent, Manifest, ModelManifest, Name, UnitManifest,
    parse_index, parse_model, parse_unit,
};
use microscope_core::weights::{read_safetensors, write_safetensors_f16};

use crate::build::encode::{encode, format_for};
use crate::build::finish::finish;
use crate::build::folder::{
    FolderSource, remove_leftovers, unit_folders, write_folder_atomic, write_manifest,
};
use crate::build::lock::FolderLock;
use crate::cache::write_atomic;

/// Arguments of `microscope compact`.
#[derive(clap::Args)]
pub struct CompactArgs {
    /// The atlas folder (changed in place).
    atlas: PathBuf,
    /// Keep the weights as they are (float32) instead of storing them as float16.
    #[arg(long)]
    keep_f32_weights: bool,
}

/// What a run changed.
#[derive(Debug, Default)]
struct Tally {
    units: usize,
    sheets: usize,
    sheet_bytes_before: u64,
    sheet_bytes_after: u64,
    weights: usize,
    weights_bytes_before: u64,
    weights_bytes_after: u64,
}

/// Compacts and reports.
pub fn run(args: &CompactArgs) -> Result<()> {
    let root = &args.atlas;
    if !root.join("atlas.json").is_file() {
        bail!("{} is not an atlas (no atlas.json)", root.display());
    }
    let _lock = FolderLock::acquire(root, "compact")?;
    let before = folder_bytes(root);
    let source = FolderSource::new(root);
    let index_path = paths::index();
    let bytes = source.read(&index_path)?.context("no atlas.json")?;
    let index = parse_index(index_path.as_str(), &bytes)?;
    let mut tally = Tally::default();
    for entry in &index.models {
        let path = paths::model_manifest(&entry.id);
        let Some(bytes) = source.read(&path)? else { continue };
        let mut model = parse_model(path.as_str(), &bytes)?;
        for checkpoint in &model.checkpoints {
            for layer in &model.graph.layers {
                compact_layer(root, &source, &model.id, &checkpoint.id, &layer.name, &mut tally)?;
            }
        }
        if record_weights(root, &mut model, !args.keep_f32_weights, &mut tally)? {
            write_manifest(root, &model)?;
        }
    }
    let layers = finish(root, None)?;
    let after = folder_bytes(root);
    println!(
        "{}: {} units re-encoded ({} example sheets: {} -> {} bytes), {} weights files ({} -> {} \
         bytes), {layers} layers derived; the atlas holds {before} -> {after} bytes",
        root.display(),
        tally.units,
        tally.sheets,
        tally.sheet_bytes_before,
        tally.sheet_bytes_after,
        tally.weights,
        tally.weights_bytes_before,
        tally.weights_bytes_after,
    );
    Ok(())
}

/// Re-encodes the example sheets of every unit of one layer that are not in the builder's
/// format.
fn compact_layer(
    root: &Path,
    source: &FolderSource,
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    tally: &mut Tally,
) -> Result<()> {
    let units_dir = root.join(paths::layer_dir(model, checkpoint, layer).as_str()).join("units");
    remove_leftovers(&units_dir)?;
    for unit in unit_folders(&units_dir) {
        let path = paths::unit_manifest(model, checkpoint, layer, unit);
        let Some(bytes) = source.read(&path)? else { continue };
        let manifest = parse_unit(path.as_str(), &bytes)?;
        compact_unit(root, source, manifest, tally)?;
    }
    Ok(())
}

/// Rewrites one unit with its example sheets in the builder's format; nothing when they are.
fn compact_unit(
    root: &Path,
    source: &FolderSource,
    mut manifest: UnitManifest,
    tally: &mut Tally,
) -> Result<()> {
    let format = format_for(ImageContent::Photographic);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let (model, checkpoint, layer, unit) = (
        manifest.model.clone(),
        manifest.checkpoint.clone(),
        manifest.layer.clone(),
        manifest.unit,
    );
    if let Some(examples) = manifest.dataset_examples.as_mut() {
        for (which, list) in [
            (UnitImage::TopExamples, &mut examples.top),
            (UnitImage::BottomExamples, &mut examples.bottom),
        ] {
            let Some(sheet) = list.as_mut().and_then(|list| list.sheet.as_mut()) else { continue };
            if sheet.image.format() == Some(format) {
                continue;
            }
            let old = source
                .read(&sheet.image.path)?
                .with_context(|| format!("{} is missing", sheet.image.path))?;
            let decoded = image::load_from_memory(&old)
                .with_context(|| format!("decoding {}", sheet.image.path))?;
            let bytes = encode(&decoded, ImageContent::Photographic)?;
            let path = paths::unit_image(&model, &checkpoint, &layer, unit, which, format);
            let image = ImageAsset::describe(path.clone(), &bytes)
                .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
            tally.sheets += 1;
            tally.sheet_bytes_before += sheet.image.bytes;
            tally.sheet_bytes_after += image.bytes;
            sheet.image = image;
            files.push((file_name(&path), bytes));
        }
    }
    if files.is_empty() {
        return Ok(());
    }
    let kept: Vec<String> = manifest
        .assets()
        .iter()
        .map(|listed| file_name(&listed.asset.path))
        .filter(|name| !files.iter().any(|(new, _)| new == name))
        .collect();
    files.push(("unit.json".to_owned(), microscope_core::atlas::to_json_pretty(&manifest)?));
    let dir = root.join(paths::unit_dir(&model, &checkpoint, &layer, unit).as_str());
    write_folder_atomic(&dir, &files, &kept)?;
    tally.units += 1;
    Ok(())
}

/// Stores every checkpoint's `weights.safetensors` as float16 (when `to_f16`) and records the
/// shipped file in `model.json`. True when the manifest changed.
fn record_weights(
    root: &Path,
    model: &mut ModelManifest,
    to_f16: bool,
    tally: &mut Tally,
) -> Result<bool> {
    let mut changed = false;
    let id = model.id.clone();
    for checkpoint in &mut model.checkpoints {
        let path = paths::checkpoint_weights(&id, &checkpoint.id);
        let file = root.join(path.as_str());
        let Ok(bytes) = fs::read(&file) else { continue };
        let bytes = if to_f16 {
            let tensors =
                read_safetensors(&bytes).with_context(|| format!("reading {}", file.display()))?;
            let half = write_safetensors_f16(&tensors)
                .with_context(|| format!("storing {} as float16", file.display()))?;
            if half != bytes {
                tally.weights += 1;
                tally.weights_bytes_before += bytes.len() as u64;
                tally.weights_bytes_after += half.len() as u64;
                write_atomic(&file, &half)?;
            }
            half
        } else {
            bytes
        };
        let record = FileAsset::describe(path, &bytes);
        if checkpoint.weights.as_ref() != Some(&record) {
            checkpoint.weights = Some(record);
            changed = true;
        }
    }
    Ok(changed)
}

/// The last segment of an asset path.
fn file_name(path: &microscope_core::atlas::AssetPath) -> String {
    path.as_str().rsplit('/').next().unwrap_or_default().to_owned()
}

/// Bytes of every file under `dir` (what a host would serve), links not followed.
fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => folder_bytes(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}
