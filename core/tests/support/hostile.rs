//! The hostile ONNX files of the bug report: tiny files (at most 250 bytes) that declare sizes
//! whose honest handling would allocate gigabytes. Core's tests check the importer's typed
//! errors on them, the CLI's tests `import-onnx`'s messages, and the peak-memory test parses
//! variants of them.

use microscope_core::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, data_type,
};

use super::{init, ints, node, value_info};

/// The size of the hostile files of the report: each is at most this long.
pub const MAX_FILE_BYTES: usize = 250;

/// Padding on every side of the huge-pad files.
pub const HUGE_PAD: i64 = 100_000;
/// Stride of the huge-pad files: with it, the output is 1x1 whatever the padding.
pub const HUGE_STRIDE: i64 = 1_000_000;
/// Side of the declared input of [`big_input`].
pub const BIG_SIDE: usize = 50_000;

/// A model whose input `x` is declared with `dims` (`None`: symbolic).
pub fn model_with_input(
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

/// The bytes of `m`, asserting they are no longer than the report's files.
pub fn tiny(m: &ModelProto) -> Vec<u8> {
    let bytes = m.to_bytes();
    assert!(bytes.len() <= MAX_FILE_BYTES, "the hostile file is {} bytes", bytes.len());
    bytes
}

/// A fixed 1x1x8x8 input.
pub const SMALL_INPUT: [Option<usize>; 4] = [Some(1), Some(1), Some(8), Some(8)];
/// An input of one channel whose batch and sides are symbolic.
pub const SYMBOLIC_INPUT: [Option<usize>; 4] = [None, Some(1), None, None];

/// A MaxPool padding the input by [`HUGE_PAD`] on every side with a stride of
/// [`HUGE_STRIDE`]: at 8x8, a 1x1 output from a padded input of 4 * 10^10 elements.
pub fn huge_pad_pool(dims: &[Option<usize>]) -> ModelProto {
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
pub fn huge_pad_conv(dims: &[Option<usize>]) -> ModelProto {
    let conv = node(
        "Conv",
        "conv",
        &["x", "w"],
        &["y"],
        vec![ints("pads", &[HUGE_PAD; 4]), ints("strides", &[HUGE_STRIDE, HUGE_STRIDE])],
    );
    model_with_input(dims, vec![conv], vec![init("w", &[1, 1, 1, 1], &[1.0])], "y")
}

/// A 1x1 MaxPool with a stride of [`BIG_SIDE`] on an input declared `dims`: a 1x1 output, so
/// every shape downstream of an input of [`BIG_SIDE`] squared is small.
pub fn big_input(dims: &[Option<usize>]) -> ModelProto {
    let side = BIG_SIDE as i64;
    let pool = node(
        "MaxPool",
        "pool",
        &["x"],
        &["y"],
        vec![ints("kernel_shape", &[1, 1]), ints("strides", &[side, side])],
    );
    model_with_input(dims, vec![pool], vec![], "y")
}

/// The input declared [`BIG_SIDE`] x [`BIG_SIDE`] of [`big_input`].
pub const BIG_INPUT: [Option<usize>; 4] = [Some(1), Some(1), Some(BIG_SIDE), Some(BIG_SIDE)];

/// A Gemm whose weight `B` is `[0, axis]` (no data needed) and whose bias `C` is one value:
/// lowering would fill a bias of `axis` floats.
pub fn empty_gemm(axis: i64) -> ModelProto {
    let b = TensorProto {
        name: "B".into(),
        dims: vec![0, axis],
        data_type: data_type::FLOAT,
        ..Default::default()
    };
    let nodes = vec![
        node("Flatten", "flat", &["x"], &["f"], vec![]),
        node("Gemm", "fc", &["f", "B", "C"], &["y"], vec![]),
    ];
    model_with_input(
        &[Some(1), Some(1), Some(1), Some(1)],
        nodes,
        vec![b, init("C", &[1], &[0.5])],
        "y",
    )
}
