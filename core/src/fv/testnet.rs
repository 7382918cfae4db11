//! A tiny synthetic [`Network`] for fast tests: two convolutions and a linear classifier with
//! fixed pseudo-random weights, RGB or grayscale.

use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::network::{InputSpec, LayerSummary, Network, NetworkError};

use crate::rng::SplitMix64;

/// `conv1` (8 channels, same size), `conv2` (6 channels, stride 2), `logits` (5 classes).
pub struct TinyNet {
    size: usize,
    channels: usize,
    conv1: Tensor<4>,
    conv2: Tensor<4>,
    fc: Tensor<2>,
}

impl TinyNet {
    pub fn new(channels: usize, size: usize, device: &Device) -> Self {
        let mut rng = SplitMix64::new(77);
        let mut conv = |shape: [usize; 4], sd: f32| {
            Tensor::<4>::from_data(
                TensorData::new(rng.normals(shape.iter().product(), sd), shape),
                device,
            )
        };
        let conv1 = conv([8, channels, 3, 3], 0.5);
        let conv2 = conv([6, 8, 3, 3], 0.3);
        let fc = Tensor::<2>::from_data(TensorData::new(rng.normals(30, 0.5), [6, 5]), device);
        Self { size, channels, conv1, conv2, fc }
    }
}

impl Network for TinyNet {
    fn id(&self) -> &str {
        "tiny"
    }

    fn input_spec(&self) -> InputSpec {
        InputSpec::square(self.size, self.channels, [127.0; 3], [128.0; 3])
    }

    fn layers(&self) -> Vec<LayerSummary> {
        let half = self.size.div_ceil(2);
        vec![
            LayerSummary {
                name: "conv1".into(),
                channels: 8,
                spatial: [self.size; 2],
                receptive_field_px: 3,
            },
            LayerSummary {
                name: "conv2".into(),
                channels: 6,
                spatial: [half; 2],
                receptive_field_px: 7,
            },
            LayerSummary {
                name: "logits".into(),
                channels: 5,
                spatial: [1, 1],
                receptive_field_px: self.size,
            },
        ]
    }

    fn forward_layers(
        &self,
        input: Tensor<4>,
        layers: &[&str],
    ) -> Result<Vec<Tensor<4>>, NetworkError> {
        let same = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let strided = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
        let conv1 = conv2d(input, self.conv1.clone(), None, same);
        let conv2 = conv2d(relu(conv1.clone()), self.conv2.clone(), None, strided);
        let [n, c, h, w] = conv2.dims();
        let pooled = relu(conv2.clone()).reshape([n, c, h * w]).mean_dim(2).reshape([n, c]);
        let logits = pooled.matmul(self.fc.clone()).reshape([n, 5, 1, 1]);
        layers
            .iter()
            .map(|name| match *name {
                "conv1" => Ok(conv1.clone()),
                "conv2" => Ok(conv2.clone()),
                "logits" => Ok(logits.clone()),
                other => Err(NetworkError::UnknownLayer(other.to_owned())),
            })
            .collect()
    }
}
