//! `microscope import-onnx` end to end: an ONNX file the test writes itself is imported into a
//! fresh cache, after which `models`, `layers` and `classify` know it; the classification of a
//! photo is checked against an independent computation (plain loops, `support::naive`). Also
//! the fixture written by the official `onnx` package, malformed files, unsupported operators
//! and ids that are taken or invalid.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../core/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::naive::{self, Nd};
use support::{hostile, init, ints, model, node, noise, string};

/// A fresh cache folder for one test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("microscope-import-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn microscope(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_microscope"))
            .args(args)
            .env("MICROSCOPE_CACHE", self.0.join("cache"))
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.microscope(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.microscope(args);
        assert!(
            !out.status.success(),
            "{args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The tiny classifier's weights.
struct Weights {
    conv: Vec<f32>,
    conv_bias: Vec<f32>,
    bn: [Vec<f32>; 4],
    fc: Vec<f32>,
    fc_bias: Vec<f32>,
}

fn weights() -> Weights {
    Weights {
        conv: noise(4 * 3 * 3 * 3, 1),
        conv_bias: noise(4, 2),
        bn: [
            noise(4, 3).iter().map(|v| 1.0 + 0.3 * v).collect(),
            noise(4, 4),
            noise(4, 5).iter().map(|v| 0.2 * v).collect(),
            noise(4, 6).iter().map(|v| 0.5 + v.abs()).collect(),
        ],
        fc: noise(7 * 4, 7).iter().map(|v| 3.0 * v).collect(),
        fc_bias: noise(7, 8),
    }
}

/// `[N, 3, 8, 8]` -> SAME 3x3 stride-2 conv (4) -> batch norm -> ReLU -> global average ->
/// flatten -> Gemm (7 classes), written as ONNX.
fn tiny_classifier(w: &Weights) -> Vec<u8> {
    let nodes = vec![
        node(
            "Conv",
            "/stem/Conv",
            &["x", "w", "b"],
            &["c"],
            vec![
                ints("strides", &[2, 2]),
                string("auto_pad", "SAME_UPPER"),
                ints("kernel_shape", &[3, 3]),
            ],
        ),
        node("BatchNormalization", "/stem/bn", &["c", "g", "beta", "mean", "var"], &["bn"], vec![]),
        node("Relu", "/stem/relu", &["bn"], &["r"], vec![]),
        node("GlobalAveragePool", "/head/pool", &["r"], &["p"], vec![]),
        node("Flatten", "/head/flatten", &["p"], &["f"], vec![]),
        node(
            "Gemm",
            "/head/fc",
            &["f", "wfc", "bfc"],
            &["logits"],
            vec![support::int("transB", 1)],
        ),
    ];
    let [g, beta, mean, var] = &w.bn;
    let inits = vec![
        init("w", &[4, 3, 3, 3], &w.conv),
        init("b", &[4], &w.conv_bias),
        init("g", &[4], g),
        init("beta", &[4], beta),
        init("mean", &[4], mean),
        init("var", &[4], var),
        init("wfc", &[7, 4], &w.fc),
        init("bfc", &[7], &w.fc_bias),
    ];
    model(13, [3, 8, 8], nodes, inits, &["logits"]).to_bytes()
}

/// The independent forward pass of the tiny classifier on `x`, as probabilities.
fn reference_probs(w: &Weights, x: &Nd) -> Vec<f32> {
    let pads = naive::same_upper(8, 8, [3, 3], [2, 2]);
    let conv = naive::conv(
        x,
        &Nd::new(&[4, 3, 3, 3], w.conv.clone()),
        Some(&w.conv_bias),
        [2, 2],
        pads,
        [1, 1],
        1,
    );
    let [g, beta, mean, var] = &w.bn;
    // ONNX's default epsilon.
    let bn = naive::batch_norm(&conv, g, beta, mean, var, 1e-5);
    let pooled = naive::global_avg(&bn.map(|v| v.max(0.0))).reshape(&[1, 4]);
    let logits = naive::gemm(&pooled, &Nd::new(&[7, 4], w.fc.clone()), &w.fc_bias, 1.0, 1.0, true);
    naive::softmax_last(&logits).data
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn imported_onnx_model_is_listed_browsed_and_classifies_like_the_reference() {
    let s = Scratch::new("tiny");
    let w = weights();
    let file = s.write("tiny.onnx", &tiny_classifier(&w));
    let out = s.ok(&[
        "import-onnx",
        &file,
        "--id",
        "tiny-cnn",
        "--mean",
        "0.5,0.4,0.3",
        "--std",
        "0.2,0.25,0.3",
    ]);
    assert!(out.contains("imported") && out.contains("`tiny-cnn`"), "{out}");
    let stored = s.0.join("cache/models/tiny-cnn");
    assert!(stored.join("model.onnx").exists() && stored.join("model.json").exists());
    let meta = json(&std::fs::read_to_string(stored.join("model.json")).unwrap());
    assert_eq!((&meta["input"]["height_px"], &meta["input"]["width_px"]), (&8.into(), &8.into()));
    assert_eq!(meta["classes"], 7);
    // conv weight and bias, batch-norm scale and shift, fc weight and bias.
    assert_eq!(meta["parameters"], 4 * 27 + 4 + 4 + 4 + 28 + 7);

    let models = s.ok(&["models"]);
    assert!(models.lines().any(|l| l.starts_with("tiny-cnn") && l.contains("8x8px")), "{models}");
    assert!(models.contains("efficientnet-lite0"), "{models}");

    // The convolution is folded into its batch norm, which names the layer.
    let layers = json(&s.ok(&["layers", "--model", "tiny-cnn", "--json"]));
    let rows: Vec<(&str, u64, u64, u64)> = layers
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let n = |k: &str| l[k].as_u64().unwrap();
            (l["name"].as_str().unwrap(), n("channels"), n("height"), n("receptive_field_px"))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("stem.bn", 4, 4, 3),
            ("stem.relu", 4, 4, 3),
            ("head.pool", 4, 1, 9),
            ("head.fc", 7, 1, 9)
        ]
    );
    assert_eq!(layers[0]["op"], "Conv");

    // A photo of one colour: every crop and resize of it is that colour, so the model's input
    // is known exactly: (x / 255 - mean) / std per channel.
    let rgb = [200u8, 100, 30];
    let photo = s.0.join("flat.png");
    image::RgbImage::from_pixel(50, 40, image::Rgb(rgb)).save(&photo).unwrap();
    let (mean, std) = ([0.5f32, 0.4, 0.3], [0.2f32, 0.25, 0.3]);
    let x: Vec<f32> = (0..3)
        .flat_map(|c| {
            let v = (f32::from(rgb[c]) - mean[c] * 255.0) / (std[c] * 255.0);
            std::iter::repeat_n(v, 64)
        })
        .collect();
    let want = reference_probs(&w, &Nd::new(&[1, 3, 8, 8], x));
    let result =
        json(&s.ok(&["classify", "--model", "tiny-cnn", "--json", photo.to_str().unwrap()]));
    let top = result[0]["top5"].as_array().unwrap();
    assert_eq!(top.len(), 5);
    let mut order: Vec<usize> = (0..7).collect();
    order.sort_by(|&a, &b| want[b].total_cmp(&want[a]));
    for (entry, &class) in top.iter().zip(&order) {
        assert_eq!(entry["class"].as_u64(), Some(class as u64), "{top:?} vs {want:?}");
        let prob = entry["prob"].as_f64().unwrap() as f32;
        assert!((prob - want[class]).abs() < 1e-5, "class {class}: {prob} vs {}", want[class]);
        assert!(entry.get("label").is_none(), "a 7-class model has no ImageNet labels");
    }
    let text = s.ok(&["classify", "--model", "tiny-cnn", photo.to_str().unwrap()]);
    assert!(text.contains(&format!("  {:>3}", order[0])), "{text}");

    // Taken and invalid ids; replacing needs --force.
    let err = s.fails(&["import-onnx", &file, "--id", "tiny-cnn"]);
    assert!(err.contains("already imported") && err.contains("--force"), "{err}");
    s.ok(&["import-onnx", &file, "--id", "tiny-cnn", "--force"]);
    let err = s.fails(&["import-onnx", &file, "--id", "efficientnet-lite0"]);
    assert!(err.contains("`efficientnet-lite0` is a built-in model"), "{err}");
    for bad in ["a/b", "..", "tiny cnn", "über"] {
        let err = s.fails(&["import-onnx", &file, "--id", bad]);
        assert!(err.contains("is not a valid model id"), "{bad}: {err}");
    }
    // Names an atlas refuses are refused here, not at the first build.
    let long = "a".repeat(129);
    for bad in ["_tiny", ".tiny", "tiny.", "-tiny", "CON", "nul", long.as_str()] {
        let err = s.fails(&["import-onnx", &file, &format!("--id={bad}")]);
        assert!(err.contains("is not a valid model id"), "{bad}: {err}");
        assert!(!s.0.join("cache/models").join(bad).exists(), "{bad} was stored");
    }
    let err = s.fails(&["import-onnx", &file, "--id", "all"]);
    assert!(err.contains("reserved"), "{err}");
    let err = s.fails(&["fetch", "tiny-cnn"]);
    assert!(err.contains("imported model"), "{err}");
    let err = s.fails(&["classify", "--model", "no-such-model", photo.to_str().unwrap()]);
    assert!(err.contains("unknown model `no-such-model`") && err.contains("tiny-cnn"), "{err}");
    // A spec the file contradicts.
    let err = s.fails(&["import-onnx", &file, "--id", "tiny-16", "--input-size", "16"]);
    assert!(err.contains("16x16 px"), "{err}");
}

#[test]
fn malformed_and_unsupported_files_are_clear_errors() {
    let s = Scratch::new("bad");
    let garbage = s.write("garbage.onnx", b"\x08\x07this is not a protobuf\xff\xff\xff");
    let err = s.fails(&["import-onnx", &garbage, "--id", "garbage"]);
    assert!(
        err.contains("garbage.onnx cannot be imported") && err.contains("not a valid ONNX file"),
        "{err}"
    );
    let err = s.fails(&["import-onnx", "/no/such/file.onnx", "--id", "missing"]);
    assert!(err.contains("cannot read /no/such/file.onnx"), "{err}");

    let lstm = model(
        13,
        [3, 8, 8],
        vec![node("LSTM", "/rnn/LSTM", &["x"], &["y"], vec![])],
        vec![],
        &["y"],
    );
    let file = s.write("lstm.onnx", &lstm.to_bytes());
    let err = s.fails(&["import-onnx", &file, "--id", "lstm"]);
    assert!(
        err.contains("1 unsupported operator (1 node, opset 13)")
            && err.contains("`LSTM` x1 at `/rnn/LSTM`"),
        "{err}"
    );

    // Nothing was stored.
    assert!(!s.ok(&["models"]).contains("garbage"));
    assert!(!s.0.join("cache/models/lstm").exists());
}

#[test]
fn hostile_sizes_end_in_clear_errors_not_allocations() {
    let s = Scratch::new("hostile");
    let limit = "268435456";
    // The four files of the report, each under 250 bytes: a MaxPool and a Conv padding 8x8 by
    // 100,000 with a huge stride (a 1x1 output of a padded input of 4 * 10^10 elements), a
    // Gemm whose empty weight has an axis of 2^40 (the bias would be sized from it), an input
    // declared 50,000 x 50,000 (the probe would allocate 10 GB).
    let cases = [
        ("pool-pads", hostile::huge_pad_pool(&hostile::SMALL_INPUT), ["`pool`", "pads"]),
        ("conv-pads", hostile::huge_pad_conv(&hostile::SMALL_INPUT), ["`conv`", "pads"]),
        ("gemm", hostile::empty_gemm(1 << 40), ["`B`", "dims"]),
        ("big", hostile::big_input(&hostile::BIG_INPUT), ["`x`", "50000"]),
    ];
    for (id, m, named) in &cases {
        let file = s.write(&format!("{id}.onnx"), &hostile::tiny(m));
        let out = s.microscope(&["import-onnx", &file, "--id", id]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{id}: an error, not an abort: {err}");
        assert!(err.contains(&format!("{id}.onnx cannot be imported")), "{err}");
        for what in named.iter().chain([&limit]) {
            assert!(err.contains(what), "{id}: `{err}` does not name {what}");
        }
        assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{err}");
    }
    // A symbolic size given on the command line is bounded the same way.
    let sym = hostile::big_input(&hostile::SYMBOLIC_INPUT);
    let file = s.write("symbolic-pool.onnx", &hostile::tiny(&sym));
    let err = s.fails(&["import-onnx", &file, "--id", "sym", "--input-size", "50000"]);
    assert!(err.contains("symbolic-pool.onnx") && err.contains(limit), "{err}");
    for id in cases.iter().map(|(id, _, _)| *id).chain(["sym"]) {
        assert!(!s.0.join("cache/models").join(id).join("model.json").exists(), "{id} stored");
    }
}

#[test]
fn file_written_by_the_onnx_package_imports_with_its_layers() {
    let s = Scratch::new("ort");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/ort_cnn.onnx");
    s.ok(&[
        "import-onnx",
        fixture.to_str().unwrap(),
        "--id",
        "ort-cnn",
        "--scale",
        "255",
        "--offset",
        "0",
    ]);
    let layers = json(&s.ok(&["layers", "--model", "ort-cnn", "--json"]));
    let names: Vec<&str> =
        layers.as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    for name in [
        "stem.bn.BatchNormalization",
        "blocks.0.dw.Conv",
        "blocks.0.Add",
        "up.Resize",
        "cat.Concat",
        "head.fc.Gemm",
        "head.Softmax",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    let first = &layers[0];
    assert_eq!((first["channels"].as_u64(), first["height"].as_u64()), (Some(8), Some(8)));
    // The first output is a softmax: classify prints it as it is (probabilities summing to
    // at most 1 over the top five), not a softmax of it.
    let photo = s.0.join("grey.png");
    image::RgbImage::from_pixel(20, 20, image::Rgb([128, 128, 128])).save(&photo).unwrap();
    let result =
        json(&s.ok(&["classify", "--model", "ort-cnn", "--json", photo.to_str().unwrap()]));
    let probs: Vec<f64> =
        result[0]["top5"].as_array().unwrap().iter().map(|e| e["prob"].as_f64().unwrap()).collect();
    assert_eq!(probs.len(), 5);
    let sum: f64 = probs.iter().sum();
    assert!(sum <= 1.0 + 1e-5 && probs[0] > 0.1, "{probs:?}");
}

#[test]
fn a_file_without_a_fixed_size_needs_one() {
    let s = Scratch::new("symbolic");
    let mut m =
        model(13, [3, 8, 8], vec![node("Relu", "relu", &["x"], &["y"], vec![])], vec![], &["y"]);
    m.graph.as_mut().unwrap().input[0] = support::value_info("x", &[None, Some(3), None, None]);
    let file = s.write("symbolic.onnx", &m.to_bytes());
    let err = s.fails(&["import-onnx", &file, "--id", "relu"]);
    assert!(err.contains("has no fixed size; pass --input-size"), "{err}");
    s.ok(&["import-onnx", &file, "--id", "relu", "--input-size", "12"]);
    let layers = json(&s.ok(&["layers", "--model", "relu", "--json"]));
    assert_eq!(layers[0]["height"], 12);
    // A non-square size: height, then width.
    s.ok(&["import-onnx", &file, "--id", "wide", "--input-size", "10x14"]);
    let layers = json(&s.ok(&["layers", "--model", "wide", "--json"]));
    assert_eq!((&layers[0]["height"], &layers[0]["width"]), (&10.into(), &14.into()));
    assert!(s.ok(&["models"]).lines().any(|l| l.starts_with("wide") && l.contains("10x14px")));
    for bad in ["10x", "0", "ten"] {
        let err = s.fails(&["import-onnx", &file, "--id", "bad", "--input-size", bad]);
        assert!(err.contains("N (a square) or HxW"), "{bad}: {err}");
    }
}
