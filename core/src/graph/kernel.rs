//! Kernels: the operators of a graph with their weights on a device, and how each runs on
//! tensors.
//!
//! Every value is held as a `Tensor<4>` whatever its rank: a rank-`r` value of shape `s` is
//! stored with shape `[1; 4 - r] ++ s`. Left-padding with 1s is exactly numpy broadcasting, so
//! `Add`, `Mul` and batched `MatMul` broadcast correctly, and axes map to `4 - r + axis`.
//! Shapes are always inferred (on the host) before a kernel runs, so the backend's checks
//! never fire.

use burn::prelude::*;
use burn::tensor::Int;
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::module::{avg_pool2d, conv_transpose2d, conv2d, max_pool2d};
use burn::tensor::ops::{
    AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions, PadMode as BurnPadMode,
};

use crate::clip::{FlexClip, clip};
use crate::depthwise::{FlexDepthwise, depthwise_conv2d};
use crate::pointwise::{FlexPointwise, pointwise_conv2d};

use super::op::{MAX_RANK, Op, PadMode, Pool2d, Resize, normalize_axis};
use super::padding::Padding2d;
use super::resize::{AxisSampling, sample_axis, scales};
use super::unary::Unary;
use super::{HostTensor, Node};

/// An operator ready to run on one device.
#[derive(Clone)]
pub(crate) enum Kernel {
    Constant(Tensor<4>),
    Conv {
        /// `[C_out, C_in / groups, kH, kW]`.
        weight: Tensor<4>,
        /// `[C_out]`.
        bias: Option<Tensor<1>>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: Padding2d,
        dilation: [usize; 2],
        groups: usize,
        /// Which implementation runs it (decided when the weights were put on the device).
        path: ConvPath,
    },
    ConvTranspose {
        /// `[C_in, C_out / groups, kH, kW]`.
        weight: Tensor<4>,
        /// `[C_out]`.
        bias: Option<Tensor<1>>,
        options: ConvTransposeOptions<2>,
    },
    /// `x * scale + shift` with per-channel tensors shaped to broadcast (batch norm).
    Affine {
        scale: Tensor<4>,
        shift: Tensor<4>,
    },
    Relu,
    Clip {
        min: f32,
        max: f32,
        /// Through [`clip`] (decided when the graph was put on the device).
        one_pass: bool,
    },
    Sigmoid,
    Unary(Unary),
    /// Mean over these logical axes.
    ReduceMean(Vec<usize>),
    /// Logical axis, start, end.
    Slice(i64, usize, usize),
    Add,
    Sub,
    Mul,
    Div,
    Concat(i64),
    MaxPool(Pool2d),
    AveragePool(Pool2d, bool),
    GlobalAveragePool,
    /// `x W + b` with `W` stored `[1, 1, K, N]` and `b` `[1, 1, 1, N]`.
    Linear {
        weight: Tensor<4>,
        bias: Option<Tensor<4>>,
    },
    MatMul,
    /// Flatten and Reshape: to the inferred output shape.
    Reshape,
    Pad(Vec<(usize, usize)>, PadMode),
    Resize(Resize),
    Softmax(i64),
    Identity,
}

/// How a convolution runs on its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConvPath {
    /// burn's `conv2d`.
    Generic,
    /// [`depthwise_conv2d`]: one filter per channel, on flex.
    Depthwise,
    /// [`pointwise_conv2d`]: 1x1, stride 1, no padding, one group, on flex.
    Pointwise,
}

/// `shape` left-padded with 1s to rank 4 (the storage shape of a value of that shape).
pub(crate) fn storage_shape(shape: &[usize]) -> [usize; 4] {
    let mut out = [1usize; MAX_RANK];
    let offset = MAX_RANK.saturating_sub(shape.len());
    for (slot, &d) in out.iter_mut().skip(offset).zip(shape) {
        *slot = d;
    }
    out
}

/// `shape` right-padded with 1s to rank 4 (the NCHW form values are returned in).
pub(crate) fn nchw_shape(shape: &[usize]) -> [usize; 4] {
    let mut out = [1usize; MAX_RANK];
    for (slot, &d) in out.iter_mut().zip(shape) {
        *slot = d;
    }
    out
}

/// A host tensor on `device` in storage form.
fn upload(t: &HostTensor, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(t.data().to_vec(), storage_shape(t.shape())), device)
}

/// A 1-d host tensor on `device`.
fn upload1(t: &HostTensor, device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(t.data().to_vec(), [t.len()]), device)
}

impl Kernel {
    /// The kernel of `node` with its weights on `device`.
    pub(crate) fn new(node: &Node, device: &Device) -> Self {
        match &node.op {
            Op::Constant(t) => Kernel::Constant(upload(t, device)),
            Op::Conv2d(conv) => {
                let weight = Tensor::from_data(
                    TensorData::new(
                        conv.weight.data().to_vec(),
                        storage_shape(conv.weight.shape()),
                    ),
                    device,
                );
                let kernel = match conv.weight.shape() {
                    &[_, _, kh, kw] => [kh, kw],
                    _ => [1, 1],
                };
                // A 1x1 window with stride 1 has the same padding for every input size (none,
                // under SAME), so resolving it for a nominal input decides for all.
                let pads = conv.padding.resolve([1, 1], kernel, conv.stride, conv.dilation);
                let path = if FlexDepthwise::applies(device, conv.weight.shape(), conv.groups) {
                    ConvPath::Depthwise
                } else if FlexPointwise::applies(
                    device,
                    conv.weight.shape(),
                    conv.groups,
                    conv.stride,
                    pads,
                ) {
                    ConvPath::Pointwise
                } else {
                    ConvPath::Generic
                };
                Kernel::Conv {
                    weight,
                    bias: conv.bias.as_ref().map(|b| upload1(b, device)),
                    kernel,
                    stride: conv.stride,
                    padding: conv.padding,
                    dilation: conv.dilation,
                    groups: conv.groups,
                    path,
                }
            }
            Op::ConvTranspose2d(conv) => Kernel::ConvTranspose {
                weight: upload(&conv.weight, device),
                bias: conv.bias.as_ref().map(|b| upload1(b, device)),
                options: ConvTransposeOptions {
                    stride: conv.stride,
                    padding: conv.padding,
                    padding_out: conv.output_padding,
                    dilation: conv.dilation,
                    groups: conv.groups,
                },
            },
            Op::BatchNorm(bn) => {
                let channels = bn.scale.len();
                let mut scale = Vec::with_capacity(channels);
                let mut shift = Vec::with_capacity(channels);
                let params = bn
                    .scale
                    .data()
                    .iter()
                    .zip(bn.bias.data())
                    .zip(bn.mean.data())
                    .zip(bn.var.data());
                for (((&g, &b), &m), &v) in params {
                    let s = f64::from(g) / (f64::from(v) + f64::from(bn.epsilon)).sqrt();
                    scale.push(s as f32);
                    shift.push((f64::from(b) - f64::from(m) * s) as f32);
                }
                // Channels on axis 1 of a rank-r value: storage axis 4 - r + 1.
                let mut shape = [1usize; MAX_RANK];
                if let Some(slot) = shape.get_mut((MAX_RANK + 1).saturating_sub(node.rank)) {
                    *slot = channels;
                }
                Kernel::Affine {
                    scale: Tensor::from_data(TensorData::new(scale, shape), device),
                    shift: Tensor::from_data(TensorData::new(shift, shape), device),
                }
            }
            Op::Relu => Kernel::Relu,
            Op::Clip { min, max } => Kernel::Clip {
                min: *min,
                max: *max,
                one_pass: FlexClip::applies(device, *min, *max),
            },
            Op::Sigmoid => Kernel::Sigmoid,
            Op::Unary(u) => Kernel::Unary(*u),
            Op::ReduceMean { axes } => Kernel::ReduceMean(axes.clone()),
            Op::Slice { axis, start, end } => Kernel::Slice(*axis, *start, *end),
            Op::Add => Kernel::Add,
            Op::Sub => Kernel::Sub,
            Op::Mul => Kernel::Mul,
            Op::Div => Kernel::Div,
            Op::Concat { axis } => Kernel::Concat(*axis),
            Op::MaxPool(pool) => Kernel::MaxPool(*pool),
            Op::AveragePool { pool, count_include_pad } => {
                Kernel::AveragePool(*pool, *count_include_pad)
            }
            Op::GlobalAveragePool => Kernel::GlobalAveragePool,
            Op::Linear(linear) => Kernel::Linear {
                weight: upload(&linear.weight, device),
                bias: linear.bias.as_ref().map(|b| upload(b, device)),
            },
            Op::MatMul => Kernel::MatMul,
            Op::Flatten { .. } | Op::Reshape { .. } => Kernel::Reshape,
            Op::Pad(pad) => Kernel::Pad(pad.pads.clone(), pad.mode),
            Op::Resize(resize) => Kernel::Resize(resize.clone()),
            Op::Softmax { axis } => Kernel::Softmax(*axis),
            Op::Identity => Kernel::Identity,
        }
    }

    /// Runs the kernel on `inputs` (storage form) of logical `shapes`, giving the storage form
    /// of an output of logical shape `out`; `None` when an input is missing. Shapes must have
    /// been inferred.
    ///
    /// # Shapes
    /// - `inputs[i]`: `storage_shape(shapes[i])`
    /// - returns: `storage_shape(out)`
    pub(crate) fn run(
        &self,
        inputs: Vec<Tensor<4>>,
        shapes: &[&[usize]],
        out: &[usize],
    ) -> Option<Tensor<4>> {
        let rank = out.len();
        match self {
            Kernel::Constant(t) => return Some(t.clone()),
            Kernel::Concat(axis) if !inputs.is_empty() => {
                return Some(Tensor::cat(inputs, storage_axis(*axis, rank)));
            }
            _ => {}
        }
        let mut inputs = inputs.into_iter();
        let x = inputs.next()?;
        let in_shape: &[usize] = shapes.first().copied().unwrap_or(&[]);
        let spatial = match in_shape {
            &[_, _, h, w] => [h, w],
            _ => [1, 1],
        };
        Some(match self {
            Kernel::Constant(t) => t.clone(),
            Kernel::Conv { weight, bias, kernel, stride, padding, dilation, groups, path } => {
                let options = ConvOptions {
                    stride: *stride,
                    padding: padding.resolve(spatial, *kernel, *stride, *dilation),
                    dilation: *dilation,
                    groups: *groups,
                };
                match path {
                    ConvPath::Depthwise => {
                        depthwise_conv2d(x, weight.clone(), bias.clone(), options)
                    }
                    ConvPath::Pointwise => pointwise_conv2d(x, weight.clone(), bias.clone()),
                    ConvPath::Generic => conv2d(x, weight.clone(), bias.clone(), options),
                }
            }
            Kernel::ConvTranspose { weight, bias, options } => {
                conv_transpose2d(x, weight.clone(), bias.clone(), options.clone())
            }
            Kernel::Affine { scale, shift } => x * scale.clone() + shift.clone(),
            Kernel::Relu => relu(x),
            Kernel::Clip { min, max, one_pass: true } => clip(x, *min, *max),
            Kernel::Clip { min, max, one_pass: false } => {
                match (min.is_finite(), max.is_finite()) {
                    (true, true) => x.clamp(*min, *max),
                    (true, false) => x.clamp_min(*min),
                    (false, true) => x.clamp_max(*max),
                    (false, false) => x,
                }
            }
            Kernel::Sigmoid => sigmoid(x),
            Kernel::Unary(u) => u.apply(x),
            Kernel::ReduceMean(axes) => {
                let offset = MAX_RANK.saturating_sub(rank);
                axes.iter().fold(x, |x, &a| x.mean_dim(offset + a))
            }
            Kernel::Slice(axis, start, end) => {
                x.narrow(storage_axis(*axis, rank), *start, end.saturating_sub(*start))
            }
            Kernel::Add | Kernel::Sub | Kernel::Mul | Kernel::Div | Kernel::MatMul => {
                let y = inputs.next()?;
                match self {
                    Kernel::Add => x + y,
                    Kernel::Sub => x - y,
                    Kernel::Mul => x * y,
                    Kernel::Div => x / y,
                    _ => x.matmul(y),
                }
            }
            Kernel::Concat(_) => x,
            Kernel::MaxPool(pool) => max_pool2d(
                x,
                MaxPoolOptions {
                    kernel_size: pool.kernel,
                    stride: pool.stride,
                    padding: pool.padding.resolve(spatial, pool.kernel, pool.stride, pool.dilation),
                    dilation: pool.dilation,
                    ceil_mode: pool.ceil_mode,
                },
            ),
            Kernel::AveragePool(pool, count_include_pad) => avg_pool2d(
                x,
                AvgPoolOptions {
                    kernel_size: pool.kernel,
                    stride: pool.stride,
                    padding: pool.padding.resolve(spatial, pool.kernel, pool.stride, pool.dilation),
                    count_include_pad: *count_include_pad,
                    ceil_mode: pool.ceil_mode,
                },
            ),
            Kernel::GlobalAveragePool => x.mean_dim(3).mean_dim(2),
            Kernel::Linear { weight, bias } => {
                let y = x.matmul(weight.clone());
                match bias {
                    Some(b) => y + b.clone(),
                    None => y,
                }
            }
            Kernel::Reshape => x.reshape(storage_shape(out)),
            Kernel::Pad(pads, mode) => {
                let mode = match mode {
                    PadMode::Constant(v) => BurnPadMode::Constant(*v),
                    PadMode::Reflect => BurnPadMode::Reflect,
                    PadMode::Edge => BurnPadMode::Edge,
                };
                x.pad(pads.as_slice(), mode)
            }
            Kernel::Resize(resize) => resize_tensor(x, resize, in_shape, out),
            Kernel::Softmax(axis) => softmax(x, storage_axis(*axis, rank)),
            Kernel::Identity => x,
        })
    }
}

/// The storage axis of logical `axis` (negative from the end) of a rank-`rank` value.
fn storage_axis(axis: i64, rank: usize) -> usize {
    MAX_RANK.saturating_sub(rank) + normalize_axis(axis, rank, false).unwrap_or(0)
}

/// Resizes `x` (storage form of logical `input`) to logical `output`, axis by axis, by
/// gathering the sampled positions (and blending them, for linear).
///
/// # Shapes
/// - `x`: `storage_shape(input)`
/// - returns: `storage_shape(output)`
fn resize_tensor(x: Tensor<4>, resize: &Resize, input: &[usize], output: &[usize]) -> Tensor<4> {
    let offset = MAX_RANK.saturating_sub(input.len());
    let scale = scales(&resize.target, input, output);
    let device = x.device();
    let mut x = x;
    // Shrinking axes first, then growing ones: every intermediate is then no larger than the
    // input or the output, both of which shape inference bounds (axes are resampled
    // independently, so the order does not change the result).
    let mut axes: Vec<(usize, usize, usize)> =
        input.iter().zip(output).enumerate().map(|(a, (&i, &o))| (a, i, o)).collect();
    axes.sort_by_key(|&(a, n_in, n_out)| (n_out >= n_in, a));
    for (a, n_in, n_out) in axes {
        let s = scale.get(a).copied().unwrap_or(1.0);
        let axis = offset + a;
        // An axis that keeps its size at scale 1 is not resampled (as in ONNX Runtime), even
        // where the transform would shift it (`tf_half_pixel_for_nn`).
        if n_in == n_out && s == 1.0 {
            continue;
        }
        let index = |idx: Vec<i64>| {
            let len = idx.len();
            Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), &device)
        };
        match sample_axis(resize.mode, resize.transform, n_in, n_out, s) {
            AxisSampling::Nearest(idx) => {
                if n_in == n_out && idx.iter().enumerate().all(|(i, &j)| j == i as i64) {
                    continue;
                }
                x = x.select(axis, index(idx));
            }
            AxisSampling::Linear { lower, upper, weights } => {
                let identity = n_in == n_out
                    && weights.iter().all(|&w| w == 0.0)
                    && lower.iter().enumerate().all(|(i, &j)| j == i as i64);
                if identity {
                    continue;
                }
                let mut shape = [1usize; MAX_RANK];
                if let Some(slot) = shape.get_mut(axis) {
                    *slot = weights.len();
                }
                let w = Tensor::<4>::from_data(TensorData::new(weights, shape), &device);
                let lo = x.clone().select(axis, index(lower));
                let hi = x.select(axis, index(upper));
                x = lo.clone() + (hi - lo) * w;
            }
        }
    }
    x
}
