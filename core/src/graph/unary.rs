//! Element-wise functions of one value ([`Op::Unary`](super::Op::Unary)): the exponentials,
//! roots and error function that imported models build their smooth activations (ELU, GELU,
//! Softplus, Mish) and normalisations (layer and instance norm) from.

use burn::prelude::*;

/// One element-wise function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unary {
    /// `e^x`.
    Exp,
    /// The natural logarithm (NaN below 0, `-inf` at 0).
    Log,
    /// The square root (NaN below 0).
    Sqrt,
    /// The error function.
    Erf,
    /// The hyperbolic tangent.
    Tanh,
    /// `|x|`.
    Abs,
    /// `-x`.
    Neg,
}

impl Unary {
    /// Every function, in the order of this enum.
    pub const ALL: [Unary; 7] =
        [Unary::Exp, Unary::Log, Unary::Sqrt, Unary::Erf, Unary::Tanh, Unary::Abs, Unary::Neg];

    /// The ONNX operator of the same name.
    pub fn kind(self) -> &'static str {
        match self {
            Unary::Exp => "Exp",
            Unary::Log => "Log",
            Unary::Sqrt => "Sqrt",
            Unary::Erf => "Erf",
            Unary::Tanh => "Tanh",
            Unary::Abs => "Abs",
            Unary::Neg => "Neg",
        }
    }

    /// The function whose ONNX operator is `kind`.
    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.kind() == kind)
    }

    /// The function applied to every element of `x`.
    pub(crate) fn apply(self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Unary::Exp => x.exp(),
            Unary::Log => x.log(),
            Unary::Sqrt => x.sqrt(),
            Unary::Erf => x.erf(),
            Unary::Tanh => x.tanh(),
            Unary::Abs => x.abs(),
            Unary::Neg => x.neg(),
        }
    }

    /// Whether a researcher would call the output a layer: the activation-like functions are,
    /// the arithmetic inside a normalisation is not.
    pub(crate) fn is_layer(self) -> bool {
        matches!(self, Unary::Erf | Unary::Tanh)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_function_names_its_onnx_operator_and_computes_it() {
        let device = Default::default();
        let values = [-1.5f32, -0.25, 0.0, 0.5, 2.0];
        // erf of those values, from tables (Abramowitz and Stegun, table 7.1).
        let erf = [-0.966_105_1f32, -0.276_326_4, 0.0, 0.520_499_9, 0.995_322_3];
        let x = Tensor::<4>::from_data(TensorData::new(values.to_vec(), [1, 1, 1, 5]), &device);
        for u in Unary::ALL {
            assert_eq!(Unary::from_kind(u.kind()), Some(u));
            let got: Vec<f32> = u.apply(x.clone()).into_data().try_to_vec::<f32>().unwrap();
            for ((&v, &erf), g) in values.iter().zip(&erf).zip(got) {
                let want = match u {
                    Unary::Exp => v.exp(),
                    Unary::Log => v.ln(),
                    Unary::Sqrt => v.sqrt(),
                    Unary::Erf => erf,
                    Unary::Tanh => v.tanh(),
                    Unary::Abs => v.abs(),
                    Unary::Neg => -v,
                };
                let same = (want.is_nan() && g.is_nan())
                    || want == g
                    || (want - g).abs() <= 1e-5 * want.abs().max(1.0);
                assert!(same, "{}({v}) = {g}, want {want}", u.kind());
            }
        }
        assert_eq!(Unary::from_kind("Sigmoid"), None);
    }
}
