//! Operators written as the graph operators the built-in models use, so feature
//! visualization, receptive fields and circuits need nothing new: `HardSigmoid` and
//! `HardSwish` (MobileNetV3) as scale, shift and clip; `LeakyRelu` as a blend of the input and
//! its ReLU; `PRelu` likewise with a slope tensor; `Max` and `Min` of values as sums with a
//! ReLU of the difference; `ReduceMean`, `ReduceSum`, `ReduceL2` and `ReduceMax` over the
//! spatial axes as global pools (the first three over other axes as a mean); and the
//! layout operators `Unsqueeze`, `Squeeze`, `Transpose` (where it only moves axes of size 1)
//! and `Cast` to float on values as reshapes or aliases.

use super::OnnxError;
use super::attributes::Attributes;
use super::fold::{squeezed, unsqueezed};
use super::import::{Importer, Sym};
use super::proto::{NodeProto, data_type};
use crate::graph::{HostTensor, Op, Padding2d, Pool2d, Unary, ValueId, normalize_axis};

impl<'a> Importer<'a> {
    /// Lowers `node` when it is one of this module's operators on a value: `Some` with the
    /// value it computes, `None` for other operators.
    pub(crate) fn compose(
        &mut self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        name: &str,
    ) -> Result<Option<Sym>, OnnxError> {
        let op = node.op_type.as_str();
        let composed = match op {
            "HardSigmoid" | "HardSwish" => {
                let x = self.value(node, attrs, 0)?;
                let (alpha, beta) = if op == "HardSwish" {
                    (1.0 / 6.0, 0.5)
                } else {
                    (attrs.float("alpha")?.unwrap_or(0.2), attrs.float("beta")?.unwrap_or(0.5))
                };
                let gate_name =
                    if op == "HardSwish" { format!("{name}/gate") } else { name.to_owned() };
                let scaled = self.binary_scalar(&format!("{name}/scale"), Op::Mul, x, alpha)?;
                let shifted =
                    self.binary_scalar(&format!("{name}/shift"), Op::Add, scaled, beta)?;
                let gate =
                    self.graph.add_node(&gate_name, Op::Clip { min: 0.0, max: 1.0 }, &[shifted])?;
                if op == "HardSwish" {
                    self.graph.add_node(name, Op::Mul, &[x, gate])?
                } else {
                    gate
                }
            }
            "LeakyRelu" => {
                // alpha * x + (1 - alpha) * relu(x)
                let x = self.value(node, attrs, 0)?;
                let alpha = attrs.float("alpha")?.unwrap_or(0.01);
                let relu = self.graph.add_node(&format!("{name}/relu"), Op::Relu, &[x])?;
                let kept =
                    self.binary_scalar(&format!("{name}/positive"), Op::Mul, relu, 1.0 - alpha)?;
                let leak = self.binary_scalar(&format!("{name}/leak"), Op::Mul, x, alpha)?;
                self.graph.add_node(name, Op::Add, &[leak, kept])?
            }
            "PRelu" => {
                // relu(x) + slope * (x - relu(x)); the slope (per channel as PyTorch writes
                // it, `[C, 1, 1]`) broadcasts.
                let x = self.value(node, attrs, 0)?;
                let slope = self.value(node, attrs, 1)?;
                let relu = self.graph.add_node(&format!("{name}/relu"), Op::Relu, &[x])?;
                let negative =
                    self.graph.add_node(&format!("{name}/negative"), Op::Sub, &[x, relu])?;
                let leak =
                    self.graph.add_node(&format!("{name}/leak"), Op::Mul, &[negative, slope])?;
                self.graph.add_node(name, Op::Add, &[relu, leak])?
            }
            "Max" | "Min" => {
                // max(a, b) = a + relu(b - a); min(a, b) = a - relu(a - b); left to right.
                let count = node.input.len();
                if count == 0 {
                    return Err(attrs.invalid("needs at least one input"));
                }
                let mut acc = self.value(node, attrs, 0)?;
                for i in 1..count {
                    let other = self.value(node, attrs, i)?;
                    let (step, last) = (format!("{name}/{i}"), i + 1 == count);
                    let (from, to) = if op == "Max" { (other, acc) } else { (acc, other) };
                    let gap = self.graph.add_node(&format!("{step}/gap"), Op::Sub, &[from, to])?;
                    let over = self.graph.add_node(&format!("{step}/relu"), Op::Relu, &[gap])?;
                    let combine = if op == "Max" { Op::Add } else { Op::Sub };
                    let out_name = if last { name.to_owned() } else { step };
                    acc = self.graph.add_node(&out_name, combine, &[acc, over])?;
                }
                acc
            }
            "ReduceMean" | "ReduceMax" | "ReduceSum" | "ReduceL2" => {
                let x = self.value(node, attrs, 0)?;
                let rank = self.graph.rank(x).unwrap_or(0);
                let axes = match attrs.ints("axes")? {
                    Some(a) => Some(a.to_vec()),
                    None => match self.weight(node, attrs, 1)? {
                        Some(c) => Some(
                            c.ints().ok_or_else(|| attrs.invalid("axes must be int64"))?.to_vec(),
                        ),
                        None => None,
                    },
                };
                let mut axes: Vec<usize> = match axes {
                    Some(a) if !a.is_empty() => a
                        .iter()
                        .map(|&a| normalize_axis(a, rank, false).map_err(|e| attrs.invalid(e)))
                        .collect::<Result<_, _>>()?,
                    _ => (0..rank).collect(),
                };
                axes.sort_unstable();
                axes.dedup();
                // The spatial pair of NCHW is a global pool (the built-ins' operator); other
                // axes (a channel mean in a layer norm) a mean over them.
                let spatial = rank == 4 && axes == [2, 3];
                let keep = attrs.int_or("keepdims", 1)? != 0;
                let reduced_name = if keep { name.to_owned() } else { format!("{name}/reduce") };
                let reduced = match op {
                    "ReduceMax" => {
                        if !spatial {
                            return Err(attrs.unsupported(format!(
                                "maximum over axes {axes:?} of a rank-{rank} value (only the spatial axes [2, 3] of NCHW)"
                            )));
                        }
                        // A max pool over the whole map, whose size must then be known.
                        let shape = self.shape_for(x, attrs)?;
                        let (h, w) = (
                            shape.get(2).copied().unwrap_or(1),
                            shape.get(3).copied().unwrap_or(1),
                        );
                        let pool = Op::MaxPool(Pool2d {
                            kernel: [h, w],
                            stride: [1, 1],
                            padding: Padding2d::Valid,
                            dilation: [1, 1],
                            ceil_mode: false,
                        });
                        self.graph.add_node(&reduced_name, pool, &[x])?
                    }
                    "ReduceMean" => self.mean_over(&reduced_name, x, &axes, spatial)?,
                    _ => {
                        // A sum is the mean times the number of positions reduced (whose
                        // sizes must then be known); an L2 norm the root of the sum of squares.
                        let shape = self.shape_for(x, attrs)?;
                        let count: usize =
                            axes.iter().map(|&a| shape.get(a).copied().unwrap_or(1)).product();
                        let input = if op == "ReduceL2" {
                            self.graph.add_node(&format!("{name}/square"), Op::Mul, &[x, x])?
                        } else {
                            x
                        };
                        let mean =
                            self.mean_over(&format!("{name}/mean"), input, &axes, spatial)?;
                        let sum_name = if op == "ReduceSum" {
                            reduced_name.clone()
                        } else {
                            format!("{name}/sum")
                        };
                        let sum = self.binary_scalar(&sum_name, Op::Mul, mean, count as f32)?;
                        if op == "ReduceSum" {
                            sum
                        } else {
                            self.unary(&reduced_name, Unary::Sqrt, sum)?
                        }
                    }
                };
                if keep {
                    reduced
                } else if spatial {
                    self.graph.add_node(name, Op::Flatten { axis: 1 }, &[reduced])?
                } else {
                    let shape = self.shape_for(x, attrs)?;
                    let mut target: Vec<i64> = shape
                        .iter()
                        .enumerate()
                        .filter(|(a, _)| !axes.contains(a))
                        .map(|(_, &d)| d as i64)
                        .collect();
                    if target.is_empty() {
                        return Err(attrs.unsupported("a reduction to a scalar"));
                    }
                    // The batch axis stays "as the input's" so any batch size runs.
                    if !axes.contains(&0)
                        && let Some(first) = target.first_mut()
                    {
                        *first = 0;
                    }
                    self.graph.add_node(
                        name,
                        Op::Reshape { shape: target, allow_zero: false },
                        &[reduced],
                    )?
                }
            }
            "Unsqueeze" | "Squeeze" | "Transpose" => {
                let x = self.value(node, attrs, 0)?;
                let shape = self.shape_for(x, attrs)?;
                let rank = shape.len();
                // The output shape, and whether the output's axis 0 is the input's (then
                // it stays "copy the input's" (0), so the graph still takes any batch size).
                let (target, keeps_batch): (Vec<usize>, bool) = if op == "Transpose" {
                    let perm: Vec<usize> = match attrs.ints("perm")? {
                        Some(p) => p
                            .iter()
                            .map(|&a| normalize_axis(a, rank, false).map_err(|e| attrs.invalid(e)))
                            .collect::<Result<_, _>>()?,
                        None => (0..rank).rev().collect(),
                    };
                    let mut seen = perm.clone();
                    seen.sort_unstable();
                    if seen != (0..rank).collect::<Vec<_>>() {
                        return Err(attrs.invalid(format!("perm {perm:?} is not a permutation")));
                    }
                    // Only a transpose that keeps the order of the axes larger than 1 is a
                    // reshape.
                    let moved: Vec<usize> =
                        perm.iter().copied().filter(|&a| shape.get(a) != Some(&1)).collect();
                    if moved.windows(2).any(|w| w.first() > w.get(1)) {
                        return Err(attrs.unsupported(format!(
                            "transpose {perm:?} of {shape:?} moves data (only axes of size 1 may move)"
                        )));
                    }
                    let target = perm.iter().map(|&a| shape.get(a).copied().unwrap_or(1)).collect();
                    (target, perm.first() == Some(&0))
                } else {
                    let axes = match attrs.ints("axes")? {
                        Some(a) => Some(a.to_vec()),
                        None => match self.weight(node, attrs, 1)? {
                            Some(c) => Some(
                                c.ints()
                                    .ok_or_else(|| attrs.invalid("axes must be int64"))?
                                    .to_vec(),
                            ),
                            None => None,
                        },
                    };
                    let out_rank = if op == "Unsqueeze" {
                        rank + axes.as_ref().map_or(0, Vec::len)
                    } else {
                        rank
                    };
                    let touches_batch = match &axes {
                        Some(a) => a.iter().any(|&a| normalize_axis(a, out_rank, false) == Ok(0)),
                        None => op == "Squeeze" && shape.first() == Some(&1),
                    };
                    let target = if op == "Unsqueeze" {
                        unsqueezed(&shape, &axes.unwrap_or_default())
                    } else {
                        squeezed(&shape, axes.as_deref())
                    }
                    .map_err(|e| attrs.invalid(e))?;
                    (target, !touches_batch)
                };
                let mut target: Vec<i64> = target.iter().map(|&d| d as i64).collect();
                if keeps_batch && let Some(first) = target.first_mut() {
                    *first = 0;
                }
                self.graph.add_node(name, Op::Reshape { shape: target, allow_zero: false }, &[x])?
            }
            "Cast" => {
                let to = attrs.int("to")?.ok_or_else(|| attrs.invalid("needs `to`"))?;
                let float = [data_type::FLOAT, data_type::DOUBLE, data_type::FLOAT16]
                    .iter()
                    .any(|&t| i64::from(t) == to);
                if !float {
                    return Err(attrs
                        .unsupported(format!("cast of a value to type {to} (values are float)")));
                }
                return Ok(Some(self.sym(node, attrs, 0)?));
            }
            _ => return Ok(None),
        };
        Ok(Some(Sym::Value(composed)))
    }

    /// `x op c` for a scalar constant `c`, as a node called `name`.
    pub(crate) fn binary_scalar(
        &mut self,
        name: &str,
        op: Op,
        x: ValueId,
        c: f32,
    ) -> Result<ValueId, OnnxError> {
        let constant = self.scalar(name, c)?;
        Ok(self.graph.add_node(name, op, &[x, constant])?)
    }

    /// The scalar `c` as a constant value named `const.{name}`.
    pub(crate) fn scalar(&mut self, name: &str, c: f32) -> Result<ValueId, OnnxError> {
        Ok(self.graph.add_node(
            &format!("const.{name}"),
            Op::Constant(HostTensor::scalar(c)),
            &[],
        )?)
    }

    /// The mean of `x` over sorted `axes` as a node called `name`: a global pool when they are
    /// the spatial pair of NCHW (`spatial`).
    fn mean_over(
        &mut self,
        name: &str,
        x: ValueId,
        axes: &[usize],
        spatial: bool,
    ) -> Result<ValueId, OnnxError> {
        let op =
            if spatial { Op::GlobalAveragePool } else { Op::ReduceMean { axes: axes.to_vec() } };
        Ok(self.graph.add_node(name, op, &[x])?)
    }

    /// The shape of `x`, or an unsupported-node error saying why it is unknown.
    pub(crate) fn shape_for(
        &self,
        x: ValueId,
        attrs: &Attributes<'_>,
    ) -> Result<Vec<usize>, OnnxError> {
        self.value_shape(x)
            .map_err(|reason| attrs.unsupported(format!("needs the input's shape: {reason}")))
    }
}
