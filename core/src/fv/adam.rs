//! Adam (Kingma and Ba 2015) for one parameter tensor, as gradient *ascent*.
//!
//! burn's optimisers work on modules; feature visualization optimises one raw tensor, so a
//! dozen lines of tensor arithmetic do (and keep the step identical on every backend).

use burn::prelude::*;

/// Adam's first-moment decay.
pub const BETA1: f32 = 0.9;
/// Adam's second-moment decay.
pub const BETA2: f32 = 0.999;
/// Adam's denominator floor (TensorFlow's and PyTorch's default).
pub const EPSILON: f32 = 1e-8;

/// The state of Adam for one tensor.
#[derive(Debug, Clone)]
pub struct Adam {
    learning_rate: f32,
    step: i32,
    first: Option<Tensor<3>>,
    second: Option<Tensor<3>>,
}

impl Adam {
    /// A fresh optimiser with step size `learning_rate` (lucid uses 0.05).
    pub fn new(learning_rate: f32) -> Self {
        Self { learning_rate, step: 0, first: None, second: None }
    }

    /// Moves `param` up the `gradient` (ascent: the objective is maximised).
    ///
    /// # Shapes
    /// - `param`, `gradient`: any `[A, B, C]`, the same
    /// - returns: like `param`
    pub fn ascend(&mut self, param: Tensor<3>, gradient: Tensor<3>) -> Tensor<3> {
        self.step += 1;
        let first = match self.first.take() {
            Some(m) => m.mul_scalar(BETA1) + gradient.clone().mul_scalar(1.0 - BETA1),
            None => gradient.clone().mul_scalar(1.0 - BETA1),
        };
        let squared = gradient.clone() * gradient;
        let second = match self.second.take() {
            Some(v) => v.mul_scalar(BETA2) + squared.mul_scalar(1.0 - BETA2),
            None => squared.mul_scalar(1.0 - BETA2),
        };
        let first_correction = 1.0 - BETA1.powi(self.step);
        let second_correction = 1.0 - BETA2.powi(self.step);
        let step_size = self.learning_rate / first_correction;
        let denominator = second.clone().div_scalar(second_correction).sqrt().add_scalar(EPSILON);
        let update = first.clone().div(denominator).mul_scalar(step_size);
        self.first = Some(first);
        self.second = Some(second);
        param + update
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fv_adam_first_step_moves_each_element_by_the_learning_rate() {
        let device = Device::flex();
        let param = Tensor::<3>::zeros([1, 1, 3], &device);
        let gradient =
            Tensor::<3>::from_data(TensorData::new(vec![2.0f32, -0.001, 50.0], [1, 1, 3]), &device);
        let mut adam = Adam::new(0.05);
        let moved: Vec<f32> = adam.ascend(param, gradient).into_data().try_to_vec::<f32>().unwrap();
        // The bias-corrected first step is lr * sign(g).
        for (m, want) in moved.iter().zip([0.05f32, -0.05, 0.05]) {
            assert!((m - want).abs() < 1e-4, "{moved:?}");
        }
    }
}
