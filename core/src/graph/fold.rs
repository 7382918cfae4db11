//! Batch-norm folding: a convolution followed by an inference-mode batch norm is one
//! convolution with scaled weights and a bias.
//!
//! `bn(conv(x, W) + c) = s * (conv(x, W) + c - mean) + beta`, which is
//! `conv(x, W * s) + (c - mean) * s + beta` with `s = gamma / sqrt(var + eps)` per output
//! channel. Microscope optimises inputs and never trains weights, so folding is exact up to
//! rounding and saves a pass over every activation.

use super::op::{BatchNorm, Conv2d, Op};
use super::{Graph, GraphError, HostTensor, Node, ValueId};

impl Graph {
    /// This graph with every batch norm folded into the convolution before it, where the
    /// convolution's output feeds only that batch norm (and is not a graph output).
    ///
    /// The folded node takes the batch norm's name, so layer names (and the catalogue) are the
    /// same before and after; value ids change (look layers up by name). Scales are computed
    /// in `f64`. Fails with [`GraphError::NonFiniteFold`] when folding gives non-finite
    /// weights (a negative variance, infinities).
    pub fn fold_batch_norms(&self) -> Result<Graph, GraphError> {
        let uses = self.use_counts();
        // For each node: the conv it absorbs (when it is a foldable batch norm).
        let mut absorbed = vec![false; self.nodes().len()];
        let mut absorbs: Vec<Option<usize>> = vec![None; self.nodes().len()];
        for (i, node) in self.nodes().iter().enumerate() {
            let (Op::BatchNorm(_), Some(&input)) = (&node.op, node.inputs.first()) else {
                continue;
            };
            let Some(conv) = input.node() else { continue };
            let is_conv = matches!(self.node(conv).map(|n| &n.op), Some(Op::Conv2d(_)));
            if is_conv && uses.get(input.index()) == Some(&1) {
                if let Some(a) = absorbed.get_mut(conv) {
                    *a = true;
                }
                if let Some(a) = absorbs.get_mut(i) {
                    *a = Some(conv);
                }
            }
        }
        // Old value index -> new value id.
        let mut map: Vec<ValueId> = Vec::with_capacity(self.value_count());
        map.push(ValueId::INPUT);
        let mut nodes: Vec<Node> = Vec::with_capacity(self.nodes().len());
        let remap = |map: &[ValueId], v: &ValueId| map.get(v.index()).copied().unwrap_or(*v);
        for (i, node) in self.nodes().iter().enumerate() {
            if absorbed.get(i).copied().unwrap_or(false) {
                // Placeholder: nothing but its batch norm reads it.
                map.push(ValueId::INPUT);
                continue;
            }
            let inputs = |n: &Node| n.inputs.iter().map(|v| remap(&map, v)).collect::<Vec<_>>();
            let absorbed_conv = absorbs.get(i).copied().flatten().and_then(|c| self.node(c));
            let new_node = match (absorbed_conv, &node.op) {
                (Some(conv_node @ Node { op: Op::Conv2d(conv), .. }), Op::BatchNorm(bn)) => {
                    let folded = fold(conv, bn)
                        .ok_or_else(|| GraphError::NonFiniteFold { node: node.name.clone() })?;
                    Node {
                        name: node.name.clone(),
                        op: Op::Conv2d(folded),
                        inputs: inputs(conv_node),
                        rank: node.rank,
                    }
                }
                _ => Node {
                    name: node.name.clone(),
                    op: node.op.clone(),
                    inputs: inputs(node),
                    rank: node.rank,
                },
            };
            nodes.push(new_node);
            map.push(ValueId::from_index(nodes.len()));
        }
        let outputs = self.outputs().iter().map(|v| remap(&map, v)).collect();
        Ok(Graph::from_parts(self.input().clone(), nodes, outputs))
    }
}

/// `conv` with `bn` folded in, or `None` when the result is not finite or shapes disagree.
fn fold(conv: &Conv2d, bn: &BatchNorm) -> Option<Conv2d> {
    let out = conv.weight.shape().first().copied()?;
    let per_out = conv.weight.len() / out.max(1);
    let (gamma, beta, mean, var) = (bn.scale.data(), bn.bias.data(), bn.mean.data(), bn.var.data());
    if [gamma.len(), beta.len(), mean.len(), var.len()] != [out; 4] {
        return None;
    }
    let mut weight = conv.weight.data().to_vec();
    let mut bias = Vec::with_capacity(out);
    for (o, row) in weight.chunks_exact_mut(per_out.max(1)).enumerate() {
        let (g, b, m, v) = (gamma.get(o)?, beta.get(o)?, mean.get(o)?, var.get(o)?);
        let scale = f64::from(*g) / (f64::from(*v) + f64::from(bn.epsilon)).sqrt();
        for w in row.iter_mut() {
            *w = (f64::from(*w) * scale) as f32;
        }
        let c = conv.bias.as_ref().and_then(|c| c.data().get(o)).copied().unwrap_or(0.0);
        bias.push(((f64::from(c) - f64::from(*m)) * scale + f64::from(*b)) as f32);
    }
    if !weight.iter().chain(&bias).all(|v| v.is_finite()) {
        return None;
    }
    Some(Conv2d {
        weight: HostTensor::new(conv.weight.shape().to_vec(), weight).ok()?,
        bias: Some(HostTensor::vector(bias)),
        stride: conv.stride,
        padding: conv.padding,
        dilation: conv.dilation,
        groups: conv.groups,
    })
}
