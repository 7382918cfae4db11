//! Evaluating an objective on one forward pass: activations of the layers it reads and the
//! image itself (for penalties), to a differentiable scalar.

use burn::prelude::*;

use super::validate::ObjectiveError;
use crate::objective::LOGITS_LAYER;
use crate::objective::Objective;

/// Keeps divisions finite when activations vanish.
const TINY: f32 = 1e-8;

/// What an objective is evaluated on.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'a> {
    /// Names of the layers in `activations`, as given by [`Objective::layers`].
    pub layers: &'a [String],
    /// `[B, C, H, W]` per layer, where `B` is `batch`, plus one when `reference` is set.
    pub activations: &'a [Tensor<4>],
    /// `[batch, channels, H, W]`, the images being optimised, values in `[0, 1]`.
    pub image: &'a Tensor<4>,
    /// Number of images being optimised.
    pub batch: usize,
    /// Whether the activations carry a reference photo as element `batch`.
    pub reference: bool,
}

impl Evaluation<'_> {
    fn layer(&self, name: &str) -> Result<Tensor<4>, ObjectiveError> {
        self.layers
            .iter()
            .position(|l| l == name)
            .and_then(|i| self.activations.get(i))
            .cloned()
            .ok_or_else(|| ObjectiveError::Evaluation(format!("no activations for layer `{name}`")))
    }

    /// The optimised elements of a layer: one (`Some(i)`) or all.
    ///
    /// # Shapes
    /// - returns: `[1 or batch, C, H, W]`
    fn elements(&self, name: &str, batch: Option<usize>) -> Result<Tensor<4>, ObjectiveError> {
        let activations = self.layer(name)?;
        let available = activations.dims()[0];
        let (start, len) = batch.map_or((0, self.batch), |i| (i, 1));
        if start + len > available {
            return Err(ObjectiveError::BatchOutOfRange {
                index: start + len - 1,
                batch: self.batch,
            });
        }
        Ok(activations.narrow(0, start, len))
    }

    /// The reference photo's activations of a layer.
    ///
    /// # Shapes
    /// - returns: `[1, C, H, W]`
    fn reference(&self, name: &str) -> Result<Tensor<4>, ObjectiveError> {
        let activations = self.layer(name)?;
        if !self.reference || activations.dims()[0] <= self.batch {
            return Err(ObjectiveError::NeedsReference { objective: name.to_owned() });
        }
        Ok(activations.narrow(0, self.batch, 1))
    }
}

/// Mean over the elements of a per-element quantity.
///
/// # Shapes
/// - `values`: `[B]`
/// - returns: `[1]`
fn mean(values: Tensor<1>) -> Tensor<1> {
    values.mean()
}

impl Objective {
    /// The objective's value; differentiable with respect to the image when the activations
    /// and image carry autodiff.
    ///
    /// # Shapes
    /// - returns: `[1]`
    pub fn evaluate(&self, on: &Evaluation<'_>) -> Result<Tensor<1>, ObjectiveError> {
        Ok(match self {
            Self::Channel { layer, unit, batch } => {
                on.elements(layer, *batch)?.narrow(1, *unit, 1).mean()
            }
            Self::Neuron { layer, unit, position, batch } => {
                let channel = on.elements(layer, *batch)?.narrow(1, *unit, 1);
                let [_, _, height, width] = channel.dims();
                let [x, y] = position.unwrap_or([width / 2, height / 2]);
                let (x, y) = (x.min(width.saturating_sub(1)), y.min(height.saturating_sub(1)));
                channel.narrow(2, y, 1).narrow(3, x, 1).mean()
            }
            Self::Dream { layer, batch } => on.elements(layer, *batch)?.powi_scalar(2).mean(),
            Self::Class { class, batch } => {
                on.elements(LOGITS_LAYER, *batch)?.narrow(1, *class, 1).mean()
            }
            Self::Direction { layer, vector, cosine, batch } => {
                let activations = on.elements(layer, *batch)?; // [B, C, H, W]
                let channels = vector.len();
                let direction = Tensor::<1>::from_floats(vector.as_slice(), &activations.device())
                    .reshape([1, channels, 1, 1]);
                let dot = (activations.clone() * direction.clone()).sum_dim(1); // [B, 1, H, W]
                if *cosine {
                    let norm = activations.powi_scalar(2).sum_dim(1).sqrt(); // [B, 1, H, W]
                    let direction_norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
                    dot.div(norm.mul_scalar(direction_norm).add_scalar(TINY)).mean()
                } else {
                    dot.mean()
                }
            }
            Self::Caricature { layer, power, batch } => {
                let activations = on.elements(layer, *batch)?; // [B, C, H, W]
                let photo = on.reference(layer)?; // [1, C, H, W]
                let [b, c, h, w] = activations.dims();
                let flat = activations.reshape([b, c * h * w]);
                let photo = photo.reshape([1, c * h * w]);
                let dot = (flat.clone() * photo.clone()).sum_dim(1); // [B, 1]
                let norms = flat.powi_scalar(2).sum_dim(1).sqrt()
                    * photo.powi_scalar(2).sum().sqrt().reshape([1, 1]);
                let cosine = dot.clone().div(norms.add_scalar(TINY));
                // Per position, so that the value does not grow with the layer's grid.
                let dot = dot.div_scalar((h * w) as f32);
                let value =
                    if *power == 0.0 { dot } else { dot * cosine.abs().powf_scalar(*power) };
                mean(value.reshape([b]))
            }
            Self::Inversion { layer, batch } => {
                let activations = on.elements(layer, *batch)?;
                let photo = on.reference(layer)?;
                let scale = photo.clone().powi_scalar(2).mean().add_scalar(TINY);
                (activations - photo).powi_scalar(2).mean().div(scale).neg()
            }
            Self::Diversity { layer, weight } => {
                let activations = on.elements(layer, None)?; // [B, C, H, W]
                let [b, c, h, w] = activations.dims();
                let flat = activations.reshape([b, c, h * w]);
                let grams = flat.clone().matmul(flat.swap_dims(1, 2)).reshape([b, c * c]); // [B, C²]
                let norms = grams.clone().powi_scalar(2).sum_dim(1).sqrt().add_scalar(1e-10); // [B, 1]
                let grams = grams.div(norms);
                let similarity = grams.clone().matmul(grams.clone().swap_dims(0, 1)); // [B, B]
                let diagonal = grams.powi_scalar(2).sum(); // Σ_i |g_i|², about B
                let off_diagonal = similarity.sum() - diagonal;
                off_diagonal.div_scalar(b as f32).mul_scalar(-*weight)
            }
            Self::TotalVariation { weight } => {
                let [_, _, h, w] = on.image.dims();
                let image = on.image.clone();
                let mut total = Tensor::<1>::zeros([1], &image.device());
                if h > 1 {
                    total = total
                        + (image.clone().narrow(2, 1, h - 1) - image.clone().narrow(2, 0, h - 1))
                            .abs()
                            .mean();
                }
                if w > 1 {
                    total = total
                        + (image.clone().narrow(3, 1, w - 1) - image.narrow(3, 0, w - 1))
                            .abs()
                            .mean();
                }
                total.mul_scalar(*weight)
            }
            Self::L1 { weight } => {
                on.image.clone().sub_scalar(0.5).abs().mean().mul_scalar(*weight)
            }
            Self::L2 { weight } => {
                on.image.clone().sub_scalar(0.5).powi_scalar(2).mean().mul_scalar(*weight)
            }
            Self::Scaled { factor, inner } => inner.evaluate(on)?.mul_scalar(*factor),
            Self::Negated(inner) => inner.evaluate(on)?.neg(),
            Self::Sum(terms) => {
                let mut total: Option<Tensor<1>> = None;
                for term in terms {
                    let value = term.evaluate(on)?;
                    total = Some(match total {
                        Some(t) => t + value,
                        None => value,
                    });
                }
                total.unwrap_or_else(|| Tensor::zeros([1], &on.image.device()))
            }
        })
    }
}
