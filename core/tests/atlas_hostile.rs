//! Bad and hostile manifests are refused with the file and field named, before anything large
//! is allocated.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod atlas_sample;

use atlas_sample::*;
use microscope_core::atlas::*;

const FILE: &str = "evil/unit.json";

/// A valid unit manifest, as JSON text to tamper with.
fn unit_json() -> String {
    let mut source = MemorySource::new();
    let manifest = unit(&mut source, FINAL, LAYER1, 0, true);
    String::from_utf8(to_json_pretty(&manifest).unwrap()).unwrap()
}

fn unit_error(text: &str) -> AtlasError {
    let error = parse_unit(FILE, text.as_bytes()).expect_err(text);
    assert_eq!(error.file, FILE, "{error}");
    assert!(error.to_string().starts_with(FILE), "{error}");
    error
}

#[test]
fn atlas_path_traversal_and_urls_are_refused_at_their_field() {
    let original = unit_json();
    let good = "models/tiny/checkpoints/final/layers/conv1/units/0/channel.png";
    assert!(original.contains(good));
    let cases = [
        "../../../../etc/passwd",
        "models/tiny/checkpoints/final/layers/conv1/units/0/../../../../../secret.png",
        "/etc/passwd",
        "//evil.example/x.png",
        "C:/Windows/win.ini",
        "C:\\\\Windows\\\\win.ini",
        "..\\\\..\\\\x.png",
        "https://evil.example/x.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "models/tiny/./x.png",
        "models//x.png",
        "models/tiny/\\u0000.png",
        "models/tiny/x.png\\u0000.txt",
        ".git/config",
        "models/.htaccess",
        "%2e%2e/%2e%2e/etc/passwd",
        "models/tiny/\\u2024\\u2024/x.png",
        "",
    ];
    for bad in cases {
        let text = original.replacen(good, bad, 1);
        let error = unit_error(&text);
        assert_eq!(error.field, "feature_visualizations.channel.image.path", "{bad}: {error}");
        assert!(matches!(error.problem, Problem::Schema { .. }), "{bad}: {error}");
        assert!(error.to_string().contains("asset path"), "{bad}: {error}");
    }
    // A safe path that leaves the unit's folder is refused too (merges copy unit folders).
    let text = original.replacen(
        good,
        "models/tiny/checkpoints/final/layers/conv1/units/1/channel.png",
        1,
    );
    let error = unit_error(&text);
    assert_eq!(error.field, "feature_visualizations.channel.image.path");
    assert!(error.to_string().contains("outside the unit's folder"), "{error}");
}

#[test]
fn atlas_names_that_escape_are_refused() {
    let original = unit_json();
    for bad in
        ["..", "../conv1", "conv1/..", "a\\\\b", "C:", ".hidden", "_jekyll", "con", "x\\u0000"]
    {
        let text = original.replacen("\"layer\": \"conv1\"", &format!("\"layer\": \"{bad}\""), 1);
        let error = unit_error(&text);
        assert_eq!(error.field, "layer", "{bad}: {error}");
        assert!(error.to_string().contains("name"), "{bad}: {error}");
    }
}

#[test]
fn atlas_huge_declared_counts_are_refused() {
    let atlas = atlas();
    let layer_file = layer_path(FINAL, LAYER1);
    let layer = std::str::from_utf8(atlas.get(&layer_file).unwrap()).unwrap();
    let cases = [
        // Fits u32 but passes the limit: a rule error at the field.
        (layer.replacen("\"units\": 4", "\"units\": 4000000000", 1), "units"),
        // Does not fit the type at all.
        (layer.replacen("\"units\": 4", "\"units\": 1000000000000000000000", 1), "units"),
        (layer.replacen("\"units\": 4", "\"units\": -1", 1), "units"),
        (layer.replacen("\"count\": 4", "\"count\": 4294967295", 1), "sheets.channel[0].count"),
        // A range naming units far past the layer: refused without walking four billion units.
        (layer.replacen("[0, 2]", "[0, 4294967295]", 1), "coverage.built"),
    ];
    for (text, field) in cases {
        assert_ne!(text, layer, "the replacement applied for {field}");
        let error = parse_layer(&layer_file, text.as_bytes()).expect_err(field);
        assert_eq!(error.field, field, "{error}");
    }

    // Lists longer than the format allows stop at the limit, naming the field.
    let original = unit_json();
    let bins = vec!["1"; limits::MAX_HISTOGRAM_BINS + 1].join(",");
    let text = original.replacen("\"counts\": [", &format!("\"counts\": [{bins},"), 1);
    let error = unit_error(&text);
    assert_eq!(error.field, "histogram.counts");
    assert!(error.to_string().contains("more than 4096"), "{error}");

    let many = vec!["{\"class\": 1, \"score\": 0.5}"; limits::MAX_TOP_CLASSES + 1].join(",");
    let text = original.replacen("\"top_classes\": [", &format!("\"top_classes\": [{many},"), 1);
    assert_eq!(unit_error(&text).field, "top_classes");
}

#[test]
fn atlas_wrong_types_are_refused_at_their_field() {
    let original = unit_json();
    let cases = [
        ("\"unit\": 0", "\"unit\": \"0\"", "unit"),
        ("\"unit\": 0", "\"unit\": 0.5", "unit"),
        ("\"unit\": 0", "\"unit\": null", "unit"),
        (
            "\"activation\": 5.5",
            "\"activation\": \"high\"",
            "dataset_examples.top.examples[0].activation",
        ),
        ("\"width\": 20", "\"width\": [20]", "dataset_examples.top.examples[0].box.width"),
        ("\"statistic\": \"spatial_max\"", "\"statistic\": 3", "histogram.statistic"),
        ("\"sha256\": \"", "\"sha256\": \"zz", "feature_visualizations.channel.image.sha256"),
        ("\"seed\": 1", "\"seed\": -1", "feature_visualizations.channel.seed"),
        ("\"seed\": 1", "\"seed\": 18446744073709551616", "feature_visualizations.channel.seed"),
    ];
    for (from, to, field) in cases {
        let text = original.replacen(from, to, 1);
        assert_ne!(text, original, "{from}");
        let error = unit_error(&text);
        assert_eq!(error.field, field, "{to}: {error}");
        assert!(matches!(error.problem, Problem::Schema { .. }), "{to}: {error}");
    }
    // Missing required fields are named by serde at the enclosing object.
    let text = original.replacen("\"model\": \"tiny\",", "", 1);
    assert!(unit_error(&text).to_string().contains("missing field `model`"));
    // Numbers too large for f32 would become infinite: refused as not finite.
    let text = original.replacen("\"activation\": 5.5", "\"activation\": 1e39", 1);
    let error = unit_error(&text);
    assert_eq!(error.field, "dataset_examples.top.examples[0].activation");
    assert!(error.to_string().contains("not a finite number"), "{error}");
    // Control characters in text, and duplicated fields.
    let text = original.replacen("\"label\": \"unit 0 label\"", "\"label\": \"a\\u0000b\"", 1);
    assert_eq!(unit_error(&text).field, "label");
    let text = original.replacen("\"unit\": 0,", "\"unit\": 0, \"unit\": 1,", 1);
    assert!(unit_error(&text).to_string().contains("duplicate field"));
}

#[test]
fn atlas_not_json_or_not_an_object_is_refused() {
    for (text, expected) in [
        ("", "a manifest is a JSON object"),
        ("{", "not valid JSON"),
        ("{\"kind\": \"unit\",}", "not valid JSON"),
        ("[\"unit\", \"1.0\"]", "a manifest is a JSON object"),
        ("\"unit\"", "a manifest is a JSON object"),
        ("{\"kind\": \"unit\", \"format_version\": \"1.0\"} trailing", "not valid JSON"),
        ("\u{feff}{}", "a manifest is a JSON object"),
    ] {
        let error = unit_error(text);
        assert!(error.to_string().contains(expected), "{text:?}: {error}");
    }
    let error = unit_error("\u{ff}\u{fe}");
    assert!(error.to_string().contains(FILE));
}

#[test]
fn atlas_deep_nesting_and_oversized_files_are_refused_before_parsing() {
    let original = unit_json();
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    let text = original.replacen("\"label\":", &format!("\"junk\": {deep}, \"label\":"), 1);
    let error = unit_error(&text);
    assert!(matches!(error.problem, Problem::TooDeep { limit: 32, .. }), "{error}");
    // A million open brackets: refused by the scan, no recursion.
    let error = unit_error(&"[".repeat(1_000_000));
    assert!(matches!(error.problem, Problem::TooLarge { .. } | Problem::TooDeep { .. }), "{error}");
    let error = unit_error(&"{".repeat(500_000));
    assert!(matches!(error.problem, Problem::TooDeep { .. }), "{error}");
    // Deep nesting inside free-form build settings, still within the file limit.
    let model_text = String::from_utf8(to_json_pretty(&model()).unwrap()).unwrap();
    let text =
        model_text.replacen("\"settings\": {", &format!("\"settings\": {{\"deep\": {deep},"), 1);
    let error = parse_model("m.json", text.as_bytes()).unwrap_err();
    assert!(matches!(error.problem, Problem::TooDeep { .. }), "{error}");

    let padding = " ".repeat(limits::MAX_UNIT_BYTES as usize);
    let error = unit_error(&format!("{original}{padding}"));
    assert!(
        matches!(error.problem, Problem::TooLarge { limit, .. } if limit == limits::MAX_UNIT_BYTES),
        "{error}"
    );
    assert!(error.to_string().contains("more than the 1048576 allowed"), "{error}");
}

#[test]
fn atlas_rule_breaks_are_named() {
    let mut source = MemorySource::new();
    let base = unit(&mut source, FINAL, LAYER1, 0, true);
    let check = |edit: &dyn Fn(&mut UnitManifest), field: &str| {
        let mut manifest = base.clone();
        edit(&mut manifest);
        let errors = manifest.validate();
        assert_eq!(errors.first().map(|e| e.field.as_str()), Some(field), "{errors:?}");
        // The same refusal through the parser, for a file someone else wrote.
        let text = serde_json::to_string(&manifest).unwrap();
        let text = format!("{{\"kind\": \"unit\", \"format_version\": \"1.0\", {}", &text[1..]);
        assert_eq!(parse_unit(FILE, text.as_bytes()).unwrap_err().field, field);
    };
    check(
        &|m| m.dataset_examples.as_mut().unwrap().top.as_mut().unwrap().examples.reverse(),
        "dataset_examples.top.examples",
    );
    check(
        &|m| m.dataset_examples.as_mut().unwrap().top.as_mut().unwrap().examples[1].crop.width = 0,
        "dataset_examples.top.examples[1].box",
    );
    check(
        &|m| {
            m.dataset_examples
                .as_mut()
                .unwrap()
                .top
                .as_mut()
                .unwrap()
                .sheet
                .as_mut()
                .unwrap()
                .count = 1
        },
        "dataset_examples.top.sheet.count",
    );
    check(
        &|m| {
            m.dataset_examples
                .as_mut()
                .unwrap()
                .top
                .as_mut()
                .unwrap()
                .sheet
                .as_mut()
                .unwrap()
                .columns = 0
        },
        "dataset_examples.top.sheet.columns",
    );
    check(&|m| m.histogram.as_mut().unwrap().min = 10.0, "histogram.max");
    check(&|m| m.histogram.as_mut().unwrap().counts.clear(), "histogram.counts");
    check(
        &|m| {
            m.feature_visualizations.diversity =
                vec![m.feature_visualizations.diversity[0].clone(); 17]
        },
        "feature_visualizations.diversity",
    );
    check(&|m| m.label = Some("x".repeat(300)), "label");
    check(&|m| m.unit = 70_000, "feature_visualizations.channel.image.path");

    let mut model = model();
    model.graph.layers[1].name = name("CONV1");
    assert_eq!(model.validate()[0].field, "graph.layers[1].name");
    let mut model = atlas_sample::model();
    model.checkpoints.clear();
    assert_eq!(model.validate()[0].field, "checkpoints");
    let mut model = atlas_sample::model();
    model.provenance.weights.url = Some("javascript:alert(1)".into());
    assert_eq!(model.validate()[0].field, "provenance.weights.url");
    let mut model = atlas_sample::model();
    model.input.offset.pop();
    assert_eq!(model.validate()[0].field, "input.offset");
    let mut model = atlas_sample::model();
    model.graph.layers[0].units = 5;
    assert_eq!(model.validate()[0].field, "graph.layers[0].units");

    let mut photos = photos(&mut source);
    photos.photos.swap(0, 1);
    assert_eq!(photos.validate()[0].field, "photos");
    let mut notes = annotations();
    notes.annotations[0].date = "21/03/2026".into();
    assert_eq!(notes.validate()[0].field, "annotations[0].date");
}

#[test]
fn atlas_build_records_are_optional_bounded_and_kept() {
    let original = unit_json();
    assert!(!original.contains("\"built\""), "an unrecorded unit writes no record");
    let recorded = original.replacen(
        "\"unit\": 0,",
        "\"unit\": 0, \"built\": {\"channel\": \"0123456789abcdef\", \"circuits\": \"x\"},",
        1,
    );
    assert_ne!(recorded, original);
    let manifest = parse_unit(FILE, recorded.as_bytes()).unwrap();
    assert_eq!(manifest.built.get("channel").map(String::as_str), Some("0123456789abcdef"));
    let again = parse_unit(FILE, &to_json_pretty(&manifest).unwrap()).unwrap();
    assert_eq!(again, manifest, "the record survives a rewrite");

    let many: Vec<String> =
        (0..=limits::MAX_BUILD_RECORDS).map(|i| format!("\"t{i}\": \"f\"")).collect();
    let text = original.replacen(
        "\"unit\": 0,",
        &format!("\"unit\": 0, \"built\": {{{}}},", many.join(",")),
        1,
    );
    let error = unit_error(&text);
    assert_eq!(error.field, "built", "{error}");
    assert!(error.to_string().contains("more than 64"), "{error}");
}
