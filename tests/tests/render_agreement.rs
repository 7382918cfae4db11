//! The same render in the browser and natively agrees: the diagnostics page's render check
//! (EfficientNet-Lite0, objective `blocks.2:3`, 64 px, seed 7) on the CPU path (flex in wasm)
//! and on the WebGPU path (SwiftShader), read back from the page's canvas, against
//! microscope-core's own render loop with the same settings on the native CPU backend (flex,
//! as the CLI runs it).
//!
//! Both images are then measured the same way natively (`fv::measure`: the 8-bit picture
//! resized to the model's input, the unit's mean activation). Tolerances:
//! - the unit's activation of the two images differs by at most [`ACTIVATION_TOLERANCE`]
//!   (3 %) of the native image's activation, and by at most a tenth of what the render added
//!   over its starting noise (so the bound is tight relative to what the render did);
//! - the first step's objective (same start image, same transforms, before any update)
//!   agrees to [`FIRST_OBJECTIVE_TOLERANCE`] (0.1 %): the paths compute the same function.
//!
//! Pixels are compared too (largest and mean absolute difference of the 8-bit values) and
//! printed: floating-point sums in a different order make the paths drift apart slowly, so
//! pixels are reported, not bounded tightly; they must stay within [`PIXEL_MEAN_TOLERANCE`]
//! levels on average.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod render_support;

use std::str::FromStr;

use burn::prelude::Device;
use microscope_core::fv::measure::{objective_values, picture_input};
use microscope_core::fv::{Objective, RenderOptions, RenderSession, RenderedImage};
use microscope_core::model::{Model, ModelId};
use microscope_core::weights::read_safetensors;
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use render_support::{atlas_with_weights, cached_weights, canvas_rgba, render_to_end, set_render};

const OBJECTIVE: &str = "blocks.2:3";
const SIZE_PX: u32 = 64;
const SEED: u64 = 7;
/// Most the unit's activation of the browser's image may differ from the native one's,
/// relative to the native one.
const ACTIVATION_TOLERANCE: f64 = 0.03;
/// Most the first step's objective may differ between browser and native, relative.
const FIRST_OBJECTIVE_TOLERANCE: f64 = 0.001;
/// Most the mean absolute difference of the two images' 8-bit values may be.
const PIXEL_MEAN_TOLERANCE: f64 = 4.0;

/// What a native render gives: the objective at every step, the starting image and the
/// result.
struct Native {
    objectives: Vec<f32>,
    start: RenderedImage,
    image: RenderedImage,
}

fn lite0(device: &Device) -> Model {
    let bytes = std::fs::read(cached_weights().unwrap()).unwrap();
    let tensors = read_safetensors(&bytes).unwrap();
    Model::from_tensor_map(ModelId::from_str("efficientnet-lite0").unwrap(), &tensors, device)
        .unwrap()
}

/// The render the worker runs (`renderer/src/render_job.rs`), natively.
async fn render_natively(model: &Model, steps: usize, device: &Device) -> Native {
    let objective: Objective = OBJECTIVE.parse().unwrap();
    let options = RenderOptions {
        size_px: SIZE_PX as usize,
        steps,
        seed: SEED,
        batch: 1,
        ..RenderOptions::default()
    };
    let mut session = RenderSession::new(model, &objective, &options, device).unwrap();
    let start = session.images().await.unwrap().remove(0);
    let mut objectives = Vec::with_capacity(steps);
    for _ in 0..steps {
        objectives.push(session.step().await.unwrap());
    }
    let image = session.images().await.unwrap().remove(0);
    Native { objectives, start, image }
}

/// The unit's activation of an image, as `microscope activation` measures a PNG.
async fn activation(model: &Model, image: &RenderedImage, device: &Device) -> f64 {
    let objective: Objective = OBJECTIVE.parse().unwrap();
    let input = picture_input(&image.to_rgb_image(), &model.input_spec(), device);
    f64::from(objective_values(model, &objective, input).await.unwrap()[0])
}

/// The page's canvas as an image.
fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> RenderedImage {
    let plane = width * height;
    let mut data = vec![0.0f32; 3 * plane];
    for (i, pixel) in rgba.chunks_exact(4).enumerate() {
        for c in 0..3 {
            data[c * plane + i] = f32::from(pixel[c]) / 255.0;
        }
    }
    RenderedImage { width, height, channels: 3, data }
}

async fn browser_render(path: &str, steps: usize) -> Option<(Vec<f64>, RenderedImage)> {
    let atlas = atlas_with_weights(&format!("agreement-{path}"))?;
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap_or_else(|e| panic!("{e}"));
    let options =
        if path == "webgpu" { BrowserOptions::webgpu() } else { BrowserOptions::without_webgpu() };
    let browser = Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, "/diagnostics", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "diagnostics");
    set_render(&browser, OBJECTIVE, steps, SIZE_PX, SEED).await;
    let (text, objectives) = render_to_end(&browser, path, steps).await;
    eprintln!("{path}: {text}");
    let (width, height, rgba) = canvas_rgba(&browser).await;
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
    assert_eq!((width, height), (SIZE_PX as usize, SIZE_PX as usize), "canvas size");
    Some((objectives, from_rgba(width, height, &rgba)))
}

async fn agree(path: &str, steps: usize) {
    let _one_browser = serial::exclusive().await;
    let Some((browser_objectives, browser_image)) = browser_render(path, steps).await else {
        return;
    };
    let device = Device::flex();
    let model = lite0(&device);
    let native = render_natively(&model, steps, &device).await;

    let (ours, theirs) = (native.image.rgb8(), browser_image.rgb8());
    let diffs: Vec<f64> =
        ours.iter().zip(&theirs).map(|(a, b)| f64::from(a.abs_diff(*b))).collect();
    let max_diff = diffs.iter().copied().fold(0.0, f64::max);
    let mean_diff = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let noise = activation(&model, &native.start, &device).await;
    let native_act = activation(&model, &native.image, &device).await;
    let browser_act = activation(&model, &browser_image, &device).await;
    let relative = (browser_act - native_act).abs() / native_act.abs();
    let first = (browser_objectives[0], f64::from(native.objectives[0]));
    let first_relative = (first.0 - first.1).abs() / first.1.abs();
    eprintln!(
        "METRIC render_agreement {path}: {OBJECTIVE}, {SIZE_PX} px, {steps} steps, seed {SEED}; \
         activation native {native_act:.4}, browser {browser_act:.4} (relative difference \
         {:.3} %; starting noise {noise:.4}); first objective native {:.5}, browser {:.5} \
         ({:.4} %); pixels: max |diff| {max_diff} of 255, mean {mean_diff:.3}",
        relative * 100.0,
        first.1,
        first.0,
        first_relative * 100.0,
    );
    eprintln!("{path} objectives: browser {browser_objectives:?}\nnative {:?}", native.objectives);
    assert_eq!(browser_objectives.len(), native.objectives.len());
    assert!(
        first_relative <= FIRST_OBJECTIVE_TOLERANCE,
        "the first objective differs by {:.4} %",
        first_relative * 100.0
    );
    assert!(
        native_act > noise,
        "the native render did not raise its unit: {noise} -> {native_act}"
    );
    assert!(
        relative <= ACTIVATION_TOLERANCE,
        "activations differ by {:.3} % (tolerance {:.1} %)",
        relative * 100.0,
        ACTIVATION_TOLERANCE * 100.0
    );
    assert!(
        (browser_act - native_act).abs() <= 0.1 * (native_act - noise),
        "activations differ by more than a tenth of the render's gain over noise"
    );
    assert!(mean_diff <= PIXEL_MEAN_TOLERANCE, "mean pixel difference {mean_diff:.3}");
}

/// The CPU path (flex in wasm) against native flex, 16 steps.
#[tokio::test]
async fn cpu_path_agrees_with_a_native_render() {
    agree("cpu", 16).await;
}

/// The WebGPU path (SwiftShader; seconds per step) against native flex, 4 steps.
#[tokio::test]
async fn webgpu_path_agrees_with_a_native_render() {
    agree("webgpu", 4).await;
}
