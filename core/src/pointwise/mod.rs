//! 1x1 (pointwise) 2-d convolutions of a whole batch as matrix products, whose input gradient
//! is a matrix product too.
//!
//! A 1x1 convolution with stride 1 and no padding maps every pixel's channels through the same
//! matrix: for each image, `Y[C_out, HW] = W[C_out, C_in] X[C_in, HW]`. flex's forward pass
//! already runs it that way, but burn computes every convolution's input gradient as a
//! transposed convolution (`conv2d_x_backward`), which flex runs as a matrix product into a
//! zeroed column buffer and a scatter back (col2im): two passes and a fresh zeroed buffer per
//! layer, on the largest tensors of EfficientNet's expansion layers. Written as a batched
//! `matmul` of the weight (broadcast over the batch) and the input, the gradient is burn's own
//! matmul backward, `W^T G` per image, straight into its output; and as the weights are
//! constants in a feature visualization, autodiff does not keep the input alive for a weight
//! gradient nobody asks for.
//!
//! [`pointwise_conv2d`] is the tensor-level call; [`FlexPointwise::applies`] decides, once when
//! a graph is put on a device, whether a convolution takes this path (a flex device, with or
//! without autodiff, and a 1x1 convolution with stride 1, no padding and one group); every
//! other convolution keeps burn's `conv2d`. Being burn's generic ops, it is exact to burn's
//! convolution up to the order of the sums, and differentiable to any order.

#[cfg(test)]
mod tests;

use burn::backend::DispatchDevice;
use burn::prelude::*;

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

/// The weight of a 1x1 convolution (`[C_out, C_in, 1, 1]`) in the form
/// [`pointwise_conv2d`] multiplies by: `[1, C_out, C_in]` (a view, no copy).
pub fn pointwise_weight(weight: Tensor<4>) -> Tensor<3> {
    let [c_out, c_in, _, _] = weight.dims();
    weight.reshape([1, c_out, c_in])
}

/// The bias of a convolution (`[C_out]`) in the form [`pointwise_conv2d`] adds:
/// `[1, C_out, 1]`.
pub fn pointwise_bias(bias: Tensor<1>) -> Tensor<3> {
    let [c_out] = bias.dims();
    bias.reshape([1, c_out, 1])
}

/// The 1x1 convolution (stride 1, no padding, one group) of `x` with `weight` plus `bias`,
/// as a matrix product per image.
///
/// # Shapes
/// - `x`: `[N, C_in, H, W]`
/// - `weight`: `[1, C_out, C_in]` ([`pointwise_weight`])
/// - `bias`: `[1, C_out, 1]` ([`pointwise_bias`])
/// - returns: `[N, C_out, H, W]`, as burn's `conv2d`
pub fn pointwise_conv2d(x: Tensor<4>, weight: Tensor<3>, bias: Option<Tensor<3>>) -> Tensor<4> {
    let [n, c_in, h, w] = x.dims();
    let [_, c_out, _] = weight.dims();
    let y = weight.matmul(x.reshape([n, c_in, h * w]));
    let y = match bias {
        Some(b) => y + b,
        None => y,
    };
    y.reshape([n, c_out, h, w])
}
