//! 1x1 (pointwise) 2-d convolutions on burn's CPU backend, flex, as one matrix product per
//! image, forward and backward.
//!
//! A 1x1 convolution with stride 1 and no padding maps every pixel's channels through the same
//! matrix: for each image, `Y[C_out, HW] = W[C_out, C_in] X[C_in, HW]`, and the input gradient
//! is `W^T G` per image. burn computes every convolution's input gradient as a transposed
//! convolution (`conv2d_x_backward`), which flex runs as a matrix product into a zeroed column
//! buffer and a scatter back (col2im); and flex's own matrix products zero-fill and then copy
//! their output on one thread before writing it (see [`product`]). Here the convolution is a
//! burn backend extension ([`PointwiseConv`]): the forward pass and the input gradient are one
//! `gemm` per image straight into the output (the bias added to each block while it is in
//! cache), spread over the cores; the weight and bias gradients are burn's generic ones, and
//! autodiff keeps the input alive only when the weight needs a gradient (never in a feature
//! visualization, where the weights are constants).
//!
//! [`pointwise_conv2d`] is the tensor-level call; [`FlexPointwise::applies`] decides, once when
//! a graph is put on a device, whether a convolution takes this path (a flex device, with or
//! without autodiff, and a 1x1 convolution with stride 1, no padding and one group); every
//! other convolution keeps burn's `conv2d`. Written to stand alone, so that it could move into
//! flex's `conv2d` and `conv2d_x_backward`.

mod autodiff;
mod flex;
pub mod product;
#[cfg(test)]
mod tests;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::prelude::*;

/// A 1x1 convolution (stride 1, no padding, one group) whose forward pass and input gradient
/// have their own kernels.
///
/// Only flex (and autodiff over flex) implement it; [`FlexPointwise::applies`] says when to call
/// it.
#[backend_extension(Flex, Autodiff)]
pub trait PointwiseConv: Backend {
    /// The convolution of `x` (`[N, C_in, H, W]`) with `weight` (`[C_out, C_in, 1, 1]`): the
    /// same result as burn's `conv2d` with stride 1, no padding and no bias.
    fn pointwise_conv2d(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;

    /// [`PointwiseConv::pointwise_conv2d`] plus `bias` (`[C_out]`). (Two methods, as backend
    /// extensions take no optional tensors.)
    fn pointwise_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The gradient with respect to the input (`[N, C_in, H, W]`) of
    /// [`PointwiseConv::pointwise_conv2d`] with `weight`, given the gradient of its output
    /// (`[N, C_out, H, W]`). The input itself is not needed.
    fn pointwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Whether a convolution runs through [`pointwise_conv2d`]: decided once per convolution, when
/// a graph is put on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlexPointwise;

impl FlexPointwise {
    /// Whether a convolution with weights of `weight_shape` (`[C_out, C_in / groups, kH, kW]`)
    /// in `groups` groups, with `stride` and padding `pads` (`[(top, bottom), (left, right)]`,
    /// as resolved for any input: a 1x1 window with stride 1 has none under SAME) on `device`
    /// takes the pointwise path: flex (with or without autodiff), a 1x1 window, stride 1, no
    /// padding and one group. (Dilation does not matter to a 1x1 window.)
    pub fn applies(
        device: &Device,
        weight_shape: &[usize],
        groups: usize,
        stride: [usize; 2],
        pads: [(usize, usize); 2],
    ) -> bool {
        let pointwise = matches!(weight_shape, &[_, _, 1, 1])
            && groups == 1
            && stride.iter().all(|&s| s <= 1)
            && pads == [(0, 0); 2];
        pointwise && matches!(device.clone().inner().as_dispatch(), DispatchDevice::Flex(_))
    }
}

/// The options of burn's `conv2d` equal to a pointwise convolution, for its generic fallbacks
/// and gradients.
fn pointwise_options() -> burn::tensor::ops::ConvOptions<2> {
    burn::tensor::ops::ConvOptions::new([1, 1], [0, 0], [1, 1], 1)
}

/// The input gradient of a pointwise convolution by `B`'s generic (and, under autodiff,
/// differentiable) operations, for any dtype: `W^T` (`[1, C_in, C_out]`) times the output
/// gradient (`[N, C_out, HW]`).
fn generic_input_grad<B: Backend>(
    weight: FloatTensor<B>,
    output_grad: FloatTensor<B>,
) -> FloatTensor<B> {
    use burn::backend::TensorMetadata;
    use burn::tensor::Shape;
    let weight_shape = weight.shape();
    let grad_shape = output_grad.shape();
    let (&[c_out, c_in, ..], &[n, _, h, w]) = (weight_shape.as_slice(), grad_shape.as_slice())
    else {
        // Not a pointwise shape: let the product report the mismatch.
        return B::float_matmul(weight, output_grad);
    };
    let weight_t = B::float_transpose(B::float_reshape(weight, Shape::new([1, c_out, c_in])));
    let grad = B::float_reshape(output_grad, Shape::new([n, c_out, h * w]));
    B::float_reshape(B::float_matmul(weight_t, grad), Shape::new([n, c_in, h, w]))
}

/// The 1x1 convolution (stride 1, no padding, one group) of `x` with `weight` plus `bias`
/// (see [`PointwiseConv::pointwise_conv2d`]) through the extension: only for tensors on a
/// device where [`FlexPointwise::applies`] held.
///
/// # Shapes
/// - `x`: `[N, C_in, H, W]`
/// - `weight`: `[C_out, C_in, 1, 1]`
/// - `bias`: `[C_out]`
/// - returns: `[N, C_out, H, W]`, as burn's `conv2d`
pub fn pointwise_conv2d(x: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(match bias {
        Some(bias) => {
            <Dispatch as PointwiseConv>::pointwise_conv2d_bias(x, weight, bias.into_dispatch())
        }
        None => <Dispatch as PointwiseConv>::pointwise_conv2d(x, weight),
    })
}
