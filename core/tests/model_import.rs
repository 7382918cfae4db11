//! `model_import::import_onnx`, the one import path of `microscope import-onnx` and the
//! browser's renderer worker: every refusal is its typed error (an empty, oversized or web-page
//! file, too many nodes, a truncated file, unsupported operators all listed, an input of no
//! fixed size, unusable settings), and an accepted file becomes a model whose summary lists
//! its catalogue's layers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use burn::prelude::*;
use microscope_core::model_import::{ImportError, ImportSettings, OnnxLimits, import_onnx};
use support::hostile::{SMALL_INPUT, SYMBOLIC_INPUT, model_with_input};
use support::node;

/// `x` through `ops` in a chain (`x` -> `v0` -> ... -> `y`), input declared as `dims`.
fn chain(ops: &[&str], dims: &[Option<usize>]) -> Vec<u8> {
    let names: Vec<String> = (0..ops.len())
        .map(|i| if i + 1 == ops.len() { "y".to_owned() } else { format!("v{i}") })
        .collect();
    let nodes = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let input = if i == 0 { "x".to_owned() } else { names[i - 1].clone() };
            node(op, &format!("n{i}"), &[&input], &[&names[i]], vec![])
        })
        .collect();
    model_with_input(dims, nodes, vec![], "y").to_bytes()
}

fn imagenet() -> ImportSettings {
    ImportSettings::imagenet(None)
}

#[test]
fn an_accepted_file_becomes_a_model_whose_summary_lists_its_layers() {
    let bytes = chain(&["Relu", "Sigmoid", "Relu"], &SMALL_INPUT);
    let limits = OnnxLimits { max_bytes: bytes.len() as u64, max_nodes: 3 };
    let imported = import_onnx(&bytes, &imagenet(), limits).unwrap();
    assert_eq!(
        (imported.input.channels, imported.input.height_px, imported.input.width_px),
        (1, 8, 8)
    );
    assert_eq!(imported.opset, 13);
    let model = imported.model("chain", &Device::flex()).unwrap();
    let summary = imported.summary("chain.onnx", &model);
    let names: Vec<&str> = model.layers().iter().map(|l| l.name.as_str()).collect();
    assert!(!names.is_empty());
    assert_eq!(summary.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), names);
    assert!(summary.layers.iter().all(|l| (l.channels, l.height, l.width) == (1, 8, 8)));
    assert_eq!((summary.bytes, summary.sha256.as_str().len()), (bytes.len() as u64, 64));
}

#[test]
fn limits_refuse_before_decoding_and_after_counting_nodes() {
    let bytes = chain(&["Relu", "Relu", "Relu"], &SMALL_INPUT);
    let file = OnnxLimits::FILE;
    let short = OnnxLimits { max_bytes: bytes.len() as u64 - 1, ..file };
    assert_eq!(
        import_onnx(&bytes, &imagenet(), short).unwrap_err(),
        ImportError::TooManyBytes { bytes: bytes.len() as u64, max_bytes: bytes.len() as u64 - 1 }
    );
    let few = OnnxLimits { max_nodes: 2, ..file };
    assert_eq!(
        import_onnx(&bytes, &imagenet(), few).unwrap_err(),
        ImportError::TooManyNodes { nodes: 3, max_nodes: 2 }
    );
    assert_eq!(import_onnx(&[], &imagenet(), file).unwrap_err(), ImportError::Empty);
    let page = b"<!DOCTYPE html><html><body>Not found</body></html>";
    assert_eq!(import_onnx(page, &imagenet(), file).unwrap_err(), ImportError::WebPage);
}

#[test]
fn malformed_unsupported_and_sizeless_files_are_typed_errors() {
    let bytes = chain(&["Relu", "Foo", "Bar", "Foo"], &SMALL_INPUT);
    let error = import_onnx(&bytes, &imagenet(), OnnxLimits::FILE).unwrap_err();
    let ImportError::UnsupportedOps { opset: 13, ops } = &error else { panic!("{error:?}") };
    let listed: Vec<(&str, usize)> = ops.iter().map(|o| (o.op_type.as_str(), o.count)).collect();
    assert_eq!(listed, [("Foo", 2), ("Bar", 1)]);
    assert!(error.to_string().starts_with("2 unsupported operators (3 nodes, opset 13):"));

    let good = chain(&["Relu"], &SMALL_INPUT);
    let error = import_onnx(&good[..good.len() / 2], &imagenet(), OnnxLimits::FILE).unwrap_err();
    assert!(
        matches!(&error, ImportError::Onnx { message } if message.starts_with("not a valid ONNX file")),
        "{error:?}"
    );

    let sizeless = chain(&["Relu"], &SYMBOLIC_INPUT);
    let error = import_onnx(&sizeless, &imagenet(), OnnxLimits::FILE).unwrap_err();
    assert!(matches!(error, ImportError::NoFixedSize { .. }), "{error:?}");
    let sized = ImportSettings::imagenet(Some([12, 20]));
    let imported = import_onnx(&sizeless, &sized, OnnxLimits::FILE).unwrap();
    assert_eq!((imported.input.height_px, imported.input.width_px), (12, 20));

    let zero = ImportSettings { scale: [1.0, 0.0, 1.0], ..imagenet() };
    let error = import_onnx(&good, &zero, OnnxLimits::FILE).unwrap_err();
    assert!(matches!(error, ImportError::Settings { .. }), "{error:?}");
}
