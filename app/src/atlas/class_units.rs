//! The units of a model that go with a class: from every layer's `unit_classes` (each unit's
//! strongest class and its score), strongest first; an atlas whose layers lack them (older
//! builds) falls back to the top classes of the last layer's units, read one by one. Class
//! search and the compare page's "one class, every model" both read this.

use microscope_core::atlas::{ModelManifest, Sheet, Technique, Tile};

use super::client::{load_layer, load_unit};

/// Most unit manifests read by the fallback.
const CLASS_SCAN: u32 = 2048;

/// A unit whose strongest class is the class asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassUnit {
    /// Its layer.
    pub layer: String,
    /// The unit index.
    pub unit: u32,
    /// Its score for the class, as in its `top_classes` (a correlation for `microscope build`).
    pub score: f32,
    /// Its top dataset example's tile in the layer's sheets, when the atlas has one.
    pub thumbnail: Option<(Sheet, Tile)>,
}

/// The (at most `limit`) units of every layer of `model`, at its default checkpoint, whose
/// strongest class is `class`, strongest first (ties in layer order).
pub async fn class_units(model: &ModelManifest, class: u32, limit: usize) -> Vec<ClassUnit> {
    let checkpoint = model.default_checkpoint.as_str();
    let mut found: Vec<ClassUnit> = Vec::new();
    let mut indexed = false;
    for info in &model.graph.layers {
        let Ok(layer) = load_layer(model.id.as_str(), checkpoint, info.name.as_str()).await else {
            continue;
        };
        indexed |= !layer.unit_classes.is_empty();
        found.extend(layer.unit_classes.iter().filter(|c| c.class == class).map(|c| {
            ClassUnit {
                layer: info.name.as_str().to_owned(),
                unit: c.unit,
                score: c.score,
                thumbnail: layer
                    .thumbnail(Technique::DatasetExamples, c.unit)
                    .map(|(sheet, tile)| (sheet.clone(), tile)),
            }
        }));
    }
    if !indexed {
        found = last_layer_units(model, class).await;
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(limit);
    found
}

/// Units of `model`'s last layer whose top classes include `class`, read unit by unit.
async fn last_layer_units(model: &ModelManifest, class: u32) -> Vec<ClassUnit> {
    let Some(last) = model.graph.layers.last() else { return Vec::new() };
    let checkpoint = model.default_checkpoint.as_str();
    let Ok(layer) = load_layer(model.id.as_str(), checkpoint, last.name.as_str()).await else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let thumbnail = |unit| {
        layer.thumbnail(Technique::DatasetExamples, unit).map(|(sheet, tile)| (sheet.clone(), tile))
    };
    for unit in layer.coverage.top_classes.iter().take(CLASS_SCAN as usize) {
        if let Ok(manifest) =
            load_unit(model.id.as_str(), checkpoint, last.name.as_str(), unit).await
            && let Some(score) = manifest.top_classes.iter().flatten().find(|c| c.class == class)
        {
            found.push(ClassUnit {
                layer: last.name.as_str().to_owned(),
                unit,
                score: score.score,
                thumbnail: thumbnail(unit),
            });
        }
    }
    found
}
