//! Cutting a value along one axis: `Split` (each output a [`Op::Slice`] of the input; sizes
//! from the `split` attribute before opset 13, the second input after, or equal parts, with
//! opset 18's `num_outputs`) and `Slice` of a computed value with unit steps (one
//! [`Op::Slice`] per sliced axis). `Slice` of constants folds before this (see `fold`).

use super::OnnxError;
use super::attributes::Attributes;
use super::import::{Importer, Sym};
use super::proto::NodeProto;
use crate::graph::{Op, ValueId, normalize_axis};

impl<'a> Importer<'a> {
    /// Lowers `node` when it is a `Split` or `Slice` of a value, binding its outputs: whether
    /// it was one.
    pub(crate) fn lower_split(
        &mut self,
        node: &'a NodeProto,
        attrs: &Attributes<'_>,
        name: &str,
    ) -> Result<bool, OnnxError> {
        match node.op_type.as_str() {
            "Split" => {
                let x = self.value(node, attrs, 0)?;
                let shape = self.shape_for(x, attrs)?;
                let axis = normalize_axis(attrs.int_or("axis", 0)?, shape.len(), false)
                    .map_err(|e| attrs.invalid(e))?;
                let size = shape.get(axis).copied().unwrap_or(0);
                let sizes = self.split_sizes(node, attrs, size)?;
                let mut start = 0usize;
                for (i, (output, part)) in node.output.iter().zip(sizes).enumerate() {
                    let end = start + part;
                    if !output.is_empty() {
                        let slice = self.graph.add_node(
                            &format!("{name}/{i}"),
                            Op::Slice { axis: axis as i64, start, end },
                            &[x],
                        )?;
                        self.env.insert(output.as_str(), Sym::Value(slice));
                    }
                    start = end;
                }
                Ok(true)
            }
            "Slice" => {
                let x = self.value(node, attrs, 0)?;
                let value = self.slice(node, attrs, name, x)?;
                self.env.insert(
                    node.output.first().map(String::as_str).unwrap_or_default(),
                    Sym::Value(value),
                );
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The size of each output of a `Split` of an axis of `size` positions.
    fn split_sizes(
        &self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        size: usize,
    ) -> Result<Vec<usize>, OnnxError> {
        let given: Option<Vec<i64>> = match attrs.ints("split")? {
            Some(s) => Some(s.to_vec()),
            None => match self.weight(node, attrs, 1)? {
                Some(c) => {
                    Some(c.ints().ok_or_else(|| attrs.invalid("split must be int64"))?.to_vec())
                }
                None => None,
            },
        };
        let outputs = node.output.len();
        let sizes: Vec<usize> = match given {
            Some(s) => {
                if s.len() != outputs || s.iter().any(|&p| p < 0) {
                    return Err(attrs.invalid(format!(
                        "split {s:?} does not give a size to each of {outputs} outputs"
                    )));
                }
                s.iter().map(|&p| p as usize).collect()
            }
            None => {
                let parts = match attrs.int("num_outputs")? {
                    Some(n) if usize::try_from(n).ok() == Some(outputs) => outputs,
                    Some(n) => {
                        return Err(attrs.invalid(format!("num_outputs {n} but {outputs} outputs")));
                    }
                    None => outputs,
                };
                if parts == 0 {
                    return Err(attrs.invalid("has no output"));
                }
                // Equal parts, the last one smaller when the axis does not divide (opset 18).
                let part = size.div_ceil(parts);
                (0..parts).map(|i| part.min(size.saturating_sub(i * part))).collect()
            }
        };
        if sizes.iter().sum::<usize>() != size || sizes.contains(&0) {
            return Err(attrs.invalid(format!(
                "parts {sizes:?} do not cut the axis of {size} positions into non-empty pieces"
            )));
        }
        Ok(sizes)
    }

    /// `Slice` of the value `x` with unit steps: one [`Op::Slice`] per axis it cuts.
    fn slice(
        &mut self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        name: &str,
        x: ValueId,
    ) -> Result<ValueId, OnnxError> {
        let shape = self.shape_for(x, attrs)?;
        let rank = shape.len();
        // Opset < 10: attributes; later: constant inputs.
        let list = |this: &Self, key: &str, i: usize| -> Result<Option<Vec<i64>>, OnnxError> {
            if let Some(v) = attrs.ints(key)? {
                return Ok(Some(v.to_vec()));
            }
            match this.weight(node, attrs, i)? {
                Some(c) => Ok(Some(
                    c.ints().ok_or_else(|| attrs.invalid(format!("{key} must be int64")))?.to_vec(),
                )),
                None => Ok(None),
            }
        };
        let starts = list(self, "starts", 1)?.ok_or_else(|| attrs.invalid("needs starts"))?;
        let ends = list(self, "ends", 2)?.ok_or_else(|| attrs.invalid("needs ends"))?;
        let axes = list(self, "axes", 3)?.unwrap_or_else(|| (0..starts.len() as i64).collect());
        if let Some(steps) = list(self, "steps", 4)?
            && steps.iter().any(|&s| s != 1)
        {
            return Err(attrs.unsupported(format!("steps {steps:?} (only 1)")));
        }
        if starts.len() != ends.len() || axes.len() != starts.len() {
            return Err(attrs.invalid("starts, ends and axes differ in length"));
        }
        let mut value = x;
        let cuts: Vec<(usize, i64, i64)> = axes
            .iter()
            .zip(starts.iter().zip(&ends))
            .map(|(&a, (&s, &e))| {
                normalize_axis(a, rank, false).map(|a| (a, s, e)).map_err(|e| attrs.invalid(e))
            })
            .collect::<Result<_, _>>()?;
        let count = cuts.len();
        for (i, (axis, s, e)) in cuts.into_iter().enumerate() {
            let size = shape.get(axis).copied().unwrap_or(0) as i64;
            let clamp = |v: i64| (if v < 0 { v.saturating_add(size) } else { v }).clamp(0, size);
            let (start, end) = (clamp(s) as usize, clamp(e) as usize);
            if (start, end) == (0, size as usize) {
                continue;
            }
            if start >= end {
                return Err(attrs.invalid(format!("keeps nothing of axis {axis} ({s}..{e})")));
            }
            let node_name = if i + 1 == count { name.to_owned() } else { format!("{name}/{axis}") };
            value = self.graph.add_node(
                &node_name,
                Op::Slice { axis: axis as i64, start, end },
                &[value],
            )?;
        }
        if value == x {
            value = self.graph.add_node(name, Op::Identity, &[x])?;
        }
        Ok(value)
    }
}
