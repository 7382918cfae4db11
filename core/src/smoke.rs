//! The smoke computation: gradient ascent on an input image through a tiny two-layer conv net.
//!
//! It exercises, on any burn device, everything feature visualization needs (convolution,
//! autodiff with respect to the input, asynchronous readback) in well under a second, so the
//! browser can prove its compute path works before it is trusted with a real model.

use crate::rng::SplitMix64;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

/// Side of the square input image, in pixels.
pub const SMOKE_SIZE_PX: usize = 16;
/// Channel of the second conv layer whose mean activation the smoke computation maximises.
const TARGET_CHANNEL: usize = 2;
/// Gradient-ascent step size.
const LEARNING_RATE: f32 = 0.5;

/// Why the smoke computation failed.
#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    /// Reading a value back from the device failed.
    #[error("reading back from the device failed: {0}")]
    Readback(String),
    /// The backward pass produced no gradient for the input image.
    #[error("the backward pass produced no gradient for the input")]
    NoGradient,
}

/// A tiny conv net with fixed pseudo-random weights (the same on every device).
struct TinyNet {
    conv1: Tensor<4>,
    conv2: Tensor<4>,
}

impl TinyNet {
    fn new(device: &Device) -> Self {
        let mut rng = SplitMix64::new(0x5eed);
        Self {
            conv1: noise_tensor(&mut rng, [8, 3, 3, 3], 0.3, device),
            conv2: noise_tensor(&mut rng, [4, 8, 3, 3], 0.3, device),
        }
    }

    /// Mean activation of [`TARGET_CHANNEL`] of the second layer.
    ///
    /// # Shapes
    /// - `image`: `[1, 3, SMOKE_SIZE_PX, SMOKE_SIZE_PX]`
    /// - returns: `[1]`
    fn objective(&self, image: Tensor<4>) -> Tensor<1> {
        let same = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let x = relu(conv2d(image, self.conv1.clone(), None, same.clone())); // [1, 8, 16, 16]
        let x = relu(conv2d(x, self.conv2.clone(), None, same)); // [1, 4, 16, 16]
        x.narrow(1, TARGET_CHANNEL, 1).mean()
    }
}

/// Runs `steps` gradient-ascent steps on a fixed starting image and returns the objective
/// before each step. `on_step(step, objective)` is called after each step (1-based).
///
/// The objective is read back asynchronously, as the browser requires.
pub async fn run_smoke(
    device: &Device,
    steps: u32,
    mut on_step: impl FnMut(u32, f32),
) -> Result<Vec<f32>, SmokeError> {
    let net = TinyNet::new(device);
    let mut rng = SplitMix64::new(7);
    let mut image =
        noise_tensor(&mut rng, [1, 3, SMOKE_SIZE_PX, SMOKE_SIZE_PX], 0.1, device).add_scalar(0.5);
    let mut objectives = Vec::with_capacity(steps as usize);
    for step in 1..=steps {
        let input = image.clone().autodiff().require_grad();
        let objective = net.objective(input.clone());
        let grads = objective.backward();
        let gradient = input.grad(&grads).ok_or(SmokeError::NoGradient)?;
        let value: f32 = objective
            .without_autodiff()
            .into_scalar_async()
            .await
            .map_err(|e| SmokeError::Readback(format!("{e:?}")))?;
        objectives.push(value);
        on_step(step, value);
        image = image + gradient.mul_scalar(LEARNING_RATE);
    }
    Ok(objectives)
}

/// A `[-1, 1)` noise tensor times `scale`, from `rng`: the net and the image are identical on
/// every device.
fn noise_tensor(rng: &mut SplitMix64, shape: [usize; 4], scale: f32, device: &Device) -> Tensor<4> {
    let values: Vec<f32> =
        rng.signed_noise(shape.iter().product()).into_iter().map(|v| v * scale).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_ascent_raises_the_objective_on_the_cpu() {
        let device = Device::flex();
        let mut seen = Vec::new();
        let objectives =
            pollster::block_on(run_smoke(&device, 5, |step, value| seen.push((step, value))))
                .unwrap();
        assert_eq!(objectives.len(), 5);
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        assert!(objectives.iter().all(|v| v.is_finite()));
        for pair in objectives.windows(2) {
            assert!(pair[1] > pair[0], "objective did not increase: {objectives:?}");
        }
    }
}
