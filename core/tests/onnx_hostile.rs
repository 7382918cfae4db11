//! Hostile ONNX files: tiny files (a few hundred bytes) that declare sizes whose honest handling
//! would allocate gigabytes. Each must end in an [`OnnxError`] or [`GraphError`] that names the
//! tensor, node or input at fault and the limit, before anything of the declared size is
//! allocated: huge pads with a huge stride (small output, huge padded input), an empty Gemm
//! weight whose other axis is huge (the bias would be sized from it), a declared input of
//! 50,000 x 50,000, a constant of too many axes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use burn::prelude::*;
use microscope_core::graph::{GraphError, MAX_ELEMENTS};
use microscope_core::onnx::{self, OnnxError};
use microscope_core::weights::MAX_TENSOR_RANK;
use support::hostile::*;
use support::{init, node};

fn assert_names_limit(message: &str, what: &[&str]) {
    for w in what {
        assert!(message.contains(w), "`{message}` does not name `{w}`");
    }
    assert!(message.contains(&MAX_ELEMENTS.to_string()), "`{message}` does not name the limit");
}

#[test]
fn huge_pads_with_a_huge_stride_are_refused_at_import() {
    for (m, node, op) in [
        (huge_pad_pool(&SMALL_INPUT), "pool", "MaxPool"),
        (huge_pad_conv(&SMALL_INPUT), "conv", "Conv"),
    ] {
        let err = onnx::import(&tiny(&m)).unwrap_err();
        assert!(
            matches!(&err, OnnxError::Graph(GraphError::Shape { node: n, .. }) if n == node),
            "{err:?}"
        );
        assert_names_limit(&err.to_string(), &[node, op, "pads"]);
    }
}

#[test]
fn huge_pads_with_a_huge_stride_are_refused_before_a_forward_pass() {
    // A symbolic size cannot be checked at import: the forward pass at 8x8 checks it before
    // padding anything.
    let device = Device::flex();
    for (m, node) in
        [(huge_pad_pool(&SYMBOLIC_INPUT), "pool"), (huge_pad_conv(&SYMBOLIC_INPUT), "conv")]
    {
        let graph = onnx::import(&tiny(&m)).unwrap();
        let exe = graph.to_device(&device);
        let x = Tensor::<4>::zeros([1, 1, 8, 8], &device);
        let err = exe.output(x).unwrap_err();
        assert_names_limit(&err.to_string(), &[node, "pads"]);
    }
}

#[test]
fn an_empty_gemm_weight_with_a_huge_axis_is_refused_before_the_bias() {
    // B is [0, 2^40] (no data needed), C one value: lowering would fill a bias of 2^40 floats.
    let err = onnx::import(&tiny(&empty_gemm(1 << 40))).unwrap_err();
    assert!(matches!(&err, OnnxError::InvalidTensor { name, .. } if name == "B"), "{err:?}");
    assert_names_limit(&err.to_string(), &["`B`", "dims"]);

    // Within the axis limit, an empty B is still refused before the bias is sized from it.
    let err = onnx::import(&tiny(&empty_gemm(1 << 28))).unwrap_err().to_string();
    assert!(err.contains("fc") && err.contains("Gemm") && err.contains("empty"), "{err}");
}

#[test]
fn a_declared_input_of_50000_squared_is_refused_before_anything_allocates_it() {
    // A pool with stride 50,000 makes a 1x1 output, so every shape downstream is small.
    let err = onnx::import(&tiny(&big_input(&BIG_INPUT))).unwrap_err();
    assert!(matches!(&err, OnnxError::InvalidInput { name, .. } if name == "x"), "{err:?}");
    assert_names_limit(&err.to_string(), &["`x`", "50000"]);
}

#[test]
fn an_input_larger_than_the_limit_is_refused_by_shape_inference() {
    // With a symbolic size, the caller's size is checked before any tensor work.
    let m = big_input(&SYMBOLIC_INPUT);
    let graph = onnx::import(&tiny(&m)).unwrap();
    let err = graph.infer_shapes([1, 1, 50_000, 50_000]).unwrap_err();
    assert!(matches!(err, GraphError::InputTooLarge { limit: MAX_ELEMENTS, .. }), "{err:?}");
    assert_names_limit(&err.to_string(), &["50000"]);
    assert!(graph.infer_shapes([1, 1, 100_000, 1]).is_ok());
}

#[test]
fn a_constant_of_too_many_axes_is_refused() {
    let rank = MAX_TENSOR_RANK + 1;
    let deep = init("deep", &vec![1; rank], &[1.0]);
    let relu = node("Relu", "relu", &["x"], &["y"], vec![]);
    let m = model_with_input(&SYMBOLIC_INPUT, vec![relu], vec![deep], "y");
    let err = onnx::import(&tiny(&m)).unwrap_err();
    assert!(matches!(&err, OnnxError::InvalidTensor { name, .. } if name == "deep"), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{rank} axes")) && message.contains(&MAX_TENSOR_RANK.to_string()),
        "{message}"
    );
    // At the limit, it imports.
    let ok = init("ok", &[1; MAX_TENSOR_RANK], &[1.0]);
    let relu = node("Relu", "relu", &["x"], &["y"], vec![]);
    let m = model_with_input(&SYMBOLIC_INPUT, vec![relu], vec![ok], "y");
    onnx::import(&m.to_bytes()).unwrap();
}
