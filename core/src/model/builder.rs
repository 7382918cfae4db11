//! EfficientNet-Lite as a [`Graph`]: the built-in organisms expressed in the same generic
//! representation as imported ONNX models, with node names that make the graph's layer
//! catalogue the stable built-in names (see [`crate::model::layers`]).
//!
//! Every convolution is a bias-free `Conv2d` with TensorFlow SAME padding
//! ([`Padding2d::SameUpper`]) named `{layer}.conv`, followed by its inference-mode batch norm
//! named `{layer}` (so that [`Graph::fold_batch_norms`] gives the folded convolution the layer's
//! name) and, where the network applies ReLU6, a `Clip(0, 6)` named `{layer}.relu6`: the layer
//! itself is the pre-activation value, as lucid taps its pre-ReLU layers.
//!
//! | node | computes |
//! |---|---|
//! | `stem.conv`, `stem`, `stem.relu6` | 3x3 stride 2, `3 -> 32`, BN, ReLU6 |
//! | `blocks.N.expand.conv`, `blocks.N.expand`, `blocks.N.expand.relu6` | 1x1 expansion (blocks with expansion) |
//! | `blocks.N.depthwise.conv`, `blocks.N.depthwise`, `blocks.N.depthwise.relu6` | kxk depthwise with the block's stride |
//! | `blocks.N.project.conv`, `blocks.N.project` | 1x1 projection, BN (blocks with a skip) |
//! | `blocks.N` | the skip `Add` (blocks with a skip), else the projection's BN |
//! | `head.conv`, `head`, `head.relu6` | 1x1, `last -> 1280` |
//! | `pool`, `flatten`, `logits` | global average pool, flatten, fully connected `1280 -> 1000` |

use super::layers::LayerId;
use super::{
    Architecture, BN_EPS, HEAD_CHANNELS, INPUT_CHANNELS, ModelError, ModelId, NUM_CLASSES,
    STEM_STRIDE,
};
use crate::graph::{BatchNorm, Conv2d, Dim, Graph, HostTensor, Linear, Op, Padding2d, ValueId};
use crate::model::architecture::{batch_norm_keys, block_key};
use crate::weights::TensorMap;

/// The name of the built-in graph's input.
pub const INPUT_NAME: &str = "image";

/// The graph of `model` with the checkpoint's weights (lukemelas names, see
/// [`Architecture::expected_tensors`]), batch norms not yet folded.
///
/// The input is `[N, 3, H, W]` with `N`, `H` and `W` open: SAME padding adapts to any size.
/// Fails with [`ModelError::MissingTensor`] or [`ModelError::WrongShape`] naming the first
/// tensor that doesn't fit ([`Architecture::validate`]); extra tensors are ignored.
pub fn efficientnet_graph(model: ModelId, tensors: &TensorMap) -> Result<Graph, ModelError> {
    let architecture = model.architecture();
    architecture.validate(tensors)?;
    Builder { model, tensors, graph: input_graph() }.build(&architecture)
}

/// An empty graph with the built-in models' input `[N, 3, H, W]`.
fn input_graph() -> Graph {
    Graph::new(
        INPUT_NAME,
        [
            Dim::Symbolic("N".into()),
            Dim::Fixed(INPUT_CHANNELS),
            Dim::Symbolic("H".into()),
            Dim::Symbolic("W".into()),
        ],
    )
}

/// The graph under construction and where its weights come from.
struct Builder<'a> {
    model: ModelId,
    tensors: &'a TensorMap,
    graph: Graph,
}

impl Builder<'_> {
    /// Adds every node and declares the logits the output.
    fn build(mut self, architecture: &Architecture) -> Result<Graph, ModelError> {
        let stem = self.conv_bn(
            &LayerId::Stem.to_string(),
            ValueId::INPUT,
            "_conv_stem.weight",
            "_bn0",
            STEM_STRIDE,
            1,
        )?;
        let mut x = self.relu6(&LayerId::Stem.to_string(), stem)?;
        for b in architecture.blocks() {
            let i = b.index;
            let skip = x;
            let mut h = x;
            if b.has_expand() {
                let name = LayerId::Expand(i).to_string();
                let conv = block_key(i, "_expand_conv.weight");
                let expand = self.conv_bn(&name, h, &conv, &block_key(i, "_bn0"), 1, 1)?;
                h = self.relu6(&name, expand)?;
            }
            let name = LayerId::Depthwise(i).to_string();
            let conv = block_key(i, "_depthwise_conv.weight");
            let bn = block_key(i, "_bn1");
            let depthwise = self.conv_bn(&name, h, &conv, &bn, b.stride, b.mid_channels)?;
            h = self.relu6(&name, depthwise)?;
            // Without a skip the projection is the block's output and takes its name.
            let name = if b.residual { LayerId::Project(i) } else { LayerId::Block(i) }.to_string();
            let conv = block_key(i, "_project_conv.weight");
            let project = self.conv_bn(&name, h, &conv, &block_key(i, "_bn2"), 1, 1)?;
            x = if b.residual {
                self.graph.add_node(&LayerId::Block(i).to_string(), Op::Add, &[project, skip])?
            } else {
                project
            };
        }
        let name = LayerId::Head.to_string();
        let head = self.conv_bn(&name, x, "_conv_head.weight", "_bn1", 1, 1)?;
        let head = self.relu6(&name, head)?;
        let pool = self.graph.add_node("pool", Op::GlobalAveragePool, &[head])?;
        let flat = self.graph.add_node("flatten", Op::Flatten { axis: 1 }, &[pool])?;
        let linear = Linear { weight: self.fc_weight()?, bias: Some(self.host("_fc.bias")?) };
        let logits =
            self.graph.add_node(&LayerId::Logits.to_string(), Op::Linear(linear), &[flat])?;
        self.graph.set_outputs(&[logits])?;
        Ok(self.graph)
    }

    /// The checkpoint tensor `name` as a host tensor.
    fn host(&self, name: &str) -> Result<HostTensor, ModelError> {
        let tensor = self.tensors.get(name).ok_or_else(|| ModelError::MissingTensor {
            model: self.model,
            name: name.to_owned(),
        })?;
        Ok(HostTensor::new(tensor.shape().to_vec(), tensor.data().to_vec())?)
    }

    /// The classifier's weight as `[features, classes]` (the checkpoint stores
    /// `[classes, features]`).
    fn fc_weight(&self) -> Result<HostTensor, ModelError> {
        let fc = self.host("_fc.weight")?;
        let data = fc.data();
        let mut transposed = vec![0.0f32; data.len()];
        for (c, row) in data.chunks_exact(HEAD_CHANNELS).enumerate() {
            for (f, &v) in row.iter().enumerate() {
                if let Some(slot) = transposed.get_mut(f * NUM_CLASSES + c) {
                    *slot = v;
                }
            }
        }
        Ok(HostTensor::new(vec![HEAD_CHANNELS, NUM_CLASSES], transposed)?)
    }

    /// A bias-free SAME convolution `{name}.conv` with weight `conv_key`, then the batch norm
    /// `bn_prefix` as the node `name`; returns the batch norm's output.
    fn conv_bn(
        &mut self,
        name: &str,
        input: ValueId,
        conv_key: &str,
        bn_prefix: &str,
        stride: usize,
        groups: usize,
    ) -> Result<ValueId, ModelError> {
        let conv = Conv2d {
            weight: self.host(conv_key)?,
            bias: None,
            stride: [stride; 2],
            padding: Padding2d::SameUpper,
            dilation: [1; 2],
            groups,
        };
        let conv = self.graph.add_node(&format!("{name}.conv"), Op::Conv2d(conv), &[input])?;
        let [scale, bias, mean, var] = batch_norm_keys(bn_prefix);
        let bn = BatchNorm {
            scale: self.host(&scale)?,
            bias: self.host(&bias)?,
            mean: self.host(&mean)?,
            var: self.host(&var)?,
            epsilon: BN_EPS as f32,
        };
        Ok(self.graph.add_node(name, Op::BatchNorm(bn), &[conv])?)
    }

    /// ReLU6 of `input` as the node `{name}.relu6`.
    fn relu6(&mut self, name: &str, input: ValueId) -> Result<ValueId, ModelError> {
        let clip = Op::Clip { min: 0.0, max: 6.0 };
        Ok(self.graph.add_node(&format!("{name}.relu6"), clip, &[input])?)
    }
}
