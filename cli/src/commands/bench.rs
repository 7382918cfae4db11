//! `microscope bench forward`: forward-pass time per image on the CPU backend (`flex`), for the
//! figures in BENCHMARKS.md.
//!
//! Each measurement is one call of [`Model::logits`](microscope_core::model::Model::logits)
//! on a batch of deterministic noise, with the logits read back to the host (so the work is
//! done); one untimed warm-up run comes first. Minimum and median over the runs are reported:
//! the minimum is the least disturbed by other work on the machine.

use std::time::Instant;

use anyhow::{Context, Result};
use burn::prelude::*;
use serde::Serialize;

use crate::store;

/// Arguments of `microscope bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    what: BenchKind,
}

/// The benchmarks.
#[derive(clap::Subcommand)]
enum BenchKind {
    /// Forward pass (input to logits) per image, at each model's input size.
    Forward(ForwardArgs),
}

/// Arguments of `microscope bench forward`.
#[derive(clap::Args)]
struct ForwardArgs {
    /// Models to measure (built-in or imported; repeat the flag for several).
    #[arg(long = "model", default_values_t = ["efficientnet-lite0".to_owned()])]
    models: Vec<String>,
    /// Batch sizes (repeat the flag for several).
    #[arg(long = "batch", default_values_t = [1usize, 16])]
    batches: Vec<usize>,
    /// Timed runs per model and batch size.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Input side in pixels (default: each model's own input size).
    #[arg(long)]
    size: Option<usize>,
    /// Print JSON rows instead of a table.
    #[arg(long)]
    json: bool,
}

/// One measured configuration.
#[derive(Serialize)]
struct Row {
    model: String,
    size_px: usize,
    batch: usize,
    runs: usize,
    min_ms_per_batch: f64,
    median_ms_per_batch: f64,
    min_ms_per_image: f64,
    median_ms_per_image: f64,
}

/// Deterministic values in [-1, 1).
fn noise(len: usize) -> Vec<f32> {
    microscope_core::rng::SplitMix64::new(0).signed_noise(len)
}

/// Runs the chosen benchmark.
pub fn run(args: &BenchArgs) -> Result<()> {
    match &args.what {
        BenchKind::Forward(forward) => run_forward(forward),
    }
}

fn run_forward(args: &ForwardArgs) -> Result<()> {
    let device = crate::device::current()?.device();
    let runs = args.runs.max(1);
    let mut rows = Vec::new();
    for id in &args.models {
        let model = store::load_model(id, &device)?;
        let spec = model.input_spec();
        let size = args.size.unwrap_or(spec.long_side_px());
        for &batch in &args.batches {
            let shape = [batch.max(1), spec.channels, size, size];
            let input = Tensor::<4>::from_data(
                TensorData::new(noise(shape.iter().product()), shape),
                &device,
            );
            let once = || -> Result<f64> {
                let start = Instant::now();
                let logits = model.logits(input.clone())?;
                let values: Vec<f32> = logits
                    .into_data()
                    .try_into_vec()
                    .map_err(|e| anyhow::anyhow!("reading logits back: {e:?}"))?;
                let elapsed = start.elapsed().as_secs_f64() * 1e3;
                anyhow::ensure!(values.iter().all(|v| v.is_finite()), "non-finite logits");
                Ok(elapsed)
            };
            once().with_context(|| format!("{id} at batch {batch}"))?;
            let mut times = (0..runs).map(|_| once()).collect::<Result<Vec<_>>>()?;
            times.sort_by(f64::total_cmp);
            let min = times.first().copied().unwrap_or(0.0);
            let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
            let per_image = shape[0] as f64;
            let row = Row {
                model: id.clone(),
                size_px: size,
                batch: shape[0],
                runs,
                min_ms_per_batch: min,
                median_ms_per_batch: median,
                min_ms_per_image: min / per_image,
                median_ms_per_image: median / per_image,
            };
            if !args.json {
                println!(
                    "{:<20} {:>4}px batch {:>3}: {:>8.1} ms/image (min), {:>8.1} ms/image (median), {:>9.1} ms/batch (min), {} runs",
                    row.model,
                    row.size_px,
                    row.batch,
                    row.min_ms_per_image,
                    row.median_ms_per_image,
                    row.min_ms_per_batch,
                    row.runs
                );
            }
            rows.push(row);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}
