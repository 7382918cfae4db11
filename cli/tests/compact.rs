//! `microscope compact` on an atlas written by format 1.0 (core's frozen fixture, with float32
//! weights added for its final checkpoint): the PNG dataset-example sheets become JPEG that
//! looks the same, the layers' example sheets are derived again as JPEG, the weights become
//! float16 and are recorded in `model.json`, feature visualizations stay the same PNG files,
//! and `microscope verify` (which decodes every image) passes before and after. A second run
//! changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lite0;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lite0::copy_tree;

use microscope_core::atlas::{FORMAT_VERSION, parse_model, parse_unit};
use microscope_core::weights::{NamedTensor, TensorMap, read_safetensors, write_safetensors};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/atlas/v1.0");
const UNIT0: &str = "models/tiny/checkpoints/final/layers/conv1/units/0";
const LAYER: &str = "models/tiny/checkpoints/final/layers/conv1";
const WEIGHTS: &str = "models/tiny/checkpoints/final/weights.safetensors";

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("microscope-compact-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn microscope(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_microscope")).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "microscope {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn unit0(atlas: &Path) -> microscope_core::atlas::UnitManifest {
    let path = format!("{UNIT0}/unit.json");
    parse_unit(&path, &fs::read(atlas.join(&path)).unwrap()).unwrap()
}

#[test]
fn compact_turns_a_1_0_atlas_into_jpeg_example_sheets_and_float16_weights() {
    let atlas = scratch("v1.0");
    copy_tree(Path::new(FIXTURE), &atlas);
    let mut tensors = TensorMap::new();
    let kernel: Vec<f32> = (0..48).map(|i| (i as f32 - 20.0) / 7.0).collect();
    tensors.insert("conv1.weight", NamedTensor::new(vec![4, 3, 2, 2], kernel.clone()).unwrap());
    tensors.insert("conv1.bias", NamedTensor::new(vec![4], vec![0.1, -0.2, 0.3, 1e-6]).unwrap());
    let f32_bytes = write_safetensors(&tensors);
    fs::write(atlas.join(WEIGHTS), &f32_bytes).unwrap();
    let text = atlas.to_str().unwrap();
    microscope(&["verify", text]);
    let before = unit0(&atlas);
    let png_sheet = before.dataset_examples.as_ref().unwrap().top.as_ref().unwrap().sheet.clone();
    let png_sheet = png_sheet.unwrap();
    assert!(png_sheet.image.path.as_str().ends_with("/top.png"));
    let png_pixels = image::open(atlas.join(png_sheet.image.path.as_str())).unwrap().to_rgb8();
    let channel = fs::read(atlas.join(UNIT0).join("channel.png")).unwrap();

    let out = microscope(&["compact", text]);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    microscope(&["verify", text]);

    // The unit: its example sheet is a JPEG of the same crops, its renders untouched.
    let after = unit0(&atlas);
    let sheet = after.dataset_examples.as_ref().unwrap().top.as_ref().unwrap().sheet.clone();
    let sheet = sheet.unwrap();
    assert!(sheet.image.path.as_str().ends_with("/top.jpg"), "{:?}", sheet.image.path);
    assert!(!atlas.join(png_sheet.image.path.as_str()).exists(), "the PNG is gone");
    assert_eq!(
        (sheet.image.width, sheet.image.height),
        (png_sheet.image.width, png_sheet.image.height)
    );
    let jpeg_pixels = image::open(atlas.join(sheet.image.path.as_str())).unwrap().to_rgb8();
    let mean_error = png_pixels
        .as_raw()
        .iter()
        .zip(jpeg_pixels.as_raw())
        .map(|(a, b)| f64::from(a.abs_diff(*b)))
        .sum::<f64>()
        / png_pixels.as_raw().len() as f64;
    assert!(mean_error < 2.0, "mean error {mean_error} of 255");
    assert_eq!(fs::read(atlas.join(UNIT0).join("channel.png")).unwrap(), channel);
    let unit_text = fs::read_to_string(atlas.join(UNIT0).join("unit.json")).unwrap();
    assert!(unit_text.contains(&format!("\"format_version\": \"{FORMAT_VERSION}\"")));

    // The layer: its dataset-example sheet is JPEG, its channel sheet PNG.
    let sheets: Vec<String> = fs::read_dir(atlas.join(LAYER).join("sheets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(sheets.contains(&"dataset_examples-0.jpg".to_owned()), "{sheets:?}");
    assert!(sheets.contains(&"channel-0.png".to_owned()), "{sheets:?}");

    // The weights: float16 kernels, recorded as shipped.
    let shipped = fs::read(atlas.join(WEIGHTS)).unwrap();
    assert!(shipped.len() < f32_bytes.len());
    let read = read_safetensors(&shipped).unwrap();
    let (_, conv) = read.iter().find(|(name, _)| *name == "conv1.weight").unwrap();
    for (a, b) in kernel.iter().zip(conv.data()) {
        assert!((a - b).abs() <= a.abs() * f32::powi(2.0, -11), "{a} -> {b}");
    }
    let model_path = "models/tiny/model.json";
    let model = parse_model(model_path, &fs::read(atlas.join(model_path)).unwrap()).unwrap();
    let record = model.checkpoint("final").unwrap().weights.clone().unwrap();
    assert_eq!(record.path.as_str(), WEIGHTS);
    assert_eq!(record.bytes, shipped.len() as u64);
    assert_eq!(model.shipped_weights_sha256("final"), Some(&record.sha256));
    assert_eq!(model.checkpoint("step-100").unwrap().weights, None, "no file, no record");

    // Again: nothing to do, nothing changes.
    let snapshot = |dir: &Path| {
        let mut all = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                    all.push((path.clone(), fs::read(&path).unwrap()));
                }
            }
        }
        all.sort();
        all
    };
    let first = snapshot(&atlas);
    let again = microscope(&["compact", text]);
    assert!(String::from_utf8_lossy(&again.stdout).contains(" 0 units re-encoded"), "{again:?}");
    let second = snapshot(&atlas);
    let changed: Vec<_> = second
        .iter()
        .filter(|entry| !first.contains(entry))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(changed.is_empty(), "a second compact changed files: {changed:?}");
    fs::remove_dir_all(&atlas).ok();
}

#[test]
fn verify_refuses_a_jpeg_feature_visualization_and_an_image_that_does_not_decode() {
    let atlas = scratch("refuse");
    copy_tree(Path::new(FIXTURE), &atlas);
    let text = atlas.to_str().unwrap();
    microscope(&["compact", text]);
    // A JPEG where a feature visualization belongs: refused by the format's rule.
    let path = format!("{UNIT0}/unit.json");
    let json = fs::read_to_string(atlas.join(&path)).unwrap();
    fs::copy(atlas.join(UNIT0).join("top.jpg"), atlas.join(UNIT0).join("channel.jpg")).unwrap();
    let broken = json.replace("/channel.png", "/channel.jpg");
    fs::write(atlas.join(&path), &broken).unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_microscope")).args(["verify", text]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(stdout.contains("must end in .png or .webp"), "{stdout}");
    fs::write(atlas.join(&path), &json).unwrap();

    // A PNG whose header is whole but whose data is damaged (its size and hash recorded for
    // it): the header sniffer is content, the decoder is not.
    let png = atlas.join(UNIT0).join("channel.png");
    let mut bytes = fs::read(&png).unwrap();
    let middle = bytes.len() - 20;
    bytes[middle] ^= 0x5a;
    fs::write(&png, &bytes).unwrap();
    let old = unit0(&atlas).feature_visualizations.channel.unwrap().image;
    let new_hash = microscope_core::atlas::Sha256Hex::of(&bytes);
    fs::write(atlas.join(&path), json.replace(old.sha256.as_str(), new_hash.as_str())).unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_microscope")).args(["verify", text]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("does not decode"), "{stdout}");
    fs::remove_dir_all(&atlas).ok();
}
