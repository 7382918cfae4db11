//! The operator table and what import does with it: docs/onnx-support.md is the table's
//! Markdown (CI fails on drift); every operator the table lists is dispatched (never reported
//! unsupported); every unsupported operator of a file is reported at once with counts, node
//! names and the opset; and the operators added for the torchvision zoo compute what ONNX
//! says, against plain loops: HardSigmoid, HardSwish, LeakyRelu, ReduceMean/ReduceMax,
//! ConvTranspose, PRelu, Max/Min, Where folded on constants, Unsqueeze/Squeeze/Transpose as
//! reshapes, and the
//! `Shape -> Gather -> Unsqueeze -> Concat -> Reshape` chain folded to a constant shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use burn::prelude::*;
use microscope_core::graph::Op;
use microscope_core::onnx::proto::{ModelProto, TensorProto, data_type};
use microscope_core::onnx::support::{OPERATORS, markdown};
use microscope_core::onnx::{self, OnnxError};
use support::naive::Nd;
use support::*;

const TOL: f32 = 1e-4;

#[test]
fn onnx_support_doc_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/onnx-support.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == markdown(),
        "docs/onnx-support.md is out of date with core/src/onnx/support.rs; regenerate it: \
         `cargo run --release -p microscope-cli -- onnx-ops --markdown > docs/onnx-support.md`"
    );
}

#[test]
fn onnx_every_listed_operator_is_dispatched() {
    for op in OPERATORS {
        // A node of the operator on the input alone: it may need more inputs or attributes
        // (an invalid-node error), but is never an unsupported operator.
        let file =
            model(13, [3, 8, 8], vec![node(op.name, "n", &["x"], &["y"], vec![])], vec![], &["y"]);
        if let Err(err) = onnx::import(&file.to_bytes()) {
            assert!(!matches!(err, OnnxError::UnsupportedOps { .. }), "{}: {err}", op.name);
        }
    }
}

#[test]
fn onnx_reports_every_unsupported_operator_at_once() {
    let nodes = vec![
        node("Einsum", "/a/einsum", &["x"], &["e"], vec![]),
        node("Relu", "/a/relu", &["e"], &["r"], vec![]),
        node("LSTM", "/rnn/0", &["r"], &["l0"], vec![]),
        node("LSTM", "/rnn/1", &["l0"], &["l1"], vec![]),
        node("Foo", "/custom", &["l1"], &["y"], vec![]),
    ];
    let mut file = model(17, [3, 8, 8], nodes, vec![], &["y"]);
    file.graph.as_mut().unwrap().node[4].domain = "com.example".into();
    let err = onnx::import(&file.to_bytes()).unwrap_err();
    let OnnxError::UnsupportedOps { opset, ops } = &err else { panic!("{err}") };
    assert_eq!(*opset, 17);
    let found: Vec<(&str, usize)> = ops.iter().map(|o| (o.op_type.as_str(), o.count)).collect();
    assert_eq!(found, [("Einsum", 1), ("LSTM", 2), ("Foo", 1)]);
    assert_eq!(ops[1].nodes, ["/rnn/0", "/rnn/1"]);
    let text = err.to_string();
    for needle in
        ["3 unsupported operators", "4 nodes", "opset 17", "`LSTM` x2", "/rnn/1", "com.example"]
    {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
}

/// Imports `file` and runs it on `x`, returning every output in NCHW form.
fn run(file: &ModelProto, x: &Nd) -> Vec<Tensor<4>> {
    let graph = onnx::import(&file.to_bytes()).unwrap();
    let device = Device::flex();
    let exe = graph.to_device(&device);
    let mut acts = exe.forward(to_tensor(x, &device), graph.outputs()).unwrap();
    graph.outputs().iter().map(|&o| acts.remove(o).unwrap()).collect()
}

fn map(x: &Nd, f: impl Fn(f32) -> f32) -> Nd {
    Nd::new(&x.shape, x.data.iter().map(|&v| f(v)).collect())
}

#[test]
fn onnx_activations_compose_from_graph_ops() {
    let x = Nd::new(&[2, 3, 4, 5], noise(120, 1).iter().map(|v| 6.0 * v).collect());
    let nodes = vec![
        node("HardSigmoid", "hs", &["x"], &["a"], vec![float("alpha", 0.25), float("beta", 0.4)]),
        node("HardSwish", "hw", &["x"], &["b"], vec![]),
        node("LeakyRelu", "lr", &["x"], &["c"], vec![float("alpha", 0.1)]),
    ];
    let file = model(17, [3, 4, 5], nodes, vec![], &["a", "b", "c"]);
    let got = run(&file, &x);
    let hs = |v: f32, a: f32, b: f32| (a * v + b).clamp(0.0, 1.0);
    assert_close("HardSigmoid", &got[0], &map(&x, |v| hs(v, 0.25, 0.4)), TOL);
    assert_close("HardSwish", &got[1], &map(&x, |v| v * hs(v, 1.0 / 6.0, 0.5)), TOL);
    assert_close("LeakyRelu", &got[2], &map(&x, |v| if v < 0.0 { 0.1 * v } else { v }), TOL);
    // Lowered to the built-ins' operators only; the node's own name is the result.
    let graph = onnx::import(&file.to_bytes()).unwrap();
    assert!(
        graph.nodes().iter().all(|n| matches!(
            n.op,
            Op::Constant(_) | Op::Mul | Op::Add | Op::Clip { .. } | Op::Relu
        ))
    );
    assert!(graph.value("hw").is_some() && graph.value("hs").is_some());
}

#[test]
fn onnx_prelu_max_min_compose_and_where_of_constants_folds() {
    let x = Nd::new(&[2, 3, 4, 5], noise(120, 4).iter().map(|v| 4.0 * v).collect());
    let slope = [0.1f32, -0.5, 2.0];
    // A bool condition as exporters write it (one byte per value).
    let condition = TensorProto {
        name: "cond".into(),
        dims: vec![3, 1, 1],
        data_type: data_type::BOOL,
        raw_data: vec![1, 0, 1],
        ..Default::default()
    };
    let nodes = vec![
        node("PRelu", "pr", &["x", "slope"], &["a"], vec![]),
        node("Max", "mx", &["x", "a", "half"], &["b"], vec![]),
        node("Min", "mn", &["x", "half"], &["c"], vec![]),
        node("Where", "wh", &["cond", "one", "two"], &["w"], vec![]),
        node("Max", "wmax", &["w", "onehalf"], &["wm"], vec![]),
        node("Add", "plus", &["x", "wm"], &["d"], vec![]),
    ];
    let inits = vec![
        init("slope", &[3, 1, 1], &slope),
        init("half", &[], &[0.5]),
        condition,
        init("one", &[1], &[1.0]),
        init("two", &[1], &[2.0]),
        init("onehalf", &[1], &[1.5]),
    ];
    let file = model(17, [3, 4, 5], nodes, inits, &["a", "b", "c", "d"]);
    let got = run(&file, &x);
    let per_channel = |f: &dyn Fn(f32, usize) -> f32| {
        let plane = 4 * 5;
        Nd::new(&x.shape, x.data.iter().enumerate().map(|(i, &v)| f(v, (i / plane) % 3)).collect())
    };
    let prelu = |v: f32, c: usize| if v < 0.0 { slope[c] * v } else { v };
    assert_close("PRelu", &got[0], &per_channel(&prelu), TOL);
    let max = |v: f32, c: usize| v.max(prelu(v, c)).max(0.5);
    assert_close("Max", &got[1], &per_channel(&max), TOL);
    assert_close("Min", &got[2], &map(&x, |v| v.min(0.5)), TOL);
    // Where(cond, 1, 2) = [1, 2, 1] per channel, then Max with 1.5: folded to constants.
    let offset = [1.5f32, 2.0, 1.5];
    assert_close("Where", &got[3], &per_channel(&|v, c| v + offset[c]), TOL);
    let graph = onnx::import(&file.to_bytes()).unwrap();
    assert!(
        graph
            .nodes()
            .iter()
            .all(|n| matches!(n.op, Op::Constant(_) | Op::Mul | Op::Add | Op::Sub | Op::Relu)),
        "{:?}",
        graph.nodes()
    );
    assert!(graph.value("wh").is_none() && graph.value("pr").is_some());
    // A Where of a computed value is refused by name, not reported as unknown.
    let computed = model(
        17,
        [3, 4, 5],
        vec![node("Where", "wv", &["cond", "x", "two"], &["y"], vec![])],
        vec![
            TensorProto {
                name: "cond".into(),
                dims: vec![1],
                data_type: data_type::BOOL,
                raw_data: vec![1],
                ..Default::default()
            },
            init("two", &[1], &[2.0]),
        ],
        &["y"],
    );
    let err = onnx::import(&computed.to_bytes()).unwrap_err().to_string();
    assert!(err.contains("only a `Where` of constants"), "{err}");
}

#[test]
fn onnx_spatial_reductions_are_global_pools() {
    let x = Nd::new(&[2, 3, 4, 5], noise(120, 2));
    let nodes = vec![
        node(
            "ReduceMean",
            "mean",
            &["x"],
            &["m"],
            vec![ints("axes", &[-2, -1]), int("keepdims", 0)],
        ),
        node("ReduceMax", "max", &["x", "axes"], &["k"], vec![]),
    ];
    let file = model(18, [3, 4, 5], nodes, vec![init_i64("axes", &[2], &[2, 3])], &["m", "k"]);
    let got = run(&file, &x);
    let reduce = |f: fn(&[f32]) -> f32| {
        let data: Vec<f32> = x.data.chunks(20).map(f).collect();
        data
    };
    let mean = reduce(|c| c.iter().sum::<f32>() / c.len() as f32);
    let max = reduce(|c| c.iter().copied().fold(f32::MIN, f32::max));
    assert_close("ReduceMean", &got[0], &Nd::new(&[2, 3], mean), TOL);
    assert_close("ReduceMax", &got[1], &Nd::new(&[2, 3, 1, 1], max), TOL);
    // A maximum over other axes is refused with the reason (means over them are
    // `onnx_smooth_and_norms`).
    let other = model(
        13,
        [3, 4, 5],
        vec![node("ReduceMax", "m", &["x"], &["y"], vec![ints("axes", &[1])])],
        vec![],
        &["y"],
    );
    let err = onnx::import(&other.to_bytes()).unwrap_err();
    assert!(
        matches!(err, OnnxError::Unsupported { .. }) && err.to_string().contains("spatial"),
        "{err}"
    );
}

#[test]
fn onnx_conv_transpose_matches_loops() {
    let (cin, cout, k, s, p, op) = (4usize, 3usize, 3usize, 2usize, 1usize, 1usize);
    let (h, w) = (4usize, 5usize);
    let x = Nd::new(&[1, cin, h, w], noise(cin * h * w, 3));
    let weight = noise(cin * cout * k * k, 4);
    let bias = noise(cout, 5);
    let nodes = vec![node(
        "ConvTranspose",
        "up",
        &["x", "w", "b"],
        &["y"],
        vec![
            ints("strides", &[s as i64, s as i64]),
            ints("pads", &[p as i64; 4]),
            ints("output_padding", &[op as i64, op as i64]),
        ],
    )];
    let inits = vec![init("w", &[cin, cout, k, k], &weight), init("b", &[cout], &bias)];
    let file = model(17, [cin, h, w], nodes, inits, &["y"]);
    let got = run(&file, &x);
    let (oh, ow) = ((h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op);
    let mut want = vec![0.0f32; cout * oh * ow];
    for o in 0..cout {
        for i in 0..oh * ow {
            want[o * oh * ow + i] = bias[o];
        }
    }
    for c in 0..cin {
        for iy in 0..h {
            for ix in 0..w {
                let v = x.data[(c * h + iy) * w + ix];
                for o in 0..cout {
                    for ky in 0..k {
                        for kx in 0..k {
                            let (y, xx) =
                                ((iy * s + ky) as i64 - p as i64, (ix * s + kx) as i64 - p as i64);
                            if y < 0 || xx < 0 || y >= oh as i64 || xx >= ow as i64 {
                                continue;
                            }
                            want[(o * oh + y as usize) * ow + xx as usize] +=
                                v * weight[((c * cout + o) * k + ky) * k + kx];
                        }
                    }
                }
            }
        }
    }
    assert_close("ConvTranspose", &got[0], &Nd::new(&[1, cout, oh, ow], want), TOL);
    // Asymmetric pads and `output_shape` are refused, not guessed.
    let asym = model(
        17,
        [cin, h, w],
        vec![node("ConvTranspose", "up", &["x", "w"], &["y"], vec![ints("pads", &[0, 0, 1, 1])])],
        vec![init("w", &[cin, cout, k, k], &weight)],
        &["y"],
    );
    assert!(onnx::import(&asym.to_bytes()).unwrap_err().to_string().contains("asymmetric"));
}

#[test]
fn onnx_shape_chains_fold_and_layout_ops_reshape() {
    // Shape -> Gather(0) -> Unsqueeze, Concat with a constant -1 -> Reshape: the flatten
    // PyTorch writes with dynamic shapes; then Unsqueeze, Transpose (moving size-1 axes
    // only) and Squeeze on values.
    let x = Nd::new(&[1, 3, 4, 5], noise(60, 6));
    let nodes = vec![
        node("Shape", "shape", &["x"], &["s"], vec![]),
        node("Gather", "gather", &["s", "zero"], &["n"], vec![int("axis", 0)]),
        node("Unsqueeze", "unsq", &["n", "axes0"], &["n1"], vec![]),
        node("Concat", "cat", &["n1", "minus1"], &["target"], vec![int("axis", 0)]),
        node("Reshape", "flat", &["x", "target"], &["f"], vec![]),
        node("Unsqueeze", "u", &["f", "axes2"], &["fu"], vec![]),
        node("Transpose", "t", &["fu"], &["ft"], vec![ints("perm", &[0, 2, 1])]),
        node("Squeeze", "sq", &["ft", "axes1"], &["y"], vec![]),
    ];
    let inits = vec![
        init_i64("zero", &[], &[0]),
        init_i64("axes0", &[1], &[0]),
        init_i64("minus1", &[1], &[-1]),
        init_i64("axes2", &[1], &[2]),
        init_i64("axes1", &[1], &[1]),
    ];
    let file = model(13, [3, 4, 5], nodes, inits, &["y"]);
    let graph = onnx::import(&file.to_bytes()).unwrap();
    // The shape computation left no node behind.
    assert!(
        graph.nodes().iter().all(|n| matches!(n.op, Op::Reshape { .. })),
        "{:?}",
        graph.nodes()
    );
    let got = run(&file, &x);
    assert_close("folded reshape", &got[0], &Nd::new(&[1, 60], x.data.clone()), TOL);
    // A transpose that moves data is refused.
    let moving = model(
        13,
        [3, 4, 5],
        vec![node("Transpose", "t", &["x"], &["y"], vec![ints("perm", &[0, 2, 3, 1])])],
        vec![],
        &["y"],
    );
    assert!(onnx::import(&moving.to_bytes()).unwrap_err().to_string().contains("moves data"));
    // Shape of a value needs a fixed input size.
    let mut symbolic =
        model(13, [3, 4, 5], vec![node("Shape", "s", &["x"], &["y"], vec![])], vec![], &["y"]);
    symbolic.graph.as_mut().unwrap().input[0] = value_info("x", &[None, Some(3), None, None]);
    assert!(
        onnx::import(&symbolic.to_bytes()).unwrap_err().to_string().contains("fixed input size")
    );
    // Given a size, the symbolic height and width are fixed while importing: the shape folds
    // (`[1, 3, 6, 10]`, batch 1 where symbolic) and the fixed channel count stays.
    let graph = onnx::import_at(&symbolic.to_bytes(), [6, 10]).unwrap();
    assert_eq!(graph.input().spatial(), Some([6, 10]));
    let Some(Op::Constant(shape)) = graph.nodes().last().map(|n| &n.op) else {
        panic!("{:?}", graph.nodes())
    };
    assert_eq!(shape.data(), [1.0, 3.0, 6.0, 10.0]);
}

#[test]
fn onnx_folding_is_bounded() {
    // ConstantOfShape asking for 2^40 values from a 16-byte shape is refused, not allocated.
    let nodes = vec![
        node("ConstantOfShape", "big", &["shape"], &["c"], vec![]),
        node("Add", "add", &["x", "c"], &["y"], vec![]),
    ];
    let file =
        model(13, [3, 4, 5], nodes, vec![init_i64("shape", &[2], &[1 << 20, 1 << 20])], &["y"]);
    let err = onnx::import(&file.to_bytes()).unwrap_err();
    assert!(
        matches!(err, OnnxError::Unsupported { .. }) && err.to_string().contains("values"),
        "{err}"
    );
    // A transposed convolution whose padding crops a huge uncropped output is refused at
    // shape inference, before the backend allocates it.
    let nodes = vec![node(
        "ConvTranspose",
        "up",
        &["x", "w"],
        &["y"],
        vec![ints("strides", &[1 << 14, 1 << 14]), ints("pads", &[24_000; 4])],
    )];
    let file = model(13, [3, 4, 5], nodes, vec![init("w", &[3, 1, 1, 1], &[1.0; 3])], &["y"]);
    let err = onnx::import(&file.to_bytes()).unwrap_err();
    assert!(matches!(err, OnnxError::Graph(_)), "{err}");
}
