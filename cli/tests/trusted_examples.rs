//! Dataset examples and labels people can trust, on a small real atlas (EfficientNet-Lite0's
//! `blocks.8`, eight units, the bundled photos cut at two scales, plus two photos given with
//! `--images`): no top or bottom row holds more than two crops of one photo, a unit has a
//! label exactly when its recorded evidence passes the label rule (and a weakly supported
//! unit has none), the layer lists each unit's strongest class for class search, and every
//! `--images` photo records where it came from.
//!
//! Needs the weights, labels and photos in the cache (`microscope fetch all`); without them
//! the test is skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a
//! failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use microscope_core::atlas::{LayerManifest, PhotosManifest, UnitManifest};
use microscope_core::examples::MAX_CROPS_PER_PHOTO;
use microscope_core::examples::diversity::most_of_one_photo;
use microscope_core::examples::label_rule::is_strong;

mod lite0;

use lite0::{BIN, data_ready, ok, scratch, verify_clean};

fn cache() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    })
}

#[test]
fn rows_are_diverse_labels_follow_the_rule_and_user_photos_keep_provenance() {
    if !data_ready() {
        return;
    }
    let _ = BIN;
    // Two of the bundled photos again, as a user's folder would hold them: one at the top,
    // one in a class folder (the layout of an ImageNet validation folder sorted by class).
    let images = scratch("images");
    std::fs::create_dir_all(images.join("n03063599")).unwrap();
    std::fs::copy(cache().join("photos/coffee.png"), images.join("ILSVRC2012_val_00000001.png"))
        .unwrap();
    std::fs::copy(
        cache().join("photos/chelsea.png"),
        images.join("n03063599/ILSVRC2012_val_00000002.png"),
    )
    .unwrap();
    let out = scratch("atlas");
    let args: Vec<String> = [
        "build",
        "--model",
        "efficientnet-lite0",
        "--layers",
        "blocks.8",
        "--units",
        "0-7",
        "--techniques",
        "examples,classes",
        "--corpus",
        "bundled",
        "--crop-scales",
        "1,0.5",
        "--top-k",
        "8",
        "--quiet",
        "--images",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([images.display().to_string(), "--out".to_owned(), out.display().to_string()])
    .collect();
    ok(&args);
    verify_clean(&out);

    let units = out.join("models/efficientnet-lite0/checkpoints/final/layers/blocks.8/units");
    let mut unlabelled = 0;
    for unit in 0..8 {
        let bytes = std::fs::read(units.join(format!("{unit}/unit.json"))).unwrap();
        let manifest: UnitManifest = serde_json::from_slice(&bytes).unwrap();
        let examples = manifest.dataset_examples.as_ref().expect("examples");
        for (row, list) in [("top", &examples.top), ("bottom", &examples.bottom)] {
            let list = list.as_ref().expect("a row");
            assert_eq!(list.examples.len(), 8, "unit {unit} {row}: a full row");
            let most = most_of_one_photo(list.examples.iter().map(|e| e.photo.as_str()));
            assert!(most <= MAX_CROPS_PER_PHOTO, "unit {unit} {row}: {most} crops of one photo");
        }
        let evidence = manifest.label_evidence.expect("evidence for the top class");
        let top = manifest.top_classes.as_ref().and_then(|c| c.first()).expect("a top class");
        assert_eq!((evidence.class, evidence.correlation), (top.class, top.score));
        assert!(evidence.crops <= evidence.pool && evidence.photos <= evidence.crops);
        assert_eq!(manifest.label.is_some(), is_strong(&evidence), "unit {unit}: {evidence:?}");
        if manifest.label.is_none() {
            unlabelled += 1;
        }
    }
    assert!(unlabelled > 0, "some of eight units are too weakly supported for a label");

    // The layer lists each unit's strongest class, for class search over every layer.
    let layer: LayerManifest =
        serde_json::from_slice(&std::fs::read(units.with_file_name("layer.json")).unwrap())
            .unwrap();
    assert_eq!(layer.unit_classes.len(), 8);
    for entry in &layer.unit_classes {
        let bytes = std::fs::read(units.join(format!("{}/unit.json", entry.unit))).unwrap();
        let manifest: UnitManifest = serde_json::from_slice(&bytes).unwrap();
        let top = manifest.top_classes.as_ref().and_then(|c| c.first()).unwrap();
        assert_eq!((entry.class, entry.score), (top.class, top.score));
    }

    let photos: PhotosManifest =
        serde_json::from_slice(&std::fs::read(out.join("photos/photos.json")).unwrap()).unwrap();
    let given: Vec<_> = photos.photos.iter().filter(|p| p.source.contains("--images")).collect();
    assert_eq!(given.len(), 2, "{:#?}", photos.photos);
    for photo in given {
        assert!(photo.source.contains("ILSVRC2012_val_0000000"), "{}", photo.source);
        assert!(photo.source.contains("sha256 "), "{}", photo.source);
    }
    assert!(
        photos.photos.iter().any(|p| p.source.contains("n03063599/ILSVRC2012_val_00000002.png")),
        "the class folder is part of the recorded path"
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&images);
}
