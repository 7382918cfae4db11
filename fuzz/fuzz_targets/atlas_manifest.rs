//! Atlas manifests: the same bytes through every manifest parser and `peek`. Parsing never
//! panics, whatever the kind the bytes claim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microscope_core::atlas::{
    AnnotationsManifest, AtlasIndex, LayerManifest, ModelManifest, PhotosManifest, UnitManifest,
    parse, peek,
};

fuzz_target!(|data: &[u8]| {
    let _ = peek("fuzz.json", data);
    let _ = parse::<AtlasIndex>("atlas.json", data);
    let _ = parse::<ModelManifest>("model.json", data);
    let _ = parse::<LayerManifest>("layer.json", data);
    let _ = parse::<UnitManifest>("unit.json", data);
    let _ = parse::<PhotosManifest>("photos.json", data);
    let _ = parse::<AnnotationsManifest>("annotations.json", data);
});
