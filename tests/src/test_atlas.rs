//! Atlases for the end-to-end tests: the frozen v1.0 fixture (served as it is, or copied and
//! damaged), and generated TEST DATA written with the format's own types and deterministic
//! writer: a model whose one layer has many units, with tiny generated sprite sheets.

use std::fs;
use std::path::{Path, PathBuf};

use microscope_core::atlas::{
    self, AtlasIndex, Coverage, FileAsset, ImageAsset, ImageFormat, LabelEvidence, LayerInfo,
    LayerManifest, LayerSheets, ModelEntry, ModelManifest, Name, RangeSet, Sheet, Technique,
    UnitManifest, paths,
};

use crate::error::{Error, Result};
use crate::paths::workspace_root;
use crate::png;

/// The id of the generated model.
pub const WIDE_MODEL: &str = "wide-test";
/// Its one layer.
pub const WIDE_LAYER: &str = "wide";
/// Tiles per generated sheet.
const TILES_PER_SHEET: u32 = 256;
/// Columns of a generated sheet.
const COLUMNS: u32 = 16;
/// Tile side in pixels.
const TILE: u32 = 16;

/// The frozen v1.0 fixture atlas (`core/tests/fixtures/atlas/v1.0`).
pub fn fixture_dir() -> PathBuf {
    workspace_root().join("core/tests/fixtures/atlas/v1.0")
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
    let entries =
        fs::read_dir(from).map_err(|e| Error::io(format!("listing {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", from.display()), e))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| Error::io(format!("copying to {}", target.display()), e))?;
        }
    }
    Ok(())
}

/// Writes `bytes` at `path` under `root`, creating folders.
pub fn write(root: &Path, path: &str, bytes: &[u8]) -> Result<()> {
    let file = root.join(path);
    if let Some(parent) = file.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    }
    fs::write(&file, bytes).map_err(|e| Error::io(format!("writing {}", file.display()), e))
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Unexpected(format!("writing the test atlas: {what}"))
}

fn name(text: &str) -> Result<Name> {
    Name::new(text).map_err(bad)
}

/// Copies the fixture atlas into `dir` and adds model `id` to it: listed in `atlas.json` with
/// `title` and `summary`, its `model.json` the fixture's `tiny` one renamed, with the one layer
/// `layer` and the checkpoint `final` only, after `adjust` has had its say. Returns the
/// model's manifest as written.
fn fixture_with_model(
    dir: &Path,
    id: &str,
    title: &str,
    summary: &str,
    layer: LayerInfo,
    adjust: impl FnOnce(&mut ModelManifest),
) -> Result<ModelManifest> {
    copy_dir(&fixture_dir(), dir)?;
    let read = |path: &str| {
        fs::read(dir.join(path)).map_err(|e| Error::io(format!("reading the fixture's {path}"), e))
    };
    let mut index: AtlasIndex =
        atlas::parse_index("atlas.json", &read("atlas.json")?).map_err(bad)?;
    index.models.push(ModelEntry {
        id: name(id)?,
        title: title.to_owned(),
        summary: Some(summary.to_owned()),
        building: false,
    });
    write(dir, paths::index().as_str(), &atlas::to_json_pretty(&index).map_err(bad)?)?;

    let tiny_path = paths::model_manifest(&name("tiny")?);
    let mut model =
        atlas::parse_model(tiny_path.as_str(), &read(tiny_path.as_str())?).map_err(bad)?;
    model.id = name(id)?;
    model.title = title.to_owned();
    model.graph.layers = vec![layer];
    model.checkpoints.retain(|c| c.id.as_str() == "final");
    model.default_checkpoint = name("final")?;
    adjust(&mut model);
    write(
        dir,
        paths::model_manifest(&model.id).as_str(),
        &atlas::to_json_pretty(&model).map_err(bad)?,
    )?;
    Ok(model)
}

/// A copy of the fixture atlas in `dir` plus a generated model [`WIDE_MODEL`] (TEST DATA)
/// whose layer [`WIDE_LAYER`] has `units` units, all built, each with a channel thumbnail in
/// generated sprite sheets and a `unit.json` labelled `test unit <n>`, but for the last unit,
/// which has label evidence too weak for a label.
pub fn write_with_wide_layer(dir: &Path, units: u32) -> Result<()> {
    let (model_id, checkpoint, layer) = (name(WIDE_MODEL)?, name("final")?, name(WIDE_LAYER)?);
    let info = LayerInfo {
        name: layer.clone(),
        op: Some("Conv".to_owned()),
        shape: vec![1, units, 7, 7],
        units,
        receptive_field: None,
    };
    fixture_with_model(
        dir,
        WIDE_MODEL,
        "Wide (test data)",
        "Generated test data: one layer of many units.",
        info,
        |model| model.summary = Some("Generated test data for the viewer's tests.".to_owned()),
    )?;

    let mut sheets = Vec::new();
    let mut first = 0;
    while first < units {
        let count = TILES_PER_SHEET.min(units - first);
        let [width, height] =
            Sheet::pixel_size(count, COLUMNS, [TILE, TILE]).ok_or_else(|| bad("sheet size"))?;
        let bytes = png::encode_rgb(width, height, |x, y| {
            let unit = first + (y / TILE) * COLUMNS + x / TILE;
            [(unit * 37 % 256) as u8, (unit * 11 % 256) as u8, (x * 255 / width) as u8]
        });
        let path = paths::layer_sheet(
            &model_id,
            &checkpoint,
            &layer,
            Technique::Channel,
            first,
            ImageFormat::Png,
        );
        write(dir, path.as_str(), &bytes)?;
        let image = ImageAsset::describe(path, &bytes).map_err(bad)?;
        sheets.push(Sheet {
            image,
            tile_width: TILE,
            tile_height: TILE,
            columns: COLUMNS,
            first,
            count,
        });
        first += count;
    }
    let all = RangeSet::all(units);
    let coverage = Coverage { built: all.clone(), channel: all, ..Coverage::default() };
    let manifest = LayerManifest {
        model: model_id.clone(),
        checkpoint: checkpoint.clone(),
        layer: layer.clone(),
        units,
        coverage,
        sheets: LayerSheets { channel: sheets, ..LayerSheets::default() },
        unit_classes: Vec::new(),
    };
    write(
        dir,
        paths::layer_manifest(&model_id, &checkpoint, &layer).as_str(),
        &atlas::to_json_pretty(&manifest).map_err(bad)?,
    )?;
    for unit in 0..units {
        let mut manifest =
            UnitManifest::new(model_id.clone(), checkpoint.clone(), layer.clone(), unit);
        if unit + 1 == units {
            // The last unit's top class is too weakly supported for a label (TEST DATA).
            manifest.label_evidence =
                Some(LabelEvidence { class: 3, correlation: 0.31, pool: 32, crops: 1, photos: 1 });
        } else {
            manifest.label = Some(format!("test unit {unit}"));
        }
        write(
            dir,
            paths::unit_manifest(&model_id, &checkpoint, &layer, unit).as_str(),
            &atlas::to_json_compact(&manifest).map_err(bad)?,
        )?;
    }
    Ok(())
}

/// The id of the second organism of [`write_with_twin`].
pub const TWIN_MODEL: &str = "tiny-twin";
/// Its one layer.
pub const TWIN_LAYER: &str = "mixed";
/// The strongest class of each unit of [`TWIN_LAYER`] and its score (TEST DATA): class 2
/// (`cup`) is the strongest of units 1, 3 and 4, in the order 4, 1, 3 by score.
pub const TWIN_CLASSES: [(u32, f32); 5] = [(0, 0.9), (2, 0.4), (1, 0.7), (2, 0.2), (2, 0.8)];

/// A copy of the fixture atlas in `dir` plus a second organism [`TWIN_MODEL`] (TEST DATA) with
/// the fixture model's labels: its one layer [`TWIN_LAYER`] has every unit built with one top
/// class ([`TWIN_CLASSES`]), listed in the layer's `unit_classes`; `atlas.json` marks it as
/// still being built.
pub fn write_with_twin(dir: &Path) -> Result<()> {
    let (model_id, checkpoint, layer) = (name(TWIN_MODEL)?, name("final")?, name(TWIN_LAYER)?);
    let units = TWIN_CLASSES.len() as u32;
    let info = LayerInfo {
        name: layer.clone(),
        op: Some("Conv".to_owned()),
        shape: vec![1, units, 4, 4],
        units,
        receptive_field: None,
    };
    fixture_with_model(
        dir,
        TWIN_MODEL,
        "Tiny twin (test data)",
        "Generated test data.",
        info,
        |_| {},
    )?;
    let index_path = paths::index();
    let bytes = fs::read(dir.join(index_path.as_str()))
        .map_err(|e| Error::io("reading the test atlas's index".to_owned(), e))?;
    let mut index = atlas::parse_index("atlas.json", &bytes).map_err(bad)?;
    for entry in index.models.iter_mut().filter(|m| m.id == model_id) {
        entry.building = true;
    }
    write(dir, index_path.as_str(), &atlas::to_json_pretty(&index).map_err(bad)?)?;

    let all = RangeSet::all(units);
    let mut manifests = Vec::new();
    for (unit, (class, score)) in (0..units).zip(TWIN_CLASSES) {
        let mut manifest =
            UnitManifest::new(model_id.clone(), checkpoint.clone(), layer.clone(), unit);
        manifest.top_classes = Some(vec![atlas::ClassScore { class, score }]);
        write(
            dir,
            paths::unit_manifest(&model_id, &checkpoint, &layer, unit).as_str(),
            &atlas::to_json_compact(&manifest).map_err(bad)?,
        )?;
        manifests.push(manifest);
    }
    let manifest = LayerManifest {
        model: model_id.clone(),
        checkpoint: checkpoint.clone(),
        layer: layer.clone(),
        units,
        coverage: Coverage { built: all.clone(), top_classes: all, ..Coverage::default() },
        sheets: LayerSheets::default(),
        unit_classes: atlas::UnitClass::of_units(&manifests),
    };
    write(
        dir,
        paths::layer_manifest(&model_id, &checkpoint, &layer).as_str(),
        &atlas::to_json_pretty(&manifest).map_err(bad)?,
    )
}

/// The built-in model of [`write_with_lite0`].
pub const LITE0_MODEL: &str = "efficientnet-lite0";
/// Its one browsable layer there (24 units).
pub const LITE0_LAYER: &str = "blocks.2";
/// Units of [`LITE0_LAYER`].
pub const LITE0_UNITS: u32 = 24;
/// Where the atlas keeps lite0's weights for the in-browser renderer.
pub const LITE0_WEIGHTS: &str = "models/efficientnet-lite0/checkpoints/final/weights.safetensors";

/// A copy of the fixture atlas in `dir` plus EfficientNet-Lite0 (TEST DATA around real
/// weights): its manifest lists one layer, [`LITE0_LAYER`], of which only unit 0 is built, and
/// unit 0 has no images; the converted weights (`weights`, a safetensors file) lie where the
/// in-browser renderer fetches them ([`LITE0_WEIGHTS`]), stored as float16 and recorded in
/// `model.json` as `microscope compact` ships them. Every feature visualization of this model
/// is missing, so the viewer offers to render it.
pub fn write_with_lite0(dir: &Path, weights: &Path) -> Result<()> {
    let (model_id, checkpoint, layer) = (name(LITE0_MODEL)?, name("final")?, name(LITE0_LAYER)?);
    let bytes = fs::read(weights)
        .map_err(|e| Error::io(format!("reading the weights {}", weights.display()), e))?;
    let tensors = microscope_core::weights::read_safetensors(&bytes).map_err(bad)?;
    let half = microscope_core::weights::write_safetensors_f16(&tensors).map_err(bad)?;
    let record = FileAsset::describe(paths::checkpoint_weights(&model_id, &checkpoint), &half);
    let info = LayerInfo {
        name: layer.clone(),
        op: Some("Add".to_owned()),
        shape: vec![1, LITE0_UNITS, 56, 56],
        units: LITE0_UNITS,
        receptive_field: None,
    };
    fixture_with_model(
        dir,
        LITE0_MODEL,
        "EfficientNet-Lite0 (test atlas)",
        "Real weights, no images: everything is rendered in the browser.",
        info,
        |model| {
            model.summary = None;
            model.labels = None;
            model.input.width = 224;
            model.input.height = 224;
            model.input.channels = 3;
            model.input.offset = vec![127.0; 3];
            model.input.scale = vec![128.0; 3];
            for entry in &mut model.checkpoints {
                entry.weights = (entry.id == checkpoint).then(|| record.clone());
            }
        },
    )?;

    let built = RangeSet::all(1);
    let manifest = LayerManifest {
        model: model_id.clone(),
        checkpoint: checkpoint.clone(),
        layer: layer.clone(),
        units: LITE0_UNITS,
        coverage: Coverage { built, ..Coverage::default() },
        sheets: LayerSheets::default(),
        unit_classes: Vec::new(),
    };
    write(
        dir,
        paths::layer_manifest(&model_id, &checkpoint, &layer).as_str(),
        &atlas::to_json_pretty(&manifest).map_err(bad)?,
    )?;
    let mut unit = UnitManifest::new(model_id.clone(), checkpoint.clone(), layer.clone(), 0);
    unit.label = Some("test unit without images".to_owned());
    write(
        dir,
        paths::unit_manifest(&model_id, &checkpoint, &layer, 0).as_str(),
        &atlas::to_json_compact(&unit).map_err(bad)?,
    )?;
    write(dir, record.path.as_str(), &half)
}

/// A fresh lite0 test atlas ([`write_with_lite0`]) for test `test`, built around the cached
/// converted weights (`$MICROSCOPE_CACHE/weights/efficientnet-lite0.safetensors`); `None`
/// (the test is skipped, with a note) when they are not there, unless
/// `MICROSCOPE_REQUIRE_DATA=1` says they must be (then their absence is an error).
pub fn lite0_for_test(test: &str) -> Result<Option<PathBuf>> {
    let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/microscope"))
    });
    let Some(cache) = cache else { return Ok(None) };
    let weights = cache.join("weights/efficientnet-lite0.safetensors");
    if !weights.exists() {
        if std::env::var("MICROSCOPE_REQUIRE_DATA").as_deref() == Ok("1") {
            return Err(Error::Unexpected(format!(
                "MICROSCOPE_REQUIRE_DATA=1 but {} is missing; run `microscope fetch all`",
                weights.display()
            )));
        }
        eprintln!(
            "SKIPPED: no lite0 weights at {} (run `microscope fetch all`)",
            weights.display()
        );
        return Ok(None);
    }
    let dir = std::env::temp_dir().join(format!("microscope-lite0-{test}-{}", std::process::id()));
    fs::remove_dir_all(&dir).ok();
    write_with_lite0(&dir, &weights)?;
    Ok(Some(dir))
}

/// The trained model of [`write_fashion_timeline`].
pub const FASHION_MODEL: &str = "fashion-cnn";
/// Its checkpoints in that atlas, in training order.
pub const FASHION_CHECKPOINTS: [&str; 3] = ["step-0", "step-5", "step-20"];

/// Whether Debian's `dataset-fashion-mnist` (or `$MICROSCOPE_FASHION_MNIST`) is there.
pub fn fashion_mnist_available() -> bool {
    let dir = std::env::var_os("MICROSCOPE_FASHION_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"));
    ["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"].iter().any(|f| dir.join(f).exists())
}

/// Environment variable naming a `microscope` binary built from this checkout (the test
/// command sets it to the one it built, so no test builds the CLI a second time).
pub const MICROSCOPE_BIN_ENV: &str = "MICROSCOPE_BIN";

/// Runs this checkout's `microscope` with its cache in `cache`: `$MICROSCOPE_BIN`, or else the
/// workspace's, built first.
pub fn microscope(cache: &Path, args: &[&str]) -> Result<()> {
    microscope_stderr(cache, args).map(drop)
}

/// [`microscope`], returning what it wrote on stderr (its progress and summary lines).
pub fn microscope_stderr(cache: &Path, args: &[&str]) -> Result<String> {
    let binary = match std::env::var_os(MICROSCOPE_BIN_ENV).filter(|v| !v.is_empty()) {
        Some(binary) => PathBuf::from(binary),
        None => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let built = std::process::Command::new(cargo)
                .args(["build", "--release", "--quiet", "-p", "microscope-cli"])
                .current_dir(workspace_root())
                .status()
                .map_err(|e| Error::io("running cargo build -p microscope-cli", e))?;
            if !built.success() {
                return Err(bad("cargo build -p microscope-cli failed"));
            }
            crate::paths::target_dir().join("release/microscope")
        }
    };
    let output = std::process::Command::new(&binary)
        .args(args)
        .env("MICROSCOPE_CACHE", cache)
        .output()
        .map_err(|e| Error::io(format!("running {}", binary.display()), e))?;
    if !output.status.success() {
        return Err(bad(format!(
            "microscope {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A real atlas of the fashion-cnn at the three [`FASHION_CHECKPOINTS`] of a tiny training run
/// (20 steps of 32 images, seconds): layer `fc`, units 0-1, channel visualizations and
/// examples from 100 labelled test images, built by `microscope train` and `microscope build
/// --checkpoints all` into `dir` (the cache in `dir/cache`, the atlas in `dir/atlas`, which
/// is returned). Needs Fashion-MNIST ([`fashion_mnist_available`]).
pub fn write_fashion_timeline(dir: &Path) -> Result<PathBuf> {
    let (cache, atlas) = (dir.join("cache"), dir.join("atlas"));
    let train = [
        "train",
        "--quiet",
        "--batch",
        "32",
        "--train-limit",
        "640",
        "--test-limit",
        "500",
        "--lr",
        "0.002",
        "--steps",
        "20",
        "--checkpoints",
        "0,5,20",
    ];
    microscope(&cache, &train)?;
    let out = atlas.to_string_lossy().into_owned();
    let build = [
        "build",
        "--model",
        FASHION_MODEL,
        "--checkpoints",
        "all",
        "--layers",
        "fc",
        "--units",
        "0-1",
        "--techniques",
        "channel,examples",
        "--steps",
        "32",
        "--corpus-limit",
        "100",
        "--quiet",
        "--out",
        &out,
    ];
    microscope(&cache, &build)?;
    Ok(atlas)
}
