//! ONNX import end to end: small CNNs written as ONNX files by the tests themselves, imported,
//! run on the CPU (`flex`) and compared with an independent reference written as plain loops
//! (`support::naive`); malformed files; batch-norm folding; early stopping; gradients; the
//! layer catalogue and receptive fields.
//!
//! Tolerance: relative error `|got - want| / max(1, |want|) <= 1e-4` (f32 kernels against an
//! f64-accumulating reference).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use burn::prelude::*;
use microscope_core::graph::{Graph, GraphError, ValueId};
use microscope_core::onnx::proto::ModelProto;
use microscope_core::onnx::{self, OnnxError};
use support::naive::{self, Nd};
use support::*;

const TOL: f32 = 1e-4;

/// A test model: its file and the reference values of some of its outputs (by ONNX name).
struct Case {
    name: &'static str,
    model: ModelProto,
    input: Nd,
    /// ONNX value name -> reference value.
    want: Vec<(&'static str, Nd)>,
}

/// The conv net: SAME stride-2 conv + bias, batch norm, ReLU6 as Clip with inputs, depthwise
/// conv, ReLU, pointwise conv, residual Add, dilated grouped strided conv with asymmetric
/// pads, GlobalAveragePool, Flatten, Gemm (transB, alpha, beta).
fn conv_net() -> Case {
    let (c, h, w) = (3, 10, 9);
    let w1 = noise(8 * 3 * 9, 1);
    let b1 = noise(8, 2);
    let (g, bb, m) =
        (noise(8, 3).iter().map(|v| 1.0 + 0.5 * v).collect::<Vec<_>>(), noise(8, 4), noise(8, 5));
    let var: Vec<f32> = noise(8, 6).iter().map(|v| 0.5 + v.abs()).collect();
    let wd = noise(8 * 9, 7);
    let wp = noise(8 * 8, 8);
    let bp = noise(8, 9);
    let w3 = noise(6 * 4 * 9, 10);
    let wfc = noise(5 * 6, 11);
    let bfc = noise(5, 12);
    let nodes = vec![
        node(
            "Conv",
            "/stem/Conv",
            &["x", "w1", "b1"],
            &["c1"],
            vec![
                ints("strides", &[2, 2]),
                string("auto_pad", "SAME_UPPER"),
                ints("kernel_shape", &[3, 3]),
            ],
        ),
        node(
            "BatchNormalization",
            "/stem/bn",
            &["c1", "g", "bb", "m", "v"],
            &["b1o"],
            vec![float("epsilon", 1e-3)],
        ),
        node("Clip", "/stem/act", &["b1o", "lo", "hi"], &["r1"], vec![]),
        node(
            "Conv",
            "/block/dw",
            &["r1", "wd"],
            &["d1"],
            vec![int("group", 8), ints("pads", &[1, 1, 1, 1])],
        ),
        node("Relu", "/block/relu", &["d1"], &["r2"], vec![]),
        node("Conv", "/block/pw", &["r2", "wp", "bp"], &["p1"], vec![]),
        node("Add", "/block/add", &["p1", "r1"], &["add1"], vec![]),
        node(
            "Conv",
            "/head/conv",
            &["add1", "w3"],
            &["c3"],
            vec![
                ints("dilations", &[2, 1]),
                ints("pads", &[2, 1, 1, 0]),
                ints("strides", &[1, 2]),
                int("group", 2),
            ],
        ),
        node("GlobalAveragePool", "/head/pool", &["c3"], &["gap"], vec![]),
        node("Flatten", "/head/flatten", &["gap"], &["flat"], vec![]),
        node(
            "Gemm",
            "/head/fc",
            &["flat", "wfc", "bfc"],
            &["logits"],
            vec![int("transB", 1), float("alpha", 0.5), float("beta", 2.0)],
        ),
    ];
    let inits = vec![
        init("w1", &[8, 3, 3, 3], &w1),
        init_floats("b1", &[8], &b1),
        init("g", &[8], &g),
        init("bb", &[8], &bb),
        init("m", &[8], &m),
        init("v", &[8], &var),
        init("lo", &[], &[0.0]),
        init("hi", &[], &[6.0]),
        init("wd", &[8, 1, 3, 3], &wd),
        init("wp", &[8, 8, 1, 1], &wp),
        init("bp", &[8], &bp),
        init("w3", &[6, 4, 3, 3], &w3),
        init("wfc", &[5, 6], &wfc),
        init("bfc", &[5], &bfc),
    ];
    let x = Nd::new(&[2, c, h, w], noise(2 * c * h * w, 13).iter().map(|v| 3.0 * v).collect());
    let c1 = naive::conv(
        &x,
        &Nd::new(&[8, 3, 3, 3], w1),
        Some(&b1),
        [2, 2],
        naive::same_upper(h, w, [3, 3], [2, 2]),
        [1, 1],
        1,
    );
    let b1o = naive::batch_norm(&c1, &g, &bb, &m, &var, 1e-3);
    let r1 = b1o.map(|v| v.clamp(0.0, 6.0));
    let d1 = naive::conv(&r1, &Nd::new(&[8, 1, 3, 3], wd), None, [1, 1], [1, 1, 1, 1], [1, 1], 8);
    let r2 = d1.map(|v| v.max(0.0));
    let p1 = naive::conv(&r2, &Nd::new(&[8, 8, 1, 1], wp), Some(&bp), [1, 1], [0; 4], [1, 1], 1);
    let add1 = naive::binary(&p1, &r1, |a, b| a + b);
    let c3 = naive::conv(&add1, &Nd::new(&[6, 4, 3, 3], w3), None, [1, 2], [2, 1, 1, 0], [2, 1], 2);
    let gap = naive::global_avg(&c3);
    let flat = gap.reshape(&[2, 6]);
    let logits = naive::gemm(&flat, &Nd::new(&[5, 6], wfc), &bfc, 0.5, 2.0, true);
    Case {
        name: "conv_net",
        model: model(13, [c, h, w], nodes, inits, &["logits"]),
        input: x,
        want: vec![
            ("c1", c1),
            ("b1o", b1o),
            ("r1", r1),
            ("d1", d1),
            ("r2", r2),
            ("p1", p1),
            ("add1", add1),
            ("c3", c3),
            ("gap", gap),
            ("logits", logits),
        ],
    }
}

/// The branch net: swish (Sigmoid, Mul), MaxPool and AveragePool (count_include_pad) joined by
/// Concat, reflect Pad, ceil-mode MaxPool, nearest and linear Resize, constant Pad,
/// Reshape with a constant shape, MatMul and Add with constants, Softmax.
fn branch_net() -> Case {
    let (c, h, w) = (4, 8, 8);
    let wc = noise(6 * 4 * 9, 21);
    let wm = noise(12 * 7, 22);
    let bias = noise(7, 23);
    let nodes = vec![
        node("Conv", "conv", &["x", "wc"], &["c"], vec![ints("pads", &[1, 1, 1, 1])]),
        node("Sigmoid", "sig", &["c"], &["sg"], vec![]),
        node("Mul", "swish", &["c", "sg"], &["swish"], vec![]),
        node(
            "MaxPool",
            "maxpool",
            &["swish"],
            &["mp", "mp_indices"],
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                ints("pads", &[1, 1, 1, 1]),
            ],
        ),
        node(
            "AveragePool",
            "avgpool",
            &["swish"],
            &["ap"],
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("strides", &[2, 2]),
                ints("pads", &[1, 1, 1, 1]),
                int("count_include_pad", 1),
            ],
        ),
        node("Concat", "cat", &["mp", "ap"], &["cat"], vec![int("axis", 1)]),
        node("Pad", "pad_reflect", &["cat", "pads1"], &["padded"], vec![string("mode", "reflect")]),
        node(
            "MaxPool",
            "maxpool_ceil",
            &["padded"],
            &["mp2"],
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2]), int("ceil_mode", 1)],
        ),
        node(
            "Resize",
            "up_nearest",
            &["mp2", "", "scales1"],
            &["up"],
            vec![string("mode", "nearest")],
        ),
        node(
            "Resize",
            "resize_linear",
            &["up", "", "scales2"],
            &["up2"],
            vec![string("mode", "linear")],
        ),
        node("Pad", "pad_const", &["up2", "pads2", "padval"], &["pe"], vec![]),
        node("GlobalAveragePool", "gap", &["pe"], &["gap"], vec![]),
        node("Reshape", "reshape", &["gap", "shape"], &["rs"], vec![]),
        node("MatMul", "matmul", &["rs", "wm"], &["mm"], vec![]),
        node("Add", "bias", &["mm", "bias"], &["z"], vec![]),
        node("Softmax", "softmax", &["z"], &["probs"], vec![int("axis", -1)]),
    ];
    let inits = vec![
        init("wc", &[6, 4, 3, 3], &wc),
        init_i64("pads1", &[8], &[0, 0, 1, 2, 0, 0, 2, 1]),
        init("scales1", &[4], &[1.0, 1.0, 2.0, 2.0]),
        init("scales2", &[4], &[1.0, 1.0, 0.75, 1.5]),
        init_i64("pads2", &[8], &[0, 0, 0, 1, 0, 0, 1, 0]),
        init("padval", &[], &[0.5]),
        init_i64("shape", &[2], &[0, -1]),
        init("wm", &[12, 7], &wm),
        init("bias", &[7], &bias),
    ];
    let x = Nd::new(&[2, c, h, w], noise(2 * c * h * w, 24));
    let cv = naive::conv(&x, &Nd::new(&[6, 4, 3, 3], wc), None, [1, 1], [1, 1, 1, 1], [1, 1], 1);
    let sg = cv.map(naive::sigmoid);
    let swish = naive::binary(&cv, &sg, |a, b| a * b);
    let mp = naive::pool(&swish, true, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, false);
    let ap = naive::pool(&swish, false, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, true);
    let cat = naive::concat(&[&mp, &ap], 1);
    let padded = naive::pad(&cat, &[0, 0, 1, 2, 0, 0, 2, 1], "reflect", 0.0);
    let mp2 = naive::pool(&padded, true, [2, 2], [2, 2], [0; 4], [1, 1], true, false);
    let up = naive::resize(
        &mp2,
        &[2, 12, 8, 8],
        &[1.0, 1.0, 2.0, 2.0],
        false,
        "half_pixel",
        "round_prefer_floor",
    );
    let up2 = naive::resize(&up, &[2, 12, 6, 12], &[1.0, 1.0, 0.75, 1.5], true, "half_pixel", "");
    let pe = naive::pad(&up2, &[0, 0, 0, 1, 0, 0, 1, 0], "constant", 0.5);
    let gap = naive::global_avg(&pe);
    let rs = gap.reshape(&[2, 12]);
    let mm = naive::matmul(&rs, &Nd::new(&[12, 7], wm));
    let z = naive::binary(&mm, &Nd::new(&[7], bias), |a, b| a + b);
    let probs = naive::softmax_last(&z);
    Case {
        name: "branch_net",
        model: model(13, [c, h, w], nodes, inits, &["probs"]),
        input: x,
        want: vec![
            ("c", cv),
            ("sg", sg),
            ("swish", swish),
            ("mp", mp),
            ("ap", ap),
            ("cat", cat),
            ("padded", padded),
            ("mp2", mp2),
            ("up", up),
            ("up2", up2),
            ("pe", pe),
            ("gap", gap),
            ("rs", rs),
            ("mm", mm),
            ("z", z),
            ("probs", probs),
        ],
    }
}

/// Opset-10 forms: a `Constant` node as conv weight, SAME_LOWER, `Clip` and `Pad` with
/// attributes (edge mode), `Dropout` with its mask output, `Sub` with a `value_float`
/// constant, `Div` by a broadcast initializer, `Identity`, `Resize(X, scales)` (asymmetric,
/// floor), VALID AveragePool with a non-square window, Gemm without bias, Softmax.
fn opset10_net() -> Case {
    let (c, h, w) = (2, 6, 7);
    let wk = noise(4 * 2 * 2 * 3, 31);
    let dv: Vec<f32> = noise(4, 32).iter().map(|v| 1.5 + v).collect();
    let wfc = noise(48 * 3, 33);
    let weight_tensor = init("", &[4, 2, 2, 3], &wk);
    let nodes = vec![
        node("Constant", "wconst", &[], &["w"], vec![tensor_attr("value", weight_tensor)]),
        node(
            "Conv",
            "conv",
            &["x", "w"],
            &["conv"],
            vec![string("auto_pad", "SAME_LOWER"), ints("strides", &[2, 2])],
        ),
        node("Clip", "clip", &["conv"], &["cl"], vec![float("min", -0.5), float("max", 0.5)]),
        node("Dropout", "drop", &["cl"], &["dr", "mask"], vec![]),
        node("Constant", "quarter", &[], &["q"], vec![float("value_float", 0.25)]),
        node("Sub", "sub", &["dr", "q"], &["sb"], vec![]),
        node("Div", "div", &["sb", "dv"], &["dvo"], vec![]),
        node("Identity", "id", &["dvo"], &["idv"], vec![]),
        node(
            "Pad",
            "pad_edge",
            &["idv"],
            &["pe"],
            vec![ints("pads", &[0, 0, 1, 0, 0, 0, 0, 2]), string("mode", "edge")],
        ),
        node("Resize", "resize", &["pe", "scales"], &["rz"], vec![]),
        node(
            "AveragePool",
            "avg",
            &["rz"],
            &["avg"],
            vec![
                ints("kernel_shape", &[2, 3]),
                ints("strides", &[2, 3]),
                string("auto_pad", "VALID"),
            ],
        ),
        node("Flatten", "flat", &["avg"], &["flat"], vec![int("axis", 1)]),
        node("Gemm", "fc", &["flat", "wfc"], &["fc"], vec![]),
        node("Softmax", "sm", &["fc"], &["out"], vec![]),
    ];
    let inits = vec![
        init("dv", &[4, 1, 1], &dv),
        init("scales", &[4], &[1.0, 1.0, 2.0, 1.5]),
        init("wfc", &[48, 3], &wfc),
    ];
    let x = Nd::new(&[2, c, h, w], noise(2 * c * h * w, 34));
    // SAME_LOWER, k [2, 3], s 2 at 6x7: totals 0 and 2, extra before -> pads [0, 1, 0, 1].
    let conv = naive::conv(&x, &Nd::new(&[4, 2, 2, 3], wk), None, [2, 2], [0, 1, 0, 1], [1, 1], 1);
    let cl = conv.map(|v| v.clamp(-0.5, 0.5));
    let sb = cl.map(|v| v - 0.25);
    let dvo = naive::binary(&sb, &Nd::new(&[4, 1, 1], dv), |a, b| a / b);
    let pe = naive::pad(&dvo, &[0, 0, 1, 0, 0, 0, 0, 2], "edge", 0.0);
    let rz = naive::resize(&pe, &[2, 4, 8, 9], &[1.0, 1.0, 2.0, 1.5], false, "asymmetric", "floor");
    let avg = naive::pool(&rz, false, [2, 3], [2, 3], [0; 4], [1, 1], false, false);
    let flat = avg.reshape(&[2, 48]);
    let fc = naive::matmul(&flat, &Nd::new(&[48, 3], wfc));
    let out = naive::softmax_last(&fc);
    Case {
        name: "opset10_net",
        model: model(10, [c, h, w], nodes, inits, &["out"]),
        input: x,
        want: vec![
            ("conv", conv),
            ("cl", cl),
            ("sb", sb),
            ("dvo", dvo),
            ("pe", pe),
            ("rz", rz),
            ("avg", avg),
            ("fc", fc),
            ("out", out),
        ],
    }
}

/// Resize variants (batch 1 because `sizes` fixes it): linear align_corners to sizes,
/// nearest tf_half_pixel_for_nn with round_prefer_ceil, pytorch_half_pixel linear.
fn resize_net() -> Case {
    let (c, h, w) = (3, 4, 4);
    let nodes = vec![
        node(
            "Resize",
            "align",
            &["x", "", "", "sizes"],
            &["a"],
            vec![
                string("mode", "linear"),
                string("coordinate_transformation_mode", "align_corners"),
            ],
        ),
        node(
            "Resize",
            "tfnn",
            &["a", "", "s1"],
            &["b"],
            vec![
                string("coordinate_transformation_mode", "tf_half_pixel_for_nn"),
                string("nearest_mode", "round_prefer_ceil"),
            ],
        ),
        node(
            "Resize",
            "pyt",
            &["b", "", "s2"],
            &["y"],
            vec![
                string("mode", "linear"),
                string("coordinate_transformation_mode", "pytorch_half_pixel"),
            ],
        ),
    ];
    let inits = vec![
        init_i64("sizes", &[4], &[1, 3, 7, 5]),
        init("s1", &[4], &[1.0, 1.0, 0.6, 1.7]),
        init("s2", &[4], &[1.0, 1.0, 0.25, 1.0]),
    ];
    let x = Nd::new(&[1, c, h, w], noise(c * h * w, 41));
    let a = naive::resize(
        &x,
        &[1, 3, 7, 5],
        &[1.0, 1.0, 7.0 / 4.0, 5.0 / 4.0],
        true,
        "align_corners",
        "",
    );
    let b = naive::resize(
        &a,
        &[1, 3, 4, 8],
        &[1.0, 1.0, 0.6, 1.7],
        false,
        "tf_half_pixel_for_nn",
        "round_prefer_ceil",
    );
    let y =
        naive::resize(&b, &[1, 3, 1, 8], &[1.0, 1.0, 0.25, 1.0], true, "pytorch_half_pixel", "");
    Case {
        name: "resize_net",
        model: model(13, [c, h, w], nodes, inits, &["y"]),
        input: x,
        want: vec![("a", a), ("b", b), ("y", y)],
    }
}

/// `Upsample` (opset 9, scales as an input) in nearest and linear modes.
fn upsample_net() -> Case {
    let (c, h, w) = (2, 3, 4);
    let nodes = vec![
        node("Upsample", "up", &["x", "s"], &["u"], vec![string("mode", "nearest")]),
        node("Upsample", "up_lin", &["u", "s2"], &["y"], vec![string("mode", "linear")]),
    ];
    let inits =
        vec![init("s", &[4], &[1.0, 1.0, 2.0, 3.0]), init("s2", &[4], &[1.0, 1.0, 1.5, 1.0])];
    let x = Nd::new(&[2, c, h, w], noise(2 * c * h * w, 51));
    let u = naive::resize(&x, &[2, 2, 6, 12], &[1.0, 1.0, 2.0, 3.0], false, "asymmetric", "floor");
    let y = naive::resize(&u, &[2, 2, 9, 12], &[1.0, 1.0, 1.5, 1.0], true, "asymmetric", "");
    Case {
        name: "upsample_net",
        model: model(9, [c, h, w], nodes, inits, &["y"]),
        input: x,
        want: vec![("u", u), ("y", y)],
    }
}

fn cases() -> Vec<Case> {
    vec![conv_net(), branch_net(), opset10_net(), resize_net(), upsample_net()]
}

/// The value of `graph` that the ONNX value `onnx_name` became (node names are the ONNX
/// node names, sanitised).
fn value_of(graph: &Graph, case: &Case, onnx_name: &str) -> ValueId {
    let graph_proto = case.model.graph.as_ref().unwrap();
    let node = graph_proto
        .node
        .iter()
        .find(|n| n.output.first().map(String::as_str) == Some(onnx_name))
        .unwrap();
    let name = microscope_core::graph::sanitize_name(&node.name);
    graph.value(&name).unwrap_or_else(|| panic!("{}: no value {name}", case.name))
}

#[test]
fn onnx_models_match_the_naive_reference() {
    let device = Device::flex();
    for case in cases() {
        let graph =
            onnx::import(&case.model.to_bytes()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let exe = graph.to_device(&device);
        let taps: Vec<ValueId> =
            case.want.iter().map(|(n, _)| value_of(&graph, &case, n)).collect();
        let found = exe.forward(to_tensor(&case.input, &device), &taps).unwrap();
        assert_eq!(found.len(), taps.len(), "{}", case.name);
        for ((name, want), id) in case.want.iter().zip(&taps) {
            assert_close(&format!("{}/{name}", case.name), found.get(*id).unwrap(), want, TOL);
        }
        // The output is the last reference value.
        let (_, last) = case.want.last().unwrap();
        assert_close(
            &format!("{}/output", case.name),
            &exe.output(to_tensor(&case.input, &device)).unwrap(),
            last,
            TOL,
        );
    }
}

#[test]
fn onnx_folded_batch_norm_equals_unfolded() {
    let device = Device::flex();
    let case = conv_net();
    let graph = onnx::import(&case.model.to_bytes()).unwrap();
    let folded = graph.fold_batch_norms().unwrap();
    assert_eq!(folded.nodes().len(), graph.nodes().len() - 1);
    assert!(folded.nodes().iter().all(|n| n.op.kind() != "BatchNormalization"));
    // Same catalogue (names, shapes, fields), same values.
    let (a, b) = (graph.layers([10, 9]).unwrap(), folded.layers([10, 9]).unwrap());
    let strip = |l: &[microscope_core::graph::LayerInfo]| {
        l.iter().map(|l| (l.name.clone(), l.shape.clone(), l.receptive_field)).collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    let input = to_tensor(&case.input, &device);
    let ta: Vec<ValueId> = a.iter().map(|l| l.value).collect();
    let tb: Vec<ValueId> = b.iter().map(|l| l.value).collect();
    let fa = graph.to_device(&device).forward(input.clone(), &ta).unwrap();
    let fb = folded.to_device(&device).forward(input, &tb).unwrap();
    for ((la, (_, va)), (_, vb)) in a.iter().zip(fa.iter()).zip(fb.iter()) {
        let (va, vb) = (values(va), values(vb));
        let diff =
            va.iter().zip(&vb).map(|(x, y)| (x - y).abs() / x.abs().max(1.0)).fold(0.0, f32::max);
        assert!(diff < TOL, "{}: folded differs by {diff}", la.name);
    }
}

#[test]
fn onnx_forward_stops_early_and_runs_only_needed_nodes() {
    let device = Device::flex();
    let case = branch_net();
    let graph = onnx::import(&case.model.to_bytes()).unwrap();
    let exe = graph.to_device(&device);
    let input = to_tensor(&case.input, &device);
    let all: Vec<ValueId> = graph.layers([8, 8]).unwrap().iter().map(|l| l.value).collect();
    let full = exe.forward(input.clone(), &all).unwrap();
    for &tap in &all {
        let one = exe.forward(input.clone(), &[tap, tap]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(values(one.get(tap).unwrap()), values(full.get(tap).unwrap()));
    }
    assert!(exe.forward(input.clone(), &[]).unwrap().is_empty());
    assert!(matches!(exe.forward(input, &[ValueId::INPUT, all[0]]), Ok(a) if a.len() == 2));

    // A graph whose tail only fits 8x8 inputs: at 6x6, early layers still run (the tail is
    // neither inferred nor run), the output fails with a typed error naming the node.
    let mut nodes = case.model.graph.as_ref().unwrap().node.clone();
    let mut inits = case.model.graph.as_ref().unwrap().initializer.clone();
    nodes.push(node("Reshape", "fixed_reshape", &["swish", "fixed"], &["fixed_out"], vec![]));
    inits.push(init_i64("fixed", &[2], &[-1, 6 * 8 * 8]));
    let m = model(13, [4, 8, 8], nodes, inits, &["probs", "fixed_out"]);
    let graph = onnx::import(&m.to_bytes()).unwrap();
    let exe = graph.to_device(&device);
    let small = Tensor::<4>::zeros([2, 4, 6, 6], &device);
    let swish = graph.value("swish").unwrap();
    assert_eq!(
        exe.forward(small.clone(), &[swish]).unwrap().get(swish).unwrap().dims(),
        [2, 6, 6, 6]
    );
    let fixed = graph.value("fixed_reshape").unwrap();
    let err = exe.forward(small, &[fixed]).unwrap_err();
    assert!(matches!(&err, GraphError::Shape { node, .. } if node == "fixed_reshape"), "{err}");
    // Wrong channel counts are rejected before any tensor work.
    let err = exe.forward(Tensor::<4>::zeros([1, 3, 8, 8], &device), &[swish]).unwrap_err();
    assert!(matches!(err, GraphError::InvalidInput { .. }), "{err}");
    let err = exe.forward(Tensor::<4>::zeros([1, 4, 8, 8], &device), &[ValueId::INPUT, all[0]]);
    assert!(err.is_ok());
}

#[test]
fn onnx_gradients_reach_the_input_through_every_op() {
    let device = Device::flex();
    for case in cases() {
        let graph = onnx::import(&case.model.to_bytes()).unwrap();
        let exe = graph.to_device(&device);
        let [_, _, h, w]: [usize; 4] = case.input.shape.clone().try_into().unwrap();
        let layers = graph.layers([h, w]).unwrap();
        for layer in &layers {
            let input = to_tensor(&case.input, &device).autodiff().require_grad();
            let value =
                exe.forward(input.clone(), &[layer.value]).unwrap().remove(layer.value).unwrap();
            // A random weighting, so that e.g. softmax (whose sum is constant) has a gradient.
            let dims = value.dims();
            let weights = Tensor::<4>::from_data(
                TensorData::new(noise(dims.iter().product(), 99), dims),
                &device,
            );
            let grads = (value * weights).sum().backward();
            let grad = values(
                &input
                    .grad(&grads)
                    .unwrap_or_else(|| panic!("{}/{}: no gradient", case.name, layer.name)),
            );
            assert!(grad.iter().all(|g| g.is_finite()), "{}/{}", case.name, layer.name);
            let norm: f32 = grad.iter().map(|g| g.abs()).sum();
            assert!(norm > 0.0, "{}/{} ({}): zero gradient", case.name, layer.name, layer.op);
        }
    }
}

#[test]
fn onnx_catalogue_names_shapes_and_fields() {
    let case = conv_net();
    let graph = onnx::import(&case.model.to_bytes()).unwrap();
    let layers = graph.layers([10, 9]).unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    // The stem conv feeds only its batch norm, so the batch norm is the layer; Flatten is not
    // a layer; Gemm (the output) is.
    assert_eq!(
        names,
        [
            "stem.bn",
            "stem.act",
            "block.dw",
            "block.relu",
            "block.pw",
            "block.add",
            "head.conv",
            "head.pool",
            "head.fc"
        ]
    );
    assert!(names.iter().all(|n| microscope_core::atlas::Name::new(*n).is_ok()));
    let by = |n: &str| layers.iter().find(|l| l.name == n).unwrap();
    assert_eq!((by("stem.bn").channels, by("stem.bn").spatial), (8, [5, 5]));
    assert_eq!((by("head.conv").channels, by("head.conv").spatial), (6, [4, 2]));
    assert_eq!((by("head.fc").channels, by("head.fc").shape.clone()), (5, vec![1, 5]));
    // Stem: 3x3 stride 2 -> 3 px, jump 2; depthwise 3x3 -> 3 + 2 * 2 = 7.
    let f = by("stem.act").receptive_field;
    assert_eq!((f.height.size, f.height.jump, f.width.size), (3.0, 2.0, 3.0));
    assert_eq!(by("block.dw").receptive_field.height.size, 7.0);
    // The residual merge keeps the wider branch.
    assert_eq!(by("block.add").receptive_field.height.size, 7.0);
    // Dilation 2 along H (span 5), 1 along W (span 3); stride [1, 2].
    let head = by("head.conv").receptive_field;
    assert_eq!((head.height.size, head.height.jump), (7.0 + 4.0 * 2.0, 2.0));
    assert_eq!((head.width.size, head.width.jump), (7.0 + 2.0 * 2.0, 4.0));
    // SAME padding depends on the size: at 11x11 the stem pads (1, 1), at 10 (0, 1).
    let at11 = graph.layers([11, 11]).unwrap();
    assert_eq!(at11[0].spatial, [6, 6]);
    assert_eq!(at11[0].receptive_field.height.centre, 0.0);
    assert_eq!(by("stem.bn").receptive_field.height.centre, 1.0);
}

/// A stack of convs without ONNX: 3x3 s1 -> 3 px; 3x3 s2 then 3x3 s1 -> 7 px, jump 2.
#[test]
fn graph_receptive_fields_of_a_known_stack() {
    use microscope_core::graph::{Conv2d, Dim, HostTensor, Op, Padding2d, Pool2d};
    let conv = |stride: usize| {
        Op::Conv2d(Conv2d {
            weight: HostTensor::new(vec![1, 1, 3, 3], vec![0.1; 9]).unwrap(),
            bias: None,
            stride: [stride; 2],
            padding: Padding2d::SameUpper,
            dilation: [1, 1],
            groups: 1,
        })
    };
    let mut g = Graph::new("x", [Dim::Fixed(1), Dim::Fixed(1), Dim::Fixed(32), Dim::Fixed(32)]);
    let a = g.add_node("a", conv(1), &[ValueId::INPUT]).unwrap();
    let b = g.add_node("b", conv(2), &[ValueId::INPUT]).unwrap();
    let c = g.add_node("c", conv(1), &[b]).unwrap();
    let pool = Pool2d {
        kernel: [2, 2],
        stride: [2, 2],
        padding: Padding2d::Valid,
        dilation: [1, 1],
        ceil_mode: false,
    };
    let d = g.add_node("d", Op::MaxPool(pool), &[c]).unwrap();
    g.set_outputs(&[a, d]).unwrap();
    let fields = g.receptive_fields([1, 1, 32, 32]).unwrap();
    let f = |v: ValueId| fields[v.index()].unwrap().height;
    assert_eq!((f(a).size, f(a).jump), (3.0, 1.0));
    assert_eq!((f(b).size, f(b).jump), (3.0, 2.0));
    assert_eq!((f(c).size, f(c).jump), (7.0, 2.0));
    // A 2x2 stride-2 pool after jump 2: 7 + 2 = 9, jump 4.
    assert_eq!((f(d).size, f(d).jump), (9.0, 4.0));
}

// ---- malformed files ----

fn tiny() -> ModelProto {
    let nodes = vec![
        node("Conv", "conv", &["x", "w", "b"], &["c"], vec![ints("pads", &[1, 1, 1, 1])]),
        node("Relu", "relu", &["c"], &["y"], vec![]),
    ];
    let inits = vec![init("w", &[4, 3, 3, 3], &noise(108, 1)), init("b", &[4], &noise(4, 2))];
    model(13, [3, 8, 8], nodes, inits, &["y"])
}

fn with_graph(f: impl FnOnce(&mut microscope_core::onnx::proto::GraphProto)) -> Vec<u8> {
    let mut m = tiny();
    f(m.graph.as_mut().unwrap());
    m.to_bytes()
}

#[test]
fn onnx_rejects_random_bytes_and_truncations() {
    assert!(onnx::import(&tiny().to_bytes()).is_ok());
    for seed in 0..200u64 {
        let len = (seed as usize * 37) % 300;
        let bytes: Vec<u8> = noise(len, seed).iter().map(|v| (v * 127.0 + 128.0) as u8).collect();
        // Whatever the bytes, a typed result and no panic.
        if let Ok(g) = onnx::import(&bytes) {
            panic!("random bytes imported as {g:?}");
        }
    }
    assert!(matches!(
        onnx::import(b"not an onnx file at all"),
        Err(OnnxError::Decode(_) | OnnxError::MissingGraph)
    ));
    let bytes = tiny().to_bytes();
    let mut errors = 0;
    for cut in 0..bytes.len() {
        match onnx::import(&bytes[..cut]) {
            Err(_) => errors += 1,
            // A cut at a field boundary can leave a smaller valid model (e.g. without the
            // opset list after the graph); it must then still be a usable graph.
            Ok(g) => assert!(!g.outputs().is_empty()),
        }
    }
    assert!(errors >= bytes.len() - 16, "{errors} of {} truncations failed", bytes.len());
}

#[test]
fn onnx_reports_unsupported_operators_and_bad_graphs() {
    let err =
        onnx::import(&with_graph(|g| g.node[1] = node("LSTM", "my_lstm", &["c"], &["y"], vec![])))
            .unwrap_err();
    assert!(
        matches!(&err, OnnxError::UnsupportedOps { ops, .. }
            if ops.len() == 1 && ops[0].op_type == "LSTM" && ops[0].nodes == ["my_lstm"]),
        "{err}"
    );
    assert!(err.to_string().contains("LSTM") && err.to_string().contains("my_lstm"));
    let err = onnx::import(&with_graph(|g| g.node[1].domain = "com.microsoft".into())).unwrap_err();
    assert!(err.to_string().contains("com.microsoft"), "{err}");
    // An unsupported node the outputs do not need is ignored.
    assert!(
        onnx::import(&with_graph(|g| g.node.push(node("LSTM", "dead", &["c"], &["z"], vec![]))))
            .is_ok()
    );

    // Missing initializer: the weight name is defined nowhere.
    let err = onnx::import(&with_graph(|g| {
        g.initializer.retain(|t| t.name != "w");
    }))
    .unwrap_err();
    assert!(matches!(&err, OnnxError::DanglingInput { input, .. } if input == "w"), "{err}");
    // ... or declared as a graph input without an initializer (old-style files).
    let err = onnx::import(&with_graph(|g| {
        g.initializer.retain(|t| t.name != "w");
        g.input.push(value_info("w", &[Some(4), Some(3), Some(3), Some(3)]));
    }))
    .unwrap_err();
    assert!(matches!(&err, OnnxError::MissingInitializer { input, .. } if input == "w"), "{err}");
    // Wrong weight sizes: fewer bytes than the shape needs, or channels that do not fit.
    let err = onnx::import(&with_graph(|g| g.initializer[0].raw_data.truncate(100))).unwrap_err();
    assert!(matches!(&err, OnnxError::InvalidTensor { name, .. } if name == "w"), "{err}");
    let err =
        onnx::import(&with_graph(|g| g.initializer[0] = init("w", &[4, 2, 3, 3], &noise(72, 1))))
            .unwrap_err();
    assert!(
        matches!(&err, OnnxError::Graph(GraphError::Shape { node, .. }) if node == "conv"),
        "{err}"
    );
    let err = onnx::import(&with_graph(|g| g.initializer[1] = init("b", &[5], &noise(5, 1))))
        .unwrap_err();
    assert!(matches!(&err, OnnxError::Graph(GraphError::InvalidNode { .. })), "{err}");
    let err =
        onnx::import(&with_graph(|g| g.initializer[0] = init("w", &[4, 3, 3], &noise(36, 1))))
            .unwrap_err();
    assert!(matches!(&err, OnnxError::Unsupported { .. }), "{err}");
    // Dangling names, cycles, duplicates.
    let err = onnx::import(&with_graph(|g| g.node[1].input[0] = "nowhere".into())).unwrap_err();
    assert!(
        matches!(&err, OnnxError::DanglingInput { input, node } if input == "nowhere" && node == "relu"),
        "{err}"
    );
    let err = onnx::import(&with_graph(|g| g.output[0].name = "missing".into())).unwrap_err();
    assert!(matches!(err, OnnxError::DanglingOutput(_)), "{err}");
    let err = onnx::import(&with_graph(|g| {
        g.node[0].input[0] = "y".into();
    }))
    .unwrap_err();
    assert!(matches!(err, OnnxError::Cycle(_)), "{err}");
    let err = onnx::import(&with_graph(|g| g.node[1].output[0] = "c".into())).unwrap_err();
    assert!(matches!(err, OnnxError::DuplicateValue(_)), "{err}");
    // Nodes out of order are sorted.
    assert!(onnx::import(&with_graph(|g| g.node.reverse())).is_ok());
    // Structure.
    let mut m = tiny();
    m.graph = None;
    assert_eq!(onnx::import(&m.to_bytes()).unwrap_err(), OnnxError::MissingGraph);
    let err = onnx::import(&with_graph(|g| g.input.clear())).unwrap_err();
    assert_eq!(err, OnnxError::MissingInput);
    let err =
        onnx::import(&with_graph(|g| g.input[0] = value_info("x", &[Some(1), Some(3), Some(8)])))
            .unwrap_err();
    assert!(matches!(err, OnnxError::InvalidInput { .. }), "{err}");
    // A missing required attribute, a secondary output read by another node.
    let err =
        onnx::import(&with_graph(|g| g.node[1] = node("Concat", "cat", &["c"], &["y"], vec![])))
            .unwrap_err();
    assert!(matches!(err, OnnxError::InvalidNode { .. }), "{err}");
    let err = onnx::import(&with_graph(|g| {
        g.node[1] = node("Dropout", "drop", &["c"], &["d", "mask"], vec![]);
        g.node.push(node("Relu", "relu", &["mask"], &["y"], vec![]));
    }))
    .unwrap_err();
    assert!(err.to_string().contains("secondary output"), "{err}");
    // Hostile sizes: a resize to billions of positions is a shape error, not an allocation.
    let err = onnx::import(&with_graph(|g| {
        g.node[1] = node("Resize", "huge", &["c", "", "s"], &["y"], vec![]);
        g.initializer.push(init("s", &[4], &[1.0, 1.0, 1e5, 1e5]));
    }))
    .unwrap_err();
    assert!(matches!(err, OnnxError::Graph(GraphError::Shape { .. })), "{err}");
}

#[test]
fn onnx_symbolic_input_sizes_import_and_run_at_any_size() {
    let mut m = tiny();
    m.graph.as_mut().unwrap().input[0] = value_info("x", &[None, Some(3), None, None]);
    let graph = onnx::import(&m.to_bytes()).unwrap();
    assert_eq!(graph.input().describe(), "[N, 3, N, N]");
    let exe = graph.to_device(&Device::flex());
    for size in [5, 8, 13] {
        let out = exe.output(Tensor::<4>::ones([1, 3, size, size + 1], &Device::flex())).unwrap();
        assert_eq!(out.dims(), [1, 4, size, size + 1]);
    }
}

/// A file written by the official `onnx` Python package, with the outputs ONNX Runtime
/// computed (see `fixtures/make_ort_cnn.py`): an independent check of both the protobuf
/// field numbers and the operator semantics.
#[test]
fn onnx_matches_onnx_runtime_on_a_file_written_by_the_onnx_package() {
    let bytes = include_bytes!("fixtures/ort_cnn.onnx");
    let blob = include_bytes!("fixtures/ort_cnn.bin");
    let floats: Vec<f32> =
        blob.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let graph = onnx::import(bytes).unwrap();
    assert_eq!(graph.input().describe(), "[batch, 3, 16, 16]");
    let shapes: [&[usize]; 8] = [
        &[1, 10],
        &[1, 8, 8, 8],
        &[1, 8, 4, 4],
        &[1, 8, 4, 4],
        &[1, 8, 4, 4],
        &[1, 8, 8, 8],
        &[1, 16, 4, 4],
        &[1, 10],
    ];
    let names: Vec<&str> = graph.outputs().iter().map(|&v| graph.value_name(v).unwrap()).collect();
    assert_eq!(
        names,
        [
            "head.Softmax",
            "stem.bn.BatchNormalization",
            "blocks.0.dw.Conv",
            "blocks.0.swish.Mul",
            "blocks.0.Add",
            "up.Resize",
            "cat.Concat",
            "head.fc.Gemm"
        ]
    );
    // The unnamed node is named after its output.
    assert!(graph.value("dw_sig").is_some());
    let device = Device::flex();
    let input = Nd::new(&[1, 3, 16, 16], floats[..768].to_vec());
    let mut offset = 768;
    let mut wants = Vec::new();
    for shape in shapes {
        let n: usize = shape.iter().product();
        wants.push(Nd::new(shape, floats[offset..offset + n].to_vec()));
        offset += n;
    }
    assert_eq!(offset, floats.len());
    for graph in [graph.clone(), graph.fold_batch_norms().unwrap()] {
        let exe = graph.to_device(&device);
        let found = exe.forward(to_tensor(&input, &device), graph.outputs()).unwrap();
        for ((&id, want), name) in graph.outputs().iter().zip(&wants).zip(&names) {
            assert_close(&format!("ort/{name}"), found.get(id).unwrap(), want, TOL);
        }
    }
}

/// An EfficientNet-Lite-shaped network built with the graph API (no ONNX): SAME padding,
/// batch norms, ReLU6 as Clip, a depthwise block with a residual Add, GlobalAveragePool,
/// Flatten and a Linear classifier — what a model-specific builder calls.
#[test]
fn graph_efficientnet_like_builder() {
    use microscope_core::graph::{BatchNorm, Conv2d, Dim, HostTensor, Linear, Op, Padding2d};
    let mut seed = 100;
    let mut t = |shape: &[usize], scale: f32, offset: f32| {
        seed += 1;
        let n = shape.iter().product();
        HostTensor::new(shape.to_vec(), noise(n, seed).iter().map(|v| offset + scale * v).collect())
            .unwrap()
    };
    let mut g = Graph::new(
        "image",
        [
            Dim::Symbolic("N".into()),
            Dim::Fixed(3),
            Dim::Symbolic("H".into()),
            Dim::Symbolic("W".into()),
        ],
    );
    let mut conv_bn_relu6 = |g: &mut Graph,
                             name: &str,
                             x: ValueId,
                             cin: usize,
                             cout: usize,
                             k: usize,
                             stride: usize,
                             groups: usize,
                             act: bool| {
        let conv = Op::Conv2d(Conv2d {
            weight: t(&[cout, cin / groups, k, k], 0.5, 0.0),
            bias: None,
            stride: [stride; 2],
            padding: Padding2d::SameUpper,
            dilation: [1, 1],
            groups,
        });
        let c = g.add_node(&format!("{name}.conv"), conv, &[x]).unwrap();
        let bn = Op::BatchNorm(BatchNorm {
            scale: t(&[cout], 0.2, 1.0),
            bias: t(&[cout], 0.1, 0.0),
            mean: t(&[cout], 0.1, 0.0),
            var: t(&[cout], 0.2, 1.0),
            epsilon: 1e-3,
        });
        let b = g.add_node(name, bn, &[c]).unwrap();
        if act {
            g.add_node(&format!("{name}.relu6"), Op::Clip { min: 0.0, max: 6.0 }, &[b]).unwrap()
        } else {
            b
        }
    };
    let stem = conv_bn_relu6(&mut g, "stem", ValueId::INPUT, 3, 8, 3, 2, 1, true);
    let expand = conv_bn_relu6(&mut g, "blocks.0.expand", stem, 8, 16, 1, 1, 1, true);
    let dw = conv_bn_relu6(&mut g, "blocks.0.depthwise", expand, 16, 16, 3, 1, 16, true);
    let project = conv_bn_relu6(&mut g, "blocks.0.project", dw, 16, 8, 1, 1, 1, false);
    let block = g.add_node("blocks.0", Op::Add, &[project, stem]).unwrap();
    let head = conv_bn_relu6(&mut g, "head", block, 8, 12, 1, 1, 1, true);
    let pool = g.add_node("pool", Op::GlobalAveragePool, &[head]).unwrap();
    let flat = g.add_node("flatten", Op::Flatten { axis: 1 }, &[pool]).unwrap();
    let fc = Op::Linear(Linear { weight: t(&[12, 5], 0.5, 0.0), bias: Some(t(&[5], 0.1, 0.0)) });
    let logits = g.add_node("logits", fc, &[flat]).unwrap();
    g.set_outputs(&[logits]).unwrap();

    let names: Vec<String> = g.layers([224, 224]).unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(
        names,
        [
            "stem",
            "stem.relu6",
            "blocks.0.expand",
            "blocks.0.expand.relu6",
            "blocks.0.depthwise",
            "blocks.0.depthwise.relu6",
            "blocks.0.project",
            "blocks.0",
            "head",
            "head.relu6",
            "pool",
            "logits"
        ]
    );
    let folded = g.fold_batch_norms().unwrap();
    assert_eq!(folded.nodes().len(), g.nodes().len() - 5);
    for size in [224, 225] {
        let layers = folded.layers([size, size]).unwrap();
        let by = |n: &str| layers.iter().find(|l| l.name == n).unwrap().clone();
        assert_eq!(by("stem").spatial, [size.div_ceil(2); 2]);
        assert_eq!(by("blocks.0.depthwise").receptive_field.height.size, 7.0);
        assert_eq!(by("logits").shape, [1, 5]);
    }
    let device = Device::flex();
    let input =
        Tensor::<4>::from_data(TensorData::new(noise(2 * 3 * 33 * 31, 5), [2, 3, 33, 31]), &device);
    let a = g.to_device(&device).output(input.clone()).unwrap();
    let b = folded.to_device(&device).output(input).unwrap();
    assert_eq!(a.dims(), [2, 5, 1, 1]);
    let (a, b) = (values(&a), values(&b));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-4), "{a:?} vs {b:?}");
}
