//! `microscope classify --json` against the independent PyTorch reference
//! (`tests/fixtures/reference/*.json`, made by `tools/reference/efficientnet_lite_reference.py`).
//!
//! Needs the weights and photos in the cache (`microscope fetch all`); without them the test is
//! skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Largest allowed difference of a top-5 probability from the reference.
const PROB_TOLERANCE: f64 = 0.02;

fn cache_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    })
}

fn data_missing(what: &str) -> bool {
    if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
        panic!("MICROSCOPE_REQUIRE_DATA=1 but {what} is missing (run `microscope fetch all`)");
    }
    eprintln!("SKIPPED: {what} is missing (run `microscope fetch all`)");
    true
}

#[test]
fn classify_json_matches_the_pytorch_reference_for_every_model_and_photo() {
    let cache = cache_dir();
    for model in ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"] {
        if !cache.join("weights").join(format!("{model}.safetensors")).exists()
            && data_missing(&format!("the {model} weights"))
        {
            continue;
        }
        let fixture_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reference")
            .join(format!("{model}.json"));
        let fixture: Value = serde_json::from_slice(&std::fs::read(fixture_path).unwrap()).unwrap();
        let mut photos = Vec::new();
        let mut expected = Vec::new();
        for image in fixture["images"].as_array().unwrap() {
            let member = image["source"]["member"].as_str().unwrap();
            let file = member.rsplit('/').next().unwrap();
            let path = cache.join("photos").join(file);
            if !path.exists() && data_missing(&format!("photo {file}")) {
                continue;
            }
            photos.push(path);
            expected.push(image["top5"].as_array().unwrap().clone());
        }
        let output = Command::new(env!("CARGO_BIN_EXE_microscope"))
            .args(["classify", "--model", model, "--json"])
            .args(&photos)
            .env("MICROSCOPE_CACHE", &cache)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let results: Value = serde_json::from_slice(&output.stdout).unwrap();
        let results = results.as_array().unwrap();
        assert_eq!(results.len(), photos.len());
        for ((result, want), photo) in results.iter().zip(&expected).zip(&photos) {
            assert_eq!(result["image"].as_str().unwrap(), photo.display().to_string());
            let got = result["top5"].as_array().unwrap();
            assert_eq!(got.len(), 5);
            assert_eq!(got[0]["class"], want[0]["class"], "{model} top-1 on {}", photo.display());
            for entry in want {
                let class = &entry["class"];
                let Some(ours) = got.iter().find(|g| &g["class"] == class) else {
                    // A class at the edge of the top-5 may swap with a near tie; it must then
                    // be near the 5th probability.
                    let fifth = got[4]["prob"].as_f64().unwrap();
                    assert!((entry["prob"].as_f64().unwrap() - fifth).abs() <= PROB_TOLERANCE);
                    continue;
                };
                let diff = (ours["prob"].as_f64().unwrap() - entry["prob"].as_f64().unwrap()).abs();
                assert!(
                    diff <= PROB_TOLERANCE,
                    "{model} {} class {class}: off by {diff}",
                    photo.display()
                );
                // The CLI prints the first of the class's names; the fixture keeps all of them.
                let full = entry["label"].as_str().unwrap();
                assert_eq!(ours["label"].as_str().unwrap(), full.split(',').next().unwrap());
            }
            eprintln!(
                "{model} {}: top-1 {} p={:.4} (reference {:.4})",
                photo.display(),
                got[0]["label"],
                got[0]["prob"].as_f64().unwrap(),
                want[0]["prob"].as_f64().unwrap()
            );
        }
    }
}

#[test]
fn unknown_model_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(["classify", "--model", "resnet-9000", "x.png"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown model `resnet-9000`"), "{stderr}");
    assert!(stderr.contains("efficientnet-lite0"), "{stderr}");
}

#[test]
fn layers_json_lists_every_layer_in_order() {
    let output = Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(["layers", "--model", "efficientnet-lite0", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let layers: Value = serde_json::from_slice(&output.stdout).unwrap();
    let layers = layers.as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names.first(), Some(&"stem"));
    assert_eq!(names.last(), Some(&"logits"));
    assert!(names.contains(&"blocks.8.expand"));
    let stem = &layers[0];
    assert_eq!(
        (stem["channels"].as_u64(), stem["height"].as_u64(), stem["width"].as_u64()),
        (Some(32), Some(112), Some(112))
    );
    let logits = layers.last().unwrap();
    assert_eq!(logits["channels"].as_u64(), Some(1000));
}
