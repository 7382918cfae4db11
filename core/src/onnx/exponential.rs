//! The smooth activations, written with the element-wise functions of
//! [`Unary`](crate::graph::Unary) and the arithmetic the built-in models use: `Elu`, `Selu`,
//! `Celu`, `Gelu` (opset 20, exact or tanh), `Softplus` and `Mish` (stable forms, no overflow
//! for large inputs), `Pow` by a constant exponent, `Reciprocal`, and the functions
//! themselves (`Exp`, `Log`, `Sqrt`, `Erf`, `Tanh`, `Abs`, `Neg`).

use super::OnnxError;
use super::attributes::Attributes;
use super::import::{Importer, Sym};
use super::proto::NodeProto;
use crate::graph::{Op, Unary, ValueId};

impl<'a> Importer<'a> {
    /// Lowers `node` when it is one of this module's operators: `Some` with the value it
    /// computes, `None` for other operators.
    pub(crate) fn compose_exponential(
        &mut self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
        name: &str,
    ) -> Result<Option<Sym>, OnnxError> {
        let op = node.op_type.as_str();
        if let Some(unary) = Unary::from_kind(op) {
            let x = self.value(node, attrs, 0)?;
            return Ok(Some(Sym::Value(self.graph.add_node(name, Op::Unary(unary), &[x])?)));
        }
        let value = match op {
            "Elu" | "Celu" | "Selu" => {
                // relu(x) + alpha * (exp(min(x, 0) / d) - 1), d = alpha for Celu, 1 otherwise;
                // Selu scales the whole by gamma.
                let x = self.value(node, attrs, 0)?;
                let default_alpha = if op == "Selu" { 1.673_263_2 } else { 1.0 };
                let alpha = attrs.float("alpha")?.unwrap_or(default_alpha);
                if op == "Celu" && alpha == 0.0 {
                    return Err(attrs.invalid("alpha must not be 0"));
                }
                let gamma =
                    if op == "Selu" { attrs.float("gamma")?.unwrap_or(1.050_701) } else { 1.0 };
                let relu = self.graph.add_node(&format!("{name}/relu"), Op::Relu, &[x])?;
                let mut negative =
                    self.graph.add_node(&format!("{name}/negative"), Op::Sub, &[x, relu])?;
                if op == "Celu" {
                    negative =
                        self.binary_scalar(&format!("{name}/scaled"), Op::Div, negative, alpha)?;
                }
                let exp = self.unary(&format!("{name}/exp"), Unary::Exp, negative)?;
                let less = self.binary_scalar(&format!("{name}/less"), Op::Sub, exp, 1.0)?;
                let leak = self.binary_scalar(&format!("{name}/leak"), Op::Mul, less, alpha)?;
                if gamma == 1.0 {
                    self.graph.add_node(name, Op::Add, &[relu, leak])?
                } else {
                    let sum =
                        self.graph.add_node(&format!("{name}/sum"), Op::Add, &[relu, leak])?;
                    self.binary_scalar(name, Op::Mul, sum, gamma)?
                }
            }
            "Gelu" => {
                let x = self.value(node, attrs, 0)?;
                let approximate = attrs.string_or("approximate", "none")?;
                // 0.5 * x * (1 + f(x)), f = erf(x / sqrt 2) or tanh(sqrt(2 / pi) (x + 0.044715 x^3)).
                let inner = match approximate.as_str() {
                    "none" => {
                        let scaled = self.binary_scalar(
                            &format!("{name}/scaled"),
                            Op::Mul,
                            x,
                            std::f32::consts::FRAC_1_SQRT_2,
                        )?;
                        self.unary(&format!("{name}/erf"), Unary::Erf, scaled)?
                    }
                    "tanh" => {
                        let square =
                            self.graph.add_node(&format!("{name}/square"), Op::Mul, &[x, x])?;
                        let cube =
                            self.graph.add_node(&format!("{name}/cube"), Op::Mul, &[square, x])?;
                        let term =
                            self.binary_scalar(&format!("{name}/term"), Op::Mul, cube, 0.044_715)?;
                        let sum =
                            self.graph.add_node(&format!("{name}/sum"), Op::Add, &[x, term])?;
                        let scaled = self.binary_scalar(
                            &format!("{name}/scaled"),
                            Op::Mul,
                            sum,
                            (2.0 / std::f32::consts::PI).sqrt(),
                        )?;
                        self.unary(&format!("{name}/tanh"), Unary::Tanh, scaled)?
                    }
                    other => {
                        return Err(attrs.invalid(format!(
                            "approximate `{other}` (expected `none` or `tanh`)"
                        )));
                    }
                };
                let one_plus =
                    self.binary_scalar(&format!("{name}/one_plus"), Op::Add, inner, 1.0)?;
                let half = self.binary_scalar(&format!("{name}/half"), Op::Mul, x, 0.5)?;
                self.graph.add_node(name, Op::Mul, &[half, one_plus])?
            }
            "Softplus" => {
                let x = self.value(node, attrs, 0)?;
                self.softplus(name, x)?
            }
            "Mish" => {
                // x * tanh(softplus(x))
                let x = self.value(node, attrs, 0)?;
                let soft = self.softplus(&format!("{name}/softplus"), x)?;
                let tanh = self.unary(&format!("{name}/tanh"), Unary::Tanh, soft)?;
                self.graph.add_node(name, Op::Mul, &[x, tanh])?
            }
            "Reciprocal" => {
                let x = self.value(node, attrs, 0)?;
                let one = self.scalar(&format!("{name}/one"), 1.0)?;
                self.graph.add_node(name, Op::Div, &[one, x])?
            }
            "Pow" => {
                let x = self.value(node, attrs, 0)?;
                let exponent = self.weight(node, attrs, 1)?.map(|c| c.floats());
                let Some(&[p]) = exponent.as_deref() else {
                    return Err(attrs.unsupported(
                        "an exponent that is not one constant (only x to a constant power)",
                    ));
                };
                self.power(name, x, p)?
            }
            _ => return Ok(None),
        };
        Ok(Some(Sym::Value(value)))
    }

    /// `f(x)` as a node called `name`.
    pub(crate) fn unary(&mut self, name: &str, f: Unary, x: ValueId) -> Result<ValueId, OnnxError> {
        Ok(self.graph.add_node(name, Op::Unary(f), &[x])?)
    }

    /// `log(1 + exp(x))` as `relu(x) + log(1 + exp(-|x|))`, which never overflows.
    fn softplus(&mut self, name: &str, x: ValueId) -> Result<ValueId, OnnxError> {
        let relu = self.graph.add_node(&format!("{name}/relu"), Op::Relu, &[x])?;
        let abs = self.unary(&format!("{name}/abs"), Unary::Abs, x)?;
        let negative = self.unary(&format!("{name}/negative"), Unary::Neg, abs)?;
        let exp = self.unary(&format!("{name}/exp"), Unary::Exp, negative)?;
        let one_plus = self.binary_scalar(&format!("{name}/one_plus"), Op::Add, exp, 1.0)?;
        let log = self.unary(&format!("{name}/log"), Unary::Log, one_plus)?;
        Ok(self.graph.add_node(name, Op::Add, &[relu, log])?)
    }

    /// `x ^ p` (ONNX `Pow` semantics for a constant exponent): small integer powers as
    /// products, square roots as such, any other power as `exp(p * log(x))` (NaN for a
    /// negative base, as in ONNX).
    pub(crate) fn power(&mut self, name: &str, x: ValueId, p: f32) -> Result<ValueId, OnnxError> {
        Ok(match p {
            1.0 => self.graph.add_node(name, Op::Identity, &[x])?,
            2.0 => self.graph.add_node(name, Op::Mul, &[x, x])?,
            3.0 => {
                let square = self.graph.add_node(&format!("{name}/square"), Op::Mul, &[x, x])?;
                self.graph.add_node(name, Op::Mul, &[square, x])?
            }
            0.5 => self.unary(name, Unary::Sqrt, x)?,
            -0.5 | -1.0 => {
                let base = if p == -0.5 {
                    self.unary(&format!("{name}/sqrt"), Unary::Sqrt, x)?
                } else {
                    x
                };
                let one = self.scalar(&format!("{name}/one"), 1.0)?;
                self.graph.add_node(name, Op::Div, &[one, base])?
            }
            _ => {
                let log = self.unary(&format!("{name}/log"), Unary::Log, x)?;
                let scaled = self.binary_scalar(&format!("{name}/scaled"), Op::Mul, log, p)?;
                self.unary(name, Unary::Exp, scaled)?
            }
        })
    }
}
