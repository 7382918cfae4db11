//! [`PointwiseConv`] on flex: the forward pass and the input gradient as one product per image
//! ([`products`]), float32 only; any other dtype or shape takes burn's generic operations.

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::prelude::TensorData;
use burn::tensor::DType;

use super::product::{MatrixView, products};
use super::{PointwiseConv, generic_input_grad, pointwise_options};

impl PointwiseConv for Flex {
    fn pointwise_conv2d(x: FlexTensor, weight: FlexTensor) -> FlexTensor {
        match forward(&x, &weight, None) {
            Some(y) => y,
            None => Flex::conv2d(x, weight, None, pointwise_options()),
        }
    }

    fn pointwise_conv2d_bias(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        match forward(&x, &weight, Some(&bias)) {
            Some(y) => y,
            None => Flex::conv2d(x, weight, Some(bias), pointwise_options()),
        }
    }

    fn pointwise_conv2d_x_backward(weight: FlexTensor, output_grad: FlexTensor) -> FlexTensor {
        match input_grad(&weight, &output_grad) {
            Some(grad) => grad,
            None => generic_input_grad::<Flex>(weight, output_grad),
        }
    }
}

/// `[C_out, C_in]` of a float32 pointwise weight (`[C_out, C_in, 1, 1]`).
fn weight_dims(weight: &FlexTensor) -> Option<[usize; 2]> {
    match weight.shape().as_slice() {
        &[c_out, c_in, 1, 1] if weight.dtype() == DType::F32 => Some([c_out, c_in]),
        _ => None,
    }
}

/// The forward pass of a float32 pointwise convolution; `None` for anything else.
fn forward(x: &FlexTensor, weight: &FlexTensor, bias: Option<&FlexTensor>) -> Option<FlexTensor> {
    let &[batch, c_in, h, w] = x.shape().as_slice() else {
        return None;
    };
    let [c_out, w_in] = weight_dims(weight)?;
    if x.dtype() != DType::F32 || w_in != c_in {
        return None;
    }
    let bias = match bias {
        Some(b) if b.dtype() == DType::F32 && b.shape().as_slice() == [c_out] => {
            Some(b.to_contiguous())
        }
        Some(_) => return None,
        None => None,
    };
    let biases: &[f32] = bias.as_ref().map(|b| b.storage()).unwrap_or(&[]);
    let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
    let (xs, ws): (&[f32], &[f32]) = (x.storage(), weight.storage());
    let hw = h * w;
    let image = c_in * hw;
    let weights = MatrixView::row_major(ws, c_out, c_in)?;
    let pairs = (0..batch)
        .map(|i| Some((weights, MatrixView::row_major(xs.get(i * image..)?, c_in, hw)?)))
        .collect::<Option<Vec<_>>>()?;
    let add_bias = |_: usize, block: &mut [f32]| {
        if hw > 0 {
            for (row, &b) in block.chunks_mut(hw).zip(biases) {
                row.iter_mut().for_each(|v| *v += b);
            }
        }
    };
    let out = products(&pairs, [c_out, hw], add_bias)?;
    Some(FlexTensor::from_data(TensorData::new(out, [batch, c_out, h, w])))
}

/// The input gradient of a float32 pointwise convolution, `W^T G` per image; `None` for
/// anything else.
fn input_grad(weight: &FlexTensor, output_grad: &FlexTensor) -> Option<FlexTensor> {
    let &[batch, g_c, h, w] = output_grad.shape().as_slice() else {
        return None;
    };
    let [c_out, c_in] = weight_dims(weight)?;
    if output_grad.dtype() != DType::F32 || g_c != c_out {
        return None;
    }
    let (weight, output_grad) = (weight.to_contiguous(), output_grad.to_contiguous());
    let (ws, gs): (&[f32], &[f32]) = (weight.storage(), output_grad.storage());
    let hw = h * w;
    let image = c_out * hw;
    let transposed = MatrixView::row_major(ws, c_out, c_in)?.transposed();
    let pairs = (0..batch)
        .map(|i| Some((transposed, MatrixView::row_major(gs.get(i * image..)?, c_out, hw)?)))
        .collect::<Option<Vec<_>>>()?;
    let out = products(&pairs, [c_in, hw], |_, _| {})?;
    Some(FlexTensor::from_data(TensorData::new(out, [batch, c_in, h, w])))
}
