//! Shape inference: the shape of every value for a concrete input shape, computed on the host
//! from the operators' parameters alone.
//!
//! Execution infers shapes before touching any tensor, so a graph that cannot take an input
//! fails with a [`GraphError`] instead of a panic inside the backend, and sizes stay bounded
//! ([`MAX_ELEMENTS`] per value) whatever a hostile file asks for.

use super::host::checked_product;
use super::op::{Op, PadMode, Pool2d, ResizeTarget, normalize_axis};
use super::padding::{Padding2d, effective_kernel};
use super::{Dim, Graph, GraphError, GraphInput, ValueId};

/// The most elements one value may have (2^28 `f32`s, 1 GiB).
pub const MAX_ELEMENTS: usize = 1 << 28;

/// What shape inference needs of an operator: its parameters without the weight values, so
/// that an executable graph can infer shapes without keeping the host weights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Signature {
    /// A constant of this shape.
    Fixed(Vec<usize>),
    /// A 2-d convolution.
    Conv {
        out_channels: usize,
        in_per_group: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: Padding2d,
        dilation: [usize; 2],
        groups: usize,
    },
    /// A 2-d transposed convolution.
    ConvTranspose {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        output_padding: [usize; 2],
        dilation: [usize; 2],
    },
    /// Same shape, axis 1 must have this many channels.
    Channels(usize),
    /// Same shape as the input.
    Same,
    /// Same shape, with these axes of size 1.
    Reduce(Vec<usize>),
    /// Positions `start..end` of the axis.
    Slice { axis: i64, start: usize, end: usize },
    /// Numpy broadcasting of two inputs.
    Broadcast,
    /// Concatenation along the axis.
    Concat(i64),
    /// A 2-d pool.
    Pool(Pool2d),
    /// Global pooling over `H, W`.
    Global,
    /// `[M, K] -> [M, N]`.
    Linear { inputs: usize, outputs: usize },
    /// Numpy matmul.
    MatMul,
    /// Flatten at the axis.
    Flatten(i64),
    /// Reshape to the target.
    Reshape { shape: Vec<i64>, allow_zero: bool },
    /// Pad every axis; `reflect` needs pads smaller than the axis.
    Pad { pads: Vec<(usize, usize)>, reflect: bool },
    /// Resize to the target.
    Resize(ResizeTarget),
}

impl Signature {
    /// The signature of `op`.
    pub(crate) fn of(op: &Op) -> Self {
        match op {
            Op::Constant(t) => Signature::Fixed(t.shape().to_vec()),
            Op::Conv2d(conv) => {
                let [out, in_per_group, kh, kw] = match conv.weight.shape() {
                    &[a, b, c, d] => [a, b, c, d],
                    _ => [0; 4],
                };
                Signature::Conv {
                    out_channels: out,
                    in_per_group,
                    kernel: [kh, kw],
                    stride: conv.stride,
                    padding: conv.padding,
                    dilation: conv.dilation,
                    groups: conv.groups,
                }
            }
            Op::ConvTranspose2d(conv) => {
                let [in_channels, per_group, kh, kw] = match conv.weight.shape() {
                    &[a, b, c, d] => [a, b, c, d],
                    _ => [0; 4],
                };
                Signature::ConvTranspose {
                    in_channels,
                    out_channels: per_group.saturating_mul(conv.groups),
                    kernel: [kh, kw],
                    stride: conv.stride,
                    padding: conv.padding,
                    output_padding: conv.output_padding,
                    dilation: conv.dilation,
                }
            }
            Op::BatchNorm(bn) => Signature::Channels(bn.scale.len()),
            Op::Relu
            | Op::Clip { .. }
            | Op::Sigmoid
            | Op::Unary(_)
            | Op::Softmax { .. }
            | Op::Identity => Signature::Same,
            Op::ReduceMean { axes } => Signature::Reduce(axes.clone()),
            Op::Slice { axis, start, end } => {
                Signature::Slice { axis: *axis, start: *start, end: *end }
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => Signature::Broadcast,
            Op::Concat { axis } => Signature::Concat(*axis),
            Op::MaxPool(pool) | Op::AveragePool { pool, .. } => Signature::Pool(*pool),
            Op::GlobalAveragePool => Signature::Global,
            Op::Linear(linear) => {
                let (inputs, outputs) = match linear.weight.shape() {
                    &[k, n] => (k, n),
                    _ => (0, 0),
                };
                Signature::Linear { inputs, outputs }
            }
            Op::MatMul => Signature::MatMul,
            Op::Flatten { axis } => Signature::Flatten(*axis),
            Op::Reshape { shape, allow_zero } => {
                Signature::Reshape { shape: shape.clone(), allow_zero: *allow_zero }
            }
            Op::Pad(pad) => {
                Signature::Pad { pads: pad.pads.clone(), reflect: pad.mode == PadMode::Reflect }
            }
            Op::Resize(resize) => Signature::Resize(resize.target.clone()),
        }
    }

    /// The output shape for inputs of `shapes`, or why they do not fit. The result has no
    /// zero axis and at most [`MAX_ELEMENTS`] elements.
    pub(crate) fn infer(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
        let x: &[usize] = shapes.first().copied().unwrap_or(&[]);
        let out = match self {
            Signature::Fixed(shape) => shape.clone(),
            Signature::Conv {
                out_channels,
                in_per_group,
                kernel,
                stride,
                padding,
                dilation,
                groups,
            } => {
                let &[n, c, h, w] = x else {
                    return Err(format!("input {x:?} is not [N, C, H, W]"));
                };
                if Some(c) != in_per_group.checked_mul(*groups) {
                    return Err(format!(
                        "input has {c} channels but the weight expects {in_per_group} x {groups} groups"
                    ));
                }
                let pads = padding.resolve([h, w], *kernel, *stride, *dilation);
                check_padded([n, c, h, w], pads)?;
                let [oh, ow] = window_output([h, w], *kernel, *stride, pads, *dilation, false)?;
                vec![n, *out_channels, oh, ow]
            }
            Signature::ConvTranspose {
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
                output_padding,
                dilation,
            } => {
                let &[n, c, h, w] = x else {
                    return Err(format!("input {x:?} is not [N, C, H, W]"));
                };
                if c != *in_channels {
                    return Err(format!(
                        "input has {c} channels but the weight expects {in_channels}"
                    ));
                }
                let mut out = vec![n, *out_channels];
                let mut full = vec![n, *out_channels];
                for (a, size) in [h, w].into_iter().enumerate() {
                    let at = |v: &[usize; 2]| v.get(a).copied().unwrap_or(0);
                    // The full (uncropped) extent: the backend materialises it before the
                    // padding is removed, so it is bounded like a padded convolution input.
                    let extent = size
                        .checked_sub(1)
                        .and_then(|v| v.checked_mul(at(stride)))
                        .and_then(|v| v.checked_add(effective_kernel(at(kernel), at(dilation))))
                        .and_then(|v| v.checked_add(at(output_padding)))
                        .ok_or("transposed convolution output too large")?;
                    let cropped = extent.checked_sub(2 * at(padding)).ok_or_else(|| {
                        format!("padding {padding:?} removes the whole {h}x{w} output")
                    })?;
                    full.push(extent);
                    out.push(cropped);
                }
                if checked_product(&full).is_none_or(|e| e > MAX_ELEMENTS) {
                    return Err(format!(
                        "the uncropped output {full:?} would have more than {MAX_ELEMENTS} elements"
                    ));
                }
                out
            }
            Signature::Channels(channels) => {
                if x.get(1) != Some(channels) {
                    return Err(format!("input {x:?} does not have {channels} channels on axis 1"));
                }
                x.to_vec()
            }
            Signature::Same => x.to_vec(),
            Signature::Reduce(axes) => {
                let mut out = x.to_vec();
                for &a in axes {
                    let slot = out
                        .get_mut(a)
                        .ok_or_else(|| format!("axis {a} outside the input {x:?}"))?;
                    *slot = 1;
                }
                out
            }
            Signature::Slice { axis, start, end } => {
                let a = normalize_axis(*axis, x.len(), false)?;
                let size = x.get(a).copied().unwrap_or(0);
                if *end > size || start >= end {
                    return Err(format!("positions {start}..{end} outside axis {a} of {x:?}"));
                }
                let mut out = x.to_vec();
                if let Some(slot) = out.get_mut(a) {
                    *slot = end - start;
                }
                out
            }
            Signature::Broadcast => {
                let y: &[usize] = shapes.get(1).copied().unwrap_or(&[]);
                broadcast(x, y)?
            }
            Signature::Concat(axis) => {
                let a = normalize_axis(*axis, x.len(), false)?;
                let mut out = x.to_vec();
                let mut total = 0usize;
                for shape in shapes {
                    let same_elsewhere = shape.len() == x.len()
                        && shape.iter().zip(x).enumerate().all(|(i, (s, t))| i == a || s == t);
                    if !same_elsewhere {
                        return Err(format!("cannot join {shape:?} to {x:?} along axis {a}"));
                    }
                    let size = shape.get(a).copied().unwrap_or(0);
                    total = total.checked_add(size).ok_or("concatenation too large")?;
                }
                if let Some(slot) = out.get_mut(a) {
                    *slot = total;
                }
                out
            }
            Signature::Pool(pool) => {
                let &[n, c, h, w] = x else {
                    return Err(format!("input {x:?} is not [N, C, H, W]"));
                };
                let pads = pool.padding.resolve([h, w], pool.kernel, pool.stride, pool.dilation);
                check_padded([n, c, h, w], pads)?;
                let [oh, ow] = window_output(
                    [h, w],
                    pool.kernel,
                    pool.stride,
                    pads,
                    pool.dilation,
                    pool.ceil_mode,
                )?;
                vec![n, c, oh, ow]
            }
            Signature::Global => {
                let &[n, c, _, _] = x else {
                    return Err(format!("input {x:?} is not [N, C, H, W]"));
                };
                vec![n, c, 1, 1]
            }
            Signature::Linear { inputs, outputs } => {
                let &[m, k] = x else { return Err(format!("input {x:?} is not [M, K]")) };
                if k != *inputs {
                    return Err(format!("input has {k} features but the weight expects {inputs}"));
                }
                vec![m, *outputs]
            }
            Signature::MatMul => {
                let y: &[usize] = shapes.get(1).copied().unwrap_or(&[]);
                matmul(x, y)?
            }
            Signature::Flatten(axis) => {
                let a = normalize_axis(*axis, x.len(), true)?;
                let (head, tail) = x.split_at(a);
                vec![product(head)?, product(tail)?]
            }
            Signature::Reshape { shape, allow_zero } => reshape(x, shape, *allow_zero)?,
            Signature::Pad { pads, reflect } => {
                if pads.len() != x.len() {
                    return Err(format!("{} pad pairs for input {x:?}", pads.len()));
                }
                let mut out = Vec::with_capacity(x.len());
                for (&d, &(b, e)) in x.iter().zip(pads) {
                    if *reflect && (b >= d || e >= d) {
                        return Err(format!("reflect padding ({b}, {e}) of an axis of {d}"));
                    }
                    out.push(
                        d.checked_add(b)
                            .and_then(|v| v.checked_add(e))
                            .ok_or("padding too large")?,
                    );
                }
                out
            }
            Signature::Resize(target) => resize_shape(x, target)?,
        };
        if out.contains(&0) {
            return Err(format!("the output {out:?} would be empty"));
        }
        match checked_product(&out) {
            Some(n) if n <= MAX_ELEMENTS => Ok(out),
            _ => Err(format!("the output {out:?} would have more than {MAX_ELEMENTS} elements")),
        }
    }
}

/// Checks that the input `[n, c, h, w]` padded by `pads` stays within [`MAX_ELEMENTS`]: the
/// backend materialises the padded input, so huge pads with a huge stride (a small output)
/// would otherwise allocate gigabytes.
fn check_padded(input: [usize; 4], pads: [(usize, usize); 2]) -> Result<(), String> {
    let [n, c, h, w] = input;
    let [(top, bottom), (left, right)] = pads;
    let padded_h = h.checked_add(top).and_then(|v| v.checked_add(bottom));
    let padded_w = w.checked_add(left).and_then(|v| v.checked_add(right));
    let elements = padded_h.zip(padded_w).and_then(|(ph, pw)| checked_product(&[n, c, ph, pw]));
    match elements {
        Some(e) if e <= MAX_ELEMENTS => Ok(()),
        _ => Err(format!(
            "pads {pads:?} make the {h}x{w} input larger than {MAX_ELEMENTS} elements (the limit of \
             any value)"
        )),
    }
}

/// Output positions of a (dilated, padded) window sliding over `input`, floor or ceil mode.
fn window_output(
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [(usize, usize); 2],
    dilation: [usize; 2],
    ceil_mode: bool,
) -> Result<[usize; 2], String> {
    let mut out = [0usize; 2];
    for a in 0..2 {
        let (begin, end) = pads[a];
        let padded = input[a].saturating_add(begin).saturating_add(end);
        let span = effective_kernel(kernel[a], dilation[a]);
        let s = stride[a].max(1);
        if padded < span {
            return Err(format!(
                "a window of {span} does not fit {} positions padded by ({begin}, {end})",
                input[a]
            ));
        }
        let room = padded - span;
        let mut o = if ceil_mode { room.div_ceil(s) } else { room / s } + 1;
        // A window that would start in the end padding is dropped (PyTorch, ONNX).
        if ceil_mode && o > 1 && (o - 1) * s >= input[a] + begin {
            o -= 1;
        }
        out[a] = o;
    }
    Ok(out)
}

/// Numpy broadcasting of `a` and `b`.
pub(crate) fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        (i + s.len()).checked_sub(rank).and_then(|j| s.get(j)).copied().unwrap_or(1)
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// Numpy matmul of `a` and `b` (both of rank at least 2).
fn matmul(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let (Some((&k, a_rest)), Some((&n, b_rest))) = (a.split_last(), b.split_last()) else {
        return Err(format!("cannot multiply {a:?} by {b:?}"));
    };
    let (Some((&m, a_batch)), Some((&k2, b_batch))) = (a_rest.split_last(), b_rest.split_last())
    else {
        return Err(format!("cannot multiply {a:?} by {b:?}"));
    };
    if k != k2 {
        return Err(format!("cannot multiply {a:?} by {b:?}: inner sizes {k} and {k2} differ"));
    }
    let mut out = broadcast(a_batch, b_batch)?;
    out.extend([m, n]);
    Ok(out)
}

/// The product of `dims`, or an error when it overflows.
fn product(dims: &[usize]) -> Result<usize, String> {
    checked_product(dims).ok_or_else(|| format!("{dims:?} is too large"))
}

/// ONNX `Reshape` of `x` to `target`.
pub(crate) fn reshape(x: &[usize], target: &[i64], allow_zero: bool) -> Result<Vec<usize>, String> {
    let total = product(x)?;
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        let size = match d {
            -1 => {
                infer = Some(i);
                1
            }
            0 if !allow_zero => *x
                .get(i)
                .ok_or_else(|| format!("0 at axis {i} of {target:?} copies no axis of {x:?}"))?,
            d => usize::try_from(d).map_err(|_| format!("{target:?} is not a shape"))?,
        };
        out.push(size);
    }
    let known = product(&out)?;
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return Err(format!("cannot reshape {x:?} to {target:?}"));
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = total / known;
        }
    } else if known != total {
        return Err(format!("cannot reshape {x:?} ({total} elements) to {target:?}"));
    }
    Ok(out)
}

/// The output of resizing `x` to `target`.
fn resize_shape(x: &[usize], target: &ResizeTarget) -> Result<Vec<usize>, String> {
    match target {
        ResizeTarget::Sizes(sizes) if sizes.len() == x.len() => Ok(sizes.clone()),
        ResizeTarget::Scales(scales) if scales.len() == x.len() => x
            .iter()
            .zip(scales)
            .map(|(&d, &s)| {
                let o = (d as f64 * f64::from(s)).floor();
                if o >= 1.0 && o <= MAX_ELEMENTS as f64 {
                    Ok(o as usize)
                } else {
                    Err(format!("scale {s} of an axis of {d} gives {o} positions"))
                }
            })
            .collect(),
        _ => Err(format!("resize target {target:?} does not fit input {x:?}")),
    }
}

impl Graph {
    /// The shape of every value (indexed by [`ValueId::index`]) for an input of `input`
    /// (`[N, C, H, W]`).
    ///
    /// Fails with [`GraphError::InvalidInput`] when the input does not fit the declared
    /// shape (a fixed channel count, zero sizes) and [`GraphError::Shape`] naming the first
    /// node that cannot take its inputs.
    pub fn infer_shapes(&self, input: [usize; 4]) -> Result<Vec<Vec<usize>>, GraphError> {
        let skeleton = Skeleton::of(self);
        let wanted = vec![true; skeleton.len()];
        let shapes = infer_until(self.input(), &skeleton, input, &wanted)?;
        Ok(shapes.into_iter().map(Option::unwrap_or_default).collect())
    }
}

/// What shape inference needs of a node: no weights.
#[derive(Debug, Clone)]
pub(crate) struct Skeleton {
    /// The node's name.
    pub name: String,
    /// The operator's name.
    pub kind: &'static str,
    /// The values it reads.
    pub inputs: Vec<ValueId>,
    /// Its output's rank.
    pub rank: usize,
    /// Its operator's signature.
    pub signature: Signature,
}

impl Skeleton {
    /// The skeletons of `graph`'s nodes, in order.
    pub(crate) fn of(graph: &Graph) -> Vec<Self> {
        graph
            .nodes()
            .iter()
            .map(|n| Skeleton {
                name: n.name.clone(),
                kind: n.op.kind(),
                inputs: n.inputs.clone(),
                rank: n.rank,
                signature: Signature::of(&n.op),
            })
            .collect()
    }
}

/// Checks that `input` fits `declared`: `N, H, W > 0` and the fixed channel count, if any.
pub(crate) fn check_input(declared: &GraphInput, input: [usize; 4]) -> Result<(), GraphError> {
    let channels_ok = match declared.shape[1] {
        Dim::Fixed(c) => input[1] == c,
        Dim::Symbolic(_) => true,
    };
    if input.contains(&0) || !channels_ok {
        return Err(GraphError::InvalidInput {
            shape: input.to_vec(),
            expected: declared.describe(),
        });
    }
    if checked_product(&input).is_none_or(|n| n > MAX_ELEMENTS) {
        return Err(GraphError::InputTooLarge { shape: input.to_vec(), limit: MAX_ELEMENTS });
    }
    Ok(())
}

/// The shapes of the values of the nodes in `wanted` (indexed by node) and of the input, for
/// `input`; `None` for values not computed. Every input of a wanted node must be wanted.
pub(crate) fn infer_until(
    declared: &GraphInput,
    nodes: &[Skeleton],
    input: [usize; 4],
    wanted: &[bool],
) -> Result<Vec<Option<Vec<usize>>>, GraphError> {
    check_input(declared, input)?;
    let mut shapes: Vec<Option<Vec<usize>>> = vec![None; nodes.len() + 1];
    if let Some(slot) = shapes.first_mut() {
        *slot = Some(input.to_vec());
    }
    for (i, node) in nodes.iter().enumerate() {
        if !wanted.get(i).copied().unwrap_or(false) {
            continue;
        }
        let fail =
            |reason: String| GraphError::Shape { node: node.name.clone(), op: node.kind, reason };
        let mut inputs: Vec<&[usize]> = Vec::with_capacity(node.inputs.len());
        for v in &node.inputs {
            match shapes.get(v.index()).and_then(Option::as_deref) {
                Some(shape) => inputs.push(shape),
                None => return Err(fail(format!("input {v} was not computed"))),
            }
        }
        let out = node.signature.infer(&inputs).map_err(fail)?;
        if out.len() != node.rank {
            return Err(fail(format!("output {out:?} does not have rank {}", node.rank)));
        }
        if let Some(slot) = shapes.get_mut(i + 1) {
            *slot = Some(out);
        }
    }
    Ok(shapes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_shape_rules() {
        assert_eq!(broadcast(&[2, 3, 4, 5], &[3, 1, 1]).unwrap(), [2, 3, 4, 5]);
        assert_eq!(broadcast(&[1, 3, 1, 1], &[2, 1, 4, 5]).unwrap(), [2, 3, 4, 5]);
        assert!(broadcast(&[2, 3], &[4, 3, 2]).is_err());
        assert_eq!(matmul(&[2, 5, 3, 4], &[4, 6]).unwrap(), [2, 5, 3, 6]);
        assert!(matmul(&[3, 4], &[5, 6]).is_err());
        assert_eq!(reshape(&[2, 3, 4, 5], &[0, -1], false).unwrap(), [2, 60]);
        assert_eq!(reshape(&[2, 60], &[2, 3, 4, 5], false).unwrap(), [2, 3, 4, 5]);
        assert!(reshape(&[2, 60], &[7, -1], false).is_err());
        assert!(reshape(&[2, 60], &[2, 3], false).is_err());
        assert_eq!(
            resize_shape(&[1, 3, 5, 7], &ResizeTarget::Scales(vec![1.0, 1.0, 2.0, 0.5])).unwrap(),
            [1, 3, 10, 3]
        );
        // Floor and ceil mode, with the PyTorch rule that drops a window starting in the padding.
        assert_eq!(
            window_output([7, 7], [3, 3], [2, 2], [(0, 0); 2], [1, 1], false).unwrap(),
            [3, 3]
        );
        assert_eq!(
            window_output([8, 8], [3, 3], [2, 2], [(0, 0); 2], [1, 1], true).unwrap(),
            [4, 4]
        );
        assert_eq!(
            window_output([6, 6], [2, 2], [2, 2], [(1, 1); 2], [1, 1], true).unwrap(),
            [4, 4]
        );
        assert_eq!(
            window_output([5, 5], [2, 2], [2, 2], [(1, 1); 2], [1, 1], true).unwrap(),
            [3, 3]
        );
        assert!(window_output([2, 2], [5, 5], [1, 1], [(0, 0); 2], [1, 1], false).is_err());
        // Hostile sizes fail instead of allocating.
        let huge = Signature::Resize(ResizeTarget::Scales(vec![1.0, 1.0, 1e6, 1e6]));
        assert!(huge.infer(&[&[1, 3, 224, 224]]).unwrap_err().contains("more than"));
    }
}
