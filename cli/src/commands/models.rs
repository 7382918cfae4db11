//! `microscope models`: the built-in organisms and whether their weights are here, then the
//! imported models.

use anyhow::Result;
use microscope_core::organisms::ORGANISMS;

use crate::store;

/// Prints one line per model.
pub fn run() -> Result<()> {
    println!("{:<20} {:>6} {:>11} {:>6}  weights", "model", "input", "parameters", "top-1");
    for organism in &ORGANISMS {
        let state = if store::is_fetched(organism.id)? {
            "present"
        } else {
            "not fetched (microscope fetch ID)"
        };
        println!(
            "{:<20} {:>4}px {:>10.1}M {:>5.1}%  {state}",
            organism.id,
            organism.input_size_px,
            organism.parameters as f64 / 1e6,
            organism.reported_top1_percent
        );
    }
    for meta in store::imported()? {
        println!(
            "{:<20} {:>4}px {:>10.1}M {:>6}  imported from {} ({} outputs)",
            meta.id,
            meta.input.size_px,
            meta.parameters as f64 / 1e6,
            "-",
            meta.source,
            meta.classes
        );
    }
    Ok(())
}
