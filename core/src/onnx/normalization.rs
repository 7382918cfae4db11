//! Normalisations over axes, as means, differences and square roots of graph operators:
//! `InstanceNormalization` (each channel of each image over its spatial axes, then a
//! per-channel scale and shift), `LayerNormalization` (over `axis` and every later axis, then
//! an element-wise scale and shift).

use super::OnnxError;
use super::attributes::Attributes;
use super::import::{Importer, Sym};
use super::proto::NodeProto;
use crate::graph::{HostTensor, Op, Unary, ValueId, normalize_axis};

impl<'a> Importer<'a> {
    /// Lowers `node` when it is one of this module's normalisations: `Some` with the value it
    /// computes, `None` for other operators.
    pub(crate) fn compose_normalization(
        &mut self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        name: &str,
    ) -> Result<Option<Sym>, OnnxError> {
        let op = node.op_type.as_str();
        let value = match op {
            "InstanceNormalization" => {
                let x = self.value(node, attrs, 0)?;
                let rank = self.graph.rank(x).unwrap_or(0);
                if rank < 3 {
                    return Err(attrs.invalid(format!("needs an input of rank 3 or 4, got {rank}")));
                }
                let epsilon = epsilon(attrs)?;
                let normalized = self.normalize(name, x, (2..rank).collect(), epsilon)?;
                // Per-channel parameters on axis 1: `[C, 1, ...]` broadcasts from the end.
                let per_channel = |c: &super::tensor::Constant, what: &str| {
                    let mut shape = vec![c.len()];
                    shape.resize(rank - 1, 1);
                    HostTensor::new(shape, c.floats())
                        .map_err(|e| attrs.invalid(format!("{what}: {e}")))
                };
                let (Some(scale), Some(bias)) =
                    (self.weight(node, attrs, 1)?, self.weight(node, attrs, 2)?)
                else {
                    return Err(attrs.invalid("needs a scale and a bias"));
                };
                let scale = per_channel(&scale, "scale")?;
                let bias = per_channel(&bias, "bias")?;
                let scale = self.graph.add_node(
                    &format!("const.{name}/scale"),
                    Op::Constant(scale),
                    &[],
                )?;
                let bias =
                    self.graph.add_node(&format!("const.{name}/bias"), Op::Constant(bias), &[])?;
                let scaled = self.graph.add_node(
                    &format!("{name}/scaled"),
                    Op::Mul,
                    &[normalized, scale],
                )?;
                self.graph.add_node(name, Op::Add, &[scaled, bias])?
            }
            "LayerNormalization" => {
                let x = self.value(node, attrs, 0)?;
                let rank = self.graph.rank(x).unwrap_or(0);
                let axis = normalize_axis(attrs.int_or("axis", -1)?, rank, false)
                    .map_err(|e| attrs.invalid(e))?;
                let normalized =
                    self.normalize(name, x, (axis..rank).collect(), epsilon(attrs)?)?;
                let scale = self.value(node, attrs, 1)?;
                let has_bias = node.input.get(2).is_some_and(|b| !b.is_empty());
                if has_bias {
                    let scaled = self.graph.add_node(
                        &format!("{name}/scaled"),
                        Op::Mul,
                        &[normalized, scale],
                    )?;
                    let bias = self.value(node, attrs, 2)?;
                    self.graph.add_node(name, Op::Add, &[scaled, bias])?
                } else {
                    self.graph.add_node(name, Op::Mul, &[normalized, scale])?
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(Sym::Value(value)))
    }

    /// `(x - mean) / sqrt(var + epsilon)` with mean and (biased) variance over `axes`.
    fn normalize(
        &mut self,
        name: &str,
        x: ValueId,
        axes: Vec<usize>,
        epsilon: f32,
    ) -> Result<ValueId, OnnxError> {
        let mean = self.graph.add_node(
            &format!("{name}/mean"),
            Op::ReduceMean { axes: axes.clone() },
            &[x],
        )?;
        let centred = self.graph.add_node(&format!("{name}/centred"), Op::Sub, &[x, mean])?;
        let square =
            self.graph.add_node(&format!("{name}/square"), Op::Mul, &[centred, centred])?;
        let var =
            self.graph.add_node(&format!("{name}/var"), Op::ReduceMean { axes }, &[square])?;
        let shifted = self.binary_scalar(&format!("{name}/var_eps"), Op::Add, var, epsilon)?;
        let std = self.unary(&format!("{name}/std"), Unary::Sqrt, shifted)?;
        Ok(self.graph.add_node(&format!("{name}/normalized"), Op::Div, &[centred, std])?)
    }
}

/// The `epsilon` attribute (1e-5 when absent), finite and not negative.
fn epsilon(attrs: &Attributes<'_>) -> Result<f32, OnnxError> {
    let epsilon = attrs.float("epsilon")?.unwrap_or(1e-5);
    if !(epsilon.is_finite() && epsilon >= 0.0) {
        return Err(attrs.invalid(format!("epsilon {epsilon} is not a finite non-negative number")));
    }
    Ok(epsilon)
}
