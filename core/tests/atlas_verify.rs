//! `verify` over an in-memory atlas: a good atlas passes with its coverage counted; each kind
//! of damage is found and reported with file and field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod atlas_sample;

use atlas_sample::*;
use microscope_core::atlas::*;

fn run(atlas: &MemorySource) -> VerifyReport {
    verify(atlas, &VerifyOptions::default())
}

/// The only error of a report, which must be at `file`, `field`.
fn only_error(report: &VerifyReport, file: &str, field: &str) -> Problem {
    assert_eq!(report.errors.len(), 1, "{:#?}", report.errors);
    let error = &report.errors[0];
    assert_eq!((error.file.as_str(), error.field.as_str()), (file, field), "{error}");
    error.problem.clone()
}

const CHANNEL: &str = "models/tiny/checkpoints/final/layers/conv1/units/0/channel.png";

#[test]
fn atlas_verify_passes_a_good_atlas_and_counts_coverage() {
    let report = run(&atlas());
    assert!(report.is_ok(), "{:#?}", report.errors);
    // 2 checkpoints x 2 layers.
    assert_eq!(report.layers.len(), 4);
    let conv1 = report
        .layers
        .iter()
        .find(|l| l.checkpoint.as_str() == FINAL && l.layer.as_str() == LAYER1)
        .unwrap();
    assert!(conv1.has_manifest);
    assert_eq!(conv1.units, 4);
    let counts: Vec<(Technique, u64)> = conv1.counts.iter().collect();
    assert_eq!(conv1.counts.built, 3);
    assert_eq!(
        counts,
        [
            (Technique::Channel, 2),
            (Technique::Neuron, 0),
            (Technique::Negative, 2),
            (Technique::Diversity, 2),
            (Technique::DatasetExamples, 2),
            (Technique::Histogram, 3),
            (Technique::TopClasses, 2),
            (Technique::Circuits, 2),
        ]
    );
    // What `inspect` prints from the layer manifest alone is the same.
    let layer = parse_layer("l", atlas().get(&layer_path(FINAL, LAYER1)).unwrap()).unwrap();
    assert_eq!(TechniqueCounts::from_coverage(&layer.coverage), conv1.counts);
    assert_eq!(report.totals().built, 4);
    assert_eq!(
        serde_json::to_string(&conv1.counts).unwrap(),
        r#"{"built":3,"channel":2,"neuron":0,"negative":2,"diversity":2,"dataset_examples":2,"histogram":3,"top_classes":2,"circuits":2}"#
    );
    // Missing data is a warning, not an error: conv2 has no layer manifest at either checkpoint.
    assert_eq!(report.warnings.len(), 2, "{:#?}", report.warnings);
    assert!(
        report
            .warnings
            .iter()
            .all(|w| matches!(w.problem, Problem::NotBuilt(_)) && w.to_string().contains("conv2"))
    );
    // Every file was read and hashed: 2 full units x 7 + 1 early full unit x 7 images, 2 sheets
    // per layer manifest, 1 photo, the final checkpoint's weights.
    assert_eq!(report.assets, 7 * 3 + 2 * 2 + 1 + 1);
    assert!(report.manifests >= 9);
}

#[test]
fn atlas_verify_finds_a_missing_asset() {
    let mut atlas = atlas();
    atlas.remove(CHANNEL).unwrap();
    let report = run(&atlas);
    let problem =
        only_error(&report, &unit_path(FINAL, LAYER1, 0), "feature_visualizations.channel.image");
    assert_eq!(problem, Problem::Missing(CHANNEL.into()));
    // A resumed build asks the same of one unit it finds.
    let file = unit_path(FINAL, LAYER1, 0);
    let unit = parse_unit(&file, atlas.get(&file).unwrap()).unwrap();
    let problems = check_assets(&atlas, &unit, true);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "feature_visualizations.channel.image");
    let other = parse_unit("u", atlas.get(&unit_path(FINAL, LAYER1, 2)).unwrap()).unwrap();
    assert!(check_assets(&atlas, &other, true).is_empty());
    // Sizes-only mode finds it too.
    let report = verify(&atlas, &VerifyOptions { check_hashes: false, ..VerifyOptions::default() });
    assert_eq!(report.errors.len(), 1);
}

#[test]
fn atlas_verify_finds_a_wrong_size() {
    let mut atlas = atlas();
    atlas.get_mut(CHANNEL).unwrap().push(0);
    for options in [
        VerifyOptions::default(),
        VerifyOptions { check_hashes: false, probe_unlisted_units: false, decode: None },
    ] {
        let report = verify(&atlas, &options);
        let problem = only_error(
            &report,
            &unit_path(FINAL, LAYER1, 0),
            "feature_visualizations.channel.image",
        );
        assert!(
            matches!(problem, Problem::SizeMismatch { ref path, found, expected } if path == CHANNEL && found == expected + 1),
            "{problem}"
        );
    }
}

#[test]
fn atlas_verify_finds_a_wrong_hash() {
    let mut atlas = atlas();
    let bytes = atlas.get_mut(CHANNEL).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let report = run(&atlas);
    let problem =
        only_error(&report, &unit_path(FINAL, LAYER1, 0), "feature_visualizations.channel.image");
    assert!(matches!(problem, Problem::HashMismatch { .. }), "{problem}");
    // Sizes only: the same size passes.
    assert!(
        verify(&atlas, &VerifyOptions { check_hashes: false, ..VerifyOptions::default() }).is_ok()
    );
}

#[test]
fn atlas_verify_finds_an_image_that_is_not_what_its_record_says() {
    let mut atlas = atlas();
    // Replace the image by a bigger one and record its hash and size but the old pixel size.
    let file = unit_path(FINAL, LAYER1, 2);
    let mut unit = parse_unit(&file, atlas.get(&file).unwrap()).unwrap();
    let png = png(9, 9, [1, 2, 3, 255]);
    let image = &mut unit.feature_visualizations.negative.as_mut().unwrap().image;
    let fresh = ImageAsset::describe(image.path.clone(), &png).unwrap();
    *image = ImageAsset { width: 8, height: 8, ..fresh };
    atlas.insert(image.path.to_string(), png);
    atlas.put(&unit).unwrap();
    let problem = only_error(&run(&atlas), &file, "feature_visualizations.negative.image");
    assert!(matches!(problem, Problem::Image(ref m) if m.contains("9x9")), "{problem}");
}

#[test]
fn atlas_verify_finds_units_that_disagree_with_their_layer() {
    // Listed as built, but the unit file is gone.
    let mut atlas = atlas();
    atlas.remove(&unit_path(FINAL, LAYER1, 1)).unwrap();
    let problem = only_error(&run(&atlas), &layer_path(FINAL, LAYER1), "coverage.built");
    assert!(matches!(problem, Problem::Missing(_)), "{problem}");

    // A unit file the layer manifest does not list (a build went on after it was derived).
    let mut atlas = atlas_sample::atlas();
    let mut scratch = MemorySource::new();
    let extra = unit(&mut scratch, FINAL, LAYER1, 3, false);
    atlas.put(&extra).unwrap();
    let report = run(&atlas);
    assert!(report.is_ok(), "{:#?}", report.errors);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.field == "coverage.built" && w.to_string().contains("first unit 3"))
    );
    let listed_only =
        verify(&atlas, &VerifyOptions { probe_unlisted_units: false, ..VerifyOptions::default() });
    assert!(listed_only.warnings.iter().all(|w| w.field != "coverage.built"));

    // The unit lost a technique its layer's coverage still claims.
    let mut atlas = atlas_sample::atlas();
    let file = unit_path(FINAL, LAYER1, 2);
    let mut unit = parse_unit(&file, atlas.get(&file).unwrap()).unwrap();
    unit.circuits = None;
    atlas.put(&unit).unwrap();
    let problem = only_error(&run(&atlas), &layer_path(FINAL, LAYER1), "coverage.circuits");
    assert!(problem.to_string().contains("first unit 2"), "{problem}");
}

#[test]
fn atlas_verify_finds_broken_references() {
    let file = unit_path(FINAL, LAYER1, 0);
    let edit = |change: &dyn Fn(&mut UnitManifest)| {
        let mut atlas = atlas();
        let mut unit = parse_unit(&file, atlas.get(&file).unwrap()).unwrap();
        change(&mut unit);
        atlas.put(&unit).unwrap();
        run(&atlas)
    };
    let report = edit(&|u| {
        u.dataset_examples.as_mut().unwrap().top.as_mut().unwrap().examples[0].photo =
            name("mona-lisa")
    });
    only_error(&report, &file, "dataset_examples.top.examples[0].photo");
    let report = edit(&|u| {
        u.dataset_examples.as_mut().unwrap().top.as_mut().unwrap().examples[1].crop.x = 401
    });
    only_error(&report, &file, "dataset_examples.top.examples[1].box");
    let report = edit(&|u| u.top_classes.as_mut().unwrap()[1].class = 5);
    only_error(&report, &file, "top_classes[1].class");
    let report = edit(&|u| u.circuits.as_mut().unwrap().outputs[0].layer = name("conv9"));
    only_error(&report, &file, "circuits.outputs[0]");
    let report = edit(&|u| u.circuits.as_mut().unwrap().outputs[0].unit = 3);
    only_error(&report, &file, "circuits.outputs[0]");
}

#[test]
fn atlas_verify_finds_missing_and_misplaced_manifests() {
    let mut atlas = atlas();
    atlas.remove("atlas.json");
    let problem = only_error(&run(&atlas), "atlas.json", "");
    assert!(problem.to_string().contains("root folder of an atlas"));

    let mut atlas = atlas_sample::atlas();
    atlas.remove("models/tiny/model.json");
    only_error(&run(&atlas), "atlas.json", "models");

    let mut atlas = atlas_sample::atlas();
    atlas.remove("photos/photos.json");
    only_error(&run(&atlas), "atlas.json", "photos");

    // A unit manifest copied to another unit's place.
    let mut atlas = atlas_sample::atlas();
    let bytes = atlas.get(&unit_path(FINAL, LAYER1, 0)).unwrap().to_vec();
    atlas.insert(unit_path(FINAL, LAYER1, 1), bytes);
    let problem = only_error(&run(&atlas), &unit_path(FINAL, LAYER1, 1), "");
    assert!(
        matches!(problem, Problem::Inconsistent(ref m) if m.contains("units/0/unit.json")),
        "{problem}"
    );

    // A broken manifest is reported once, with its own file and field; the rest still verifies.
    let mut atlas = atlas_sample::atlas();
    let text =
        String::from_utf8(atlas.get(&unit_path(FINAL, LAYER1, 2)).unwrap().to_vec()).unwrap();
    atlas.insert(unit_path(FINAL, LAYER1, 2), text.replacen("\"unit\": 2", "\"unit\": \"two\"", 1));
    let report = run(&atlas);
    let problem = only_error(&report, &unit_path(FINAL, LAYER1, 2), "unit");
    assert!(matches!(problem, Problem::Schema { .. }));
    assert_eq!(report.layers.len(), 4);

    // Oversized files are refused from their size, unread.
    let mut atlas = atlas_sample::atlas();
    atlas.insert(unit_path(FINAL, LAYER1, 2), vec![b' '; limits::MAX_UNIT_BYTES as usize + 1]);
    let problem = only_error(&run(&atlas), &unit_path(FINAL, LAYER1, 2), "");
    assert!(matches!(problem, Problem::TooLarge { .. }));
}

#[test]
fn atlas_verify_warns_about_annotations_of_missing_units_and_newer_minor_files() {
    let mut atlas = atlas();
    let mut notes = annotations();
    notes.annotations[0].layer = name("conv7");
    notes.annotations[1].unit = Some(4);
    atlas.put(&notes).unwrap();
    let file = unit_path(FINAL, LAYER1, 0);
    let text = String::from_utf8(atlas.get(&file).unwrap().to_vec()).unwrap();
    atlas.insert(file.clone(), text.replacen(&format!("\"{FORMAT_VERSION}\""), "\"1.4\"", 1));
    let report = run(&atlas);
    assert!(report.is_ok(), "{:#?}", report.errors);
    let fields: Vec<(&str, &str)> =
        report.warnings.iter().map(|w| (w.file.as_str(), w.field.as_str())).collect();
    assert!(fields.contains(&("annotations.json", "annotations[0].layer")), "{fields:?}");
    assert!(fields.contains(&("annotations.json", "annotations[1].unit")), "{fields:?}");
    assert!(fields.contains(&(file.as_str(), "format_version")), "{fields:?}");
}

#[test]
fn atlas_verify_checks_the_weights_a_checkpoint_records() {
    let mut damaged = atlas();
    let (record, _) = weights();
    damaged.get_mut(record.path.as_str()).unwrap()[20] ^= 1;
    let report = run(&damaged);
    let problem = only_error(&report, "models/tiny/model.json", "checkpoints[1].weights");
    assert!(matches!(problem, Problem::HashMismatch { .. }), "{problem:?}");
    let sizes_only =
        verify(&damaged, &VerifyOptions { check_hashes: false, ..VerifyOptions::default() });
    assert!(sizes_only.is_ok(), "sizes only: {:#?}", sizes_only.errors);
    damaged.get_mut(record.path.as_str()).unwrap().push(0);
    let sizes_only =
        verify(&damaged, &VerifyOptions { check_hashes: false, ..VerifyOptions::default() });
    let problem = only_error(&sizes_only, "models/tiny/model.json", "checkpoints[1].weights");
    assert!(matches!(problem, Problem::SizeMismatch { .. }), "{problem:?}");
}

#[test]
fn atlas_verify_decodes_every_image_with_the_decoder_it_is_given() {
    // A decoder that fails on JPEG: every JPEG of the sample (example sheets) is reported,
    // with its field; the PNGs pass.
    fn no_jpeg(bytes: &[u8]) -> Result<[u32; 2], String> {
        match sniff(bytes) {
            Some(header) if header.format == ImageFormat::Jpeg => Err("no JPEG here".into()),
            Some(header) => Ok([header.width, header.height]),
            None => Err("not an image".into()),
        }
    }
    let options = VerifyOptions { decode: Some(no_jpeg), ..VerifyOptions::default() };
    let report = verify(&atlas(), &options);
    assert!(!report.errors.is_empty());
    assert!(
        report.errors.iter().all(|e| e.to_string().contains(".jpg does not decode: no JPEG here")),
        "{:#?}",
        report.errors
    );
    assert!(report.errors.iter().any(|e| e.field == "dataset_examples.top.sheet.image"));
    assert!(report.errors.iter().any(|e| e.field == "sheets.dataset_examples[0].image"));
    // A decoder that finds another size than the header says.
    fn wrong_size(_: &[u8]) -> Result<[u32; 2], String> {
        Ok([1, 1])
    }
    let options = VerifyOptions { decode: Some(wrong_size), ..VerifyOptions::default() };
    let report = verify(&atlas(), &options);
    assert!(report.errors.iter().any(|e| e.to_string().contains("decodes to 1x1 pixels")));
    // Sizes only: nothing is read, nothing decoded.
    let options = VerifyOptions { check_hashes: false, ..options };
    assert!(verify(&atlas(), &options).is_ok());
}
