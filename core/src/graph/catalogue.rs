//! The layer catalogue of a graph: the values a researcher would call layers, with their
//! names, channels, spatial sizes and receptive fields at a given input size.
//!
//! Browsable layers are the outputs of convolutions (after batch norm: a convolution whose
//! output feeds only a batch norm is represented by that batch norm), batch norms,
//! activations, merges (`Add`, `Mul`, `Concat` …), pools, fully connected layers and resizes,
//! plus every graph output; not constants, reshapes, paddings or identities, and not values
//! that do not depend on the input.

use super::op::{Op, normalize_axis};
use super::padding::effective_kernel;
use super::receptive_field::ReceptiveField;
use super::resize::{affine, scales};
use super::{Graph, GraphError, ValueId};
use crate::graph::op::ResizeMode;

/// One browsable layer at a given input size.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    /// The layer's stable name (the node's sanitised name, see
    /// [`sanitize_name`](super::sanitize_name)).
    pub name: String,
    /// The value it is.
    pub value: ValueId,
    /// The operator that produces it (ONNX name, e.g. `"Conv"`).
    pub op: &'static str,
    /// Its full shape for a batch of one (`[1, C, H, W]`, or `[1, C]` for logits).
    pub shape: Vec<usize>,
    /// The size of axis 1.
    pub channels: usize,
    /// `[H, W]` of a rank-4 value, `[1, 1]` otherwise.
    pub spatial: [usize; 2],
    /// The receptive field of its positions.
    pub receptive_field: ReceptiveField,
}

impl Graph {
    /// The browsable layers, in topological order, for one image of `[height, width]`
    /// (shapes and receptive fields depend on the size, e.g. through SAME padding).
    ///
    /// Fails when the graph's input has no fixed channel count
    /// ([`GraphError::UnknownInputChannels`]) or cannot take the size.
    pub fn layers(&self, size: [usize; 2]) -> Result<Vec<LayerInfo>, GraphError> {
        let channels = self
            .input()
            .channels()
            .ok_or_else(|| GraphError::UnknownInputChannels(self.input().describe()))?;
        let shapes = self.infer_shapes([1, channels, size[0], size[1]])?;
        let fields = self.receptive_fields_for(&shapes);
        let uses = self.use_counts();
        let outputs = self.outputs();
        let mut layers = Vec::new();
        for (i, node) in self.nodes().iter().enumerate() {
            let value = ValueId::from_index(i + 1);
            let is_output = outputs.contains(&value);
            let folded_away = matches!(node.op, Op::Conv2d(_))
                && uses.get(value.index()) == Some(&1)
                && self
                    .nodes()
                    .iter()
                    .any(|n| matches!(n.op, Op::BatchNorm(_)) && n.inputs.first() == Some(&value));
            let browsable = is_output || (node.op.is_layer() && !folded_away);
            let (Some(shape), Some(Some(field))) =
                (shapes.get(value.index()), fields.get(value.index()))
            else {
                continue;
            };
            if !browsable || shape.len() < 2 {
                continue;
            }
            let spatial = match shape.as_slice() {
                &[_, _, h, w] => [h, w],
                _ => [1, 1],
            };
            layers.push(LayerInfo {
                name: node.name.clone(),
                value,
                op: node.op.kind(),
                channels: shape.get(1).copied().unwrap_or(1),
                shape: shape.clone(),
                spatial,
                receptive_field: *field,
            });
        }
        Ok(layers)
    }

    /// The receptive field of every value (indexed by [`ValueId::index`]) for an input of
    /// `input`; `None` for values that do not depend on the input (constants).
    pub fn receptive_fields(
        &self,
        input: [usize; 4],
    ) -> Result<Vec<Option<ReceptiveField>>, GraphError> {
        let shapes = self.infer_shapes(input)?;
        Ok(self.receptive_fields_for(&shapes))
    }

    /// The receptive fields given every value's shape.
    fn receptive_fields_for(&self, shapes: &[Vec<usize>]) -> Vec<Option<ReceptiveField>> {
        let mut fields: Vec<Option<ReceptiveField>> = vec![None; self.value_count()];
        if let Some(slot) = fields.first_mut() {
            *slot = Some(ReceptiveField::INPUT);
        }
        let spatial = |v: &ValueId| match shapes.get(v.index()).map(Vec::as_slice) {
            Some(&[_, _, h, w]) => Some([h, w]),
            _ => None,
        };
        for (i, node) in self.nodes().iter().enumerate() {
            let out = ValueId::from_index(i + 1);
            let first = node.inputs.first();
            let input_field = first.and_then(|v| fields.get(v.index()).copied().flatten());
            let input_spatial = first.and_then(spatial);
            // A window over the first input's spatial axes, with padding resolved at its size.
            let windowed = |kernel: [usize; 2],
                            stride: [usize; 2],
                            pads: [(usize, usize); 2],
                            dilation: [usize; 2]| {
                input_field.map(|f| {
                    f.map(|a, axis| {
                        axis.window(effective_kernel(kernel[a], dilation[a]), stride[a], pads[a].0)
                    })
                })
            };
            // Every position of a rank-4 input feeds every output position.
            let global = || match (input_field, input_spatial) {
                (Some(f), Some(hw)) => Some(f.map(|a, axis| axis.window(hw[a], hw[a], 0))),
                (f, _) => f,
            };
            let field = match &node.op {
                Op::Constant(_) => None,
                Op::Conv2d(conv) => input_spatial.and_then(|hw| {
                    let [_, _, kh, kw] = match conv.weight.shape() {
                        &[a, b, c, d] => [a, b, c, d],
                        _ => [1; 4],
                    };
                    let pads = conv.padding.resolve(hw, [kh, kw], conv.stride, conv.dilation);
                    windowed([kh, kw], conv.stride, pads, conv.dilation)
                }),
                // Output position `o` reads inputs `(o + pad - j * dilation) / stride`: a
                // resampling by `1 / stride` through the kernel's taps that land on it.
                Op::ConvTranspose2d(conv) => input_field.map(|f| {
                    let (kh, kw) = match conv.weight.shape() {
                        &[_, _, kh, kw] => (kh, kw),
                        _ => (1, 1),
                    };
                    f.map(|a, axis| {
                        let s = conv.stride[a].max(1) as f64;
                        let k = effective_kernel([kh, kw][a], conv.dilation[a]) as f64;
                        let b = (conv.padding[a] as f64 - (k - 1.0) / 2.0) / s;
                        axis.resample(1.0 / s, b, (k / s).ceil() as usize)
                    })
                }),
                Op::MaxPool(pool) | Op::AveragePool { pool, .. } => input_spatial.and_then(|hw| {
                    let pads = pool.padding.resolve(hw, pool.kernel, pool.stride, pool.dilation);
                    windowed(pool.kernel, pool.stride, pads, pool.dilation)
                }),
                Op::GlobalAveragePool | Op::Flatten { .. } | Op::Reshape { .. } | Op::Linear(_) => {
                    global()
                }
                Op::Pad(pad) if input_spatial.is_some() => {
                    let before = [pad.pads.get(2), pad.pads.get(3)].map(|p| p.map_or(0, |p| p.0));
                    input_field.map(|f| f.map(|a, axis| axis.window(1, 1, before[a])))
                }
                Op::Resize(resize) => match (input_field, input_spatial, spatial(&out)) {
                    (Some(f), Some(hw), Some(out_hw)) => {
                        let input =
                            first.and_then(|v| shapes.get(v.index())).cloned().unwrap_or_default();
                        let output = shapes.get(out.index()).cloned().unwrap_or_default();
                        let s = scales(&resize.target, &input, &output);
                        let taps = if resize.mode == ResizeMode::Linear { 2 } else { 1 };
                        Some(f.map(|a, axis| {
                            let scale = s.get(a + 2).copied().unwrap_or(1.0);
                            let (m, b) = affine(resize.transform, hw[a], out_hw[a], scale);
                            axis.resample(m, b, taps)
                        }))
                    }
                    (f, _, _) => f,
                },
                Op::MatMul if input_spatial.is_some() => global(),
                // Over a spatial axis every position feeds the mean; over others (channels in
                // a layer norm) each position keeps its own field.
                Op::ReduceMean { axes }
                    if input_spatial.is_some() && axes.iter().any(|&a| a >= 2) =>
                {
                    global()
                }
                // A crop of a spatial axis keeps each position's field relative to the input
                // only up to its offset; taken as global rather than misplaced.
                Op::Slice { axis, .. }
                    if input_spatial.is_some()
                        && normalize_axis(*axis, 4, false).is_ok_and(|a| a >= 2) =>
                {
                    global()
                }
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Concat { .. } | Op::MatMul => {
                    merge(node.inputs.as_slice(), &fields, |v| spatial(v), spatial(&out))
                }
                Op::BatchNorm(_)
                | Op::Relu
                | Op::Clip { .. }
                | Op::Sigmoid
                | Op::Unary(_)
                | Op::ReduceMean { .. }
                | Op::Slice { .. }
                | Op::Softmax { .. }
                | Op::Identity
                | Op::Pad(_) => input_field,
            };
            if let Some(slot) = fields.get_mut(out.index()) {
                *slot = field;
            }
        }
        fields
    }
}

/// The field of a merge: the widest field among the inputs that are not broadcast over the
/// spatial axes (a `[N, C, 1, 1]` gate from a global pool would otherwise make every later
/// field the whole image), or among all inputs when every one is.
fn merge(
    inputs: &[ValueId],
    fields: &[Option<ReceptiveField>],
    spatial: impl Fn(&ValueId) -> Option<[usize; 2]>,
    out: Option<[usize; 2]>,
) -> Option<ReceptiveField> {
    let field = |v: &ValueId| fields.get(v.index()).copied().flatten();
    let broadcast = |v: &ValueId| spatial(v) == Some([1, 1]) && out != Some([1, 1]);
    let widest = |keep: &dyn Fn(&ValueId) -> bool| {
        inputs.iter().filter(|v| keep(v)).filter_map(field).reduce(ReceptiveField::max)
    };
    widest(&|v| !broadcast(v)).or_else(|| widest(&|_| true))
}
