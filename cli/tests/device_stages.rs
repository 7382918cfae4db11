//! A feature-visualization step stage by stage on the CPU (flex) and on a Vulkan software
//! adapter (Mesa's lavapipe, the GPU code path CI can run), each stage fed the same inputs on
//! both, so that a disagreement names its stage: the parameterization (spectrum to image),
//! the resample to the model's input, the network layer by layer and its backward pass, the
//! objective, Adam, and a whole render session with the GPU's batched readbacks.
//!
//! Sizes are small (16 px images, a 32 px model input) except where the size is the point:
//! the resample is checked at EfficientNet's 224 px input, whose 200,704 bilinear taps once
//! overran lavapipe's 65,535-iteration loop limit in the scatter-add of the backward pass
//! (`fv::resample::MAX_SELECT_INDICES`).
//!
//! Needs the lite0 weights in the cache (`microscope fetch all`; a failure when missing under
//! `MICROSCOPE_REQUIRE_DATA=1`) and a Vulkan software adapter (Debian: mesa-vulkan-drivers;
//! skipped without one unless `MICROSCOPE_REQUIRE_VULKAN=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::prelude::*;
use burn::tensor::DeviceKind;
use burn::tensor::wgpu::WgpuBackend;
use microscope_core::fv::adam::Adam;
use microscope_core::fv::evaluate::Evaluation;
use microscope_core::fv::param::ImageParam;
use microscope_core::fv::resample::resample;
use microscope_core::fv::transform::{Warp, standard_transforms_for};
use microscope_core::fv::{Objective, Parameterization, RenderOptions, Rendering, render};
use microscope_core::model::{Model, ModelId};
use microscope_core::network::{InputSpec, LayerSummary, Network, NetworkError};
use microscope_core::rng::SplitMix64;
use microscope_core::weights::read_safetensors;

const OBJECTIVE: &str = "blocks.2:3";
/// Side of the images optimised.
const SIZE: usize = 16;
/// The model input the network stages and the session use (EfficientNet takes any size).
const INPUT: usize = 32;

fn cache_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    })
}

/// The Vulkan software adapter, opened once per process (burn's runtime starts a device
/// once); `None`, after a message, where there is none and none is required.
fn software_vulkan() -> Option<Device> {
    static DEVICE: OnceLock<Option<Device>> = OnceLock::new();
    let device = DEVICE
        .get_or_init(|| {
            Device::wgpu_options()
                .device_kind(DeviceKind::Cpu)
                .graphics_api(WgpuBackend::Vulkan)
                .init()
                .ok()
        })
        .clone();
    if device.is_none() {
        assert!(
            std::env::var_os("MICROSCOPE_REQUIRE_VULKAN").is_none_or(|v| v != "1"),
            "MICROSCOPE_REQUIRE_VULKAN=1 but no Vulkan software adapter"
        );
        eprintln!("SKIPPED: no Vulkan software adapter (Debian: mesa-vulkan-drivers)");
    }
    device
}

/// EfficientNet-Lite0 on `device`, or `None` (after a message) without the weights.
fn lite0(device: &Device) -> Option<Model> {
    let path = cache_dir().join("weights/efficientnet-lite0.safetensors");
    if !path.exists() {
        assert!(
            std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_none_or(|v| v != "1"),
            "MICROSCOPE_REQUIRE_DATA=1 but the lite0 weights are missing"
        );
        eprintln!("SKIPPED: the lite0 weights are missing; run `microscope fetch all`");
        return None;
    }
    let tensors = read_safetensors(&std::fs::read(path).unwrap()).unwrap();
    Some(Model::from_tensor_map(ModelId::EfficientNetLite0, &tensors, device).unwrap())
}

/// EfficientNet-Lite0 with a smaller nominal input, so that a render session feeds it
/// [`INPUT`] px images instead of 224 px ones.
struct SmallInput(Model);

impl Network for SmallInput {
    fn id(&self) -> &str {
        self.0.id()
    }
    fn input_spec(&self) -> InputSpec {
        InputSpec { height_px: INPUT, width_px: INPUT, ..self.0.input_spec() }
    }
    fn layers(&self) -> Vec<LayerSummary> {
        Network::layers(&self.0)
    }
    fn forward_layers(
        &self,
        input: Tensor<4>,
        layers: &[&str],
    ) -> Result<Vec<Tensor<4>>, NetworkError> {
        self.0.forward_layers(input, layers)
    }
}

fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// Asserts that `gpu` is `cpu` within `tolerance` of the largest CPU value, printing the
/// stage's figures either way.
fn agree(stage: &str, cpu: &[f32], gpu: &[f32], tolerance: f32) {
    assert_eq!(cpu.len(), gpu.len(), "{stage}: lengths differ");
    let scale = cpu.iter().fold(0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    let (at, worst) = cpu
        .iter()
        .zip(gpu)
        .map(|(c, g)| (c - g).abs())
        .enumerate()
        .fold((0, 0f32), |best, (i, d)| if d > best.1 || d.is_nan() { (i, d) } else { best });
    let relative = worst / scale;
    eprintln!(
        "{stage:44} {:>7} values, largest |cpu| {scale:9.3e}, largest difference {worst:9.3e} \
         ({relative:8.2e} of it) at {at}: cpu {} vs gpu {}",
        cpu.len(),
        cpu[at],
        gpu[at]
    );
    assert!(
        relative <= tolerance,
        "{stage}: the software Vulkan adapter differs from the CPU by {relative:.2e} of the \
         largest value (tolerance {tolerance:.0e}): element {at}, cpu {} vs gpu {}",
        cpu[at],
        gpu[at]
    );
}

/// A weighted mean of `output`: a differentiable scalar whose gradient is `weights / n`.
/// (A mean, not a sum: burn's one-kernel sum uses float atomics, whose pipeline lavapipe
/// 22.3 crashes on creating.)
fn weighted<const D: usize>(output: Tensor<D>, weights: &[f32]) -> Tensor<1> {
    let shape: [usize; D] = output.dims();
    let device = output.device();
    (output * tensor(weights, shape, &device)).mean()
}

fn fourier(device: &Device) -> ImageParam {
    ImageParam::new(Parameterization::default(), true, 1, 3, [SIZE, SIZE], device)
}

#[test]
fn the_parameterization_agrees_forward_and_backward() {
    let Some(gpu) = software_vulkan() else { return };
    let cpu = Device::flex();
    let dims = fourier(&cpu).raw_dims();
    let mut rng = SplitMix64::new(3);
    let raw = rng.normals(dims.iter().product(), 0.3);
    let upstream = rng.normals(3 * SIZE * SIZE, 1.0);
    let run = |device: &Device| {
        let param = fourier(device);
        let raw = tensor(&raw, dims, device).autodiff().require_grad();
        let image = param.image(raw.clone());
        let grads = weighted(image.clone(), &upstream).backward();
        (values(image.without_autodiff()), values(raw.grad(&grads).unwrap()))
    };
    let ((cpu_image, cpu_grad), (gpu_image, gpu_grad)) = (run(&cpu), run(&gpu));
    agree("image from its spectrum (DFT, colour, sigmoid)", &cpu_image, &gpu_image, 1e-5);
    agree("gradient of the spectrum", &cpu_grad, &gpu_grad, 1e-5);
}

#[test]
fn the_resample_to_the_model_input_agrees_forward_and_backward() {
    let Some(gpu) = software_vulkan() else { return };
    let cpu = Device::flex();
    let mut rng = SplitMix64::new(5);
    let image = rng.normals(3 * SIZE * SIZE, 0.2);
    // lucid's transforms, then up to EfficientNet's 224 px: 4 x 224 x 224 taps.
    let warp = Warp::sample(&standard_transforms_for(SIZE), [SIZE, SIZE], 224, &mut rng);
    let [oh, ow] = warp.output;
    assert!(4 * oh * ow > 65_535, "{warp:?}");
    let upstream = rng.normals(3 * oh * ow, 1.0);
    let run = |device: &Device| {
        let image = tensor(&image, [1, 3, SIZE, SIZE], device).autodiff().require_grad();
        let warped = resample(image.clone(), &warp, 0.5);
        let grads = weighted(warped.clone(), &upstream).backward();
        (values(warped.without_autodiff()), values(image.grad(&grads).unwrap()))
    };
    let ((cpu_out, cpu_grad), (gpu_out, gpu_grad)) = (run(&cpu), run(&gpu));
    agree("resample 16 px to 224 px", &cpu_out, &gpu_out, 1e-5);
    agree("gradient of the image through the resample", &cpu_grad, &gpu_grad, 1e-5);
}

#[test]
fn the_network_agrees_layer_by_layer_and_backward() {
    let Some(gpu) = software_vulkan() else { return };
    let cpu = Device::flex();
    let (Some(cpu_model), Some(gpu_model)) = (lite0(&cpu), lite0(&gpu)) else { return };
    let layers: Vec<String> = Network::layers(&cpu_model)
        .into_iter()
        .map(|l| l.name)
        .take_while(|name| name != "blocks.3.expand")
        .collect();
    let names: Vec<&str> = layers.iter().map(String::as_str).collect();
    let input = SplitMix64::new(4).normals(3 * INPUT * INPUT, 1.0);
    let shape = [1, 3, INPUT, INPUT];
    let forward = |model: &Model, device: &Device| {
        model.forward_layers(tensor(&input, shape, device), &names).unwrap()
    };
    for ((name, c), g) in names.iter().zip(forward(&cpu_model, &cpu)).zip(forward(&gpu_model, &gpu))
    {
        agree(&format!("forward to {name}"), &values(c), &values(g), 1e-4);
    }
    // The objective and its gradient with respect to the network's input.
    let objective: Objective = OBJECTIVE.parse().unwrap();
    let objective_layers = objective.layers();
    let backward = |model: &Model, device: &Device| {
        let input = tensor(&input, shape, device).autodiff().require_grad();
        let names: Vec<&str> = objective_layers.iter().map(String::as_str).collect();
        let activations = model.forward_layers(input.clone(), &names).unwrap();
        let value = objective
            .evaluate(&Evaluation {
                layers: &objective_layers,
                activations: &activations,
                image: &input,
                batch: 1,
                reference: false,
            })
            .unwrap();
        let grads = value.backward();
        (values(value.without_autodiff()), values(input.grad(&grads).unwrap()))
    };
    let ((cpu_value, cpu_grad), (gpu_value, gpu_grad)) =
        (backward(&cpu_model, &cpu), backward(&gpu_model, &gpu));
    agree(&format!("objective {OBJECTIVE}"), &cpu_value, &gpu_value, 1e-5);
    agree("gradient of the network's input", &cpu_grad, &gpu_grad, 1e-4);
}

#[test]
fn adam_agrees_over_several_steps() {
    let Some(gpu) = software_vulkan() else { return };
    let cpu = Device::flex();
    let dims = [3, 2 * SIZE, SIZE / 2 + 1];
    let start = SplitMix64::new(6).normals(dims.iter().product(), 0.01);
    let (mut cpu_adam, mut gpu_adam) = (Adam::new(0.05), Adam::new(0.05));
    let (mut on_cpu, mut on_gpu) = (tensor(&start, dims, &cpu), tensor(&start, dims, &gpu));
    for step in 1..=4 {
        let gradient = SplitMix64::new(100 + step).normals(dims.iter().product(), 0.01);
        on_cpu = cpu_adam.ascend(on_cpu, tensor(&gradient, dims, &cpu));
        on_gpu = gpu_adam.ascend(on_gpu, tensor(&gradient, dims, &gpu));
        agree(
            &format!("parameters after Adam step {step}"),
            &values(on_cpu.clone()),
            &values(on_gpu.clone()),
            1e-6,
        );
    }
}

#[test]
fn a_render_session_agrees_step_by_step() {
    let Some(gpu) = software_vulkan() else { return };
    let cpu = Device::flex();
    let (Some(cpu_model), Some(gpu_model)) = (lite0(&cpu), lite0(&gpu)) else { return };
    let objective: Objective = OBJECTIVE.parse().unwrap();
    let steps = 6;
    // Lucid's transforms, a snapshot half way; the GPU reads its values back every 4 steps,
    // as the CLI does on a GPU (every 16).
    let options = RenderOptions {
        size_px: SIZE,
        steps,
        seed: 7,
        thresholds: vec![3],
        ..RenderOptions::default()
    };
    let run = |model: &SmallInput, device: &Device, readback_every: usize| -> Rendering {
        let options = RenderOptions { readback_every, ..options.clone() };
        pollster::block_on(render(model, &objective, &options, device, |_| {
            ControlFlow::Continue(())
        }))
        .unwrap()
    };
    let on_cpu = run(&SmallInput(cpu_model), &cpu, 1);
    let on_gpu = run(&SmallInput(gpu_model), &gpu, 4);
    agree("objective at each step", &on_cpu.values, &on_gpu.values, 1e-4);
    assert_eq!(on_cpu.values.len(), steps);
    assert!(
        on_cpu.values[steps - 1] > on_cpu.values[0],
        "the render does not ascend: {:?}",
        on_cpu.values
    );
    agree(
        "image after 3 steps",
        &on_cpu.snapshots[0].images[0].data,
        &on_gpu.snapshots[0].images[0].data,
        1e-4,
    );
    agree(
        &format!("image after {steps} steps"),
        &on_cpu.images[0].data,
        &on_gpu.images[0].data,
        1e-4,
    );
}
