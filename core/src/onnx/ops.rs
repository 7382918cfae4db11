//! Lowering ONNX operators to graph operators, with their opset variants: `Clip` bounds as
//! attributes (opset < 11) or inputs, `Pad` pads as attributes or inputs (with opset-18
//! `axes`), `Reshape` shape as attribute or constant input, `Resize` in its opset-10 and
//! opset-11+ forms, `Upsample`, `Gemm` folded to a fully connected layer, `Dropout` and
//! `Identity` as aliases, `Constant` nodes as weights.

use std::rc::Rc;

use super::OnnxError;
use super::attributes::Attributes;
use super::import::{Importer, Sym, display_name};
use super::proto::NodeProto;
use super::tensor::{Constant, Values, decode};
use crate::graph::{
    BatchNorm, Conv2d, ConvTranspose2d, CoordinateTransform, HostTensor, Linear, NearestMode, Op,
    Pad, PadMode, Padding2d, Pool2d, Resize, ResizeMode, ResizeTarget, ValueId, normalize_axis,
};

impl<'a> Importer<'a> {
    /// Adds `node` to the graph (or aliases its output).
    pub(crate) fn lower(&mut self, node: &'a NodeProto) -> Result<(), OnnxError> {
        let name = display_name(node);
        let attrs = Attributes::new(node, &name);
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(unsupported_op(node, &name, self.opset));
        }
        if let Some(c) = self.fold(node, &attrs)? {
            return self.alias(node, Sym::Const(Rc::new(c)));
        }
        if let Some(sym) = self.compose(node, &attrs, &name)? {
            return self.alias(node, sym);
        }
        if let Some(sym) = self.compose_exponential(node, &attrs, &name)? {
            return self.alias(node, sym);
        }
        if let Some(sym) = self.compose_normalization(node, &attrs, &name)? {
            return self.alias(node, sym);
        }
        if self.lower_split(node, &attrs, &name)? {
            return Ok(());
        }
        let op = match node.op_type.as_str() {
            "Identity" | "Dropout" => {
                let sym = self.sym(node, &attrs, 0)?;
                return self.alias(node, sym);
            }
            "Constant" => {
                let c = constant_attribute(&attrs, &name)?;
                return self.alias(node, Sym::Const(Rc::new(c)));
            }
            "Conv" => Op::Conv2d(self.conv(node, &attrs)?),
            "ConvTranspose" => Op::ConvTranspose2d(self.conv_transpose(node, &attrs)?),
            "Shape" | "Gather" | "ConstantOfShape" => {
                return Err(attrs.unsupported(
                    "on a computed value (only shape computations on constants are folded)",
                ));
            }
            "Where" => {
                return Err(attrs
                    .unsupported("on a computed value (only a `Where` of constants is folded)"));
            }
            "BatchNormalization" => {
                if attrs.int_or("training_mode", 0)? != 0 {
                    return Err(attrs.unsupported("training mode"));
                }
                let param =
                    |this: &mut Self, i: usize, what: &str| -> Result<HostTensor, OnnxError> {
                        let c = this
                            .weight(node, &attrs, i)?
                            .ok_or_else(|| attrs.invalid(format!("needs {what}")))?;
                        Ok(c.to_host())
                    };
                Op::BatchNorm(BatchNorm {
                    scale: param(self, 1, "a scale")?,
                    bias: param(self, 2, "a bias")?,
                    mean: param(self, 3, "a mean")?,
                    var: param(self, 4, "a variance")?,
                    epsilon: attrs.float("epsilon")?.unwrap_or(1e-5),
                })
            }
            "Relu" => Op::Relu,
            "Sigmoid" => Op::Sigmoid,
            "Clip" => {
                let (min, max) = if node.input.len() > 1 {
                    let bound =
                        |this: &mut Self, i: usize, default: f32| -> Result<f32, OnnxError> {
                            match this.weight(node, &attrs, i)? {
                                Some(c) => scalar(&c)
                                    .ok_or_else(|| attrs.invalid("bounds must be scalars")),
                                None => Ok(default),
                            }
                        };
                    (bound(self, 1, f32::NEG_INFINITY)?, bound(self, 2, f32::INFINITY)?)
                } else {
                    (
                        attrs.float("min")?.unwrap_or(f32::NEG_INFINITY),
                        attrs.float("max")?.unwrap_or(f32::INFINITY),
                    )
                };
                Op::Clip { min, max }
            }
            "Add" => Op::Add,
            "Sub" => Op::Sub,
            "Mul" => Op::Mul,
            "Div" => Op::Div,
            "Concat" => Op::Concat {
                axis: attrs.int("axis")?.ok_or_else(|| attrs.invalid("needs an axis"))?,
            },
            "MaxPool" => Op::MaxPool(pool(&attrs)?),
            "AveragePool" => Op::AveragePool {
                pool: pool(&attrs)?,
                count_include_pad: attrs.int_or("count_include_pad", 0)? != 0,
            },
            "GlobalAveragePool" => Op::GlobalAveragePool,
            "Gemm" => Op::Linear(self.gemm(node, &attrs)?),
            "MatMul" => Op::MatMul,
            "Flatten" => Op::Flatten { axis: attrs.int_or("axis", 1)? },
            "Reshape" => {
                let shape = match self.weight(node, &attrs, 1)? {
                    Some(c) => {
                        c.ints().ok_or_else(|| attrs.invalid("the shape must be int64"))?.to_vec()
                    }
                    None => {
                        attrs.ints("shape")?.ok_or_else(|| attrs.invalid("needs a shape"))?.to_vec()
                    }
                };
                Op::Reshape { shape, allow_zero: attrs.int_or("allowzero", 0)? != 0 }
            }
            "Pad" => Op::Pad(self.pad(node, &attrs)?),
            "Resize" => Op::Resize(self.resize(node, &attrs)?),
            "Upsample" => Op::Resize(self.upsample(node, &attrs)?),
            "Softmax" => {
                let default = if self.opset < 13 { 1 } else { -1 };
                let axis = attrs.int_or("axis", default)?;
                let rank = self.rank_of(node, &attrs, 0)?;
                let last =
                    normalize_axis(axis, rank, false).map_err(|e| attrs.invalid(e))? + 1 == rank;
                if self.opset < 13 && !last {
                    return Err(attrs.unsupported("opset < 13 softmax over several axes"));
                }
                Op::Softmax { axis }
            }
            _ => return Err(unsupported_op(node, &name, self.opset)),
        };
        let inputs = self.value_inputs(node, &attrs, &op)?;
        let id = self.graph.add_node(&name, op, &inputs)?;
        self.define(node, Sym::Value(id));
        Ok(())
    }

    /// The value inputs of `op` (the weights were taken already).
    fn value_inputs(
        &mut self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        op: &Op,
    ) -> Result<Vec<ValueId>, OnnxError> {
        let count = match op {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::MatMul => 2,
            Op::Concat { .. } => node.input.len(),
            _ => 1,
        };
        (0..count).map(|i| self.value(node, attrs, i)).collect()
    }

    /// Binds the node's first output to `sym`, and its other outputs to [`Sym::ExtraOutput`].
    fn define(&mut self, node: &'a NodeProto, sym: Sym) {
        let mut outputs = node.output.iter().filter(|o| !o.is_empty());
        if let Some(first) = outputs.next() {
            self.env.insert(first.as_str(), sym);
        }
        for other in outputs {
            self.env.insert(other.as_str(), Sym::ExtraOutput);
        }
    }

    /// Binds the node's output to `sym` without adding a node.
    pub(crate) fn alias(&mut self, node: &'a NodeProto, sym: Sym) -> Result<(), OnnxError> {
        self.define(node, sym);
        Ok(())
    }

    /// What input `i` of `node` stands for.
    pub(crate) fn sym(
        &self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        i: usize,
    ) -> Result<Sym, OnnxError> {
        let name = node
            .input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| attrs.invalid(format!("needs input {i}")))?;
        let sym = self.env.get(name.as_str()).cloned();
        match sym {
            Some(Sym::OtherInput) => Err(attrs.unsupported(format!(
                "reads graph input `{name}`; only one graph input is supported"
            ))),
            Some(Sym::ExtraOutput) => {
                Err(attrs
                    .unsupported(format!("reads `{name}`, a secondary output of another node")))
            }
            Some(sym) => Ok(sym),
            None => Err(OnnxError::DanglingInput { node: display_name(node), input: name.clone() }),
        }
    }

    /// Input `i` as a graph value (a constant becomes a `Constant` node).
    pub(crate) fn value(
        &mut self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        i: usize,
    ) -> Result<ValueId, OnnxError> {
        match self.sym(node, attrs, i)? {
            Sym::Value(id) => Ok(id),
            Sym::Const(c) => {
                let name = node.input.get(i).cloned().unwrap_or_default();
                self.materialise(&name, &c)
            }
            Sym::OtherInput | Sym::ExtraOutput => {
                Err(attrs.invalid(format!("input {i} is unavailable")))
            }
        }
    }

    /// Input `i` as a constant (a weight), `None` when absent or empty-named.
    pub(crate) fn weight(
        &self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        i: usize,
    ) -> Result<Option<Rc<Constant>>, OnnxError> {
        let Some(name) = node.input.get(i).filter(|n| !n.is_empty()) else { return Ok(None) };
        match self.env.get(name.as_str()) {
            Some(Sym::Const(c)) => Ok(Some(Rc::clone(c))),
            Some(Sym::OtherInput) => {
                Err(OnnxError::MissingInitializer { node: display_name(node), input: name.clone() })
            }
            Some(_) => {
                Err(attrs
                    .unsupported(format!("input {i} (`{name}`) must be a constant (initializer)")))
            }
            None => Err(OnnxError::DanglingInput { node: display_name(node), input: name.clone() }),
        }
    }

    /// The rank of input `i` (as a value or constant).
    fn rank_of(
        &self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        i: usize,
    ) -> Result<usize, OnnxError> {
        match self.sym(node, attrs, i)? {
            Sym::Value(id) => self.graph.rank(id).ok_or_else(|| attrs.invalid("unknown input")),
            Sym::Const(c) => Ok(c.shape.len()),
            Sym::OtherInput | Sym::ExtraOutput => {
                Err(attrs.invalid(format!("input {i} is unavailable")))
            }
        }
    }

    /// `Conv` with a constant 4-d weight.
    fn conv(&self, node: &NodeProto, attrs: &Attributes<'_>) -> Result<Conv2d, OnnxError> {
        let weight = self.weight(node, attrs, 1)?.ok_or_else(|| attrs.invalid("needs a weight"))?;
        let &[_, _, kh, kw] = weight.shape.as_slice() else {
            return Err(attrs
                .unsupported(format!("weight shape {:?}: only 2-d convolutions", weight.shape)));
        };
        if let Some(k) = attrs.ints("kernel_shape")?
            && k != [kh as i64, kw as i64]
        {
            return Err(attrs.invalid(format!(
                "kernel_shape {k:?} does not match the weight {:?}",
                weight.shape
            )));
        }
        let bias = self.weight(node, attrs, 2)?.map(|b| b.to_host());
        let group = usize::try_from(attrs.int_or("group", 1)?)
            .map_err(|_| attrs.invalid("negative group"))?;
        Ok(Conv2d {
            weight: weight.to_host(),
            bias,
            stride: pair(attrs.sizes("strides", Some(2), &[1, 1])?),
            padding: padding(attrs)?,
            dilation: pair(attrs.sizes("dilations", Some(2), &[1, 1])?),
            groups: group,
        })
    }

    /// `ConvTranspose` with a constant 4-d weight and symmetric padding.
    fn conv_transpose(
        &self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
    ) -> Result<ConvTranspose2d, OnnxError> {
        let weight = self.weight(node, attrs, 1)?.ok_or_else(|| attrs.invalid("needs a weight"))?;
        let &[_, _, kh, kw] = weight.shape.as_slice() else {
            return Err(attrs.unsupported(format!(
                "weight shape {:?}: only 2-d transposed convolutions",
                weight.shape
            )));
        };
        if let Some(k) = attrs.ints("kernel_shape")?
            && k != [kh as i64, kw as i64]
        {
            return Err(attrs.invalid(format!(
                "kernel_shape {k:?} does not match the weight {:?}",
                weight.shape
            )));
        }
        if attrs.has("output_shape") {
            return Err(attrs.unsupported("`output_shape` (give `pads` and `output_padding`)"));
        }
        let auto_pad = attrs.string_or("auto_pad", "NOTSET")?;
        if !matches!(auto_pad.as_str(), "NOTSET" | "" | "VALID") {
            return Err(attrs.unsupported(format!("auto_pad `{auto_pad}`")));
        }
        let pads = attrs.sizes("pads", Some(4), &[0, 0, 0, 0])?;
        let at = |i: usize| pads.get(i).copied().unwrap_or(0);
        if at(0) != at(2) || at(1) != at(3) {
            return Err(attrs.unsupported(format!("asymmetric pads {pads:?}")));
        }
        let group = usize::try_from(attrs.int_or("group", 1)?)
            .map_err(|_| attrs.invalid("negative group"))?;
        Ok(ConvTranspose2d {
            weight: weight.to_host(),
            bias: self.weight(node, attrs, 2)?.map(|b| b.to_host()),
            stride: pair(attrs.sizes("strides", Some(2), &[1, 1])?),
            padding: [at(0), at(1)],
            output_padding: pair(attrs.sizes("output_padding", Some(2), &[0, 0])?),
            dilation: pair(attrs.sizes("dilations", Some(2), &[1, 1])?),
            groups: group,
        })
    }

    /// `Gemm` with a constant `B` as a fully connected layer.
    fn gemm(&self, node: &NodeProto, attrs: &Attributes<'_>) -> Result<Linear, OnnxError> {
        if attrs.int_or("transA", 0)? != 0 {
            return Err(attrs.unsupported("transA = 1"));
        }
        let b = self.weight(node, attrs, 1)?.ok_or_else(|| attrs.invalid("needs B"))?;
        let &[rows, cols] = b.shape.as_slice() else {
            return Err(attrs.invalid(format!("B has shape {:?}, not 2-d", b.shape)));
        };
        let trans_b = attrs.int_or("transB", 0)? != 0;
        let alpha = attrs.float("alpha")?.unwrap_or(1.0);
        let beta = attrs.float("beta")?.unwrap_or(1.0);
        let (k, n) = if trans_b { (cols, rows) } else { (rows, cols) };
        // An empty B declares its axes without data: refuse it before anything (the bias
        // below) is sized from them.
        if k == 0 || n == 0 {
            return Err(attrs.invalid(format!("B of shape {:?} is empty", b.shape)));
        }
        let values = b.floats();
        let mut weight = vec![0.0f32; values.len()];
        for (i, &v) in values.iter().enumerate() {
            let (r, c) = (i / cols.max(1), i % cols.max(1));
            let (kk, nn) = if trans_b { (c, r) } else { (r, c) };
            if let Some(slot) = weight.get_mut(kk * n + nn) {
                *slot = alpha * v;
            }
        }
        let bias = match self.weight(node, attrs, 2)? {
            None => None,
            Some(c) => {
                let v = c.floats();
                let bias: Vec<f32> = match v.len() {
                    1 => vec![v.first().copied().unwrap_or(0.0) * beta; n],
                    len if len == n && c.shape.iter().rev().skip(1).all(|&d| d == 1) => {
                        v.iter().map(|x| x * beta).collect()
                    }
                    _ => {
                        return Err(attrs.unsupported(format!(
                            "C of shape {:?} (only [N], [1, N] or scalars)",
                            c.shape
                        )));
                    }
                };
                Some(HostTensor::vector(bias))
            }
        };
        Ok(Linear {
            weight: HostTensor::new(vec![k, n], weight)
                .map_err(|e| attrs.invalid(e.to_string()))?,
            bias,
        })
    }

    /// `Pad`, from attributes (opset < 11) or inputs.
    fn pad(&self, node: &NodeProto, attrs: &Attributes<'_>) -> Result<Pad, OnnxError> {
        let rank = self.rank_of(node, attrs, 0)?;
        let (pads, value, axes): (Vec<i64>, f32, Option<Vec<i64>>) = if attrs.has("pads") {
            let pads = attrs.ints("pads")?.unwrap_or_default().to_vec();
            (pads, attrs.float("value")?.unwrap_or(0.0), None)
        } else {
            let pads = self.weight(node, attrs, 1)?.ok_or_else(|| attrs.invalid("needs pads"))?;
            let pads = pads.ints().ok_or_else(|| attrs.invalid("pads must be int64"))?.to_vec();
            let value = match self.weight(node, attrs, 2)? {
                Some(c) if c.len() > 0 => {
                    scalar(&c).ok_or_else(|| attrs.invalid("constant_value must be a scalar"))?
                }
                _ => 0.0,
            };
            let axes = match self.weight(node, attrs, 3)? {
                Some(c) => {
                    Some(c.ints().ok_or_else(|| attrs.invalid("axes must be integers"))?.to_vec())
                }
                None => None,
            };
            (pads, value, axes)
        };
        let axes: Vec<usize> = match axes {
            Some(axes) => axes
                .iter()
                .map(|&a| normalize_axis(a, rank, false).map_err(|e| attrs.invalid(e)))
                .collect::<Result<_, _>>()?,
            None => (0..rank).collect(),
        };
        if pads.len() != 2 * axes.len() {
            return Err(attrs.invalid(format!("{} pads for {} axes", pads.len(), axes.len())));
        }
        let mut pairs = vec![(0usize, 0usize); rank];
        for (j, &axis) in axes.iter().enumerate() {
            let begin = pads.get(j).copied().unwrap_or(0);
            let end = pads.get(j + axes.len()).copied().unwrap_or(0);
            let (Ok(begin), Ok(end)) = (usize::try_from(begin), usize::try_from(end)) else {
                return Err(attrs.unsupported(format!("negative pads {pads:?}")));
            };
            if let Some(slot) = pairs.get_mut(axis) {
                *slot = (begin, end);
            }
        }
        let mode = match attrs.string_or("mode", "constant")?.as_str() {
            "constant" => PadMode::Constant(value),
            "reflect" => PadMode::Reflect,
            "edge" => PadMode::Edge,
            other => return Err(attrs.unsupported(format!("mode `{other}`"))),
        };
        Ok(Pad { pads: pairs, mode })
    }

    /// `Resize`: opset 10 `(X, scales)`, opset 11+ `(X, roi, scales, sizes)`.
    fn resize(&self, node: &NodeProto, attrs: &Attributes<'_>) -> Result<Resize, OnnxError> {
        let rank = self.rank_of(node, attrs, 0)?;
        let opset10 = self.opset < 11;
        if attrs.int_or("antialias", 0)? != 0 {
            return Err(attrs.unsupported("antialias"));
        }
        let policy = attrs.string_or("keep_aspect_ratio_policy", "stretch")?;
        if policy != "stretch" {
            return Err(attrs.unsupported(format!("keep_aspect_ratio_policy `{policy}`")));
        }
        let transform = if opset10 {
            CoordinateTransform::Asymmetric
        } else {
            match attrs.string_or("coordinate_transformation_mode", "half_pixel")?.as_str() {
                "half_pixel" => CoordinateTransform::HalfPixel,
                "half_pixel_symmetric" => CoordinateTransform::HalfPixelSymmetric,
                "pytorch_half_pixel" => CoordinateTransform::PytorchHalfPixel,
                "align_corners" => CoordinateTransform::AlignCorners,
                "asymmetric" => CoordinateTransform::Asymmetric,
                "tf_half_pixel_for_nn" => CoordinateTransform::TfHalfPixelForNn,
                other => {
                    return Err(
                        attrs.unsupported(format!("coordinate_transformation_mode `{other}`"))
                    );
                }
            }
        };
        let nearest = if opset10 {
            NearestMode::Floor
        } else {
            match attrs.string_or("nearest_mode", "round_prefer_floor")?.as_str() {
                "round_prefer_floor" => NearestMode::RoundPreferFloor,
                "round_prefer_ceil" => NearestMode::RoundPreferCeil,
                "floor" => NearestMode::Floor,
                "ceil" => NearestMode::Ceil,
                other => return Err(attrs.unsupported(format!("nearest_mode `{other}`"))),
            }
        };
        let mode = resize_mode(attrs, nearest)?;
        let (scales, sizes) = if opset10 {
            (self.weight(node, attrs, 1)?, None)
        } else {
            (self.weight(node, attrs, 2)?, self.weight(node, attrs, 3)?)
        };
        let axes: Vec<usize> = match attrs.ints("axes")? {
            Some(axes) => axes
                .iter()
                .map(|&a| normalize_axis(a, rank, false).map_err(|e| attrs.invalid(e)))
                .collect::<Result<_, _>>()?,
            None => (0..rank).collect(),
        };
        let target = match (sizes.filter(|c| c.len() > 0), scales.filter(|c| c.len() > 0)) {
            (Some(sizes), _) => {
                let sizes = sizes.ints().ok_or_else(|| attrs.invalid("sizes must be int64"))?;
                let sizes: Vec<usize> = sizes
                    .iter()
                    .map(|&s| {
                        usize::try_from(s)
                            .map_err(|_| attrs.invalid(format!("negative sizes {sizes:?}")))
                    })
                    .collect::<Result<_, _>>()?;
                // Unlisted axes keep their size: 0 is filled in at shape inference below.
                ResizeTarget::Sizes(
                    spread(&sizes, &axes, rank, 0)
                        .ok_or_else(|| attrs.invalid("sizes do not match the axes"))?,
                )
            }
            (None, Some(scales)) => ResizeTarget::Scales(
                spread(&scales.floats(), &axes, rank, 1.0)
                    .ok_or_else(|| attrs.invalid("scales do not match the axes"))?,
            ),
            (None, None) => return Err(attrs.invalid("needs scales or sizes")),
        };
        if matches!(target, ResizeTarget::Sizes(_)) && axes.len() != rank {
            return Err(attrs.unsupported("sizes for some axes only"));
        }
        Ok(Resize { mode, transform, target })
    }

    /// `Upsample` (deprecated): asymmetric coordinates, nearest rounds down.
    fn upsample(&self, node: &NodeProto, attrs: &Attributes<'_>) -> Result<Resize, OnnxError> {
        let scales = match attrs.floats("scales")? {
            Some(s) => s.to_vec(),
            None => {
                self.weight(node, attrs, 1)?.ok_or_else(|| attrs.invalid("needs scales"))?.floats()
            }
        };
        Ok(Resize {
            mode: resize_mode(attrs, NearestMode::Floor)?,
            transform: CoordinateTransform::Asymmetric,
            target: ResizeTarget::Scales(scales),
        })
    }
}

/// An [`OnnxError::UnsupportedOps`] for `node` alone (the import checks every node against
/// the support table first, so this is reached only where the table and the lowering
/// disagree).
fn unsupported_op(node: &NodeProto, name: &str, opset: i64) -> OnnxError {
    OnnxError::UnsupportedOps {
        opset,
        ops: vec![super::UnsupportedOp {
            op_type: node.op_type.clone(),
            domain: node.domain.clone(),
            count: 1,
            nodes: vec![name.to_owned()],
        }],
    }
}

/// The value of a `Constant` node's attribute.
fn constant_attribute(attrs: &Attributes<'_>, name: &str) -> Result<Constant, OnnxError> {
    if let Some(t) = attrs.tensor("value")? {
        return decode(t, name);
    }
    if let Some(v) = attrs.float("value_float")? {
        return Ok(Constant { shape: vec![], values: Values::Float(vec![v]) });
    }
    if let Some(v) = attrs.floats("value_floats")? {
        return Ok(Constant { shape: vec![v.len()], values: Values::Float(v.to_vec()) });
    }
    if let Some(v) = attrs.int("value_int")? {
        return Ok(Constant { shape: vec![], values: Values::Int(vec![v]) });
    }
    if let Some(v) = attrs.ints("value_ints")? {
        return Ok(Constant { shape: vec![v.len()], values: Values::Int(v.to_vec()) });
    }
    Err(attrs.unsupported("a constant that is not a dense numeric tensor"))
}

/// The sampling mode of `Resize`/`Upsample`.
fn resize_mode(attrs: &Attributes<'_>, nearest: NearestMode) -> Result<ResizeMode, OnnxError> {
    match attrs.string_or("mode", "nearest")?.as_str() {
        "nearest" => Ok(ResizeMode::Nearest(nearest)),
        "linear" | "bilinear" => Ok(ResizeMode::Linear),
        other => Err(attrs.unsupported(format!("mode `{other}`"))),
    }
}

/// `values` for `axes` placed in a rank-`rank` list, `fill` elsewhere.
fn spread<T: Copy>(values: &[T], axes: &[usize], rank: usize, fill: T) -> Option<Vec<T>> {
    if values.len() != axes.len() {
        return None;
    }
    let mut out = vec![fill; rank];
    for (&a, &v) in axes.iter().zip(values) {
        *out.get_mut(a)? = v;
    }
    Some(out)
}

/// A one-value constant's value.
fn scalar(c: &Constant) -> Option<f32> {
    match c.floats().as_slice() {
        &[v] => Some(v),
        _ => None,
    }
}

/// The first two values (callers check the length).
fn pair(v: Vec<usize>) -> [usize; 2] {
    [v.first().copied().unwrap_or(1), v.get(1).copied().unwrap_or(1)]
}

/// The padding of a `Conv` or pool: `auto_pad`, else `pads` `[top, left, bottom, right]`.
fn padding(attrs: &Attributes<'_>) -> Result<Padding2d, OnnxError> {
    match attrs.string_or("auto_pad", "NOTSET")?.as_str() {
        "SAME_UPPER" => Ok(Padding2d::SameUpper),
        "SAME_LOWER" => Ok(Padding2d::SameLower),
        "VALID" => Ok(Padding2d::Valid),
        "NOTSET" | "" => {
            let p = attrs.sizes("pads", Some(4), &[0, 0, 0, 0])?;
            let at = |i: usize| p.get(i).copied().unwrap_or(0);
            Ok(Padding2d::Explicit([(at(0), at(2)), (at(1), at(3))]))
        }
        other => Err(attrs.invalid(format!("auto_pad `{other}`"))),
    }
}

/// The window of `MaxPool`/`AveragePool` (2-d only).
fn pool(attrs: &Attributes<'_>) -> Result<Pool2d, OnnxError> {
    let kernel = attrs.ints("kernel_shape")?.ok_or_else(|| attrs.invalid("needs kernel_shape"))?;
    if kernel.len() != 2 {
        return Err(attrs.unsupported(format!("kernel_shape {kernel:?}: only 2-d pools")));
    }
    Ok(Pool2d {
        kernel: pair(attrs.sizes("kernel_shape", Some(2), &[1, 1])?),
        stride: pair(attrs.sizes("strides", Some(2), &[1, 1])?),
        padding: padding(attrs)?,
        dilation: pair(attrs.sizes("dilations", Some(2), &[1, 1])?),
        ceil_mode: attrs.int_or("ceil_mode", 0)? != 0,
    })
}
