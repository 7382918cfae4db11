//! Finishing an atlas: every `layer.json` and its sprite sheets derived from the unit files
//! on disk, exactly the same way after a build, a resumed build or a merge (the derived
//! files are functions of the unit files). Unit folders without a readable `unit.json`
//! (none are left by a build) are not counted.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use image::imageops::{FilterType, crop_imm, resize};
use image::{DynamicImage, Rgba, RgbaImage};
use microscope_core::atlas::{
    AtlasSource, Coverage, ImageAsset, LayerManifest, LayerSheets, Name, Sheet, Technique,
    UnitClass, UnitManifest, parse_index, parse_model, parse_unit, paths,
};

use super::encode::{encode, format_for};
use super::folder::{FolderSource, remove_leftovers, unit_folders, write_manifest};
use super::halt::{HaltPoint, halt_at};

/// Side of a tile in a layer's sheets.
pub const LAYER_TILE: u32 = 64;
/// Columns of a layer's sheets.
pub const LAYER_COLUMNS: u32 = 16;
/// Tiles per layer sheet.
pub const LAYER_SHEET_TILES: u32 = 256;

/// Derives every layer of every model in `root`'s index, or of `only` that model (a build
/// leaves the other models' files as they are). Returns the layers written.
pub fn finish(root: &Path, only: Option<&Name>) -> Result<usize> {
    let source = FolderSource::new(root);
    let index_path = paths::index();
    let bytes = source.read(&index_path)?.context("no atlas.json")?;
    let index = parse_index(index_path.as_str(), &bytes)?;
    let mut written = 0;
    for entry in index.models.iter().filter(|entry| only.is_none_or(|id| &entry.id == id)) {
        let path = paths::model_manifest(&entry.id);
        let Some(bytes) = source.read(&path)? else { continue };
        let model = parse_model(path.as_str(), &bytes)?;
        for checkpoint in &model.checkpoints {
            for layer in &model.graph.layers {
                if finish_layer(root, &source, &model.id, &checkpoint.id, &layer.name, layer.units)?
                {
                    written += 1;
                }
            }
        }
    }
    Ok(written)
}

/// Derives one layer; false when it has no units (it then gets a manifest with nothing built,
/// so a viewer asking for it learns that without a failed request).
fn finish_layer(
    root: &Path,
    source: &FolderSource,
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    units: u32,
) -> Result<bool> {
    let dir = root.join(paths::layer_dir(model, checkpoint, layer).as_str());
    let units_dir = dir.join("units");
    remove_leftovers(&units_dir)?;
    let mut manifests: Vec<UnitManifest> = Vec::new();
    for unit in unit_folders(&units_dir) {
        let path = paths::unit_manifest(model, checkpoint, layer, unit);
        let Some(bytes) = source.read(&path)? else { continue };
        if let Ok(manifest) = parse_unit(path.as_str(), &bytes)
            && manifest.unit < units
        {
            manifests.push(manifest);
        }
    }
    let coverage = Coverage::of_units(&manifests);
    let sheets_dir = dir.join("sheets");
    if sheets_dir.exists() {
        fs::remove_dir_all(&sheets_dir)
            .with_context(|| format!("cannot remove {}", sheets_dir.display()))?;
    }
    let mut sheets = LayerSheets::default();
    for technique in Technique::THUMBNAILS {
        let list =
            layer_sheets(root, source, model, checkpoint, layer, units, technique, &manifests)?;
        match technique {
            Technique::Channel => sheets.channel = list,
            Technique::Neuron => sheets.neuron = list,
            Technique::Negative => sheets.negative = list,
            Technique::Diversity => sheets.diversity = list,
            Technique::DatasetExamples => sheets.dataset_examples = list,
            _ => {}
        }
    }
    if !manifests.is_empty() {
        halt_at(HaltPoint::Finish);
    }
    let manifest = LayerManifest {
        model: model.clone(),
        checkpoint: checkpoint.clone(),
        layer: layer.clone(),
        units,
        coverage,
        sheets,
        unit_classes: UnitClass::of_units(&manifests),
    };
    write_manifest(root, &manifest)?;
    Ok(!manifests.is_empty())
}

/// The thumbnail of one unit for `technique` (the first tile of an example sheet).
fn thumbnail(
    source: &FolderSource,
    unit: &UnitManifest,
    technique: Technique,
) -> Result<Option<RgbaImage>> {
    let Some(asset) = unit.thumbnail_source(technique) else { return Ok(None) };
    let Some(bytes) = source.read(&asset.path)? else { return Ok(None) };
    let image = image::load_from_memory(&bytes)
        .with_context(|| format!("decoding {}", asset.path))?
        .to_rgba8();
    let image = if technique == Technique::DatasetExamples {
        let tile = unit
            .dataset_examples
            .as_ref()
            .and_then(|d| d.top.as_ref())
            .and_then(|t| t.sheet.as_ref())
            .map_or([image.width(), image.height()], |s| [s.tile_width, s.tile_height]);
        crop_imm(&image, 0, 0, tile[0].min(image.width()), tile[1].min(image.height())).to_image()
    } else {
        image
    };
    Ok(Some(resize(&image, LAYER_TILE, LAYER_TILE, FilterType::Triangle)))
}

#[allow(clippy::too_many_arguments)]
fn layer_sheets(
    root: &Path,
    source: &FolderSource,
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    units: u32,
    technique: Technique,
    manifests: &[UnitManifest],
) -> Result<Vec<Sheet>> {
    let mut sheets = Vec::new();
    let mut first = 0;
    while first < units {
        let count = LAYER_SHEET_TILES.min(units - first);
        let members: Vec<&UnitManifest> = manifests
            .iter()
            .filter(|m| m.unit >= first && m.unit < first + count && m.has(technique))
            .collect();
        if !members.is_empty() {
            let [w, h] = Sheet::pixel_size(count, LAYER_COLUMNS, [LAYER_TILE, LAYER_TILE])
                .context("sheet size")?;
            let mut canvas = RgbaImage::from_pixel(w, h, Rgba([0, 0, 0, 0]));
            for unit in members {
                let Some(tile) = thumbnail(source, unit, technique)? else { continue };
                let k = unit.unit - first;
                let (x, y) = ((k % LAYER_COLUMNS) * LAYER_TILE, (k / LAYER_COLUMNS) * LAYER_TILE);
                image::imageops::replace(&mut canvas, &tile, i64::from(x), i64::from(y));
            }
            let content = technique.image_content();
            let bytes = encode(&DynamicImage::ImageRgba8(canvas), content)?;
            let path =
                paths::layer_sheet(model, checkpoint, layer, technique, first, format_for(content));
            let image = ImageAsset::describe(path.clone(), &bytes)
                .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
            crate::cache::write_atomic(&root.join(path.as_str()), &bytes)?;
            sheets.push(Sheet {
                image,
                tile_width: LAYER_TILE,
                tile_height: LAYER_TILE,
                columns: LAYER_COLUMNS,
                first,
                count,
            });
        }
        first += count;
    }
    Ok(sheets)
}
