//! Batch-norm folding: a convolution without bias followed by an inference-mode batch norm is
//! one convolution with scaled weights and a bias.
//!
//! `bn(conv(x, W)) = gamma * (conv(x, W) - mean) / sqrt(var + eps) + beta
//!                 = conv(x, W * s) + (beta - mean * s)`, with `s = gamma / sqrt(var + eps)`
//! per output channel. Microscope optimises inputs and never trains weights, so folding at load
//! time is exact (up to rounding) and saves a pass over every activation.

use super::ModelError;
use super::architecture::batch_norm_keys;
use crate::weights::{NamedTensor, TensorMap};

/// A convolution with its batch norm folded in, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoldedConv {
    /// Weights `[out, in / groups, k, k]`, row-major.
    pub weight: Vec<f32>,
    /// Shape of `weight`.
    pub shape: [usize; 4],
    /// Bias `[out]`.
    pub bias: Vec<f32>,
}

/// The tensor `name` of `tensors`, or [`ModelError::MissingTensor`].
pub(crate) fn tensor<'a>(
    tensors: &'a TensorMap,
    name: &str,
    model: super::ModelId,
) -> Result<&'a NamedTensor, ModelError> {
    tensors.get(name).ok_or_else(|| ModelError::MissingTensor { model, name: name.to_owned() })
}

/// Folds the batch norm `bn_prefix` (`{prefix}.weight`, `.bias`, `.running_mean`,
/// `.running_var`) into the bias-free convolution `conv_key`, with epsilon `eps`.
///
/// The shapes must already have been validated (see `Architecture::validate`); a mismatch
/// still fails cleanly with [`ModelError::WrongShape`].
pub(crate) fn fold_conv_bn(
    tensors: &TensorMap,
    conv_key: &str,
    bn_prefix: &str,
    eps: f64,
    model: super::ModelId,
) -> Result<FoldedConv, ModelError> {
    let conv = tensor(tensors, conv_key, model)?;
    let &[out, cin, kh, kw] = conv.shape() else {
        return Err(ModelError::WrongShape {
            model,
            name: conv_key.to_owned(),
            expected: vec![0; 4],
            actual: conv.shape().to_vec(),
        });
    };
    let [gamma, beta, mean, var] = batch_norm_keys(bn_prefix);
    let [gamma, beta, mean, var] = [&gamma, &beta, &mean, &var].map(|name| {
        let t = tensor(tensors, name, model)?;
        if t.shape() != [out] {
            return Err(ModelError::WrongShape {
                model,
                name: name.clone(),
                expected: vec![out],
                actual: t.shape().to_vec(),
            });
        }
        Ok(t.data())
    });
    let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);

    let per_out = cin * kh * kw;
    let mut weight = conv.data().to_vec();
    let mut bias = Vec::with_capacity(out);
    for (o, row) in weight.chunks_exact_mut(per_out.max(1)).enumerate().take(out) {
        let (Some(&g), Some(&b), Some(&m), Some(&v)) =
            (gamma.get(o), beta.get(o), mean.get(o), var.get(o))
        else {
            break;
        };
        let scale = f64::from(g) / (f64::from(v) + eps).sqrt();
        for w in row.iter_mut() {
            *w = (f64::from(*w) * scale) as f32;
        }
        bias.push((f64::from(b) - f64::from(m) * scale) as f32);
    }
    if bias.len() != out || !weight.iter().chain(&bias).all(|v| v.is_finite()) {
        return Err(ModelError::NonFiniteWeights { name: bn_prefix.to_owned() });
    }
    Ok(FoldedConv { weight, shape: [out, cin, kh, kw], bias })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::ModelId;

    fn t(shape: &[usize], data: Vec<f32>) -> NamedTensor {
        NamedTensor::new(shape.to_vec(), data).unwrap()
    }

    #[test]
    fn model_fold_by_hand() {
        let mut map = TensorMap::new();
        map.insert("c.weight", t(&[2, 1, 1, 2], vec![1.0, 2.0, 3.0, 4.0]));
        map.insert("bn.weight", t(&[2], vec![2.0, 0.5]));
        map.insert("bn.bias", t(&[2], vec![1.0, -1.0]));
        map.insert("bn.running_mean", t(&[2], vec![0.5, 2.0]));
        map.insert("bn.running_var", t(&[2], vec![4.0, 0.25]));
        let m = ModelId::EfficientNetLite0;
        let f = fold_conv_bn(&map, "c.weight", "bn", 0.0, m).unwrap();
        // s = [2 / 2, 0.5 / 0.5] = [1, 1]; bias = [1 - 0.5, -1 - 2].
        assert_eq!(f.weight, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(f.bias, [0.5, -3.0]);
        assert_eq!(f.shape, [2, 1, 1, 2]);

        map.insert("bn.running_var", t(&[2], vec![4.0, -1.0]));
        assert_eq!(
            fold_conv_bn(&map, "c.weight", "bn", 1e-3, m),
            Err(ModelError::NonFiniteWeights { name: "bn".into() })
        );
        map.insert("bn.running_var", t(&[3], vec![1.0; 3]));
        assert!(matches!(
            fold_conv_bn(&map, "c.weight", "bn", 1e-3, m),
            Err(ModelError::WrongShape { .. })
        ));
        map.remove("bn.running_mean");
        assert_eq!(
            fold_conv_bn(&map, "c.weight", "bn", 1e-3, m),
            Err(ModelError::MissingTensor { model: m, name: "bn.running_mean".into() })
        );
    }
}
