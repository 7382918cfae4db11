//! The fashion-cnn: a small CNN for 28×28 grayscale Fashion-MNIST images, as tensor code for
//! training (parameters as flat tensors, so one optimizer loop handles them all).
//!
//! `conv1` (16 × 3×3, ReLU) → 2×2 max pool → `conv2` (32 × 3×3, ReLU) → pool → `conv3`
//! (64 × 3×3, ReLU) → pool (3×3) → flatten (576) → `fc` (128, ReLU) → `logits` (10).
//! Convolutions pad by 1. 98,442 parameters.

use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};

use super::TrainError;
use super::rng::{SplitMix64, normal_f32};
use crate::network::InputSpec;
use crate::weights::{NamedTensor, TensorMap};

/// The model's id.
pub use crate::model::FASHION_CNN_ID;

/// Every parameter: name and shape. Convolution weights are `[C_out, C_in, 3, 3]`; fully
/// connected weights `[in, out]` (as [`crate::graph::Linear`] holds them).
pub const FASHION_CNN_PARAMETERS: [(&str, &[usize]); 10] = [
    ("conv1.weight", &[16, 1, 3, 3]),
    ("conv1.bias", &[16]),
    ("conv2.weight", &[32, 16, 3, 3]),
    ("conv2.bias", &[32]),
    ("conv3.weight", &[64, 32, 3, 3]),
    ("conv3.bias", &[64]),
    ("fc.weight", &[576, 128]),
    ("fc.bias", &[128]),
    ("logits.weight", &[128, 10]),
    ("logits.bias", &[10]),
];

/// Pixel mean and standard deviation of the Fashion-MNIST training set, on 0..=255.
const PIXEL_MEAN: f32 = 72.94;
const PIXEL_STD: f32 = 90.02;

/// How the fashion-cnn wants its input: one channel at 28 px, `(x * 255 - 72.94) / 90.02`.
pub fn fashion_cnn_input_spec() -> InputSpec {
    InputSpec::square(28, 1, [PIXEL_MEAN; 3], [PIXEL_STD; 3])
}

/// Pixel bytes as the network's input values (see [`fashion_cnn_input_spec`]).
pub fn normalise_pixels(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| (f32::from(p) - PIXEL_MEAN) / PIXEL_STD).collect()
}

/// Initial weights for `seed`: He-normal convolution and fully connected weights (standard
/// deviation `sqrt(2 / fan_in)`), zero biases.
pub fn init_fashion_cnn(seed: u64) -> TensorMap {
    let mut rng = SplitMix64::new(seed);
    let mut map = TensorMap::new();
    for (name, shape) in FASHION_CNN_PARAMETERS {
        let len: usize = shape.iter().product();
        let data = if name.ends_with(".bias") {
            vec![0.0; len]
        } else {
            let fan_in: usize =
                if shape.len() == 4 { shape[1..].iter().product() } else { shape[0] };
            let std = (2.0 / fan_in as f32).sqrt();
            (0..len).map(|_| normal_f32(&mut rng) * std).collect()
        };
        if let Ok(tensor) = NamedTensor::new(shape.to_vec(), data) {
            map.insert(name, tensor);
        }
    }
    map
}

/// The parameters of `weights` in [`FASHION_CNN_PARAMETERS`] order, each checked and
/// flattened.
pub(crate) fn ordered_parameters(weights: &TensorMap) -> Result<Vec<&[f32]>, TrainError> {
    FASHION_CNN_PARAMETERS
        .iter()
        .map(|(name, shape)| {
            let tensor = weights.get(name).ok_or_else(|| TrainError::Tensor {
                name: (*name).to_owned(),
                reason: "missing".to_owned(),
            })?;
            if tensor.shape() != *shape {
                return Err(TrainError::Tensor {
                    name: (*name).to_owned(),
                    reason: format!("shape {:?}, expected {shape:?}", tensor.shape()),
                });
            }
            Ok(tensor.data())
        })
        .collect()
}

/// The class logits of the fashion-cnn with `params` (flat, in [`FASHION_CNN_PARAMETERS`]
/// order) on normalised images. Differentiable in both.
///
/// # Shapes
/// - `params`: ten flat tensors, `[product of the shape]` each
/// - `images`: `[N, 1, 28, 28]`, normalised ([`normalise_pixels`])
/// - returns: `[N, 10]`
pub fn fashion_cnn_forward(params: &[Tensor<1>], images: Tensor<4>) -> Tensor<2> {
    let p = |i: usize| params.get(i).cloned();
    let conv = |x: Tensor<4>, w: Option<Tensor<1>>, b: Option<Tensor<1>>, c_in, c_out| {
        let (Some(w), Some(b)) = (w, b) else { return x };
        let w = w.reshape([c_out, c_in, 3, 3]);
        let x = relu(conv2d(x, w, Some(b), ConvOptions::new([1, 1], [1, 1], [1, 1], 1)));
        max_pool2d(
            x,
            MaxPoolOptions {
                kernel_size: [2, 2],
                stride: [2, 2],
                padding: [(0, 0), (0, 0)],
                dilation: [1, 1],
                ceil_mode: false,
            },
        )
    };
    let x = conv(images, p(0), p(1), 1, 16); // [N, 16, 14, 14]
    let x = conv(x, p(2), p(3), 16, 32); // [N, 32, 7, 7]
    let x = conv(x, p(4), p(5), 32, 64); // [N, 64, 3, 3]
    let [n, c, h, w] = x.dims();
    let x: Tensor<2> = x.reshape([n, c * h * w]); // [N, 576]
    let linear = |x: Tensor<2>, w: Option<Tensor<1>>, b: Option<Tensor<1>>, k, m| match (w, b) {
        (Some(w), Some(b)) => x.matmul(w.reshape([k, m])) + b.reshape([1, m]),
        _ => x,
    };
    let x = relu(linear(x, p(6), p(7), 576, 128)); // [N, 128]
    linear(x, p(8), p(9), 128, 10) // [N, 10]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_seeded_and_shaped() {
        let a = init_fashion_cnn(0);
        assert_eq!(a, init_fashion_cnn(0));
        assert_ne!(a, init_fashion_cnn(1));
        let params = ordered_parameters(&a).unwrap();
        assert_eq!(params.iter().map(|p| p.len()).sum::<usize>(), 98_442);
        assert!(a.get("conv1.bias").unwrap().data().iter().all(|&b| b == 0.0));
        let w = a.get("conv2.weight").unwrap().data();
        let var = w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32;
        assert!((var * 144.0 / 2.0 - 1.0).abs() < 0.1, "He variance, got {var}");
    }

    #[test]
    fn forward_gives_logits_per_image() {
        let device = Device::flex();
        let weights = init_fashion_cnn(0);
        let params: Vec<Tensor<1>> = ordered_parameters(&weights)
            .unwrap()
            .into_iter()
            .map(|p| Tensor::<1>::from_floats(p, &device))
            .collect();
        let images = Tensor::<4>::zeros([3, 1, 28, 28], &device);
        assert_eq!(fashion_cnn_forward(&params, images).dims(), [3, 10]);
    }
}
