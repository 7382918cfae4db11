//! `microscope models`: the organisms Microscope knows and whether their weights are here.

use anyhow::Result;
use microscope_core::organisms::ORGANISMS;

use crate::store;

/// Prints one line per organism.
pub fn run() -> Result<()> {
    println!("{:<20} {:>6} {:>11} {:>6}  weights", "model", "input", "parameters", "top-1");
    for organism in &ORGANISMS {
        let state = if store::is_fetched(organism.id)? { "present" } else { "not fetched (microscope fetch ID)" };
        println!(
            "{:<20} {:>4}px {:>10.1}M {:>5.1}%  {state}",
            organism.id,
            organism.input_size_px,
            organism.parameters as f64 / 1e6,
            organism.reported_top1_percent
        );
    }
    Ok(())
}
