//! `microscope render-bench`: milliseconds per feature-visualization step on the chosen device
//! (`--device`), per batch and per unit, with a breakdown of where a step's time goes.
//!
//! ```text
//! microscope render-bench --model efficientnet-lite0 --layer blocks.8 --batches 1,16
//! ```
//! The loop is the real one ([`RenderSession`]): Fourier parameterization, standard
//! transforms, upsampling to the model's input, forward to the layer, backward, Adam; batch
//! element `i` maximises unit `unit + i` (how an atlas is rendered).

use std::time::Instant;

use anyhow::{Context, Result};
use burn::prelude::*;
use microscope_core::fv::param::{INIT_SD, ImageParam};
use microscope_core::fv::resample::resample;
use microscope_core::fv::transform::{Warp, standard_transforms_for};
use microscope_core::fv::{Objective, Parameterization, RenderOptions, RenderSession, read_values};
use microscope_core::network::Network;
use microscope_core::rng::SplitMix64;
use serde::Serialize;

use crate::store;

/// Arguments of `microscope render-bench`.
#[derive(clap::Args)]
pub struct RenderBenchArgs {
    /// Model id.
    #[arg(long, default_value = "efficientnet-lite0")]
    model: String,
    /// Layer whose channels are maximised.
    #[arg(long, default_value = "blocks.8")]
    layer: String,
    /// First unit (element `i` of a batch maximises `unit + i`).
    #[arg(long, default_value_t = 0)]
    unit: usize,
    /// Side of the rendered images in pixels.
    #[arg(long, default_value_t = 128)]
    size: usize,
    /// Batch sizes to time.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 16])]
    batches: Vec<usize>,
    /// Timed steps per batch size.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Forward and backward passes on at most this many images at a time (0: whole batch).
    #[arg(long, value_delimiter = ',', default_values_t = vec![1])]
    micro_batches: Vec<usize>,
    /// Read the objective back every this many steps (1: every step, as a render does by
    /// default; more lets a GPU queue steps without waiting for the host).
    #[arg(long, default_value_t = 1)]
    readback_every: usize,
    /// Also time each stage of a step separately.
    #[arg(long)]
    profile: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Timing {
    /// `--device` spelling of the device timed (`cpu`, `vulkan:0`).
    device: String,
    batch: usize,
    micro_batch: usize,
    readback_every: usize,
    ms_per_step: f64,
    ms_per_unit: f64,
    stages_ms: Vec<(String, f64)>,
}

/// Milliseconds since `start`, after waiting for `tensor` (flex is eager, but this keeps
/// the figure honest on any backend).
fn lap<const D: usize>(start: Instant, tensor: &Tensor<D>) -> f64 {
    let _ = tensor.to_data();
    start.elapsed().as_secs_f64() * 1e3
}

/// Times each stage of one step, averaged over `steps`.
fn profile(
    network: &dyn Network,
    objective: &Objective,
    args: &RenderBenchArgs,
    batch: usize,
    device: &Device,
) -> Result<Vec<(String, f64)>> {
    let spec = network.input_spec();
    let param = ImageParam::new(
        Parameterization::default(),
        true,
        batch,
        spec.channels,
        [args.size; 2],
        device,
    );
    let mut rng = SplitMix64::new(0);
    let raw = param.random(&mut rng, INIT_SD, device);
    let transforms = standard_transforms_for(args.size);
    let layers = objective.layers();
    let names: Vec<&str> = layers.iter().map(String::as_str).collect();
    let mut totals = [0.0f64; 5];
    for _ in 0..args.steps {
        let t = Instant::now();
        let leaf = raw.clone().autodiff().require_grad();
        let image = param.image(leaf.clone());
        totals[0] += lap(t, &image);
        let t = Instant::now();
        let warp = Warp::sample(&transforms, [args.size; 2], spec.long_side_px(), &mut rng);
        let input = spec.normalise(resample(image.clone(), &warp, 0.5));
        totals[1] += lap(t, &input);
        let t = Instant::now();
        let activations = network.forward_layers(input, &names)?;
        let value = objective.evaluate(&microscope_core::fv::evaluate::Evaluation {
            layers: &layers,
            activations: &activations,
            image: &image,
            batch,
            reference: false,
        })?;
        totals[2] += lap(t, &value);
        let t = Instant::now();
        let grads = value.backward();
        let gradient = leaf.grad(&grads).context("no gradient")?;
        totals[3] += lap(t, &gradient);
        let t = Instant::now();
        let mut adam = microscope_core::fv::adam::Adam::new(0.05);
        let moved = adam.ascend(raw.clone(), gradient);
        totals[4] += lap(t, &moved);
    }
    let names = ["parameterization", "transforms", "forward + objective", "backward", "adam"];
    Ok(names
        .iter()
        .zip(totals)
        .map(|(n, t)| ((*n).to_owned(), t / args.steps.max(1) as f64))
        .collect())
}

/// `count` steps, reading the objective back every `readback_every` and after the last (so
/// that the time covers the device's work).
fn steps(session: &mut RenderSession<'_>, count: usize, readback_every: usize) -> Result<()> {
    let mut pending = Vec::new();
    for done in 1..=count {
        pending.push(session.advance()?);
        if done % readback_every.max(1) == 0 || done == count {
            let values = pollster::block_on(read_values(std::mem::take(&mut pending)))?;
            anyhow::ensure!(values.iter().all(|v| v.is_finite()), "non-finite objective");
        }
    }
    Ok(())
}

/// Runs the timings and prints them.
pub fn run(args: &RenderBenchArgs) -> Result<()> {
    let chosen = crate::device::current()?;
    let device = chosen.device();
    let network = store::load_network(&args.model, &device)?;
    let mut timings = Vec::new();
    for &batch in &args.batches {
        let units: Vec<usize> = (args.unit..args.unit + batch).collect();
        let objective =
            Objective::units(&args.layer, &units).context("batch must be at least 1")?;
        for &micro_batch in &args.micro_batches {
            let micro_batch = if micro_batch == 0 { batch } else { micro_batch.min(batch) };
            if timings.iter().any(|t: &Timing| t.batch == batch && t.micro_batch == micro_batch) {
                continue;
            }
            let options = RenderOptions {
                size_px: args.size,
                batch,
                micro_batch: Some(micro_batch),
                ..RenderOptions::default()
            };
            let mut session = RenderSession::new(network.as_ref(), &objective, &options, &device)?;
            steps(&mut session, args.warmup, args.readback_every)?;
            let start = Instant::now();
            steps(&mut session, args.steps, args.readback_every)?;
            let ms_per_step = start.elapsed().as_secs_f64() * 1e3 / args.steps.max(1) as f64;
            let stages_ms = if args.profile {
                profile(network.as_ref(), &objective, args, batch, &device)?
            } else {
                Vec::new()
            };
            let timing = Timing {
                device: chosen.info().id.clone(),
                batch,
                micro_batch,
                readback_every: args.readback_every,
                ms_per_step,
                ms_per_unit: ms_per_step / batch as f64,
                stages_ms,
            };
            if !args.json {
                println!(
                    "{} {} {}px batch {batch:>3} (micro-batch {micro_batch:>2}): {:8.1} ms/step  {:7.1} ms/step per unit",
                    args.model, args.layer, args.size, timing.ms_per_step, timing.ms_per_unit
                );
                for (stage, ms) in &timing.stages_ms {
                    println!("    {stage:<22} {ms:8.1} ms (whole batch at once)");
                }
            }
            timings.push(timing);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&timings)?);
    }
    Ok(())
}
