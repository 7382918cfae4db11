//! Clipping to `[min, max]` (ReLU6 is `[0, 6]`) with a one-pass gradient on burn's CPU backend,
//! flex.
//!
//! burn's autodiff runs `clamp` as `clamp_max` then `clamp_min`, each a comparison and a masked
//! fill, and its backward pass as two more masked fills: six passes over the tensor where one
//! forward and one backward pass do. EfficientNet-Lite clips every expansion and depthwise
//! output, so on the CPU those passes were a fifth of a feature-visualization step. Here the
//! clip is a burn backend extension ([`ClipOp`]): the forward pass is one vectorised pass, in
//! place on its input where nothing else holds it, the backward pass one masked pass over the
//! gradient, both over the cores. The backward step keeps the clip's output rather than its
//! input, so that under autodiff the input (a convolution's output) is free to be overwritten:
//! the gradient passes where the output is strictly inside `(min, max)` (or NaN), which is
//! PyTorch's rule for `hardtanh`/`relu6`, and burn's except for inputs exactly on a bound
//! (burn passes those).
//!
//! [`clip`] is the tensor-level call; [`FlexClip::applies`] decides, once when a graph is put on
//! a device, whether a clip takes this path (a flex device, with or without autodiff, and two
//! finite bounds); every other clip keeps burn's `clamp`.

mod autodiff;
mod flex;
#[cfg(test)]
mod tests;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::prelude::*;

/// Clipping whose gradient has its own kernel.
///
/// Only flex (and autodiff over flex) implement it; [`FlexClip::applies`] says when to call it.
#[backend_extension(Flex, Autodiff)]
pub trait ClipOp: Backend {
    /// Every value of `x` clipped to `[min, max]` (`min <= max`, both finite); NaN stays NaN.
    fn clip(x: FloatTensor<Self>, min: f32, max: f32) -> FloatTensor<Self>;

    /// The gradient with respect to `x` of [`ClipOp::clip`], given the clip's `output` and the
    /// gradient of its output: `output_grad` where `min < output < max` (or `output` is NaN), 0
    /// elsewhere.
    fn clip_backward(
        output: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        min: f32,
        max: f32,
    ) -> FloatTensor<Self>;
}

/// Whether a clip runs through [`clip`]: decided once per clip, when a graph is put on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlexClip;

impl FlexClip {
    /// Whether clipping to `[min, max]` on `device` takes the one-pass path: flex (with or
    /// without autodiff) and finite bounds in order.
    pub fn applies(device: &Device, min: f32, max: f32) -> bool {
        let bounded = min.is_finite() && max.is_finite() && min <= max;
        bounded && matches!(device.clone().inner().as_dispatch(), DispatchDevice::Flex(_))
    }
}

/// `x` clipped to `[min, max]` through the extension (see [`ClipOp::clip`]): only for tensors
/// on a device where [`FlexClip::applies`] held.
///
/// # Shapes
/// - `x`: any
/// - returns: the shape of `x`
pub fn clip<const D: usize>(x: Tensor<D>, min: f32, max: f32) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as ClipOp>::clip(x.into_dispatch(), min, max))
}
