//! EfficientNet-Lite0's weights stored as float16 (`write_safetensors_f16`, what `microscope
//! compact` ships to the in-browser renderer) render what float32 renders: for units across
//! the network's depth, the same render (same seed, size, steps and transforms) is run with the
//! model built from each file, natively on the CPU, and both results are measured with the
//! float32 model. The first step's objective (same start image and transforms: only the
//! weights differ) must agree within [`FIRST_STEP_TOLERANCE`]; the unit's activation of the
//! float16 render must not fall below the float32 render's by more than [`RESULT_TOLERANCE`].
//! The final objectives (after the trajectories drifted apart) and a render from the next seed
//! are printed for scale. The file must be about half the size. The figures are printed as `METRIC` lines (BENCHMARKS.md,
//! "float16 weights").
//!
//! Needs the converted weights in the cache (`microscope fetch efficientnet-lite0`); without
//! them the test is skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a
//! failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::str::FromStr;

use burn::prelude::Device;
use microscope_core::fv::measure::{objective_values, picture_input};
use microscope_core::fv::{Objective, RenderOptions, RenderSession, RenderedImage};
use microscope_core::model::{Model, ModelId};
use microscope_core::weights::{read_safetensors, write_safetensors_f16};

/// Units across the depth of the network (early, middle, late).
const OBJECTIVES: [&str; 3] = ["blocks.2:3", "blocks.8:50", "blocks.14:100"];
/// The default atlas's render settings (`scripts/default-atlas.sh`).
const SIZE_PX: usize = 64;
const STEPS: usize = 48;
const SEED: u64 = 7;
/// Most the first step's objective may differ, relative: the same start and transforms, only
/// the weights differ.
const FIRST_STEP_TOLERANCE: f64 = 0.02;
/// Most the finished float16 render's activation may fall below the float32 render's, relative.
/// After 48 steps the two renders have drifted apart (seen 0.3-6 % either way, moved by any
/// change of the kernels' summation order; the next seed moves it 0.6-2.6 %), so only a loss
/// counts: a float16 render that excites its unit more has lost nothing.
const RESULT_TOLERANCE: f64 = 0.05;

fn cached_weights() -> Option<PathBuf> {
    let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    });
    let weights = cache.join("weights/efficientnet-lite0.safetensors");
    if weights.exists() {
        return Some(weights);
    }
    assert!(
        std::env::var("MICROSCOPE_REQUIRE_DATA").as_deref() != Ok("1"),
        "MICROSCOPE_REQUIRE_DATA=1 but {} is missing; run `microscope fetch all`",
        weights.display()
    );
    eprintln!("SKIPPED: no lite0 weights at {} (run `microscope fetch all`)", weights.display());
    None
}

/// The render's first and final objectives and its image.
async fn render(
    model: &Model,
    objective: &Objective,
    seed: u64,
    device: &Device,
) -> (f32, f32, RenderedImage) {
    let options = RenderOptions {
        size_px: SIZE_PX,
        steps: STEPS,
        seed,
        batch: 1,
        ..RenderOptions::default()
    };
    let mut session = RenderSession::new(model, objective, &options, device).unwrap();
    let first = session.step().await.unwrap();
    let mut last = first;
    for _ in 1..STEPS {
        last = session.step().await.unwrap();
    }
    (first, last, session.images().await.unwrap().remove(0))
}

/// The unit's activation of an image, as `microscope activation` measures a PNG.
async fn activation(
    model: &Model,
    objective: &Objective,
    image: &RenderedImage,
    device: &Device,
) -> f64 {
    let input = picture_input(&image.to_rgb_image(), &model.input_spec(), device);
    f64::from(objective_values(model, objective, input).await.unwrap()[0])
}

#[test]
fn float16_weights_render_within_tolerance_of_float32() {
    let Some(path) = cached_weights() else { return };
    let f32_bytes = std::fs::read(path).unwrap();
    let f32_tensors = read_safetensors(&f32_bytes).unwrap();
    let f16_bytes = write_safetensors_f16(&f32_tensors).unwrap();
    let f16_tensors = read_safetensors(&f16_bytes).unwrap();
    eprintln!(
        "METRIC weights_bytes efficientnet-lite0: float32 {}, float16 {} ({:.1} %)",
        f32_bytes.len(),
        f16_bytes.len(),
        100.0 * f16_bytes.len() as f64 / f32_bytes.len() as f64
    );
    assert!(f16_bytes.len() * 10 < f32_bytes.len() * 6, "float16 is not about half the size");

    let device = Device::flex();
    let id = ModelId::from_str("efficientnet-lite0").unwrap();
    let full = Model::from_tensor_map(id, &f32_tensors, &device).unwrap();
    let half = Model::from_tensor_map(id, &f16_tensors, &device).unwrap();
    pollster::block_on(async {
        for text in OBJECTIVES {
            let objective: Objective = text.parse().unwrap();
            let (full_first, full_objective, full_image) =
                render(&full, &objective, SEED, &device).await;
            let (half_first, half_objective, half_image) =
                render(&half, &objective, SEED, &device).await;
            let (_, _, next_seed_image) = render(&full, &objective, SEED + 1, &device).await;
            let first_relative =
                f64::from((half_first - full_first).abs()) / f64::from(full_first.abs());
            let full_act = activation(&full, &objective, &full_image, &device).await;
            let half_act = activation(&full, &objective, &half_image, &device).await;
            let relative = (half_act - full_act).abs() / full_act.abs();
            let next_seed_act = activation(&full, &objective, &next_seed_image, &device).await;
            let seed_relative = (next_seed_act - full_act).abs() / full_act.abs();
            let objective_relative = f64::from((half_objective - full_objective).abs())
                / f64::from(full_objective.abs());
            let pixels: Vec<f64> = full_image
                .rgb8()
                .iter()
                .zip(half_image.rgb8())
                .map(|(a, b)| f64::from(a.abs_diff(b)))
                .collect();
            let mean_pixel = pixels.iter().sum::<f64>() / pixels.len() as f64;
            eprintln!(
                "METRIC f16_agreement {text}: {SIZE_PX} px, {STEPS} steps, seed {SEED}; activation \
                 (float32 model) of the float32 render {full_act:.4}, of the float16 render \
                 {half_act:.4} ({:.3} %); first objective float32 {full_first:.4}, float16 \
                 {half_first:.4} ({:.3} %); final objective float32 {full_objective:.4}, float16 \
                 {half_objective:.4} ({:.3} %); pixels: mean |diff| {mean_pixel:.2} of 255; \
                 float32 with seed {} instead: activation {next_seed_act:.4} ({:.3} %)",
                relative * 100.0,
                first_relative * 100.0,
                objective_relative * 100.0,
                SEED + 1,
                seed_relative * 100.0,
            );
            // The float16 render must excite its unit as well as the float32 one: a render
            // that drifted to a stronger activation has lost nothing.
            assert!(
                half_act >= full_act - RESULT_TOLERANCE * full_act.abs(),
                "{text}: the float16 render's activation is {:.3} % below the float32 one's \
                 (the next seed: {:.3} % away)",
                relative * 100.0,
                seed_relative * 100.0
            );
            assert!(
                first_relative <= FIRST_STEP_TOLERANCE,
                "{text}: first objectives differ by {:.3} %",
                first_relative * 100.0
            );
        }
    });
}
