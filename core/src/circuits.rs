//! Circuits: for each unit of a model's catalogue, the units of earlier catalogue layers with
//! the strongest weights into it, and the units of later layers it feeds most.
//!
//! The rule, over the graph with batch norms folded:
//! - A layer's *sources* are found by walking back from its operator's inputs through
//!   operators that keep channels one to one (activations, clips, pads, pooling, global
//!   pooling, flatten, reshape, identity, unfolded batch norms) to the nearest values that are
//!   catalogue layers. The network input and constants are not sources.
//! - A **convolution** `[out, in / groups, kh, kw]` connects input channel `i` to output
//!   `o` (within `o`'s group) with the sum of the kernel `w[o, i, :, :]` (signed; a 1x1
//!   expansion or projection is just its weight, a depthwise convolution connects channel `o`
//!   to itself only).
//! - A **fully connected** layer `[K, N]` connects `k` to `n` with `w[k, n]`.
//! - A **residual add** (`Add`; `Sub` with -1 for its second input) connects channel `o` of
//!   each source to channel `o` with weight 1: the skip connection and the branch.
//! - A layer that is itself a one-to-one operator connects `o` to `o` with weight 1.
//! - Other operators (concatenation, products, resizes) give no connections.
//!
//! Connections are ranked by the magnitude of the weight; ties keep graph order.

use std::collections::HashMap;

use crate::graph::{Graph, LayerInfo, Op, ValueId};

/// One connection, seen from the unit at the other end.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Index of the other unit's layer in the catalogue.
    pub layer: usize,
    /// The other unit.
    pub unit: u32,
    /// The weight (signed).
    pub weight: f32,
}

/// The strongest connections of one unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitLinks {
    /// Into the unit, strongest first.
    pub inputs: Vec<Link>,
    /// Out of the unit, strongest first.
    pub outputs: Vec<Link>,
}

/// Keeps the `k` links of largest magnitude, earlier ones first on ties.
fn keep(list: &mut Vec<Link>, link: Link, k: usize) {
    if k == 0 || !link.weight.is_finite() {
        return;
    }
    let magnitude = link.weight.abs();
    if list.len() >= k && list.last().is_some_and(|last| last.weight.abs() >= magnitude) {
        return;
    }
    let at = list.partition_point(|l| l.weight.abs() >= magnitude);
    list.insert(at, link);
    list.truncate(k);
}

/// Whether `op` maps channel `c` of its (first) input to channel `c` of its output.
fn is_one_to_one(op: &Op) -> bool {
    matches!(
        op,
        Op::Relu
            | Op::Clip { .. }
            | Op::Sigmoid
            | Op::Unary(_)
            | Op::Pad(_)
            | Op::MaxPool(_)
            | Op::AveragePool { .. }
            | Op::GlobalAveragePool
            | Op::Flatten { .. }
            | Op::Reshape { .. }
            | Op::Identity
            | Op::BatchNorm(_)
    )
}

/// The catalogue layer that `value` is, or the nearest one it passes through unchanged.
fn source(graph: &Graph, layer_of: &HashMap<ValueId, usize>, mut value: ValueId) -> Option<usize> {
    loop {
        if let Some(&layer) = layer_of.get(&value) {
            return Some(layer);
        }
        let node = graph.producer(value)?;
        if !is_one_to_one(&node.op) {
            return None;
        }
        value = *node.inputs.first()?;
    }
}

/// The `k` strongest input and output links of every unit of every catalogue layer, as
/// `[layer][unit]`.
pub fn circuits(graph: &Graph, layers: &[LayerInfo], k: usize) -> Vec<Vec<UnitLinks>> {
    let layer_of: HashMap<ValueId, usize> =
        layers.iter().enumerate().map(|(i, layer)| (layer.value, i)).collect();
    let mut out: Vec<Vec<UnitLinks>> =
        layers.iter().map(|layer| vec![UnitLinks::default(); layer.channels]).collect();
    let connect =
        |out: &mut Vec<Vec<UnitLinks>>, from: (usize, usize), to: (usize, usize), weight: f32| {
            let (Some(from_unit), Some(to_unit)) =
                (u32::try_from(from.1).ok(), u32::try_from(to.1).ok())
            else {
                return;
            };
            if let Some(links) = out.get_mut(to.0).and_then(|l| l.get_mut(to.1)) {
                keep(&mut links.inputs, Link { layer: from.0, unit: from_unit, weight }, k);
            }
            if let Some(links) = out.get_mut(from.0).and_then(|l| l.get_mut(from.1)) {
                keep(&mut links.outputs, Link { layer: to.0, unit: to_unit, weight }, k);
            }
        };
    for (to, layer) in layers.iter().enumerate() {
        let Some(node) = graph.producer(layer.value) else { continue };
        let channels = layer.channels;
        let sources: Vec<Option<usize>> =
            node.inputs.iter().map(|&input| source(graph, &layer_of, input)).collect();
        match &node.op {
            Op::Conv2d(conv) => {
                let Some(Some(from)) = sources.first().copied() else { continue };
                let shape = conv.weight.shape();
                let &[out_channels, per_group, kh, kw] = shape else { continue };
                let groups = conv.groups.max(1);
                if out_channels != channels || out_channels % groups != 0 {
                    continue;
                }
                let in_channels = layers[from].channels;
                if per_group * groups != in_channels {
                    continue;
                }
                let per_out_group = out_channels / groups;
                let data = conv.weight.data();
                let kernel = kh * kw;
                for o in 0..out_channels {
                    let group = o / per_out_group;
                    for local in 0..per_group {
                        let start = (o * per_group + local) * kernel;
                        let weight: f32 =
                            data.get(start..start + kernel).map_or(0.0, |w| w.iter().sum());
                        connect(&mut out, (from, group * per_group + local), (to, o), weight);
                    }
                }
            }
            Op::ConvTranspose2d(conv) => {
                let Some(Some(from)) = sources.first().copied() else { continue };
                let &[in_channels, per_group, kh, kw] = conv.weight.shape() else { continue };
                let groups = conv.groups.max(1);
                if in_channels != layers[from].channels
                    || per_group * groups != channels
                    || in_channels % groups != 0
                {
                    continue;
                }
                let per_in_group = in_channels / groups;
                let data = conv.weight.data();
                let kernel = kh * kw;
                for i in 0..in_channels {
                    let group = i / per_in_group;
                    for local in 0..per_group {
                        let start = (i * per_group + local) * kernel;
                        let weight: f32 =
                            data.get(start..start + kernel).map_or(0.0, |w| w.iter().sum());
                        connect(&mut out, (from, i), (to, group * per_group + local), weight);
                    }
                }
            }
            Op::Linear(linear) => {
                let Some(Some(from)) = sources.first().copied() else { continue };
                let &[k_in, n_out] = linear.weight.shape() else { continue };
                if n_out != channels || k_in != layers[from].channels {
                    continue;
                }
                let data = linear.weight.data();
                for i in 0..k_in {
                    for o in 0..n_out {
                        let weight = data.get(i * n_out + o).copied().unwrap_or(0.0);
                        connect(&mut out, (from, i), (to, o), weight);
                    }
                }
            }
            Op::Add | Op::Sub => {
                for (position, from) in sources.iter().enumerate() {
                    let Some(from) = *from else { continue };
                    if layers[from].channels != channels {
                        continue;
                    }
                    let weight =
                        if matches!(node.op, Op::Sub) && position == 1 { -1.0 } else { 1.0 };
                    for o in 0..channels {
                        connect(&mut out, (from, o), (to, o), weight);
                    }
                }
            }
            op if is_one_to_one(op) => {
                let Some(Some(from)) = sources.first().copied() else { continue };
                if layers[from].channels != channels {
                    continue;
                }
                for o in 0..channels {
                    connect(&mut out, (from, o), (to, o), 1.0);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Conv2d, Dim, HostTensor, Padding2d};

    fn conv(out: usize, per_group: usize, groups: usize, weights: Vec<f32>) -> Op {
        Op::Conv2d(Conv2d {
            weight: HostTensor::new(vec![out, per_group, 1, 1], weights).unwrap(),
            bias: None,
            stride: [1, 1],
            padding: Padding2d::Valid,
            dilation: [1, 1],
            groups,
        })
    }

    #[test]
    fn convolutions_depthwise_and_residual_adds_connect_as_documented() {
        let mut graph =
            Graph::new("input", [Dim::Fixed(1), Dim::Fixed(2), Dim::Fixed(4), Dim::Fixed(4)]);
        // a = conv 2 -> 3 (input is not a source), r = relu(a), b = depthwise on r,
        // c = 1x1 project 3 -> 2, d = c + c0 where c0 = conv 2 -> 2 on the input.
        let a = graph
            .add_node("a", conv(3, 2, 1, vec![1.0, 2.0, 3.0, -4.0, 5.0, 6.0]), &[ValueId::INPUT])
            .unwrap();
        let r = graph.add_node("r", Op::Relu, &[a]).unwrap();
        let b = graph.add_node("b", conv(3, 1, 3, vec![0.5, -7.0, 2.0]), &[r]).unwrap();
        let c =
            graph.add_node("c", conv(2, 3, 1, vec![1.0, 0.0, -9.0, 0.1, 0.2, 0.3]), &[b]).unwrap();
        let c0 = graph
            .add_node("c0", conv(2, 2, 1, vec![1.0, 1.0, 1.0, 1.0]), &[ValueId::INPUT])
            .unwrap();
        let d = graph.add_node("d", Op::Add, &[c, c0]).unwrap();
        graph.set_outputs(&[d]).unwrap();
        let all = graph.layers([4, 4]).unwrap();
        let names = ["a", "b", "c", "c0", "d"];
        let layers: Vec<LayerInfo> =
            all.into_iter().filter(|l| names.contains(&l.name.as_str())).collect();
        assert_eq!(layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), names);
        let links = circuits(&graph, &layers, 2);
        assert!(links[0].iter().all(|u| u.inputs.is_empty()), "the input is not a layer");
        // Depthwise: b:1 <- a:1 (through the relu) with -7.
        assert_eq!(links[1][1].inputs, vec![Link { layer: 0, unit: 1, weight: -7.0 }]);
        // Project: c:0 <- b:2 (-9) then b:0 (1); b:1 has weight 0 and is third.
        assert_eq!(
            links[2][0].inputs,
            vec![Link { layer: 1, unit: 2, weight: -9.0 }, Link { layer: 1, unit: 0, weight: 1.0 },]
        );
        // Residual: d:1 <- c:1 and c0:1, weight 1 each.
        assert_eq!(
            links[4][1].inputs,
            vec![Link { layer: 2, unit: 1, weight: 1.0 }, Link { layer: 3, unit: 1, weight: 1.0 },]
        );
        // Outputs are the same links seen from the other end: a:1 feeds b:1 only.
        assert_eq!(links[0][1].outputs, vec![Link { layer: 1, unit: 1, weight: -7.0 }]);
        assert_eq!(links[2][0].outputs, vec![Link { layer: 4, unit: 0, weight: 1.0 }]);
    }
}
