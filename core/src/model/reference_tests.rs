//! Tests against the real checkpoints and the PyTorch reference fixtures
//! (`cli/tests/fixtures/reference/efficientnet-lite{0,1,2}.json`, made by
//! `tools/reference/efficientnet_lite_reference.py`).
//!
//! They need files that are not in the repository (`microscope fetch all` puts them in the
//! cache). Without them they are skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1`
//! (set by the test command) makes a missing file a failure:
//! - weights: `<cache>/weights/efficientnet-liteN.safetensors` (cache: `$MICROSCOPE_CACHE`,
//!   else `~/.cache/microscope`), or a checkpoint `efficientnet-liteN-*.pth` anywhere under
//!   `$MICROSCOPE_TEST_WEIGHTS_DIR`;
//! - the photos (`coffee.png`, `chelsea.png`, `astronaut.png`, `rocket.jpg`, `china.jpg`,
//!   `flower.jpg`) under `$MICROSCOPE_TEST_PHOTOS_DIR`, else `<cache>/photos`;
//! - optionally, for the network alone, the reference's normalised inputs and logits
//!   (`liteN-coffee-input.npy`, `liteN-coffee-logits.npy`) in `$MICROSCOPE_REFERENCE_NPY_DIR`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde_json::Value;

use super::{Model, ModelId, NUM_CLASSES};
use crate::preprocess::{Framing, preprocess};
use crate::weights::{read_pth, read_safetensors};

/// Reports a missing input file: a skip, or a failure when the data is required.
pub(crate) fn skip(message: &str) {
    if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
        panic!("MICROSCOPE_REQUIRE_DATA=1 but {message}");
    }
    eprintln!("SKIPPED {message}");
}

/// The cache folder the CLI fills: `$MICROSCOPE_CACHE`, else `~/.cache/microscope`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MICROSCOPE_CACHE") {
        return Some(PathBuf::from(dir));
    }
    Some(Path::new(&std::env::var_os("HOME")?).join(".cache/microscope"))
}

/// Largest difference allowed between our logits and the reference's, end to end, for PNG
/// photos. Decoding and preprocessing are bit-exact with Pillow there (measured: 0 input values
/// differ), so only float rounding in the network remains (measured <= 1e-5).
const PNG_LOGIT_TOLERANCE: f32 = 1e-3;
/// The same for JPEG photos: the `image` crate's decoder (zune-jpeg) and libjpeg-turbo (Pillow)
/// round some pixels differently (measured <= 0.014; 0 when fed Pillow's decoded pixels).
const JPEG_LOGIT_TOLERANCE: f32 = 0.05;
/// Largest difference allowed on the network alone (same input as the reference).
const NETWORK_TOLERANCE: f32 = 2e-3;
/// Largest difference allowed between our and the reference's top-1 probability.
const PROB_TOLERANCE: f32 = 0.02;

/// First file under `dir` (breadth first, `depth` levels) whose name satisfies `matches`.
fn find_file(dir: &Path, depth: usize, matches: &dyn Fn(&str) -> bool) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_file() && matches(name) {
            return Some(path.clone());
        }
    }
    if depth == 0 {
        return None;
    }
    entries.iter().filter(|p| p.is_dir()).find_map(|p| find_file(p, depth - 1, matches))
}

fn find_checkpoint(model: ModelId) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MICROSCOPE_TEST_WEIGHTS_DIR") {
        let prefix = model.name();
        return find_file(Path::new(&dir), 4, &|n| n.starts_with(prefix) && n.ends_with(".pth"));
    }
    let path = cache_dir()?.join("weights").join(format!("{}.safetensors", model.name()));
    path.exists().then_some(path)
}

fn find_photo(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("MICROSCOPE_TEST_PHOTOS_DIR")
        .map(PathBuf::from)
        .or_else(|| Some(cache_dir()?.join("photos")))?;
    find_file(&dir, 1, &|n| n == name)
}

fn fixture(model: ModelId) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cli/tests/fixtures/reference")
        .join(format!("{}.json", model.name()));
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn load(model: ModelId, device: &Device) -> Option<Model> {
    let Some(path) = find_checkpoint(model) else {
        skip(&format!("{model} reference test: no weights (run `microscope fetch {model}`)"));
        return None;
    };
    let bytes = std::fs::read(&path).unwrap();
    let tensors = if path.extension().is_some_and(|e| e == "pth") {
        read_pth(&bytes).unwrap()
    } else {
        read_safetensors(&bytes).unwrap()
    };
    Some(Model::from_tensor_map(model, &tensors, device).unwrap())
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&v| f64::from(v - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|&e| (e / sum) as f32).collect()
}

fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}

/// Reads a little-endian float32 `.npy` file: its shape and values.
fn read_npy_f32(bytes: &[u8]) -> (Vec<usize>, Vec<f32>) {
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, 12),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(
        header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"),
        "{header}"
    );
    let shape_text = header.split("'shape': (").nth(1).unwrap().split(')').next().unwrap();
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let data: Vec<f32> = bytes[start + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data.len(), shape.iter().product::<usize>());
    (shape, data)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Every fixture photo found: preprocess, run, compare top-5 logits, top-1 class and its
/// probability with the reference; for coffee also the reference's full logits if available.
fn check_model_end_to_end(model: ModelId) {
    let device = Device::flex();
    let Some(net) = load(model, &device) else { return };
    let fixture = fixture(model);
    let size = model.input_size();
    let mut checked = 0;
    for image in fixture["images"].as_array().unwrap() {
        let name = image["name"].as_str().unwrap();
        let member = image["source"]["member"].as_str().unwrap();
        let file = member.rsplit('/').next().unwrap();
        let Some(path) = find_photo(file) else {
            skip(&format!("{model} {name}: {file} not found (run `microscope fetch photos`)"));
            continue;
        };
        let tolerance =
            if file.ends_with(".png") { PNG_LOGIT_TOLERANCE } else { JPEG_LOGIT_TOLERANCE };
        let input =
            preprocess(&std::fs::read(&path).unwrap(), [size; 2], Framing::CentreCrop).unwrap();
        let logits = net.logits(input.to_tensor(&device)).unwrap();
        let logits: Vec<f32> = logits.into_data().try_to_vec().unwrap();
        assert_eq!(logits.len(), NUM_CLASSES);
        let probs = softmax(&logits);
        let top5 = image["top5"].as_array().unwrap();
        let ref_logits: Vec<f32> = image["top5_logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let mut worst = 0.0f32;
        for (entry, &want) in top5.iter().zip(&ref_logits) {
            let class = entry["class"].as_u64().unwrap() as usize;
            worst = worst.max((logits[class] - want).abs());
        }
        let top1 = top5[0]["class"].as_u64().unwrap() as usize;
        let p_ref = top5[0]["prob"].as_f64().unwrap() as f32;
        let p = probs[top1];
        eprintln!(
            "{model} {name}: top-1 {} ({}) p {p:.4} (ref {p_ref:.4}), max |dlogit| over ref top-5 {worst:.2e}",
            argmax(&logits),
            top5[0]["label"].as_str().unwrap(),
        );
        assert_eq!(argmax(&logits), top1, "{model} {name}: top-1 class differs");
        assert!((p - p_ref).abs() < PROB_TOLERANCE, "{model} {name}: p {p} vs {p_ref}");
        assert!(worst < tolerance, "{model} {name}: logits differ by {worst}");
        if name == "coffee" {
            if let Some(first8) = image.pointer("/debug/logits_first8").and_then(Value::as_array) {
                let want: Vec<f32> = first8.iter().map(|v| v.as_f64().unwrap() as f32).collect();
                let d = max_abs_diff(&logits[..8], &want);
                eprintln!("{model} coffee: max |dlogit| over the first 8 classes {d:.4}");
                assert!(d < tolerance);
            }
            if let Some(dir) = std::env::var_os("MICROSCOPE_REFERENCE_NPY_DIR") {
                let short = model.name().trim_start_matches("efficientnet-");
                let path = Path::new(&dir).join(format!("{short}-coffee-logits.npy"));
                if let Ok(bytes) = std::fs::read(path) {
                    let (_, want) = read_npy_f32(&bytes);
                    let d = max_abs_diff(&logits, &want);
                    eprintln!(
                        "{model} coffee end to end: max |dlogit| over all 1000 classes {d:.5}"
                    );
                    assert!(d < tolerance);
                }
            }
        }
        checked += 1;
    }
    eprintln!("{model}: {checked} photos checked end to end");
}

#[test]
fn model_reference_lite0_end_to_end() {
    check_model_end_to_end(ModelId::EfficientNetLite0);
}

#[test]
fn model_reference_lite1_end_to_end() {
    check_model_end_to_end(ModelId::EfficientNetLite1);
}

#[test]
fn model_reference_lite2_end_to_end() {
    check_model_end_to_end(ModelId::EfficientNetLite2);
}

/// The network alone on the reference's exact input, when `$MICROSCOPE_REFERENCE_NPY_DIR`
/// holds the `.npy` files the reference script writes.
#[test]
fn model_reference_network_only() {
    let Some(dir) = std::env::var_os("MICROSCOPE_REFERENCE_NPY_DIR") else {
        eprintln!("SKIPPED model_reference_network_only: set MICROSCOPE_REFERENCE_NPY_DIR");
        return;
    };
    let device = Device::flex();
    for model in ModelId::ALL {
        let short = model.name().trim_start_matches("efficientnet-");
        let (Ok(input), Ok(logits)) = (
            std::fs::read(Path::new(&dir).join(format!("{short}-coffee-input.npy"))),
            std::fs::read(Path::new(&dir).join(format!("{short}-coffee-logits.npy"))),
        ) else {
            eprintln!("SKIPPED {model} network-only: no {short}-coffee-*.npy");
            continue;
        };
        let Some(net) = load(model, &device) else { continue };
        let (shape, input) = read_npy_f32(&input);
        let (_, want) = read_npy_f32(&logits);
        let shape: [usize; 4] = shape.try_into().unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), shape), &device);
        let got: Vec<f32> = net.logits(x).unwrap().into_data().try_to_vec().unwrap();
        let d = max_abs_diff(&got, &want);
        let dp = max_abs_diff(&softmax(&got), &softmax(&want));
        eprintln!("{model} coffee network only: max |dlogit| {d:.6}, max |dprob| {dp:.7}");
        assert!(d < NETWORK_TOLERANCE, "{model}: {d}");
        // Our preprocessing of the same photo against the reference's input.
        if let Some(path) = find_photo("coffee.png") {
            let ours = preprocess(
                &std::fs::read(path).unwrap(),
                [model.input_size(); 2],
                Framing::CentreCrop,
            )
            .unwrap();
            let d = max_abs_diff(&ours.data, &input);
            let differing = ours.data.iter().zip(&input).filter(|(a, b)| a != b).count();
            eprintln!("{model} coffee preprocessing: max |dinput| {d}, {differing} values differ");
        }
    }
}
