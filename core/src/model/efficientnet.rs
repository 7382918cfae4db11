//! The EfficientNet-Lite network in burn, for inference and for gradients with respect to the
//! input (feature visualization).
//!
//! Weights are loaded once from a [`TensorMap`] with every batch norm folded into its
//! convolution (see `fold`), so each layer is one `conv2d` with a bias. Depthwise convolutions
//! are grouped `conv2d`s. Padding is TensorFlow SAME, computed from the actual input size at
//! every call, so any input size works.
//!
//! [`Model::forward`] returns the requested intermediate layers and stops as soon as the
//! deepest of them is computed: visualising an early layer doesn't pay for the whole network.
//! Nothing here reads values back from the device, so it runs unchanged in the browser.

use std::ops::ControlFlow;

use burn::prelude::*;
use burn::tensor::activation::relu6;
use burn::tensor::module::{conv2d, linear};
use burn::tensor::ops::ConvOptions;

use super::activations::Tapper;
use super::architecture::block_key;
use super::fold::{FoldedConv, fold_conv_bn, tensor};
use super::padding::same_padding;
use super::{
    Activations, Architecture, BN_EPS, BlockSpec, HEAD_CHANNELS, INPUT_CHANNELS, LayerId,
    LayerInfo, ModelError, ModelId, NUM_CLASSES, STEM_STRIDE,
};
use crate::weights::TensorMap;

/// A convolution with folded batch norm: weights, bias, stride, groups, SAME padding.
#[derive(Clone)]
struct Conv {
    /// `[out, in / groups, k, k]`.
    weight: Tensor<4>,
    /// `[out]`.
    bias: Tensor<1>,
    kernel: usize,
    stride: usize,
    groups: usize,
}

impl Conv {
    fn new(folded: FoldedConv, stride: usize, groups: usize, device: &Device) -> Self {
        let FoldedConv { weight, shape, bias } = folded;
        let [out, _, kernel, _] = shape;
        Self {
            kernel,
            weight: Tensor::from_data(TensorData::new(weight, shape), device),
            bias: Tensor::from_data(TensorData::new(bias, [out]), device),
            stride,
            groups,
        }
    }

    /// The convolution with SAME padding for `x`'s size.
    ///
    /// # Shapes
    /// - `x`: `[N, C_in, H, W]`
    /// - returns: `[N, C_out, ceil(H / stride), ceil(W / stride)]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let options = ConvOptions {
            stride: [self.stride; 2],
            padding: [
                same_padding(h, self.kernel, self.stride),
                same_padding(w, self.kernel, self.stride),
            ],
            dilation: [1; 2],
            groups: self.groups,
        };
        conv2d(x, self.weight.clone(), Some(self.bias.clone()), options)
    }
}

/// One MBConv block.
#[derive(Clone)]
struct Block {
    spec: BlockSpec,
    /// 1x1, `in -> mid`; absent when the expansion ratio is 1.
    expand: Option<Conv>,
    /// kxk depthwise, `mid -> mid`, groups = mid.
    depthwise: Conv,
    /// 1x1, `mid -> out`.
    project: Conv,
}

impl Block {
    fn load(
        spec: BlockSpec,
        tensors: &TensorMap,
        model: ModelId,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let i = spec.index;
        let fold = |conv: &str, bn: &str| {
            fold_conv_bn(tensors, &block_key(i, conv), &block_key(i, bn), BN_EPS, model)
        };
        let expand = if spec.has_expand() {
            Some(Conv::new(fold("_expand_conv.weight", "_bn0")?, 1, 1, device))
        } else {
            None
        };
        Ok(Self {
            spec,
            expand,
            depthwise: Conv::new(
                fold("_depthwise_conv.weight", "_bn1")?,
                spec.stride,
                spec.mid_channels,
                device,
            ),
            project: Conv::new(fold("_project_conv.weight", "_bn2")?, 1, 1, device),
        })
    }

    /// Runs the block, tapping its layers; breaks when the tapper has all it wants.
    ///
    /// # Shapes
    /// - `x`: `[N, in, H, W]` (after ReLU6 of the previous layer, or a block output)
    /// - returns: `[N, out, ceil(H / stride), ceil(W / stride)]`
    fn forward(&self, x: Tensor<4>, taps: &mut Tapper) -> ControlFlow<(), Tensor<4>> {
        let i = self.spec.index;
        let skip = self.spec.residual.then(|| x.clone());
        let h = match &self.expand {
            Some(expand) => {
                let h = expand.forward(x); // [N, mid, H, W]
                taps.tap(LayerId::Expand(i), &h)?;
                relu6(h)
            }
            None => x,
        };
        let h = self.depthwise.forward(h); // [N, mid, H / s, W / s]
        taps.tap(LayerId::Depthwise(i), &h)?;
        let h = self.project.forward(relu6(h)); // [N, out, H / s, W / s]
        let out = match skip {
            Some(skip) => {
                taps.tap(LayerId::Project(i), &h)?;
                h + skip
            }
            None => h,
        };
        taps.tap(LayerId::Block(i), &out)?;
        ControlFlow::Continue(out)
    }
}

/// An EfficientNet-Lite network with its weights on one device.
///
/// Cloning is cheap (tensors are shared).
#[derive(Clone)]
pub struct Model {
    architecture: Architecture,
    layers: Vec<LayerInfo>,
    /// 3x3 stride 2, `3 -> 32`.
    stem: Conv,
    blocks: Vec<Block>,
    /// 1x1, `last -> 1280`.
    head: Conv,
    /// `[1280, 1000]` (transposed from the checkpoint's `[1000, 1280]`).
    fc_weight: Tensor<2>,
    /// `[1000]`.
    fc_bias: Tensor<1>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("model", &self.architecture.model()).finish_non_exhaustive()
    }
}

impl Model {
    /// Builds `model` from checkpoint tensors (lukemelas names, see
    /// [`Architecture::expected_tensors`]) on `device`, folding every batch norm into its
    /// convolution.
    ///
    /// Fails when a tensor is missing or has the wrong shape ([`Architecture::validate`]), or
    /// when folding gives non-finite weights. Extra tensors are ignored.
    pub fn from_tensor_map(
        model: ModelId,
        tensors: &TensorMap,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let architecture = model.architecture();
        architecture.validate(tensors)?;
        let stem = Conv::new(
            fold_conv_bn(tensors, "_conv_stem.weight", "_bn0", BN_EPS, model)?,
            STEM_STRIDE,
            1,
            device,
        );
        let blocks = architecture
            .blocks()
            .iter()
            .map(|&spec| Block::load(spec, tensors, model, device))
            .collect::<Result<Vec<_>, _>>()?;
        let head = Conv::new(
            fold_conv_bn(tensors, "_conv_head.weight", "_bn1", BN_EPS, model)?,
            1,
            1,
            device,
        );
        // The checkpoint stores [classes, features]; `linear` wants [features, classes].
        let fc = tensor(tensors, "_fc.weight", model)?.data();
        let mut fc_t = vec![0.0f32; fc.len()];
        for (c, row) in fc.chunks_exact(HEAD_CHANNELS).enumerate() {
            for (f, &v) in row.iter().enumerate() {
                if let Some(slot) = fc_t.get_mut(f * NUM_CLASSES + c) {
                    *slot = v;
                }
            }
        }
        let fc_weight =
            Tensor::from_data(TensorData::new(fc_t, [HEAD_CHANNELS, NUM_CLASSES]), device);
        let fc_bias = tensor(tensors, "_fc.bias", model)?.data().to_vec();
        let fc_bias = Tensor::from_data(TensorData::new(fc_bias, [NUM_CLASSES]), device);
        let layers = architecture.layers();
        Ok(Self { architecture, layers, stem, blocks, head, fc_weight, fc_bias })
    }

    /// Which model this is.
    pub fn model(&self) -> ModelId {
        self.architecture.model()
    }

    /// The architecture (blocks, input size).
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// The layer catalogue at the model's input size, in forward order.
    pub fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    /// Runs the network on `input` and returns the activations of the layers in `taps`,
    /// stopping as soon as the deepest of them is computed. An empty `taps` computes nothing.
    ///
    /// Layers followed by ReLU6 (`stem`, `blocks.N.expand`, `blocks.N.depthwise`, `head`) give
    /// their batch-norm output *before* ReLU6. Works on any device, with or without autodiff:
    /// gradients flow from any returned activation back to `input`.
    ///
    /// # Shapes
    /// - `input`: `[N, 3, H, W]`, normalised as in [`crate::preprocess`]; any `H, W > 0`
    ///   (the model was trained at [`ModelId::input_size`])
    /// - returns: each activation `[N, C, H', W']` as in [`Self::layers`] at that size;
    ///   `logits` as `[N, 1000, 1, 1]`
    pub fn forward(&self, input: Tensor<4>, taps: &[LayerId]) -> Result<Activations, ModelError> {
        check_input(&input)?;
        let mut tapper = Tapper::new(self.model(), &self.layers, taps)?;
        if !tapper.is_empty() {
            // Break means the deepest layer was reached, Continue that the whole net ran.
            let _ = self.run(input, &mut tapper);
        }
        Ok(tapper.finish())
    }

    /// The class logits (before softmax).
    ///
    /// # Shapes
    /// - `input`: `[N, 3, H, W]`, normalised as in [`crate::preprocess`]
    /// - returns: `[N, 1000]`
    pub fn logits(&self, input: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        let [n, ..] = input.dims();
        let mut activations = self.forward(input, &[LayerId::Logits])?;
        let logits = activations
            .remove(LayerId::Logits)
            .ok_or(ModelError::UnknownLayer { model: self.model(), layer: LayerId::Logits })?;
        Ok(logits.reshape([n, NUM_CLASSES]))
    }

    /// The whole network, tapping as it goes; breaks once the tapper has all it wants.
    ///
    /// # Shapes
    /// - `input`: `[N, 3, H, W]`
    fn run(&self, input: Tensor<4>, taps: &mut Tapper) -> ControlFlow<()> {
        let x = self.stem.forward(input); // [N, 32, H/2, W/2]
        taps.tap(LayerId::Stem, &x)?;
        let mut x = relu6(x);
        for block in &self.blocks {
            x = block.forward(x, taps)?; // [N, out, H/s, W/s]
        }
        let x = self.head.forward(x); // [N, 1280, h, w]
        taps.tap(LayerId::Head, &x)?;
        let [n, c, h, w] = x.dims();
        let pooled = relu6(x).reshape([n, c, h * w]).mean_dim(2).reshape([n, c]); // [N, 1280]
        let logits = linear(pooled, self.fc_weight.clone(), Some(self.fc_bias.clone())); // [N, 1000]
        taps.tap(LayerId::Logits, &logits.reshape([n, NUM_CLASSES, 1, 1]))?;
        ControlFlow::Continue(())
    }
}

/// Checks that `input` is `[N, 3, H, W]` with `N, H, W > 0`.
fn check_input(input: &Tensor<4>) -> Result<(), ModelError> {
    let dims = input.dims();
    let [n, c, h, w] = dims;
    if c != INPUT_CHANNELS || n == 0 || h == 0 || w == 0 {
        return Err(ModelError::InvalidInput { shape: dims.to_vec() });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use burn::tensor::module::batch_norm;

    use super::*;
    use crate::model::architecture::tests::synthetic_weights;
    use crate::weights::NamedTensor;

    /// Deterministic values in [-1, 1).
    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
            })
            .collect()
    }

    fn input(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(noise(shape.iter().product(), seed), shape), device)
    }

    fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
        t.to_data().try_to_vec::<f32>().unwrap()
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    fn lite0(device: &Device) -> Model {
        Model::from_tensor_map(
            ModelId::EfficientNetLite0,
            &synthetic_weights(ModelId::EfficientNetLite0, 7),
            device,
        )
        .unwrap()
    }

    #[test]
    fn model_folded_conv_equals_conv_then_batch_norm() {
        let device = Device::flex();
        // A depthwise 5x5 stride 2 (asymmetric SAME padding at 14) and a dense 3x3 stride 1.
        for (shape, groups, stride) in [([6usize, 1, 5, 5], 6usize, 2usize), ([4, 6, 3, 3], 1, 1)] {
            let out = shape[0];
            let mut map = TensorMap::new();
            let n: usize = shape.iter().product();
            map.insert("c.weight", NamedTensor::new(shape.to_vec(), noise(n, 1)).unwrap());
            let gamma: Vec<f32> = noise(out, 2).iter().map(|v| 1.0 + 0.5 * v).collect();
            let beta = noise(out, 3);
            let mean = noise(out, 4);
            let var: Vec<f32> = noise(out, 5).iter().map(|v| 0.3 + v.abs()).collect();
            for (name, data) in [
                ("weight", &gamma),
                ("bias", &beta),
                ("running_mean", &mean),
                ("running_var", &var),
            ] {
                map.insert(
                    format!("bn.{name}"),
                    NamedTensor::new(vec![out], data.clone()).unwrap(),
                );
            }
            let folded =
                fold_conv_bn(&map, "c.weight", "bn", BN_EPS, ModelId::EfficientNetLite0).unwrap();
            let conv = Conv::new(folded, stride, groups, &device);
            let x = input([2, 6, 14, 14], 6, &device);
            let got = conv.forward(x.clone());

            let raw = Tensor::from_data(TensorData::new(noise(n, 1), shape), &device);
            let bias_free = Conv {
                weight: raw,
                bias: Tensor::zeros([out], &device),
                kernel: shape[2],
                stride,
                groups,
            };
            let t1 =
                |v: &Vec<f32>| Tensor::<1>::from_data(TensorData::new(v.clone(), [out]), &device);
            let want = batch_norm(
                bias_free.forward(x),
                t1(&gamma),
                t1(&beta),
                t1(&mean),
                t1(&var),
                BN_EPS,
            );
            assert_eq!(got.dims(), [2, out, 14 / stride, 14 / stride]);
            assert_eq!(got.dims(), want.dims());
            let diff = max_abs_diff(&values(&got), &values(&want));
            assert!(diff < 1e-4, "folded differs by {diff}");
        }
    }

    #[test]
    fn model_forward_shapes_follow_the_catalogue() {
        let device = Device::flex();
        let model = lite0(&device);
        let all: Vec<LayerId> = model.layers().iter().map(|l| l.id).collect();
        // Any size works, square or not; the catalogue at that size predicts the shapes.
        for (h, w) in [(64usize, 64usize), (37, 50)] {
            let acts = model.forward(input([2, 3, h, w], 1, &device), &all).unwrap();
            assert_eq!(acts.len(), all.len());
            let rows = model.architecture().layers_at(h);
            let cols = model.architecture().layers_at(w);
            for ((id, t), (r, c)) in acts.iter().zip(rows.iter().zip(&cols)) {
                assert_eq!(id, r.id);
                assert_eq!(t.dims(), [2, r.channels, r.spatial, c.spatial], "{id} at {h}x{w}");
            }
        }
        let logits = model.logits(input([3, 3, 32, 32], 2, &device)).unwrap();
        assert_eq!(logits.dims(), [3, NUM_CLASSES]);
        assert!(values(&logits).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn model_early_stop_gives_the_same_activations() {
        let device = Device::flex();
        let model = lite0(&device);
        let x = input([1, 3, 48, 48], 3, &device);
        let taps = [LayerId::Depthwise(5), LayerId::Stem, LayerId::Project(4), LayerId::Stem];
        let early = model.forward(x.clone(), &taps).unwrap();
        // Forward order, duplicates dropped.
        let ids: Vec<LayerId> = early.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [LayerId::Stem, LayerId::Project(4), LayerId::Depthwise(5)]);
        let full = model
            .forward(
                x.clone(),
                &[LayerId::Logits, LayerId::Depthwise(5), LayerId::Project(4), LayerId::Stem],
            )
            .unwrap();
        for (id, t) in early.iter() {
            assert_eq!(values(t), values(full.get(id).unwrap()), "{id}");
        }
        // Logits agree with the logits method.
        let logits = full.get(LayerId::Logits).unwrap().clone().reshape([1, NUM_CLASSES]);
        assert_eq!(values(&logits), values(&model.logits(x.clone()).unwrap()));
        // Pre-ReLU6 taps: the stem has values outside [0, 6].
        let stem = values(early.get(LayerId::Stem).unwrap());
        assert!(stem.iter().any(|&v| v < 0.0));
        // Nothing asked, nothing computed.
        assert!(model.forward(x, &[]).unwrap().is_empty());
    }

    #[test]
    fn model_gradient_reaches_the_input() {
        let device = Device::flex();
        let model = lite0(&device);
        for layer in [LayerId::Depthwise(5), LayerId::Logits] {
            let x = input([1, 3, 40, 40], 4, &device).autodiff().require_grad();
            let mut acts = model.forward(x.clone(), &[layer]).unwrap();
            let act = acts.remove(layer).unwrap();
            let objective = act.narrow(1, 3, 1).mean();
            let grads = objective.backward();
            let grad = x.grad(&grads).expect("no gradient for the input");
            assert_eq!(grad.dims(), [1, 3, 40, 40]);
            let g = values(&grad);
            assert!(g.iter().all(|v| v.is_finite()));
            assert!(g.iter().any(|&v| v != 0.0), "zero gradient from {layer}");
        }
    }

    #[test]
    fn model_rejects_bad_inputs_layers_and_weights() {
        let device = Device::flex();
        let model = lite0(&device);
        let err = model.forward(input([1, 4, 8, 8], 1, &device), &[LayerId::Stem]).unwrap_err();
        assert_eq!(err, ModelError::InvalidInput { shape: vec![1, 4, 8, 8] });
        let err =
            model.forward(input([1, 3, 8, 8], 1, &device), &[LayerId::Expand(0)]).unwrap_err();
        assert_eq!(
            err,
            ModelError::UnknownLayer {
                model: ModelId::EfficientNetLite0,
                layer: LayerId::Expand(0)
            }
        );
        assert!(model.forward(input([1, 3, 8, 8], 1, &device), &[LayerId::Block(16)]).is_err());

        let mut weights = synthetic_weights(ModelId::EfficientNetLite0, 1);
        assert!(Model::from_tensor_map(ModelId::EfficientNetLite1, &weights, &device).is_err());
        weights.remove("_fc.bias");
        assert_eq!(
            Model::from_tensor_map(ModelId::EfficientNetLite0, &weights, &device).unwrap_err(),
            ModelError::MissingTensor {
                model: ModelId::EfficientNetLite0,
                name: "_fc.bias".into()
            }
        );
    }

    /// Rough timing on flex: `cargo test --release -p microscope-core model_forward_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, prints only"]
    fn model_forward_timing() {
        let device = Device::flex();
        for model in ModelId::ALL {
            let net = Model::from_tensor_map(model, &synthetic_weights(model, 3), &device).unwrap();
            let s = model.input_size();
            for batch in [1usize, 16] {
                let x = input([batch, 3, s, s], 5, &device);
                let _ = values(&net.logits(x.clone()).unwrap());
                let runs = if batch == 1 { 10 } else { 3 };
                let start = std::time::Instant::now();
                for _ in 0..runs {
                    let _ = values(&net.logits(x.clone()).unwrap());
                }
                let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
                eprintln!(
                    "{model} {s}px batch {batch}: {per:.1} ms per batch, {:.1} ms per image",
                    per / batch as f64
                );
                // Forward + backward to the input from the last block (feature visualization).
                let start = std::time::Instant::now();
                for _ in 0..runs {
                    let xg = x.clone().autodiff().require_grad();
                    let act = net
                        .forward(xg.clone(), &[LayerId::Head])
                        .unwrap()
                        .remove(LayerId::Head)
                        .unwrap();
                    let grads = act.mean().backward();
                    let _ = values(&xg.grad(&grads).unwrap());
                }
                let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
                eprintln!("{model} {s}px batch {batch}: fwd+bwd to head {per:.1} ms per batch");
            }
        }
    }
}
