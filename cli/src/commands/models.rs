//! `microscope models`: the built-in organisms and whether their weights are here, the models
//! trained here (Fashion-MNIST test accuracy for the fashion-cnn), then the imported models.

use anyhow::Result;
use microscope_core::organisms::ORGANISMS;
use microscope_core::train::{FASHION_CNN_ID, fashion_cnn_input_spec, init_fashion_cnn};

use crate::store;

/// Prints one line per model.
pub fn run() -> Result<()> {
    println!("{:<20} {:>9} {:>11} {:>6}  weights", "model", "input", "parameters", "top-1");
    for organism in &ORGANISMS {
        let state = if store::is_fetched(organism.id)? {
            "present"
        } else {
            "not fetched (microscope fetch ID)"
        };
        println!(
            "{:<20} {:>9} {:>10.1}M {:>5.1}%  {state}",
            organism.id,
            pixels([organism.input_size_px; 2]),
            organism.parameters as f64 / 1e6,
            organism.reported_top1_percent
        );
    }
    let parameters: usize = init_fashion_cnn(0).iter().map(|(_, t)| t.numel()).sum();
    let (accuracy, state) = match store::trained_manifest(FASHION_CNN_ID)? {
        Some(manifest) => match manifest.latest() {
            Some(last) => (
                format!("{:>5.1}%", last.test_accuracy * 100.0),
                format!(
                    "trained here: {} checkpoints, last {} (load MODEL@step-N for another)",
                    manifest.checkpoints.len(),
                    last.name
                ),
            ),
            None => ("-".to_owned(), "not trained (microscope train)".to_owned()),
        },
        None => ("-".to_owned(), "not trained (microscope train)".to_owned()),
    };
    println!(
        "{:<20} {:>9} {:>10.1}M {accuracy:>6}  {state}",
        FASHION_CNN_ID,
        pixels(fashion_cnn_input_spec().size_px()),
        parameters as f64 / 1e6,
    );
    for meta in store::imported()? {
        println!(
            "{:<20} {:>9} {:>10.1}M {:>6}  imported from {} ({} outputs)",
            meta.id,
            pixels(meta.input.size_px()),
            meta.parameters as f64 / 1e6,
            "-",
            meta.source,
            meta.classes
        );
    }
    Ok(())
}

/// `HxWpx`, as the input column shows a size.
fn pixels([height, width]: [usize; 2]) -> String {
    format!("{height}x{width}px")
}
