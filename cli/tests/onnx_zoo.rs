//! The torchvision zoo through `microscope import-onnx`: real architectures exported by
//! PyTorch's own exporter (`tools/onnx-zoo.py`, random weights: this measures operator
//! coverage, not accuracy) at opsets 11 and 17 import; `layers` lists their layers; and a
//! 16-step render of a unit of a middle layer raises that unit's activation above the image
//! after the first step (near the starting noise).
//!
//! The files are generated at test time into a scratch folder (never committed) with
//! `/usr/bin/python3`, torch and torchvision (Debian `python3-torchvision`). Without them the
//! test prints SKIPPED, unless `MICROSCOPE_REQUIRE_ZOO=1` (set by scripts/test.sh) makes that
//! a failure. By default a representative subset runs (one model per operator family, both
//! opsets, [`SUBSET`]); `MICROSCOPE_ONNX_ZOO=full` runs every model, including the slow
//! ones (VGG-11 needs 224 px for its 7x7 adaptive pool). Two more tests: files exported with
//! dynamic height and width import at a non-square `--input-size`, and a segmenter builds an
//! atlas without classes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

/// Every model of the zoo (`tools/onnx-zoo.py` names).
const FULL: &[&str] = &[
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "resnet18",
    "resnet50",
    "efficientnet_b0",
    "vgg11",
    "densenet121",
    "regnet_x_400mf",
    "tiny_unet",
    "tiny_fpn",
    "tiny_heads",
    "tiny_convnext",
    "tiny_style",
];

/// The models run by default: every operator the full zoo needs appears in one of them
/// (HardSigmoid/HardSwish, Clip with input bounds, SiLU as Sigmoid x Mul, Concat/Pad/AveragePool,
/// residual Adds, ConvTranspose, Resize with folded Shape/Slice/Concat sizes, LeakyRelu,
/// ReduceMean/ReduceMax, Unsqueeze/Squeeze, several outputs; channel layer norms as
/// ReduceMean/Pow/Sqrt, GELU as Erf, InstanceNormalization, group norm, ELU, SELU, Softplus,
/// Mish, Split).
const SUBSET: &[&str] = &[
    "mobilenet_v2",
    "mobilenet_v3_small",
    "resnet18",
    "efficientnet_b0",
    "densenet121",
    "tiny_unet",
    "tiny_fpn",
    "tiny_heads",
    "tiny_convnext",
    "tiny_style",
];

const OPSETS: &[u32] = &[11, 17];
const PYTHON: &str = "/usr/bin/python3";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Whether the exporter can run; otherwise SKIPPED (or a failure when required).
fn exporter_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import torch, torchvision"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("MICROSCOPE_REQUIRE_ZOO").is_none_or(|v| v != "1"),
            "MICROSCOPE_REQUIRE_ZOO=1 but {PYTHON} cannot import torch and torchvision \
             (install python3-torchvision; scripts/setup.sh does)"
        );
        eprintln!("SKIPPED: {PYTHON} cannot import torch and torchvision (python3-torchvision)");
    }
    ok
}

fn microscope(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(args)
        .env("MICROSCOPE_CACHE", cache)
        .env("MICROSCOPE_DEVICE", "cpu")
        .output()
        .unwrap()
}

/// Runs `microscope args`, returning stdout or the failure's stderr.
fn run(cache: &Path, args: &[&str]) -> Result<String, String> {
    let out = microscope(cache, args);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`microscope {}` failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Import (with `import_args`), list layers, render a middle unit and compare its activation
/// before and after: a line for the report and the layers, or why it failed.
fn check_model(
    dir: &Path,
    file: &str,
    id: &str,
    import_args: &[&str],
) -> Result<(String, Vec<Value>), String> {
    let cache = dir.join(format!("cache-{id}"));
    let path = dir.join(file);
    let path = path.to_str().unwrap();
    let started = Instant::now();
    run(&cache, &[&["import-onnx", path, "--id", id][..], import_args].concat())?;
    let import_s = started.elapsed().as_secs_f64();
    let layers: Value = serde_json::from_str(&run(&cache, &["layers", "--model", id, "--json"])?)
        .map_err(|e| format!("layers --json is not JSON: {e}"))?;
    let layers = layers.as_array().cloned().unwrap_or_default();
    if layers.is_empty() {
        return Err("`layers` lists no layer".into());
    }
    // The middle layer with a spatial map (a feature map, not a pooled vector).
    let spatial: Vec<&Value> = layers.iter().filter(|l| l["height"].as_u64() > Some(1)).collect();
    let layer = spatial.get(spatial.len() / 2).copied().unwrap_or(&layers[layers.len() / 2]);
    let name = layer["name"].as_str().unwrap();
    let channels = layer["channels"].as_u64().unwrap();
    // A unit of a random-weight network can be dead (a ReLU that never fires) or flat; the
    // first of a few units spread over the layer that rises counts, and all failing is an
    // error.
    let mut tried = Vec::new();
    let mut risen = None;
    for unit_index in [channels / 2, 0, channels / 4, 3 * channels / 4] {
        let unit = format!("{name}:{unit_index}");
        let (start, end, render_s) = render_unit(dir, &cache, id, &unit)?;
        if end > start {
            risen = Some((unit, start, end, render_s));
            break;
        }
        tried.push(format!("{unit} {start} -> {end}"));
    }
    let _ = std::fs::remove_dir_all(&cache);
    let Some((unit, start, end, render_s)) = risen else {
        return Err(format!("no render raised its unit's activation: {}", tried.join(", ")));
    };
    let line = format!(
        "{id}: {} layers, {unit} {start:.3} -> {end:.3}; import {import_s:.1} s, render {render_s:.1} s",
        layers.len()
    );
    Ok((line, layers))
}

/// Exports `models` with `tools/onnx-zoo.py` into a fresh scratch folder (`extra`: more of
/// its arguments) and returns the folder.
fn export(name: &str, models: &[&str], opsets: &str, extra: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microscope-onnx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let export = Command::new(PYTHON)
        .arg(repo_root().join("tools/onnx-zoo.py"))
        .arg(&dir)
        .args(["--size", "64", "--opsets", opsets, "--models", &models.join(",")])
        .args(extra)
        .output()
        .unwrap();
    assert!(export.status.success(), "export failed:\n{}", String::from_utf8_lossy(&export.stderr));
    dir
}

/// A 16-step render of `unit`: its activation after the first step and at the end, and the
/// render's seconds.
fn render_unit(dir: &Path, cache: &Path, id: &str, unit: &str) -> Result<(f64, f64, f64), String> {
    let out = dir.join(format!("{id}.png"));
    let started = Instant::now();
    run(
        cache,
        &[
            "render",
            "--model",
            id,
            "--objective",
            unit,
            "--steps",
            "16",
            "--thresholds",
            "1",
            "--no-transforms",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    )?;
    let render_s = started.elapsed().as_secs_f64();
    let first = dir.join(format!("{id}-1.png"));
    let json: Value = serde_json::from_str(&run(
        cache,
        &[
            "activation",
            "--model",
            id,
            "--unit",
            unit,
            "--json",
            first.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    )?)
    .map_err(|e| format!("activation --json is not JSON: {e}"))?;
    let values: Vec<f64> =
        json.as_array().unwrap().iter().map(|row| row["value"].as_f64().unwrap()).collect();
    match values.as_slice() {
        &[start, end] => Ok((start, end, render_s)),
        _ => Err(format!("activation gave {values:?}")),
    }
}

#[test]
fn torchvision_zoo_imports_lists_layers_and_renders() {
    if !exporter_available() {
        return;
    }
    let full = std::env::var("MICROSCOPE_ONNX_ZOO").is_ok_and(|v| v == "full");
    let models = if full { FULL } else { SUBSET };
    let started = Instant::now();
    let opsets = OPSETS.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let dir = export("zoo", models, &opsets, &[]);
    eprintln!(
        "exported {} models at opsets {opsets} in {:.0} s",
        models.len(),
        started.elapsed().as_secs_f64()
    );
    let mut failures = Vec::new();
    for model in models {
        for opset in OPSETS {
            let id = format!("{}-op{opset}", model.replace('_', "-"));
            match check_model(&dir, &format!("{model}-op{opset}.onnx"), &id, &[]) {
                Ok((line, _)) => eprintln!("ok {line}"),
                Err(why) => {
                    eprintln!("FAILED {id}: {why}");
                    failures.push(format!("{id}: {why}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("whole zoo test: {:.0} s", started.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        models.len() * OPSETS.len(),
        failures.join("\n")
    );
}

/// A segmenter (the small U-Net: its first output is a 3-class map, its second a pooled
/// vector) builds into an atlas with feature visualizations, dataset examples and circuits,
/// and, asked for every technique, no classes: no labels, no top classes, no class index.
#[test]
fn a_segmenter_builds_an_atlas_without_classes() {
    if !exporter_available() {
        return;
    }
    let dir = export("segmenter", &["tiny_unet"], "17", &[]);
    // The photos (and the wheels they come from) of the user's cache, shared read-only.
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let home = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/microscope")
    });
    for shared in ["photos", "wheels"] {
        if home.join(shared).is_dir() {
            std::os::unix::fs::symlink(home.join(shared), cache.join(shared)).unwrap();
        }
    }
    let file = dir.join("tiny_unet-op17.onnx");
    run(&cache, &["import-onnx", file.to_str().unwrap(), "--id", "unet"]).unwrap();
    let layers: Value =
        serde_json::from_str(&run(&cache, &["layers", "--model", "unet", "--json"]).unwrap())
            .unwrap();
    // A convolution in the middle of the network (circuits read its weights).
    let convs: Vec<&str> = layers
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["op"] == "Conv")
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    let middle = convs[convs.len() / 2];
    let atlas = dir.join("atlas");
    let built = run(
        &cache,
        &[
            "build",
            "--model",
            "unet",
            "--layers",
            middle,
            "--units",
            "0-1",
            "--techniques",
            "all",
            "--steps",
            "4",
            "--size",
            "32",
            "--corpus",
            "bundled",
            "--crop-scales",
            "1",
            "--top-k",
            "2",
            "--quiet",
            "--out",
            atlas.to_str().unwrap(),
        ],
    );
    let built = built.unwrap_or_else(|e| panic!("{e}"));
    let verified = run(&cache, &["verify", atlas.to_str().unwrap()]).unwrap();
    assert!(verified.contains("0 errors"), "{verified}");
    // Top-level keys of every manifest, by file name.
    let mut found: Vec<(String, String)> = Vec::new();
    let mut stack = vec![atlas.clone()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                for key in value.as_object().into_iter().flat_map(|o| o.keys()) {
                    found.push((file.clone(), key.clone()));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let has = |file: &str, key: &str| found.iter().any(|(f, k)| f == file && k == key);
    for key in ["feature_visualizations", "dataset_examples", "circuits"] {
        assert!(has("unit.json", key), "no unit has `{key}` ({built})");
    }
    for (file, key) in [
        ("model.json", "labels"),
        ("layer.json", "unit_classes"),
        ("unit.json", "top_classes"),
        ("unit.json", "label_evidence"),
    ] {
        assert!(!has(file, key), "a segmenter's {file} has `{key}`");
    }
    assert!(has("model.json", "input"), "no model.json in {found:?}");
}

/// Files exported with a dynamic batch, height and width (`dynamic_axes`) import at a
/// non-square size given as `--input-size HxW`: their layers are at that size (ResNet-18's
/// stem halves both axes) and a render raises a middle unit.
#[test]
fn dynamic_inputs_import_at_a_non_square_size() {
    if !exporter_available() {
        return;
    }
    let models = ["resnet18", "tiny_fpn"];
    let dir = export("dynamic", &models, "17", &["--dynamic"]);
    let mut failures = Vec::new();
    for model in models {
        let file = format!("{model}-op17-dynamic.onnx");
        let id = format!("{}-160x224", model.replace('_', "-"));
        match check_model(&dir, &file, &id, &["--input-size", "160x224"]) {
            Ok((line, layers)) => {
                eprintln!("ok {line}");
                let first = &layers[0];
                let size = (first["height"].as_u64(), first["width"].as_u64());
                if size != (Some(80), Some(112)) {
                    failures.push(format!("{id}: first layer {first}, not 80x112"));
                }
            }
            Err(why) => failures.push(format!("{id}: {why}")),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
