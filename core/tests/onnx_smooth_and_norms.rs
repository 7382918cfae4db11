//! The operators that real exported CNNs build their smooth activations and normalisations
//! from, imported and run on the CPU, against plain loops written from the ONNX
//! specification: the element-wise functions (Exp, Log, Sqrt, Erf, Tanh, Abs, Neg), Elu,
//! Selu, Celu, Gelu (exact and tanh), Softplus (large inputs included), Mish, Pow, Reciprocal;
//! InstanceNormalization, LayerNormalization (over channels and over the last axis), the
//! channel-first layer norm written as ReduceMean/Sub/Pow/Sqrt/Div, ReduceSum and ReduceL2;
//! Split (attribute, input and equal parts) and Slice of a value. Gradients reach the input
//! through every one of them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use burn::prelude::*;
use microscope_core::graph::Op;
use microscope_core::onnx::proto::{NodeProto, TensorProto};
use microscope_core::onnx::{self, OnnxError};
use support::naive::Nd;
use support::*;

const TOL: f32 = 1e-4;

fn run(file: &microscope_core::onnx::proto::ModelProto, x: &Nd) -> Vec<Tensor<4>> {
    let graph = onnx::import(&file.to_bytes()).unwrap();
    let device = Device::flex();
    let exe = graph.to_device(&device);
    let mut acts = exe.forward(to_tensor(x, &device), graph.outputs()).unwrap();
    graph.outputs().iter().map(|&o| acts.remove(o).unwrap()).collect()
}

/// Abramowitz and Stegun 7.1.26 in f64 (error below 1.5e-7).
fn erf(x: f32) -> f32 {
    let x = f64::from(x);
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    (if x < 0.0 { -y } else { y }) as f32
}

fn softplus(v: f32) -> f32 {
    (f64::from(v).exp().ln_1p()) as f32
}

#[test]
fn onnx_smooth_activations_match_loops() {
    // Values spread over [-6, 6], plus large ones where a naive softplus overflows.
    let mut data: Vec<f32> = noise(120, 7).iter().map(|v| 6.0 * v).collect();
    data[0] = 95.0;
    data[1] = -95.0;
    let x = Nd::new(&[2, 3, 4, 5], data);
    let positive = x.map(|v| v.abs() + 0.1);
    let nodes = vec![
        node("Elu", "elu", &["x"], &["elu"], vec![float("alpha", 0.7)]),
        node("Selu", "selu", &["x"], &["selu"], vec![]),
        node("Celu", "celu", &["x"], &["celu"], vec![float("alpha", 2.0)]),
        node("Gelu", "gelu", &["x"], &["gelu"], vec![]),
        node("Gelu", "gelu_tanh", &["x"], &["gelu_tanh"], vec![string("approximate", "tanh")]),
        node("Softplus", "softplus", &["x"], &["softplus"], vec![]),
        node("Mish", "mish", &["x"], &["mish"], vec![]),
        node("Tanh", "tanh", &["x"], &["tanh"], vec![]),
        node("Erf", "erf", &["x"], &["erf"], vec![]),
        node("Abs", "abs", &["x"], &["abs"], vec![]),
        node("Neg", "neg", &["x"], &["neg"], vec![]),
        node("Exp", "exp", &["x"], &["exp"], vec![]),
        // On |x| + 0.1: the functions of positive numbers.
        node("Abs", "pos/abs", &["x"], &["pa"], vec![]),
        node("Add", "pos", &["pa", "tenth"], &["p"], vec![]),
        node("Log", "log", &["p"], &["log"], vec![]),
        node("Sqrt", "sqrt", &["p"], &["sqrt"], vec![]),
        node("Reciprocal", "recip", &["p"], &["recip"], vec![]),
        node("Pow", "pow2", &["x", "two"], &["pow2"], vec![]),
        node("Pow", "pow3", &["x", "three"], &["pow3"], vec![]),
        node("Pow", "pow_half", &["p", "half"], &["pow_half"], vec![]),
        node("Pow", "pow_any", &["p", "any"], &["pow_any"], vec![]),
    ];
    let outputs = [
        "elu",
        "selu",
        "celu",
        "gelu",
        "gelu_tanh",
        "softplus",
        "mish",
        "tanh",
        "erf",
        "abs",
        "neg",
        "exp",
        "log",
        "sqrt",
        "recip",
        "pow2",
        "pow3",
        "pow_half",
        "pow_any",
    ];
    let inits = vec![
        init("tenth", &[], &[0.1]),
        init("two", &[], &[2.0]),
        init("three", &[], &[3.0]),
        init("half", &[], &[0.5]),
        init("any", &[], &[1.7]),
    ];
    let file = model(20, [3, 4, 5], nodes, inits, &outputs);
    let got = run(&file, &x);
    let elu = |v: f32, a: f32| if v > 0.0 { v } else { a * (v.exp() - 1.0) };
    let (sa, sg) = (1.673_263_2f32, 1.050_701f32);
    let gelu_tanh = |v: f32| {
        0.5 * v * (1.0 + ((2.0 / std::f32::consts::PI).sqrt() * (v + 0.044_715 * v * v * v)).tanh())
    };
    let want: Vec<(&str, Nd)> = vec![
        ("Elu", x.map(|v| elu(v, 0.7))),
        ("Selu", x.map(|v| sg * elu(v, sa))),
        ("Celu", x.map(|v| v.max(0.0) + (2.0 * ((v / 2.0).exp() - 1.0)).min(0.0))),
        ("Gelu", x.map(|v| 0.5 * v * (1.0 + erf(v / std::f32::consts::SQRT_2)))),
        ("Gelu tanh", x.map(gelu_tanh)),
        ("Softplus", x.map(softplus)),
        ("Mish", x.map(|v| v * softplus(v).tanh())),
        ("Tanh", x.map(f32::tanh)),
        ("Erf", x.map(erf)),
        ("Abs", x.map(f32::abs)),
        ("Neg", x.map(|v| -v)),
        ("Exp", x.map(|v| v.clamp(-20.0, 20.0).exp())),
        ("Log", positive.map(f32::ln)),
        ("Sqrt", positive.map(f32::sqrt)),
        ("Reciprocal", positive.map(|v| 1.0 / v)),
        ("Pow 2", x.map(|v| v * v)),
        ("Pow 3", x.map(|v| v * v * v)),
        ("Pow 0.5", positive.map(f32::sqrt)),
        ("Pow 1.7", positive.map(|v| v.powf(1.7))),
    ];
    assert_eq!(want.len(), got.len());
    for (i, ((what, want), got)) in want.iter().zip(&got).enumerate() {
        if *what == "Exp" {
            // e^95 overflows f32 in both; compare the finite positions.
            let g = values(got);
            for (j, (&gv, &v)) in g.iter().zip(&x.data).enumerate().skip(2) {
                let w = v.exp();
                assert!((gv - w).abs() <= TOL * w.max(1.0), "Exp at {j}: {gv} vs {w}");
            }
            continue;
        }
        assert_close(&format!("{what} ({})", outputs[i]), got, want, TOL);
    }
    // Softplus of +-95 is exact, not infinite or NaN.
    let sp = values(&got[5]);
    assert!((sp[0] - 95.0).abs() < 1e-4 && sp[1].abs() < 1e-30, "{:?}", &sp[..2]);
}

/// Per (image, channel) over the spatial axes, then scale and bias.
fn instance_norm(x: &Nd, scale: &[f32], bias: &[f32], eps: f32) -> Nd {
    let [n, c, h, w]: [usize; 4] = x.shape.clone().try_into().unwrap();
    let hw = h * w;
    let mut out = x.data.clone();
    for i in 0..n * c {
        let plane = &x.data[i * hw..(i + 1) * hw];
        let mean = plane.iter().map(|&v| f64::from(v)).sum::<f64>() / hw as f64;
        let var = plane.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / hw as f64;
        let ch = i % c;
        for (o, &v) in out[i * hw..(i + 1) * hw].iter_mut().zip(plane) {
            let z = (f64::from(v) - mean) / (var + f64::from(eps)).sqrt();
            *o = (z * f64::from(scale[ch]) + f64::from(bias[ch])) as f32;
        }
    }
    Nd::new(&x.shape, out)
}

/// Over the channel axis of NCHW, per (image, position), then per-channel scale and bias.
fn channel_norm(x: &Nd, scale: &[f32], bias: &[f32], eps: f32) -> Nd {
    let [n, c, h, w]: [usize; 4] = x.shape.clone().try_into().unwrap();
    let hw = h * w;
    let mut out = x.data.clone();
    for b in 0..n {
        for p in 0..hw {
            let at = |ch: usize| b * c * hw + ch * hw + p;
            let mean = (0..c).map(|ch| f64::from(x.data[at(ch)])).sum::<f64>() / c as f64;
            let var =
                (0..c).map(|ch| (f64::from(x.data[at(ch)]) - mean).powi(2)).sum::<f64>() / c as f64;
            for ch in 0..c {
                let z = (f64::from(x.data[at(ch)]) - mean) / (var + f64::from(eps)).sqrt();
                out[at(ch)] = (z * f64::from(scale[ch]) + f64::from(bias[ch])) as f32;
            }
        }
    }
    Nd::new(&x.shape, out)
}

#[test]
fn onnx_normalisations_and_reductions_match_loops() {
    let x = Nd::new(&[2, 3, 4, 5], noise(120, 11).iter().map(|v| 3.0 * v + 0.5).collect());
    let (scale, bias) = ([1.5f32, -0.5, 2.0], [0.1f32, 0.2, -0.3]);
    // LayerNormalization over the last axis: scale and bias of 5.
    let (ls, lb) = ([0.5f32, 1.0, 1.5, 2.0, -1.0], [0.0f32, 0.1, 0.2, 0.3, 0.4]);
    let nodes = vec![
        node(
            "InstanceNormalization",
            "in",
            &["x", "s", "b"],
            &["in"],
            vec![float("epsilon", 1e-3)],
        ),
        // A channels-first layer norm as PyTorch code writes it and exports it.
        node("ReduceMean", "ln/mean", &["x"], &["u"], vec![ints("axes", &[1])]),
        node("Sub", "ln/sub", &["x", "u"], &["d"], vec![]),
        node("Pow", "ln/pow", &["d", "two"], &["d2"], vec![]),
        node("ReduceMean", "ln/var", &["d2"], &["v"], vec![ints("axes", &[1])]),
        node("Add", "ln/add", &["v", "eps"], &["ve"], vec![]),
        node("Sqrt", "ln/sqrt", &["ve"], &["sd"], vec![]),
        node("Div", "ln/div", &["d", "sd"], &["z"], vec![]),
        node("Mul", "ln/scale", &["z", "s3"], &["zs"], vec![]),
        node("Add", "ln/bias", &["zs", "b3"], &["ln"], vec![]),
        // The same as one LayerNormalization over axis 1 of a transposed-free value is over
        // C, H, W; over the last axis here.
        node("LayerNormalization", "ln_last", &["x", "ls", "lb"], &["ln_last"], vec![]),
        node("ReduceSum", "sum_hw", &["x", "hw"], &["sum_hw"], vec![int("keepdims", 0)]),
        node("ReduceSum", "sum_c", &["x", "c"], &["sum_c"], vec![]),
        node("ReduceL2", "l2_c", &["x"], &["l2_c"], vec![ints("axes", &[1]), int("keepdims", 0)]),
    ];
    let inits = vec![
        init("s", &[3], &scale),
        init("b", &[3], &bias),
        init("two", &[], &[2.0]),
        init("eps", &[], &[1e-6]),
        init("s3", &[3, 1, 1], &scale),
        init("b3", &[3, 1, 1], &bias),
        init("ls", &[5], &ls),
        init("lb", &[5], &lb),
        init_i64("hw", &[2], &[2, 3]),
        init_i64("c", &[1], &[1]),
    ];
    let file =
        model(17, [3, 4, 5], nodes, inits, &["in", "ln", "ln_last", "sum_hw", "sum_c", "l2_c"]);
    let got = run(&file, &x);
    assert_close("InstanceNormalization", &got[0], &instance_norm(&x, &scale, &bias, 1e-3), TOL);
    assert_close("channel layer norm", &got[1], &channel_norm(&x, &scale, &bias, 1e-6), TOL);
    // Over the last axis: each row of 5.
    let mut last = x.data.clone();
    for row in last.chunks_mut(5) {
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / 5.0;
        let var = row.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / 5.0;
        for (i, v) in row.iter_mut().enumerate() {
            let z = (f64::from(*v) - mean) / (var + 1e-5).sqrt();
            *v = (z * f64::from(ls[i]) + f64::from(lb[i])) as f32;
        }
    }
    assert_close("LayerNormalization", &got[2], &Nd::new(&x.shape, last), TOL);
    let sum_hw: Vec<f32> = x.data.chunks(20).map(|c| c.iter().sum()).collect();
    assert_close("ReduceSum spatial", &got[3], &Nd::new(&[2, 3], sum_hw), TOL);
    let (mut sum_c, mut l2_c) = (vec![0.0f32; 40], vec![0.0f32; 40]);
    for b in 0..2 {
        for ch in 0..3 {
            for p in 0..20 {
                let v = x.data[b * 60 + ch * 20 + p];
                sum_c[b * 20 + p] += v;
                l2_c[b * 20 + p] += v * v;
            }
        }
    }
    assert_close("ReduceSum channels", &got[4], &Nd::new(&[2, 1, 4, 5], sum_c), TOL);
    let l2_c: Vec<f32> = l2_c.iter().map(|v| v.sqrt()).collect();
    assert_close("ReduceL2 channels", &got[5], &Nd::new(&[2, 4, 5], l2_c), TOL);
    // The results are layers; the means and roots inside a normalisation are not (names
    // are sanitised: `/` becomes `.`).
    let graph = onnx::import(&file.to_bytes()).unwrap();
    let layers = graph.layers([4, 5]).unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    for layer in ["in", "ln.bias", "ln_last", "sum_c", "l2_c"] {
        assert!(names.contains(&layer), "{layer} not in {names:?}");
    }
    for hidden in ["in.mean", "in.var", "in.std", "ln.mean", "ln.var", "ln.sqrt", "ln_last.std"] {
        assert!(!names.contains(&hidden), "{hidden} in {names:?}");
    }
}

/// An opset, the nodes and initializers of a model with outputs `a`, `b`, `c`, and the channel
/// range each output should hold.
type SplitCase = (i64, Vec<NodeProto>, Vec<TensorProto>, [(usize, usize); 3]);

#[test]
fn onnx_split_and_slice_of_values_cut_the_axis() {
    let x = Nd::new(&[2, 6, 3, 4], noise(144, 5));
    let channels = |from: usize, to: usize| {
        let mut data = Vec::new();
        for b in 0..2 {
            data.extend_from_slice(&x.data[b * 72 + from * 12..b * 72 + to * 12]);
        }
        Nd::new(&[2, to - from, 3, 4], data)
    };
    // Opset 11: sizes as an attribute; 13: as an input; 18: equal parts by num_outputs
    // (the last smaller).
    let cases: Vec<SplitCase> = vec![
        (
            11,
            vec![node(
                "Split",
                "sp",
                &["x"],
                &["a", "b", "c"],
                vec![int("axis", 1), ints("split", &[1, 2, 3])],
            )],
            vec![],
            [(0, 1), (1, 3), (3, 6)],
        ),
        (
            13,
            vec![node("Split", "sp", &["x", "sizes"], &["a", "b", "c"], vec![int("axis", 1)])],
            vec![init_i64("sizes", &[3], &[3, 2, 1])],
            [(0, 3), (3, 5), (5, 6)],
        ),
        (
            18,
            vec![node(
                "Split",
                "sp",
                &["x"],
                &["a", "b", "c"],
                vec![int("axis", -3), int("num_outputs", 3)],
            )],
            vec![],
            [(0, 2), (2, 4), (4, 6)],
        ),
    ];
    for (opset, nodes, inits, parts) in cases {
        let file = model(opset, [6, 3, 4], nodes, inits, &["a", "b", "c"]);
        let got = run(&file, &x);
        for (i, (from, to)) in parts.into_iter().enumerate() {
            assert_close(
                &format!("Split opset {opset} output {i}"),
                &got[i],
                &channels(from, to),
                TOL,
            );
        }
    }
    // Slice of a value (channels 1..4, then the last 2 columns), with negative ends.
    let nodes = vec![node("Slice", "sl", &["x", "starts", "ends", "axes"], &["y"], vec![])];
    let inits = vec![
        init_i64("starts", &[2], &[1, -2]),
        init_i64("ends", &[2], &[-2, i64::MAX]),
        init_i64("axes", &[2], &[1, 3]),
    ];
    let got = run(&model(13, [6, 3, 4], nodes, inits, &["y"]), &x);
    let mid = channels(1, 4);
    let mut want = Vec::new();
    for row in mid.data.chunks(4) {
        want.extend_from_slice(&row[2..]);
    }
    assert_close("Slice", &got[0], &Nd::new(&[2, 3, 3, 2], want), TOL);
    // Parts that do not cover the axis, and steps other than 1, are clear errors.
    let bad = model(
        13,
        [6, 3, 4],
        vec![node("Split", "sp", &["x", "sizes"], &["a", "b"], vec![int("axis", 1)])],
        vec![init_i64("sizes", &[2], &[2, 2])],
        &["a", "b"],
    );
    let err = onnx::import(&bad.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("do not cut the axis"), "{err}");
    let stepped = model(
        13,
        [6, 3, 4],
        vec![node("Slice", "sl", &["x", "starts", "ends", "axes", "steps"], &["y"], vec![])],
        vec![
            init_i64("starts", &[1], &[0]),
            init_i64("ends", &[1], &[6]),
            init_i64("axes", &[1], &[1]),
            init_i64("steps", &[1], &[2]),
        ],
        &["y"],
    );
    let err = onnx::import(&stepped.to_bytes()).unwrap_err();
    assert!(
        matches!(err, OnnxError::Unsupported { .. }) && err.to_string().contains("steps"),
        "{err}"
    );
}

#[test]
fn onnx_gradients_pass_through_the_new_operators() {
    let nodes = vec![
        node("Conv", "conv", &["x", "w"], &["c"], vec![ints("pads", &[1, 1, 1, 1])]),
        node("InstanceNormalization", "in", &["c", "s", "b"], &["i"], vec![]),
        node("Gelu", "gelu", &["i"], &["g"], vec![]),
        node("LayerNormalization", "ln", &["g", "ls"], &["l"], vec![int("axis", 1)]),
        node("Mish", "mish", &["l"], &["m"], vec![]),
        node("Split", "sp", &["m"], &["m0", "m1"], vec![int("axis", 1)]),
        node("Elu", "elu", &["m1"], &["e"], vec![]),
        node("Add", "out", &["m0", "e"], &["y"], vec![]),
    ];
    let inits = vec![
        init("w", &[4, 3, 3, 3], &noise(108, 3)),
        init("s", &[4], &[1.0, 0.5, 2.0, 1.5]),
        init("b", &[4], &[0.0, 0.1, -0.1, 0.2]),
        init("ls", &[4, 6, 6], &noise(144, 9).iter().map(|v| 1.0 + v).collect::<Vec<_>>()),
    ];
    let file = model(20, [3, 6, 6], nodes, inits, &["y"]);
    let graph = onnx::import(&file.to_bytes()).unwrap();
    assert!(graph.nodes().iter().any(|n| matches!(n.op, Op::Slice { .. })));
    let device = Device::flex();
    let exe = graph.to_device(&device);
    let x = Tensor::<4>::from_data(TensorData::new(noise(108, 4), [1, 3, 6, 6]), &device)
        .autodiff()
        .require_grad();
    let y = exe.output(x.clone()).unwrap();
    let dims = y.dims();
    let weights =
        Tensor::<4>::from_data(TensorData::new(noise(dims.iter().product(), 99), dims), &device);
    let grads = (y * weights).sum().backward();
    let g = values(&x.grad(&grads).unwrap());
    assert!(g.iter().all(|v| v.is_finite()), "a gradient is not finite");
    assert!(g.iter().any(|v| v.abs() > 1e-6), "no gradient reached the input");
}
