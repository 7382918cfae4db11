//! An executable graph: the kernels of a [`Graph`] with their weights on one device, and the
//! forward pass that returns requested values and runs only the nodes they need.
//!
//! Nothing here reads values back from the device, so it runs unchanged in the browser, and
//! it works on autodiff devices: gradients flow from any returned value back to the input.

use burn::prelude::*;

use super::activations::Activations;
use super::kernel::{Kernel, nchw_shape, storage_shape};
use super::shape::{Skeleton, infer_until};
use super::{Graph, GraphError, GraphInput, ValueId};

/// A [`Graph`] on one device, ready to run (see [`Graph::to_device`]).
///
/// It keeps no host weights, only the structure needed to infer shapes. Cloning is cheap
/// (tensors are shared).
#[derive(Clone)]
pub struct Executable {
    input: GraphInput,
    nodes: Vec<Skeleton>,
    kernels: Vec<Kernel>,
    outputs: Vec<ValueId>,
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executable")
            .field("input", &self.input.describe())
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

impl Graph {
    /// Uploads the weights to `device`: the executable form of this graph.
    pub fn to_device(&self, device: &Device) -> Executable {
        Executable {
            input: self.input().clone(),
            nodes: Skeleton::of(self),
            kernels: self.nodes().iter().map(|n| Kernel::new(n, device)).collect(),
            outputs: self.outputs().to_vec(),
        }
    }
}

impl Executable {
    /// The graph's input.
    pub fn input(&self) -> &GraphInput {
        &self.input
    }

    /// The graph's outputs.
    pub fn outputs(&self) -> &[ValueId] {
        &self.outputs
    }

    /// The value called `name` (the input's name or a node's).
    pub fn value(&self, name: &str) -> Option<ValueId> {
        if name == self.input.name {
            return Some(ValueId::INPUT);
        }
        self.nodes.iter().position(|n| n.name == name).map(|i| ValueId::from_index(i + 1))
    }

    /// The name of `value`.
    pub fn value_name(&self, value: ValueId) -> Option<&str> {
        match value.node() {
            None => Some(&self.input.name),
            Some(i) => self.nodes.get(i).map(|n| n.name.as_str()),
        }
    }

    /// Runs the graph on `input` and returns the values in `taps` (duplicates allowed),
    /// running only the nodes they depend on and stopping as soon as all are computed. An
    /// empty `taps` computes nothing.
    ///
    /// Shapes are inferred on the host first: an input the graph cannot take fails with
    /// [`GraphError::InvalidInput`] or [`GraphError::Shape`] before any tensor work, and an
    /// unknown tap with [`GraphError::UnknownLayer`]. Works on any device, with or without
    /// autodiff.
    ///
    /// # Shapes
    /// - `input`: `[N, C, H, W]` with the declared channel count; any `N, H, W > 0` the graph
    ///   can take
    /// - returns: each value in NCHW form (see [`Activations`]): its shape from
    ///   [`Graph::infer_shapes`], padded with trailing 1s to rank 4
    pub fn forward(&self, input: Tensor<4>, taps: &[ValueId]) -> Result<Activations, GraphError> {
        let count = self.nodes.len() + 1;
        let mut tapped = vec![false; count];
        for tap in taps {
            match tapped.get_mut(tap.index()) {
                Some(t) => *t = true,
                None => return Err(GraphError::UnknownLayer(tap.to_string())),
            }
        }
        let mut found = Activations::default();
        if taps.is_empty() {
            return Ok(found);
        }
        // The nodes the taps depend on (inputs always come earlier, so one backward sweep).
        let mut needed: Vec<bool> = tapped.iter().skip(1).copied().collect();
        for i in (0..self.nodes.len()).rev() {
            if needed.get(i).copied().unwrap_or(false)
                && let Some(node) = self.nodes.get(i)
            {
                for v in &node.inputs {
                    if let Some(n) = v.node().and_then(|j| needed.get_mut(j)) {
                        *n = true;
                    }
                }
            }
        }
        let shapes = infer_until(&self.input, &self.nodes, input.dims(), &needed)?;
        // How many needed nodes still read each value, so values are dropped after last use.
        let mut remaining = vec![0usize; count];
        for (node, _) in self.nodes.iter().zip(&needed).filter(|(_, n)| **n) {
            for v in &node.inputs {
                if let Some(r) = remaining.get_mut(v.index()) {
                    *r += 1;
                }
            }
        }
        let mut values: Vec<Option<Tensor<4>>> = vec![None; count];
        if tapped.first() == Some(&true) {
            found.entries.push((ValueId::INPUT, input.clone()));
        }
        if let Some(slot) = values.first_mut() {
            *slot = Some(input);
        }
        let last = needed.iter().rposition(|&n| n).unwrap_or(0);
        for (i, (node, kernel)) in self.nodes.iter().zip(&self.kernels).enumerate().take(last + 1) {
            if !needed.get(i).copied().unwrap_or(false) {
                continue;
            }
            let fail = |reason: &str| GraphError::Shape {
                node: node.name.clone(),
                op: node.kind,
                reason: reason.to_owned(),
            };
            let mut inputs = Vec::with_capacity(node.inputs.len());
            let mut in_shapes: Vec<&[usize]> = Vec::with_capacity(node.inputs.len());
            for v in &node.inputs {
                let (Some(slot), Some(left)) =
                    (values.get_mut(v.index()), remaining.get_mut(v.index()))
                else {
                    return Err(fail("reads an unknown value"));
                };
                *left = left.saturating_sub(1);
                let tensor = if *left == 0 { slot.take() } else { slot.clone() };
                inputs.push(tensor.ok_or_else(|| fail("reads a value that was not computed"))?);
                in_shapes.push(shapes.get(v.index()).and_then(Option::as_deref).unwrap_or(&[]));
            }
            let out_shape = shapes.get(i + 1).and_then(Option::as_deref).unwrap_or(&[]);
            let out =
                kernel.run(inputs, &in_shapes, out_shape).ok_or_else(|| fail("missing input"))?;
            // Shape metadata only (no readback): later kernels rely on the inferred shapes.
            if out.dims() != storage_shape(out_shape) {
                let reason =
                    format!("the backend gave {:?} where {out_shape:?} was inferred", out.dims());
                return Err(fail(&reason));
            }
            let id = ValueId::from_index(i + 1);
            if tapped.get(id.index()) == Some(&true) {
                found.entries.push((id, out.clone().reshape(nchw_shape(out_shape))));
            }
            if remaining.get(id.index()).copied().unwrap_or(0) > 0
                && let Some(slot) = values.get_mut(id.index())
            {
                *slot = Some(out);
            }
        }
        Ok(found)
    }

    /// The first graph output for `input` (e.g. the logits), in NCHW form (`[N, C, 1, 1]`
    /// for `[N, C]`).
    ///
    /// # Shapes
    /// - `input`: `[N, C, H, W]`
    /// - returns: the output's shape padded with trailing 1s to rank 4
    pub fn output(&self, input: Tensor<4>) -> Result<Tensor<4>, GraphError> {
        let &first = self.outputs.first().ok_or(GraphError::NoOutput)?;
        let mut found = self.forward(input, &[first])?;
        found.remove(first).ok_or(GraphError::NoOutput)
    }
}
