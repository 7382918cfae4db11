//! The trained fashion-cnn as a [`Graph`]: the same computation as the training code, built
//! from a checkpoint's weights, so the model catalogue, circuits, feature visualization and
//! the browser renderer work on it like on any other model.
//!
//! Layers: `conv1` (convolution) → `conv1.relu` → `pool1` …, `conv3.relu` → `pool3` →
//! `flatten` → `fc` (fully connected) → `fc.relu` → `logits`. The named layers are the
//! pre-activations, as lucid renders them: a ReLU's output has no gradient where it is zero, so
//! a unit that is off in the starting image could never be turned on.

use burn::prelude::Device;

use super::TrainError;
use super::fashion_cnn::{FASHION_CNN_ID, fashion_cnn_input_spec, ordered_parameters};
use crate::graph::{Conv2d, Dim, Graph, HostTensor, Linear, Op, Padding2d, Pool2d, ValueId};
use crate::model::{Model, ModelSource};
use crate::weights::TensorMap;

/// The fashion-cnn graph with `weights` (named as
/// [`FASHION_CNN_PARAMETERS`](super::FASHION_CNN_PARAMETERS)).
///
/// Fails when a tensor is missing or misshapen.
pub fn fashion_cnn_graph(weights: &TensorMap) -> Result<Graph, TrainError> {
    let params = ordered_parameters(weights)?;
    let tensor = |i: usize, shape: &[usize]| -> Result<HostTensor, TrainError> {
        let data = params.get(i).map(|p| p.to_vec()).unwrap_or_default();
        Ok(HostTensor::new(shape.to_vec(), data)?)
    };
    let mut graph = Graph::new(
        "image",
        [Dim::Symbolic("batch".into()), Dim::Fixed(1), Dim::Fixed(28), Dim::Fixed(28)],
    );
    let pool = Pool2d {
        kernel: [2, 2],
        stride: [2, 2],
        padding: Padding2d::Valid,
        dilation: [1, 1],
        ceil_mode: false,
    };
    let mut x = ValueId::INPUT;
    for (stage, (c_in, c_out)) in [(1, 16), (16, 32), (32, 64)].into_iter().enumerate() {
        let k = stage + 1;
        let conv = Conv2d {
            weight: tensor(2 * stage, &[c_out, c_in, 3, 3])?,
            bias: Some(tensor(2 * stage + 1, &[c_out])?),
            stride: [1, 1],
            padding: Padding2d::Explicit([(1, 1), (1, 1)]),
            dilation: [1, 1],
            groups: 1,
        };
        x = graph.add_node(&format!("conv{k}"), Op::Conv2d(conv), &[x])?;
        x = graph.add_node(&format!("conv{k}.relu"), Op::Relu, &[x])?;
        x = graph.add_node(&format!("pool{k}"), Op::MaxPool(pool), &[x])?;
    }
    x = graph.add_node("flatten", Op::Flatten { axis: 1 }, &[x])?;
    let fc = Linear { weight: tensor(6, &[576, 128])?, bias: Some(tensor(7, &[128])?) };
    x = graph.add_node("fc", Op::Linear(fc), &[x])?;
    x = graph.add_node("fc.relu", Op::Relu, &[x])?;
    let logits = Linear { weight: tensor(8, &[128, 10])?, bias: Some(tensor(9, &[10])?) };
    x = graph.add_node("logits", Op::Linear(logits), &[x])?;
    graph.set_outputs(&[x])?;
    Ok(graph)
}

/// The trained fashion-cnn as a [`Model`] called `id` on `device`.
pub fn fashion_cnn_model(
    id: Option<&str>,
    weights: &TensorMap,
    device: &Device,
) -> Result<Model, TrainError> {
    let graph = fashion_cnn_graph(weights)?;
    Ok(Model::from_graph(
        id.unwrap_or(FASHION_CNN_ID),
        &graph,
        fashion_cnn_input_spec(),
        ModelSource::Graph,
        device,
    )?)
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::*;
    use crate::network::Network;
    use crate::train::{fashion_cnn_forward, init_fashion_cnn};

    #[test]
    fn graph_forward_equals_training_forward() {
        let device = Device::flex();
        let weights = init_fashion_cnn(5);
        let model = fashion_cnn_model(None, &weights, &device).unwrap();
        let names: Vec<String> = model.layers().iter().map(|l| l.name.clone()).collect();
        for layer in ["conv1", "conv2", "conv3", "fc", "logits"] {
            assert!(names.iter().any(|n| n == layer), "{layer} not in {names:?}");
        }
        assert_eq!(model.layer("conv3").map(|l| (l.channels, l.spatial)), Some((64, [7, 7])));
        assert_eq!(model.classes(), 10);
        let mut rng = crate::train::SplitMix64::new(9);
        let pixels: Vec<f32> =
            (0..2 * 28 * 28).map(|_| crate::train::rng::normal_f32(&mut rng)).collect();
        let images = Tensor::<4>::from_data(TensorData::new(pixels, [2, 1, 28, 28]), &device);
        let params: Vec<Tensor<1>> = crate::train::fashion_cnn::ordered_parameters(&weights)
            .unwrap()
            .into_iter()
            .map(|p| Tensor::<1>::from_floats(p, &device))
            .collect();
        let want: Vec<f32> =
            fashion_cnn_forward(&params, images.clone()).into_data().try_to_vec().unwrap();
        let got: Vec<f32> = model.logits(images.clone()).unwrap().into_data().try_to_vec().unwrap();
        assert_eq!(got.len(), 20);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{got:?} vs {want:?}");
        }
        let via_network = model.forward_layers(images, &["logits"]).unwrap();
        assert_eq!(via_network[0].dims(), [2, 10, 1, 1]);
    }

    #[test]
    fn feature_visualization_renders_the_fixed_size_model_at_any_size() {
        use crate::fv::render::{RenderOptions, render};
        use crate::objective::Objective;
        let device = Device::flex();
        let model = fashion_cnn_model(None, &init_fashion_cnn(2), &device).unwrap();
        assert!(model.fixed_input_size(), "a flatten before `fc` fixes the input size");
        let objective: Objective = "conv3:3".parse().unwrap();
        for size in [64, 28, 20] {
            let options = RenderOptions { size_px: size, steps: 8, ..RenderOptions::default() };
            let rendering =
                pollster::block_on(render(&model, &objective, &options, &device, |_| {
                    std::ops::ControlFlow::Continue(())
                }))
                .unwrap();
            assert_eq!(rendering.values.len(), 8);
            assert_eq!(rendering.images[0].channels, 1);
            let (first, last) = (rendering.values[0], rendering.values[7]);
            assert!(last > first, "{size} px: the objective rose from {first} to {last}");
        }
    }
}
