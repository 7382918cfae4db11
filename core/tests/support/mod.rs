//! Test support: writing small ONNX files with the importer's message types, and an
//! independent reference implementation of every operator as plain loops over `Vec<f32>`.

#![allow(dead_code, clippy::too_many_arguments)]

pub mod hostile;
pub mod naive;

use burn::prelude::*;
use microscope_core::onnx::proto::{
    AttributeProto, DimensionProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    TensorProto, TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto, attribute_type,
    data_type,
};

pub use naive::Nd;

/// Deterministic values in [-1, 1).
pub fn noise(len: usize, seed: u64) -> Vec<f32> {
    microscope_core::rng::SplitMix64::new(seed).signed_noise(len)
}

/// A float initializer stored as raw little-endian bytes.
pub fn init(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    assert_eq!(dims.iter().product::<usize>(), data.len(), "{name}");
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: data_type::FLOAT,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// A float initializer stored in `float_data`.
pub fn init_floats(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: data_type::FLOAT,
        float_data: data.to_vec(),
        ..Default::default()
    }
}

/// An int64 initializer.
pub fn init_i64(name: &str, dims: &[usize], data: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: data_type::INT64,
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

/// An attribute.
pub fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i: v, r#type: attribute_type::INT, ..Default::default() }
}
/// An attribute.
pub fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: v.to_vec(),
        r#type: attribute_type::INTS,
        ..Default::default()
    }
}
/// An attribute.
pub fn float(name: &str, v: f32) -> AttributeProto {
    AttributeProto { name: name.into(), f: v, r#type: attribute_type::FLOAT, ..Default::default() }
}
/// An attribute.
pub fn floats(name: &str, v: &[f32]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        floats: v.to_vec(),
        r#type: attribute_type::FLOATS,
        ..Default::default()
    }
}
/// An attribute.
pub fn string(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        s: v.as_bytes().to_vec(),
        r#type: attribute_type::STRING,
        ..Default::default()
    }
}
/// An attribute.
pub fn tensor_attr(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        t: Some(t),
        r#type: attribute_type::TENSOR,
        ..Default::default()
    }
}

/// A node named `name` writing `outputs`.
pub fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

/// A float tensor value declaration; `None` dims are symbolic.
pub fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| match d {
                            Some(v) => {
                                DimensionProto { dim_value: Some(*v as i64), dim_param: None }
                            }
                            None => DimensionProto { dim_value: None, dim_param: Some("N".into()) },
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

/// A model: input `x` `[N, c, h, w]` (batch symbolic), the nodes, initializers and outputs.
pub fn model(
    opset: i64,
    input: [usize; 3],
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    outputs: &[&str],
) -> ModelProto {
    let [c, h, w] = input;
    ModelProto {
        ir_version: 8,
        producer_name: "microscope-tests".into(),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }],
        graph: Some(GraphProto {
            name: "test".into(),
            node: nodes,
            initializer: initializers,
            input: vec![value_info("x", &[None, Some(c), Some(h), Some(w)])],
            output: outputs.iter().map(|o| value_info(o, &[])).collect(),
        }),
        ..Default::default()
    }
}

/// The values of a device tensor.
pub fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    t.to_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// `nd` on `device`.
pub fn to_tensor(nd: &Nd, device: &Device) -> Tensor<4> {
    let shape: [usize; 4] = nd.shape.clone().try_into().unwrap();
    Tensor::from_data(TensorData::new(nd.data.clone(), shape), device)
}

/// Asserts `got` (NCHW form) equals `want` within `tol` (absolute, scaled by max(1, |want|)).
pub fn assert_close(what: &str, got: &Tensor<4>, want: &Nd, tol: f32) {
    let mut nchw = want.shape.clone();
    nchw.resize(4, 1);
    assert_eq!(got.dims().to_vec(), nchw, "{what}: shape");
    let got = values(got);
    let mut worst = (0.0f32, 0usize);
    for (i, (g, w)) in got.iter().zip(&want.data).enumerate() {
        let err = (g - w).abs() / w.abs().max(1.0);
        assert!(err.is_finite() || (g.is_nan() && w.is_nan()), "{what}: {g} vs {w} at {i}");
        if err > worst.0 {
            worst = (err, i);
        }
    }
    let (err, at) = worst;
    assert!(
        err <= tol,
        "{what}: max relative error {err} > {tol} at flat index {at} of {:?}",
        want.shape
    );
}
