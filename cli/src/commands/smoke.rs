//! `microscope smoke`: the browser's smoke computation, natively, to compare figures.

use std::time::Instant;

use anyhow::{Context, Result};
use microscope_core::smoke::run_smoke;

/// Arguments of `microscope smoke`.
#[derive(clap::Args)]
pub struct SmokeArgs {
    /// Number of gradient steps.
    #[arg(long, default_value_t = 10)]
    steps: u32,
}

/// Runs the smoke computation and prints the objective at each step.
pub fn run(args: &SmokeArgs) -> Result<()> {
    let device = crate::device::current()?.device();
    let start = Instant::now();
    let objectives = pollster::block_on(run_smoke(&device, args.steps, |step, value| {
        println!("step {step:>3}  objective {value:.6}");
    }))
    .context("smoke computation failed")?;
    let elapsed = start.elapsed();
    println!(
        "{} steps on the CPU (flex) in {:.1} ms ({:.2} ms/step)",
        objectives.len(),
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3 / f64::from(args.steps.max(1))
    );
    Ok(())
}
