//! `docs/atlas.schema.json` says what the code does: every manifest kind, the version pattern,
//! and the limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use microscope_core::atlas::{FORMAT_VERSION, ManifestKind, limits};
use serde_json::Value;

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/atlas.schema.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The value at a JSON pointer, which must exist.
fn at<'a>(schema: &'a Value, pointer: &str) -> &'a Value {
    schema.pointer(pointer).unwrap_or_else(|| panic!("the schema has no {pointer}"))
}

#[test]
fn atlas_schema_describes_every_kind() {
    let schema = schema();
    assert_eq!(at(&schema, "/$schema"), "https://json-schema.org/draft/2020-12/schema");
    for kind in ManifestKind::ALL {
        let name = kind.as_str();
        assert_eq!(at(&schema, &format!("/$defs/{name}/properties/kind/const")), name);
        let required = at(&schema, &format!("/$defs/{name}/required")).as_array().unwrap();
        assert!(required.contains(&Value::from("format_version")), "{name}");
        assert!(
            at(&schema, "/oneOf")
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["$ref"] == format!("#/$defs/{name}")),
            "{name}"
        );
    }
    let pattern = at(&schema, "/$defs/formatVersion/pattern").as_str().unwrap();
    assert_eq!(pattern, "^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$");
    assert_eq!(FORMAT_VERSION.to_string(), "1.1");
}

#[test]
fn atlas_schema_limits_are_the_code_limits() {
    let schema = schema();
    let number = |pointer: &str| at(&schema, pointer).as_u64().unwrap();
    let checks: [(&str, u64); 20] = [
        ("/$defs/name/maxLength", limits::MAX_NAME_BYTES as u64),
        ("/$defs/assetPath/maxLength", limits::MAX_PATH_BYTES as u64),
        ("/$defs/shortText/maxLength", limits::MAX_SHORT_TEXT as u64),
        ("/$defs/longText/maxLength", limits::MAX_TEXT as u64),
        ("/$defs/url/maxLength", limits::MAX_URL_BYTES as u64),
        ("/$defs/pixels/maximum", u64::from(limits::MAX_IMAGE_SIDE)),
        ("/$defs/imageAsset/properties/bytes/maximum", limits::MAX_ASSET_BYTES),
        ("/$defs/unitIndex/maximum", u64::from(limits::MAX_UNITS) - 1),
        ("/$defs/rangeSet/maxItems", limits::MAX_RANGES as u64),
        ("/$defs/sheets/maxItems", limits::MAX_SHEETS as u64),
        ("/$defs/sheet/properties/count/maximum", u64::from(limits::MAX_SHEET_TILES)),
        ("/$defs/index/properties/models/maxItems", limits::MAX_MODELS as u64),
        ("/$defs/model/properties/checkpoints/maxItems", limits::MAX_CHECKPOINTS as u64),
        ("/$defs/model/properties/graph/properties/layers/maxItems", limits::MAX_LAYERS as u64),
        ("/$defs/model/properties/labels/properties/names/maxItems", limits::MAX_CLASSES as u64),
        (
            "/$defs/unit/properties/feature_visualizations/properties/diversity/maxItems",
            limits::MAX_DIVERSITY as u64,
        ),
        (
            "/$defs/unit/properties/histogram/properties/counts/maxItems",
            limits::MAX_HISTOGRAM_BINS as u64,
        ),
        ("/$defs/unit/properties/built/maxProperties", limits::MAX_BUILD_RECORDS as u64),
        ("/$defs/photos/properties/photos/maxItems", limits::MAX_PHOTOS as u64),
        ("/$defs/annotations/properties/annotations/maxItems", limits::MAX_ANNOTATIONS as u64),
    ];
    for (pointer, limit) in checks {
        assert_eq!(number(pointer), limit, "{pointer}");
    }
    assert_eq!(
        number("/$defs/exampleList/properties/examples/maxItems"),
        limits::MAX_EXAMPLES as u64
    );
    assert_eq!(number("/$defs/connections/maxItems"), limits::MAX_CONNECTIONS as u64);
    assert_eq!(
        number("/$defs/unit/properties/top_classes/maxItems"),
        limits::MAX_TOP_CLASSES as u64
    );
    assert_eq!(
        number("/$defs/model/properties/graph/properties/layers/items/properties/units/maximum"),
        u64::from(limits::MAX_UNITS)
    );
}
