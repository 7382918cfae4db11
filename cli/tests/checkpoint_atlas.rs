//! `microscope build --checkpoints` on a tiny training run of the real Fashion-MNIST: one atlas
//! holds every checkpoint (unit files, examples from the labelled test set with their class,
//! weights for the in-browser renderer), `model.json` lists them in training order with their
//! test accuracy, `verify` finds nothing wrong, a rerun with more checkpoints builds only
//! those, a rerun of one checkpoint keeps the others listed, and the final checkpoint's
//! visualization of a unit activates it more than any test image of the corpus.
//!
//! Needs Debian's `dataset-fashion-mnist` (or `MICROSCOPE_FASHION_MNIST`); without it the test
//! is skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;

mod fashion;

use fashion::microscope;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_trained_model_is_built_at_every_checkpoint() {
    if fashion::skip_without_data() {
        return;
    }
    let root = std::env::temp_dir().join(format!("microscope-cp-atlas-{}", std::process::id()));
    let cache = root.join("cache");
    let atlas = root.join("atlas");
    let atlas_arg = atlas.to_str().unwrap();
    microscope(
        &cache,
        &[&fashion::TINY[..], &["--steps", "20", "--checkpoints", "0,5,20"]].concat(),
    );
    let build = [
        "build",
        "--model",
        "fashion-cnn",
        "--checkpoints",
        "all",
        "--layers",
        "conv2,fc",
        "--units",
        "0-3",
        "--techniques",
        "channel,examples,classes",
        "--steps",
        "48",
        "--corpus-limit",
        "300",
        "--quiet",
        "--out",
        atlas_arg,
    ];
    // Two checkpoints first; then all of them builds only the one missing.
    let mut first = build;
    first[4] = "step-0,step-5";
    microscope(&cache, &first);
    let all = microscope(&cache, &build);
    let stderr = String::from_utf8_lossy(&all.stderr);
    assert!(
        stderr.contains("fashion-cnn@step-0: 0 units to build, 8 already complete"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fashion-cnn@step-20: 8 units to build, 0 already complete"),
        "{stderr}"
    );
    let verify = microscope(&cache, &["verify", atlas_arg]);
    let report = String::from_utf8_lossy(&verify.stdout).into_owned()
        + &String::from_utf8_lossy(&verify.stderr);
    assert!(report.contains("0 errors"), "{report}");

    // model.json: every checkpoint in training order, with its accuracy; the last is default.
    let trained = json(&cache.join("trained/fashion-cnn/manifest.json"));
    let model = json(&atlas.join("models/fashion-cnn/model.json"));
    let checkpoints = model["checkpoints"].as_array().unwrap();
    let ids: Vec<&str> = checkpoints.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["step-0", "step-5", "step-20"]);
    assert_eq!(model["default_checkpoint"], "step-20");
    for (checkpoint, record) in checkpoints.iter().zip(trained["checkpoints"].as_array().unwrap()) {
        assert_eq!(checkpoint["step"], record["step"]);
        assert_eq!(checkpoint["test_accuracy"], record["test_accuracy"]);
        assert_eq!(checkpoint["weights_sha256"], record["sha256"]);
        // The renderer's weights are the checkpoint's own file.
        let weights = atlas.join(format!(
            "models/fashion-cnn/checkpoints/{}/weights.safetensors",
            checkpoint["id"].as_str().unwrap()
        ));
        let original = cache.join("trained/fashion-cnn").join(record["file"].as_str().unwrap());
        assert_eq!(std::fs::read(weights).unwrap(), std::fs::read(original).unwrap());
    }
    let accuracy = |i: usize| checkpoints[i]["test_accuracy"].as_f64().unwrap();
    assert!(accuracy(2) > accuracy(0), "training helps: {checkpoints:?}");
    let names = model["labels"]["names"].as_array().unwrap();
    assert_eq!(names.len(), 10);
    assert_eq!(names[7], "Sneaker");

    // Examples come from the labelled test set and carry their class.
    let unit = |checkpoint: &str, layer: &str, unit: u32| {
        json(&atlas.join(format!(
            "models/fashion-cnn/checkpoints/{checkpoint}/layers/{layer}/units/{unit}/unit.json"
        )))
    };
    let photos = json(&atlas.join("photos/photos.json"));
    assert_eq!(photos["photos"].as_array().unwrap().len(), 300);
    let mut channel_images = Vec::new();
    for checkpoint in ids {
        let u = unit(checkpoint, "fc", 1);
        let top = u["dataset_examples"]["top"]["examples"].as_array().unwrap();
        assert!(!top.is_empty());
        for example in top {
            let class = example["class"].as_u64().unwrap() as usize;
            let photo = example["photo"].as_str().unwrap();
            assert!(photo.starts_with("test-"), "{photo}");
            let slug = names[class].as_str().unwrap().to_lowercase().replace(['/', ' '], "-");
            assert!(photo.ends_with(&slug), "{photo} is a {slug}");
            assert_eq!(example["box"]["width"], 28, "whole test images: {example}");
        }
        channel_images.push(u["feature_visualizations"]["channel"]["image"]["sha256"].clone());
    }
    channel_images.dedup();
    assert_eq!(channel_images.len(), 3, "each checkpoint renders its own image");

    // A rerun has nothing left to build.
    let rerun = microscope(&cache, &build);
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(
        stderr.contains("fashion-cnn@step-5: 0 units to build, 8 already complete"),
        "{stderr}"
    );
    // One checkpoint alone: the others stay listed (their units are still there).
    let mut one = build;
    one[4] = "step-5";
    microscope(&cache, &one);
    let model = json(&atlas.join("models/fashion-cnn/model.json"));
    let listed: Vec<&str> = model["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["step-0", "step-5", "step-20"]);
    assert_eq!(model["default_checkpoint"], "step-20");

    // The final checkpoint's visualization activates its unit more than any test image does.
    for unit_index in 0..4 {
        let u = unit("step-20", "fc", unit_index);
        let best_example =
            u["dataset_examples"]["top"]["examples"][0]["activation"].as_f64().unwrap();
        let image =
            atlas.join(u["feature_visualizations"]["channel"]["image"]["path"].as_str().unwrap());
        let objective = format!("fc:{unit_index}");
        let out = microscope(
            &cache,
            &["activation", "--model", "fashion-cnn", "--unit", &objective, "--json"]
                .into_iter()
                .chain([image.to_str().unwrap()])
                .collect::<Vec<_>>(),
        );
        let values: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rendered = values[0]["value"].as_f64().unwrap();
        assert!(
            rendered > best_example,
            "fc:{unit_index}: visualization {rendered} vs best of 300 test images {best_example}"
        );
    }
    std::fs::remove_dir_all(root).unwrap();
}
