//! Adam (Kingma & Ba, 2015) on flat parameter tensors, with its moments kept on the device and
//! savable, so a resumed run continues exactly where a checkpoint left off.

use burn::prelude::*;

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Step size.
    pub learning_rate: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
}

impl AdamConfig {
    /// The usual betas (0.9, 0.999) and epsilon (1e-8) with `learning_rate`.
    pub fn new(learning_rate: f32) -> Self {
        Self { learning_rate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }
    }
}

/// Adam's state: the first and second moments of every parameter and the number of updates.
#[derive(Debug, Clone)]
pub struct Adam {
    config: AdamConfig,
    first: Vec<Tensor<1>>,
    second: Vec<Tensor<1>>,
    updates: usize,
}

impl Adam {
    /// Zero moments for parameters of these lengths.
    pub fn new(config: AdamConfig, lengths: &[usize], device: &Device) -> Self {
        let zeros = || lengths.iter().map(|&n| Tensor::<1>::zeros([n], device)).collect();
        Self { config, first: zeros(), second: zeros(), updates: 0 }
    }

    /// The state saved by [`Adam::moments`], after `updates` updates.
    ///
    /// # Shapes
    /// - `first`, `second`: one flat tensor per parameter
    pub fn from_moments(
        config: AdamConfig,
        first: Vec<Tensor<1>>,
        second: Vec<Tensor<1>>,
        updates: usize,
    ) -> Self {
        Self { config, first, second, updates }
    }

    /// The first and second moments, one flat tensor per parameter each.
    pub fn moments(&self) -> (&[Tensor<1>], &[Tensor<1>]) {
        (&self.first, &self.second)
    }

    /// The number of updates so far.
    pub fn updates(&self) -> usize {
        self.updates
    }

    /// One update: returns the parameters moved against their gradients.
    ///
    /// # Shapes
    /// - `params`, `grads`: one flat tensor per parameter, matching
    pub fn step(&mut self, params: Vec<Tensor<1>>, grads: Vec<Tensor<1>>) -> Vec<Tensor<1>> {
        let AdamConfig { learning_rate, beta1, beta2, epsilon } = self.config;
        self.updates += 1;
        let t = self.updates as i32;
        let correction1 = 1.0 - beta1.powi(t);
        let correction2 = 1.0 - beta2.powi(t);
        let step_size = learning_rate / correction1;
        params
            .into_iter()
            .zip(grads)
            .enumerate()
            .map(|(i, (param, grad))| {
                let (Some(m), Some(v)) = (self.first.get_mut(i), self.second.get_mut(i)) else {
                    return param;
                };
                *m = m.clone().mul_scalar(beta1) + grad.clone().mul_scalar(1.0 - beta1);
                *v = v.clone().mul_scalar(beta2) + (grad.clone() * grad).mul_scalar(1.0 - beta2);
                let denominator = v.clone().div_scalar(correction2).sqrt().add_scalar(epsilon);
                param - (m.clone() / denominator).mul_scalar(step_size)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_the_learning_rate() {
        let device = Device::flex();
        let mut adam = Adam::new(AdamConfig::new(0.1), &[3], &device);
        let params = vec![Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device)];
        let grads = vec![Tensor::<1>::from_floats([0.5, -4.0, 0.0], &device)];
        let out = adam.step(params, grads);
        let got: Vec<f32> = out[0].clone().into_data().try_to_vec::<f32>().unwrap();
        // Bias-corrected Adam moves by lr * sign(g) on its first step.
        for (g, w) in got.iter().zip([0.9, 2.1, 3.0]) {
            assert!((g - w).abs() < 1e-5, "{got:?}");
        }
        assert_eq!(adam.updates(), 1);
    }
}
