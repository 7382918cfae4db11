//! `microscope train` on a slice of the real Fashion-MNIST: deterministic for a seed, the loss
//! falls, re-running resumes from the last checkpoint and reuses finished ones, and the
//! trained model then works with `models`, `layers`, `classify` (with class names) and named
//! checkpoints.
//!
//! Needs Debian's `dataset-fashion-mnist` (or `MICROSCOPE_FASHION_MNIST`); without it the test
//! is skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod fashion;

use fashion::microscope;

fn manifest(cache: &Path) -> Value {
    let path = cache.join("trained/fashion-cnn/manifest.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn checkpoint(manifest: &Value, step: u64) -> &Value {
    manifest["checkpoints"].as_array().unwrap().iter().find(|c| c["step"] == step).unwrap()
}

#[test]
fn a_tiny_run_is_deterministic_resumable_and_loadable() {
    if fashion::skip_without_data() {
        return;
    }
    let root = std::env::temp_dir().join(format!("microscope-train-test-{}", std::process::id()));
    let (a, b) = (root.join("a"), root.join("b"));
    let run = |cache: &Path, steps: &str, checkpoints: &str| {
        let mut args = fashion::TINY.to_vec();
        args.extend(["--steps", steps, "--checkpoints", checkpoints]);
        microscope(cache, &args)
    };
    run(&a, "20", "0,10,20");
    run(&b, "20", "0,10,20");
    let (first, second) = (manifest(&a), manifest(&b));
    for step in [0, 10, 20] {
        assert_eq!(
            checkpoint(&first, step)["sha256"],
            checkpoint(&second, step)["sha256"],
            "same seed, same weights at step {step}"
        );
    }
    let loss = |m: &Value, step| checkpoint(m, step)["train_loss"].as_f64().unwrap();
    assert!(loss(&first, 20) < loss(&first, 10), "the loss falls: {first}");
    assert!(checkpoint(&first, 0)["train_loss"].is_null());
    let accuracy = |m: &Value, step| checkpoint(m, step)["test_accuracy"].as_f64().unwrap();
    assert!(accuracy(&first, 20) > accuracy(&first, 0) + 0.1, "{first}");
    let weights =
        a.join("trained/fashion-cnn").join(checkpoint(&first, 20)["file"].as_str().unwrap());
    assert!(weights.exists());

    // Extending the run resumes from step 20; the finished checkpoints stay as they were.
    let out = run(&a, "30", "0,10,20,30");
    assert!(String::from_utf8_lossy(&out.stderr).contains("resuming from step-20"));
    let extended = manifest(&a);
    assert_eq!(extended["checkpoints"].as_array().unwrap().len(), 4);
    assert_eq!(checkpoint(&extended, 20), checkpoint(&first, 20));
    // … and equals a run straight to 30.
    run(&b, "30", "0,10,30");
    assert_eq!(checkpoint(&extended, 30)["sha256"], checkpoint(&manifest(&b), 30)["sha256"]);
    // Other settings are refused without --fresh.
    let refused = Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(["train", "--quiet", "--steps", "10", "--seed", "1", "--train-limit", "640"])
        .env("MICROSCOPE_CACHE", &a)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--fresh"));

    // The trained model is a model like the others.
    let models = String::from_utf8(microscope(&a, &["models"]).stdout).unwrap();
    assert!(models.contains("fashion-cnn") && models.contains("4 checkpoints"), "{models}");
    let layers =
        String::from_utf8(microscope(&a, &["layers", "--model", "fashion-cnn@step-10"]).stdout)
            .unwrap();
    for layer in ["conv1", "conv2", "conv3", "fc", "logits"] {
        assert!(layers.lines().any(|l| l.split_whitespace().next() == Some(layer)), "{layers}");
    }
    let examples = a.join("trained/fashion-cnn/examples");
    let mut pictures: Vec<PathBuf> =
        std::fs::read_dir(&examples).unwrap().map(|e| e.unwrap().path()).collect();
    pictures.sort();
    assert_eq!(pictures.len(), 10);
    let mut args = vec!["classify", "--model", "fashion-cnn", "--json"];
    args.extend(pictures.iter().map(|p| p.to_str().unwrap()));
    let results: Value = serde_json::from_slice(&microscope(&a, &args).stdout).unwrap();
    let names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];
    for result in results.as_array().unwrap() {
        let top = &result["top5"][0];
        let class = top["class"].as_u64().unwrap() as usize;
        assert_eq!(top["label"].as_str(), Some(names[class]));
    }
    // A render of a class beats every example picture on that class's logit.
    let render = root.join("render.png");
    let render_path = render.to_str().unwrap();
    microscope(
        &a,
        &["render", "--model", "fashion-cnn", "--objective", "logits:7", "--steps", "64"]
            .into_iter()
            .chain(["--quiet", "--out", render_path])
            .collect::<Vec<_>>(),
    );
    let mut args = vec!["activation", "--model", "fashion-cnn", "--unit", "logits:7", "--json"];
    args.push(render_path);
    args.extend(pictures.iter().map(|p| p.to_str().unwrap()));
    let values: Value = serde_json::from_slice(&microscope(&a, &args).stdout).unwrap();
    let values: Vec<f64> =
        values.as_array().unwrap().iter().map(|v| v["value"].as_f64().unwrap()).collect();
    let best_picture = values[1..].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(values[0] > best_picture, "render {} vs pictures {values:?}", values[0]);
    let missing = Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(["layers", "--model", "fashion-cnn@step-11"])
        .env("MICROSCOPE_CACHE", &a)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("step-10"));
    std::fs::remove_dir_all(root).unwrap();
}
