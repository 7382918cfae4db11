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
use microscope_core::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, data_type,
};
use microscope_core::onnx::{self, OnnxError};
use microscope_core::weights::MAX_TENSOR_RANK;
use support::*;

/// A model whose input `x` is declared with `dims` (`None`: symbolic).
fn model_with_input(
    dims: &[Option<usize>],
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    output: &str,
) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
        graph: Some(GraphProto {
            name: "hostile".into(),
            node: nodes,
            initializer: initializers,
            input: vec![value_info("x", dims)],
            output: vec![value_info(output, &[])],
        }),
        ..Default::default()
    }
}

/// A file of at most 250 bytes, as the hostile files of the report were.
fn tiny(m: &ModelProto) -> Vec<u8> {
    let bytes = m.to_bytes();
    assert!(bytes.len() <= 250, "the hostile file is {} bytes", bytes.len());
    bytes
}

const HUGE_PAD: i64 = 100_000;
const HUGE_STRIDE: i64 = 1_000_000;

/// A MaxPool padding an 8x8 input by 100,000 on every side with a stride of 1,000,000: a 1x1
/// output from a padded input of 4 * 10^10 elements.
fn huge_pad_pool(dims: &[Option<usize>]) -> ModelProto {
    let pool = node(
        "MaxPool",
        "pool",
        &["x"],
        &["y"],
        vec![
            ints("kernel_shape", &[1, 1]),
            ints("pads", &[HUGE_PAD; 4]),
            ints("strides", &[HUGE_STRIDE, HUGE_STRIDE]),
        ],
    );
    model_with_input(dims, vec![pool], vec![], "y")
}

/// The same with a 1x1 convolution.
fn huge_pad_conv(dims: &[Option<usize>]) -> ModelProto {
    let conv = node(
        "Conv",
        "conv",
        &["x", "w"],
        &["y"],
        vec![ints("pads", &[HUGE_PAD; 4]), ints("strides", &[HUGE_STRIDE, HUGE_STRIDE])],
    );
    model_with_input(dims, vec![conv], vec![init("w", &[1, 1, 1, 1], &[1.0])], "y")
}

fn assert_names_limit(message: &str, what: &[&str]) {
    for w in what {
        assert!(message.contains(w), "`{message}` does not name `{w}`");
    }
    assert!(message.contains(&MAX_ELEMENTS.to_string()), "`{message}` does not name the limit");
}

#[test]
fn huge_pads_with_a_huge_stride_are_refused_at_import() {
    let fixed = [Some(1), Some(1), Some(8), Some(8)];
    for (m, node, op) in
        [(huge_pad_pool(&fixed), "pool", "MaxPool"), (huge_pad_conv(&fixed), "conv", "Conv")]
    {
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
    let symbolic = [None, Some(1), None, None];
    let device = Device::flex();
    for (m, node) in [(huge_pad_pool(&symbolic), "pool"), (huge_pad_conv(&symbolic), "conv")] {
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
    let b = TensorProto {
        name: "B".into(),
        dims: vec![0, 1 << 40],
        data_type: data_type::FLOAT,
        ..Default::default()
    };
    let nodes = vec![
        node("Flatten", "flat", &["x"], &["f"], vec![]),
        node("Gemm", "fc", &["f", "B", "C"], &["y"], vec![]),
    ];
    let m = model_with_input(
        &[Some(1), Some(1), Some(1), Some(1)],
        nodes.clone(),
        vec![b, init("C", &[1], &[0.5])],
        "y",
    );
    let err = onnx::import(&tiny(&m)).unwrap_err();
    assert!(matches!(&err, OnnxError::InvalidTensor { name, .. } if name == "B"), "{err:?}");
    assert_names_limit(&err.to_string(), &["`B`", "dims"]);

    // Within the axis limit, an empty B is still refused before the bias is sized from it.
    let b = TensorProto {
        name: "B".into(),
        dims: vec![0, 1 << 28],
        data_type: data_type::FLOAT,
        ..Default::default()
    };
    let m = model_with_input(
        &[Some(1), Some(1), Some(1), Some(1)],
        nodes,
        vec![b, init("C", &[1], &[0.5])],
        "y",
    );
    let err = onnx::import(&tiny(&m)).unwrap_err().to_string();
    assert!(err.contains("fc") && err.contains("Gemm") && err.contains("empty"), "{err}");
}

#[test]
fn a_declared_input_of_50000_squared_is_refused_before_anything_allocates_it() {
    // A pool with stride 50,000 makes a 1x1 output, so every shape downstream is small.
    let pool = node(
        "MaxPool",
        "pool",
        &["x"],
        &["y"],
        vec![ints("kernel_shape", &[1, 1]), ints("strides", &[50_000, 50_000])],
    );
    let m =
        model_with_input(&[Some(1), Some(1), Some(50_000), Some(50_000)], vec![pool], vec![], "y");
    let err = onnx::import(&tiny(&m)).unwrap_err();
    assert!(matches!(&err, OnnxError::InvalidInput { name, .. } if name == "x"), "{err:?}");
    assert_names_limit(&err.to_string(), &["`x`", "50000"]);
}

#[test]
fn an_input_larger_than_the_limit_is_refused_by_shape_inference() {
    // With a symbolic size, the caller's size is checked before any tensor work.
    let pool = node(
        "MaxPool",
        "pool",
        &["x"],
        &["y"],
        vec![ints("kernel_shape", &[1, 1]), ints("strides", &[50_000, 50_000])],
    );
    let m = model_with_input(&[None, Some(1), None, None], vec![pool], vec![], "y");
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
    let m = model_with_input(&[None, Some(1), None, None], vec![relu], vec![deep], "y");
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
    let m = model_with_input(&[None, Some(1), None, None], vec![relu], vec![ok], "y");
    onnx::import(&m.to_bytes()).unwrap();
}
