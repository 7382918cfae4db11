//! A unit's folder: its images (stored as `encode` decides: feature visualizations as lossless
//! PNG, dataset-example sheets as JPEG; deterministic) and `unit.json`, assembled
//! in memory and written as one folder (temporary folder, then rename), so a unit is either
//! complete or absent. A unit that gains or redoes some techniques keeps the rest of what it
//! held: those parts of its manifest, their build records, and their files (hard-linked).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use image::{DynamicImage, RgbImage};
use microscope_core::atlas::paths::{self, UnitImage};
use microscope_core::atlas::{
    Circuits, ClassScore, DatasetExamples, Example, ExampleList, Histogram, ImageAsset,
    ImageContent, LabelEvidence, Manifest, Name, PixelBox, Rendering, Sheet, Technique,
    UnitManifest, to_json_pretty,
};

use super::encode::{encode, format_for};
use super::folder::write_folder_atomic;
use super::selection::BuildTechnique;
use super::visualize::{Rendered, UnitRenders};

/// Side of an example crop in a unit's example sheet.
pub const EXAMPLE_TILE: u32 = 64;
/// Columns of a unit's example sheet.
pub const EXAMPLE_COLUMNS: u32 = 4;

/// One example with its crop.
pub struct ExampleOut {
    /// The photo.
    pub photo: Name,
    /// Box in the photo's pixels.
    pub crop: PixelBox,
    /// Activation there.
    pub activation: f32,
    /// The crop at [`EXAMPLE_TILE`] pixels.
    pub tile: RgbImage,
    /// The photo's class in a labelled data set.
    pub class: Option<u32>,
}

/// Everything that goes into one unit.
#[derive(Default)]
pub struct UnitContent {
    /// The techniques this content replaces (all of their parts, present here or not).
    pub techniques: Vec<BuildTechnique>,
    /// The fingerprint of each atlas technique built (`unit.json`'s `built`).
    pub built: BTreeMap<Technique, String>,
    /// Feature visualizations.
    pub renders: UnitRenders,
    /// Render steps.
    pub steps: u32,
    /// Top (strongest first) and bottom (weakest first) examples.
    pub examples: Option<(Vec<ExampleOut>, Vec<ExampleOut>)>,
    /// Activation histogram.
    pub histogram: Option<Histogram>,
    /// Top classes.
    pub classes: Option<Vec<ClassScore>>,
    /// Short label (only where the label rule allows one).
    pub label: Option<String>,
    /// The evidence for a label from the top class, whether or not it made one.
    pub label_evidence: Option<LabelEvidence>,
    /// Circuits.
    pub circuits: Option<Circuits>,
}

/// Removes the parts `technique` makes from `manifest`, and their build records.
fn clear(manifest: &mut UnitManifest, technique: BuildTechnique) {
    let fv = &mut manifest.feature_visualizations;
    match technique {
        BuildTechnique::Channel => fv.channel = None,
        BuildTechnique::Neuron => fv.neuron = None,
        BuildTechnique::Negative => fv.negative = None,
        BuildTechnique::Diversity => fv.diversity.clear(),
        BuildTechnique::Examples => {
            manifest.dataset_examples = None;
            manifest.histogram = None;
        }
        BuildTechnique::Classes => {
            manifest.top_classes = None;
            manifest.label = None;
            manifest.label_evidence = None;
        }
        BuildTechnique::Circuits => manifest.circuits = None,
    }
    for part in technique.atlas_techniques() {
        manifest.built.remove(part.as_str());
    }
}

/// Writes unit `unit` of `layer` under `root`: `content` replaces its techniques' parts of
/// `base` (the unit as the folder holds it, if it does), whose other parts and files stay.
pub fn write_unit(
    root: &Path,
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    unit: u32,
    content: UnitContent,
    base: Option<&UnitManifest>,
) -> Result<()> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut asset = |which: UnitImage, image: DynamicImage| -> Result<ImageAsset> {
        let content = match which {
            UnitImage::TopExamples | UnitImage::BottomExamples => ImageContent::Photographic,
            _ => ImageContent::Generated,
        };
        let bytes = encode(&image, content)?;
        let path = paths::unit_image(model, checkpoint, layer, unit, which, format_for(content));
        let described = ImageAsset::describe(path.clone(), &bytes)
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        let name = path.as_str().rsplit('/').next().unwrap_or_default().to_owned();
        files.push((name, bytes));
        Ok(described)
    };
    let mut manifest = base.cloned().unwrap_or_else(|| {
        UnitManifest::new(model.clone(), checkpoint.clone(), layer.clone(), unit)
    });
    for &technique in &content.techniques {
        clear(&mut manifest, technique);
    }
    let steps = content.steps;
    let mut rendering = |which: UnitImage, r: &Rendered| -> Result<Rendering> {
        Ok(Rendering {
            image: asset(which, DynamicImage::ImageRgb8(r.image.to_rgb_image()))?,
            objective: Some(r.objective.clone()),
            seed: Some(r.seed),
            steps: Some(steps),
        })
    };
    let mut fv = std::mem::take(&mut manifest.feature_visualizations);
    for (technique, renders) in &content.renders {
        match technique {
            BuildTechnique::Channel => {
                fv.channel =
                    renders.first().map(|r| rendering(UnitImage::Channel, r)).transpose()?
            }
            BuildTechnique::Neuron => {
                fv.neuron = renders.first().map(|r| rendering(UnitImage::Neuron, r)).transpose()?
            }
            BuildTechnique::Negative => {
                fv.negative =
                    renders.first().map(|r| rendering(UnitImage::Negative, r)).transpose()?
            }
            BuildTechnique::Diversity => {
                for (i, r) in renders.iter().enumerate() {
                    let index = u8::try_from(i).context("too many diversity images")?;
                    fv.diversity.push(rendering(UnitImage::Diversity(index), r)?);
                }
            }
            _ => {}
        }
    }
    manifest.feature_visualizations = fv;
    if let Some((top, bottom)) = &content.examples {
        let mut list = |which: UnitImage, examples: &[ExampleOut]| -> Result<Option<ExampleList>> {
            if examples.is_empty() {
                return Ok(None);
            }
            let count = u32::try_from(examples.len())?;
            let [w, h] = Sheet::pixel_size(count, EXAMPLE_COLUMNS, [EXAMPLE_TILE, EXAMPLE_TILE])
                .context("example sheet too large")?;
            let mut sheet = RgbImage::new(w, h);
            for (k, example) in examples.iter().enumerate() {
                let k = k as u32;
                let (x, y) =
                    ((k % EXAMPLE_COLUMNS) * EXAMPLE_TILE, (k / EXAMPLE_COLUMNS) * EXAMPLE_TILE);
                image::imageops::replace(&mut sheet, &example.tile, i64::from(x), i64::from(y));
            }
            let image = asset(which, DynamicImage::ImageRgb8(sheet))?;
            Ok(Some(ExampleList {
                sheet: Some(Sheet {
                    image,
                    tile_width: EXAMPLE_TILE,
                    tile_height: EXAMPLE_TILE,
                    columns: EXAMPLE_COLUMNS,
                    first: 0,
                    count,
                }),
                examples: examples
                    .iter()
                    .map(|e| Example {
                        photo: e.photo.clone(),
                        crop: e.crop,
                        activation: e.activation,
                        class: e.class,
                    })
                    .collect(),
            }))
        };
        let top = list(UnitImage::TopExamples, top)?;
        let bottom = list(UnitImage::BottomExamples, bottom)?;
        if top.is_some() || bottom.is_some() {
            manifest.dataset_examples = Some(DatasetExamples { top, bottom });
        }
    }
    if content.histogram.is_some() {
        manifest.histogram = content.histogram;
    }
    if content.classes.is_some() {
        manifest.top_classes = content.classes;
        manifest.label = content.label;
        manifest.label_evidence = content.label_evidence;
    }
    if content.circuits.is_some() {
        manifest.circuits = content.circuits;
    }
    for (part, fingerprint) in content.built {
        manifest.built.insert(part.as_str().to_owned(), fingerprint);
    }
    // The files of kept parts come from the unit's folder as it is.
    let kept: Vec<String> = manifest
        .assets()
        .iter()
        .filter_map(|listed| listed.asset.path.as_str().rsplit('/').next().map(str::to_owned))
        .filter(|name| !files.iter().any(|(new, _)| new == name))
        .collect();
    let json = to_json_pretty(&manifest)?;
    files.push(("unit.json".to_owned(), json));
    let dir = root.join(paths::unit_dir(model, checkpoint, layer, unit).as_str());
    write_folder_atomic(&dir, &files, &kept)
}
