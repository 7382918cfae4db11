//! Depthwise 2-d convolution (one filter per channel: `groups == channels`) with a fast input
//! gradient on burn's CPU backend, flex.
//!
//! burn computes every convolution's input gradient as a transposed convolution
//! (`conv2d_x_backward`); flex runs a grouped one as a small matrix product and scatter per
//! channel, 10 to 25 times the cost of flex's direct depthwise forward pass. Depthwise
//! convolutions are most of EfficientNet's layers, so that gradient was most of a
//! feature-visualization step's backward pass. Here the same convolution is a burn backend
//! extension ([`DepthwiseConv`]): the forward pass is its own kernel ([`plane::convolve`]: no
//! padded copy of the input, as flex makes for TensorFlow's asymmetric SAME padding, the bias
//! added on the way, and column strides read contiguously from a phase-split copy of each
//! plane), and the backward pass computes the input gradient directly
//! ([`plane::add_input_grad`]), both one plane per `(image, channel)`, spread over the cores,
//! with the weight and bias gradients from burn's generic ops.
//!
//! [`depthwise_conv2d`] is the tensor-level call; [`FlexDepthwise::applies`] decides, once when a
//! graph is put on a device, whether a convolution takes this path (a flex device, with or
//! without autodiff, and a depthwise shape); every other convolution keeps burn's `conv2d`.
//! Written to stand alone, so that it could move into flex's `conv2d_x_backward`.

mod autodiff;
mod flex;
pub mod plane;
#[cfg(test)]
mod tests;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::prelude::*;
use burn::tensor::ops::ConvOptions;

/// A depthwise convolution whose input gradient has its own kernel.
///
/// Only flex (and autodiff over flex) implement it; [`FlexDepthwise::applies`] says when to call
/// it.
#[backend_extension(Flex, Autodiff)]
pub trait DepthwiseConv: Backend {
    /// The convolution of `x` (`[N, C, H, W]`) with `weight` (`[C, 1, kH, kW]`);
    /// `options.groups` must be `C`. Same result as burn's `conv2d` without a bias.
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// [`DepthwiseConv::depthwise_conv2d`] plus `bias` (`[C]`). (Two methods, as backend
    /// extensions take no optional tensors.)
    fn depthwise_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradient with respect to `x` of [`DepthwiseConv::depthwise_conv2d`], given the
    /// gradient of its output: the same contract as burn's `conv2d_x_backward`.
    fn depthwise_conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

/// Whether a convolution runs through [`depthwise_conv2d`]: decided once per convolution, when
/// a graph is put on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlexDepthwise;

impl FlexDepthwise {
    /// Whether a convolution with weights of `weight_shape` (`[C_out, C_in / groups, kH, kW]`)
    /// in `groups` groups on `device` takes the depthwise path: flex (with or without autodiff)
    /// and one input and one output channel per group.
    pub fn applies(device: &Device, weight_shape: &[usize], groups: usize) -> bool {
        let depthwise = matches!(weight_shape, &[c_out, 1, _, _] if c_out == groups && groups > 1);
        depthwise && matches!(device.clone().inner().as_dispatch(), DispatchDevice::Flex(_))
    }
}

/// The depthwise convolution of `x` with `weight` and `bias` (see
/// [`DepthwiseConv::depthwise_conv2d`]) through the extension: only for tensors on a device
/// where [`FlexDepthwise::applies`] held.
///
/// # Shapes
/// - `x`: `[N, C, H, W]`
/// - `weight`: `[C, 1, kH, kW]`
/// - `bias`: `[C]`
/// - returns: `[N, C, OH, OW]`, as burn's `conv2d`
pub fn depthwise_conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(match bias {
        Some(bias) => <Dispatch as DepthwiseConv>::depthwise_conv2d_bias(
            x,
            weight,
            bias.into_dispatch(),
            options,
        ),
        None => <Dispatch as DepthwiseConv>::depthwise_conv2d(x, weight, options),
    })
}
