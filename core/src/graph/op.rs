//! Operators: what one node of a [`Graph`](super::Graph) computes, with its weights as host
//! data and its parameters.
//!
//! Operators follow ONNX semantics (numpy broadcasting, negative axes counted from the end),
//! restricted to what vision CNNs use and to tensors of rank at most [`MAX_RANK`].

use super::HostTensor;
use super::padding::Padding2d;
use super::unary::Unary;

/// The largest tensor rank a graph handles (`[N, C, H, W]`).
pub const MAX_RANK: usize = 4;

/// A 2-d convolution `[N, C_in, H, W] -> [N, C_out, H', W']` (ONNX `Conv` on images).
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    /// `[C_out, C_in / groups, kH, kW]`.
    pub weight: HostTensor,
    /// `[C_out]`, if any.
    pub bias: Option<HostTensor>,
    /// `[stride_h, stride_w]`, non-zero.
    pub stride: [usize; 2],
    /// How the spatial axes are padded.
    pub padding: Padding2d,
    /// `[dilation_h, dilation_w]`, non-zero.
    pub dilation: [usize; 2],
    /// Channel groups (`C_in` for a depthwise convolution), dividing `C_out`.
    pub groups: usize,
}

/// A 2-d transposed convolution `[N, C_in, H, W] -> [N, C_out, H', W']` (ONNX
/// `ConvTranspose`), with `H' = (H - 1) * stride - 2 * padding + dilation * (kH - 1) +
/// output_padding + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTranspose2d {
    /// `[C_in, C_out / groups, kH, kW]`.
    pub weight: HostTensor,
    /// `[C_out]`, if any.
    pub bias: Option<HostTensor>,
    /// `[stride_h, stride_w]`, non-zero.
    pub stride: [usize; 2],
    /// Positions removed from both ends of each spatial axis, `[pad_h, pad_w]`.
    pub padding: [usize; 2],
    /// Positions added at the end of each spatial axis, each below the stride or the
    /// dilation.
    pub output_padding: [usize; 2],
    /// `[dilation_h, dilation_w]`, non-zero.
    pub dilation: [usize; 2],
    /// Channel groups, dividing `C_in`.
    pub groups: usize,
}

/// Inference-mode batch normalization over axis 1:
/// `y = scale * (x - mean) / sqrt(var + epsilon) + bias`, each parameter `[C]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm {
    /// `gamma`, `[C]`.
    pub scale: HostTensor,
    /// `beta`, `[C]`.
    pub bias: HostTensor,
    /// Running mean, `[C]`.
    pub mean: HostTensor,
    /// Running variance, `[C]`.
    pub var: HostTensor,
    /// Added to the variance.
    pub epsilon: f32,
}

/// The window of a 2-d pool over `[N, C, H, W]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2d {
    /// `[kH, kW]`, non-zero.
    pub kernel: [usize; 2],
    /// `[stride_h, stride_w]`, non-zero.
    pub stride: [usize; 2],
    /// How the spatial axes are padded (max pools ignore padded positions; average pools
    /// count them when `count_include_pad`).
    pub padding: Padding2d,
    /// `[dilation_h, dilation_w]`, non-zero (average pools support only 1).
    pub dilation: [usize; 2],
    /// Round the output size up instead of down (windows that would start in the end
    /// padding are dropped, as in PyTorch and ONNX).
    pub ceil_mode: bool,
}

/// A fully connected layer on `[M, K]`: `y = x W + b` (ONNX `Gemm` with a constant `B`,
/// `alpha` and `transB` already applied to the weight and `beta` to the bias).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// `[K, N]` (in features, out features).
    pub weight: HostTensor,
    /// `[N]`, if any.
    pub bias: Option<HostTensor>,
}

/// How [`Op::Pad`] fills the new positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PadMode {
    /// With a constant.
    Constant(f32),
    /// With the mirror image, excluding the edge (`[1, 2, 3]` padded by 2 before:
    /// `[3, 2, 1, 2, 3]`); padding must be smaller than the axis.
    Reflect,
    /// With copies of the edge value.
    Edge,
}

/// Explicit padding of every axis (ONNX `Pad` with non-negative pads).
#[derive(Debug, Clone, PartialEq)]
pub struct Pad {
    /// `(begin, end)` for each axis of the input, in order.
    pub pads: Vec<(usize, usize)>,
    /// How to fill.
    pub mode: PadMode,
}

/// How [`Op::Resize`] samples (ONNX `mode` and, for nearest, `nearest_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeMode {
    /// The nearest input position, rounded as given.
    Nearest(NearestMode),
    /// Linear interpolation along every resized axis (bilinear on images), with source
    /// coordinates clamped to the input.
    Linear,
}

/// How a fractional source coordinate picks the nearest position (ONNX `nearest_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NearestMode {
    /// Round half down (ONNX default).
    RoundPreferFloor,
    /// Round half up.
    RoundPreferCeil,
    /// Round down (PyTorch `nearest`).
    Floor,
    /// Round up.
    Ceil,
}

/// How an output coordinate maps to an input coordinate (ONNX
/// `coordinate_transformation_mode`), with `scale = out / in` along the axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordinateTransform {
    /// `(x + 0.5) / scale - 0.5` (ONNX default; PyTorch `align_corners=False`).
    HalfPixel,
    /// Half-pixel about the centre of the resized extent (ONNX opset 19).
    HalfPixelSymmetric,
    /// As [`CoordinateTransform::HalfPixel`], but 0 when the output has one position.
    PytorchHalfPixel,
    /// `x * (in - 1) / (out - 1)` (0 when the output has one position).
    AlignCorners,
    /// `x / scale` (the coordinates of ONNX `Upsample`).
    Asymmetric,
    /// `(x + 0.5) / scale` (TensorFlow 1 nearest neighbour).
    TfHalfPixelForNn,
}

/// The output size of [`Op::Resize`], per axis of the input.
#[derive(Debug, Clone, PartialEq)]
pub enum ResizeTarget {
    /// `out = floor(in * scale)`; the given scale is also the one the coordinate transform
    /// uses.
    Scales(Vec<f32>),
    /// Fixed output sizes.
    Sizes(Vec<usize>),
}

/// Resizing by interpolation (ONNX `Resize`, and `Upsample`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resize {
    /// How to sample.
    pub mode: ResizeMode,
    /// How output coordinates map to input coordinates.
    pub transform: CoordinateTransform,
    /// The output size.
    pub target: ResizeTarget,
}

/// What one node computes. Inputs are the node's input values, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// No input; produces the constant (rank at most [`MAX_RANK`]).
    Constant(HostTensor),
    /// One input `[N, C, H, W]`.
    Conv2d(Conv2d),
    /// One input `[N, C, H, W]`.
    ConvTranspose2d(ConvTranspose2d),
    /// One input of rank at least 2; normalises axis 1.
    BatchNorm(BatchNorm),
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, min), max)`; infinite bounds for a missing one (ReLU6 is `0..6`).
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// An element-wise function.
    Unary(Unary),
    /// Two inputs, broadcast: `a + b`.
    Add,
    /// Two inputs, broadcast: `a - b`.
    Sub,
    /// Two inputs, broadcast: `a * b`.
    Mul,
    /// Two inputs, broadcast: `a / b`.
    Div,
    /// One or more inputs of one rank, joined along `axis` (negative counts from the end).
    Concat {
        /// The axis.
        axis: i64,
    },
    /// Max over each window of `[N, C, H, W]`.
    MaxPool(Pool2d),
    /// Mean over each window of `[N, C, H, W]`.
    AveragePool {
        /// The window.
        pool: Pool2d,
        /// Whether padded positions count in the denominator.
        count_include_pad: bool,
    },
    /// Mean over `H, W`: `[N, C, H, W] -> [N, C, 1, 1]`.
    GlobalAveragePool,
    /// One input `[M, K]` -> `[M, N]`.
    Linear(Linear),
    /// Two inputs of rank at least 2, numpy `matmul` (batch axes broadcast).
    MatMul,
    /// To 2-d: `[d0 * .. * d(axis-1), d(axis) * .. ]`.
    Flatten {
        /// The first axis of the second output axis (negative counts from the end).
        axis: i64,
    },
    /// To `shape`, where `0` copies the input's axis (unless `allow_zero`) and one `-1` is
    /// inferred.
    Reshape {
        /// The target shape.
        shape: Vec<i64>,
        /// Whether `0` means a zero-sized axis rather than "copy".
        allow_zero: bool,
    },
    /// Pads every axis.
    Pad(Pad),
    /// Resizes by interpolation.
    Resize(Resize),
    /// `exp(x) / sum(exp(x))` along `axis`.
    Softmax {
        /// The axis (negative counts from the end).
        axis: i64,
    },
    /// The mean over `axes` (sorted, distinct, each below the rank), which keep size 1
    /// (ONNX `ReduceMean` with `keepdims`).
    ReduceMean {
        /// The reduced axes.
        axes: Vec<usize>,
    },
    /// Positions `start..end` of `axis` (negative counts from the end); one output of ONNX
    /// `Split`, or a `Slice` with step 1.
    Slice {
        /// The axis.
        axis: i64,
        /// The first position kept.
        start: usize,
        /// One past the last position kept.
        end: usize,
    },
    /// Passes its input through (also ONNX `Dropout` at inference).
    Identity,
}

impl Op {
    /// The operator's ONNX name (`"Conv"`, `"Gemm"` for [`Op::Linear`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Constant(_) => "Constant",
            Op::Conv2d(_) => "Conv",
            Op::ConvTranspose2d(_) => "ConvTranspose",
            Op::BatchNorm(_) => "BatchNormalization",
            Op::Relu => "Relu",
            Op::Clip { .. } => "Clip",
            Op::Sigmoid => "Sigmoid",
            Op::Unary(u) => u.kind(),
            Op::ReduceMean { .. } => "ReduceMean",
            Op::Slice { .. } => "Slice",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Concat { .. } => "Concat",
            Op::MaxPool(_) => "MaxPool",
            Op::AveragePool { .. } => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::Linear(_) => "Gemm",
            Op::MatMul => "MatMul",
            Op::Flatten { .. } => "Flatten",
            Op::Reshape { .. } => "Reshape",
            Op::Pad(_) => "Pad",
            Op::Resize(_) => "Resize",
            Op::Softmax { .. } => "Softmax",
            Op::Identity => "Identity",
        }
    }

    /// The accepted number of inputs: `(min, max)` and the same in words.
    pub(crate) fn arity(&self) -> (usize, usize, &'static str) {
        match self {
            Op::Constant(_) => (0, 0, "0"),
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::MatMul => (2, 2, "2"),
            Op::Concat { .. } => (1, usize::MAX, "1 or more"),
            _ => (1, 1, "1"),
        }
    }

    /// Whether a researcher would call this node's output a layer: convolutions, batch
    /// norms, activations, merges, pools, fully connected layers and resizes; not
    /// constants, reshapes, paddings or identities.
    pub fn is_layer(&self) -> bool {
        match self {
            Op::Unary(u) => u.is_layer(),
            _ => !matches!(
                self,
                Op::Constant(_)
                    | Op::Flatten { .. }
                    | Op::Reshape { .. }
                    | Op::Pad(_)
                    | Op::Identity
                    | Op::Slice { .. }
                    | Op::ReduceMean { .. }
            ),
        }
    }

    /// The rank of the output for inputs of `ranks`, after checking the parameters on their
    /// own and against those ranks. Errors are reasons, for [`super::GraphError::InvalidNode`].
    pub(crate) fn output_rank(&self, ranks: &[usize]) -> Result<usize, String> {
        let first = ranks.first().copied().unwrap_or(0);
        let need_rank = |want: usize| {
            if first == want {
                Ok(())
            } else {
                Err(format!("needs a rank-{want} input, got rank {first}"))
            }
        };
        match self {
            Op::Constant(t) => {
                if t.rank() > MAX_RANK {
                    return Err(format!("constant of rank {} (at most {MAX_RANK})", t.rank()));
                }
                Ok(t.rank())
            }
            Op::Conv2d(conv) => {
                need_rank(4)?;
                check_conv(conv)?;
                Ok(4)
            }
            Op::ConvTranspose2d(conv) => {
                need_rank(4)?;
                check_conv_transpose(conv)?;
                Ok(4)
            }
            Op::BatchNorm(bn) => {
                if first < 2 {
                    return Err(format!("needs an input of rank at least 2, got {first}"));
                }
                let c = bn.scale.len();
                for (name, t) in
                    [("scale", &bn.scale), ("bias", &bn.bias), ("mean", &bn.mean), ("var", &bn.var)]
                {
                    if t.shape() != [c] || c == 0 {
                        return Err(format!("{name} has shape {:?}, expected [{c}]", t.shape()));
                    }
                }
                if !(bn.epsilon.is_finite() && bn.epsilon >= 0.0) {
                    return Err(format!(
                        "epsilon {} is not a finite non-negative number",
                        bn.epsilon
                    ));
                }
                Ok(first)
            }
            Op::Clip { min, max } => {
                if min.is_nan() || max.is_nan() || min > max {
                    return Err(format!("bounds {min}..{max} are not an interval"));
                }
                Ok(first)
            }
            Op::Relu | Op::Sigmoid | Op::Unary(_) | Op::Identity => Ok(first),
            Op::ReduceMean { axes } => {
                if axes.is_empty() {
                    return Err("reduces no axis".into());
                }
                if axes.windows(2).any(|w| w.first() >= w.get(1)) {
                    return Err(format!("axes {axes:?} are not sorted and distinct"));
                }
                if axes.iter().any(|&a| a >= first) {
                    return Err(format!("axes {axes:?} outside a rank-{first} input"));
                }
                Ok(first)
            }
            Op::Slice { axis, start, end } => {
                normalize_axis(*axis, first, false)?;
                if start >= end {
                    return Err(format!("keeps no position ({start}..{end})"));
                }
                Ok(first)
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => Ok(ranks.iter().copied().max().unwrap_or(0)),
            Op::Concat { axis } => {
                if ranks.iter().any(|&r| r != first) {
                    return Err(format!("inputs have different ranks {ranks:?}"));
                }
                normalize_axis(*axis, first, false)?;
                Ok(first)
            }
            Op::MaxPool(pool) => {
                need_rank(4)?;
                check_pool(pool)?;
                Ok(4)
            }
            Op::AveragePool { pool, .. } => {
                need_rank(4)?;
                check_pool(pool)?;
                if pool.dilation != [1, 1] {
                    return Err("average pooling supports only dilation 1".into());
                }
                Ok(4)
            }
            Op::GlobalAveragePool => {
                need_rank(4)?;
                Ok(4)
            }
            Op::Linear(linear) => {
                need_rank(2)?;
                let &[k, n] = linear.weight.shape() else {
                    return Err(format!(
                        "weight has shape {:?}, not [K, N]",
                        linear.weight.shape()
                    ));
                };
                if k == 0 || n == 0 {
                    return Err(format!("weight has an empty shape [{k}, {n}]"));
                }
                if let Some(bias) = &linear.bias
                    && bias.shape() != [n]
                {
                    return Err(format!("bias has shape {:?}, expected [{n}]", bias.shape()));
                }
                Ok(2)
            }
            Op::MatMul => {
                if ranks.iter().any(|&r| r < 2) {
                    return Err(format!("needs inputs of rank at least 2, got {ranks:?}"));
                }
                Ok(ranks.iter().copied().max().unwrap_or(0))
            }
            Op::Flatten { axis } => {
                normalize_axis(*axis, first, true)?;
                Ok(2)
            }
            Op::Reshape { shape, .. } => {
                if shape.is_empty() || shape.len() > MAX_RANK {
                    return Err(format!("target shape {shape:?} has rank outside 1..={MAX_RANK}"));
                }
                if shape.iter().any(|&d| d < -1) || shape.iter().filter(|&&d| d == -1).count() > 1 {
                    return Err(format!("target shape {shape:?} is invalid"));
                }
                Ok(shape.len())
            }
            Op::Pad(pad) => {
                if pad.pads.len() != first {
                    return Err(format!(
                        "has {} (begin, end) pairs for a rank-{first} input",
                        pad.pads.len()
                    ));
                }
                if let PadMode::Constant(v) = pad.mode
                    && v.is_nan()
                {
                    return Err("pads with NaN".into());
                }
                Ok(first)
            }
            Op::Resize(resize) => {
                let len = match &resize.target {
                    ResizeTarget::Scales(scales) => {
                        if let Some(s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
                            return Err(format!("scale {s} is not a positive number"));
                        }
                        scales.len()
                    }
                    ResizeTarget::Sizes(sizes) => {
                        if sizes.contains(&0) {
                            return Err(format!("sizes {sizes:?} contain 0"));
                        }
                        sizes.len()
                    }
                };
                if len != first {
                    return Err(format!("has {len} scales or sizes for a rank-{first} input"));
                }
                Ok(first)
            }
            Op::Softmax { axis } => {
                normalize_axis(*axis, first, false)?;
                Ok(first)
            }
        }
    }
}

/// Checks a convolution's parameters on their own.
fn check_conv(conv: &Conv2d) -> Result<(), String> {
    let &[out, _, kh, kw] = conv.weight.shape() else {
        return Err(format!(
            "weight has shape {:?}, not [C_out, C_in / groups, kH, kW]",
            conv.weight.shape()
        ));
    };
    if conv.weight.is_empty() {
        return Err(format!("weight has an empty shape {:?}", conv.weight.shape()));
    }
    if conv.groups == 0 || out % conv.groups != 0 {
        return Err(format!("{} groups do not divide {out} output channels", conv.groups));
    }
    if let Some(bias) = &conv.bias
        && bias.shape() != [out]
    {
        return Err(format!("bias has shape {:?}, expected [{out}]", bias.shape()));
    }
    check_window([kh, kw], conv.stride, conv.dilation)
}

/// Checks a transposed convolution's parameters on their own.
fn check_conv_transpose(conv: &ConvTranspose2d) -> Result<(), String> {
    let &[in_channels, per_group, kh, kw] = conv.weight.shape() else {
        return Err(format!(
            "weight has shape {:?}, not [C_in, C_out / groups, kH, kW]",
            conv.weight.shape()
        ));
    };
    if conv.weight.is_empty() {
        return Err(format!("weight has an empty shape {:?}", conv.weight.shape()));
    }
    if conv.groups == 0 || in_channels % conv.groups != 0 {
        return Err(format!("{} groups do not divide {in_channels} input channels", conv.groups));
    }
    let out = per_group.checked_mul(conv.groups).ok_or("too many output channels")?;
    if let Some(bias) = &conv.bias
        && bias.shape() != [out]
    {
        return Err(format!("bias has shape {:?}, expected [{out}]", bias.shape()));
    }
    for a in 0..2 {
        let (op, s, d) = (conv.output_padding[a], conv.stride[a], conv.dilation[a]);
        if op >= s && op >= d {
            return Err(format!(
                "output padding {:?} must be below the stride {:?} or the dilation {:?}",
                conv.output_padding, conv.stride, conv.dilation
            ));
        }
    }
    check_window([kh, kw], conv.stride, conv.dilation)
}

/// Checks a pool's parameters on their own.
fn check_pool(pool: &Pool2d) -> Result<(), String> {
    check_window(pool.kernel, pool.stride, pool.dilation)
}

/// Checks that kernel, stride and dilation are non-zero.
fn check_window(
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<(), String> {
    if kernel.contains(&0) || stride.contains(&0) || dilation.contains(&0) {
        return Err(format!(
            "kernel {kernel:?}, stride {stride:?} and dilation {dilation:?} must be non-zero"
        ));
    }
    Ok(())
}

/// `axis` counted from the front for a rank-`rank` tensor: negative axes count from the end.
/// The valid range is `[-rank, rank)`, or `[-rank, rank]` when `inclusive`.
pub(crate) fn normalize_axis(axis: i64, rank: usize, inclusive: bool) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    let upper = if inclusive { r } else { r - 1 };
    if a < 0 || a > upper {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    Ok(a as usize)
}
