//! `microscope activation --model ID --unit LAYER:UNIT IMAGE...`: how strongly a unit responds
//! to pictures (photos or saved renders), measured identically for both: the whole picture
//! stretched to the model's input (bicubic, no crop), then the channel objective (the unit's
//! mean activation over positions).

use std::path::PathBuf;

use anyhow::{Context, Result};
use microscope_core::fv::Objective;
use microscope_core::fv::measure::{objective_values, picture_input};
use microscope_core::preprocess::decode_rgb;
use serde::Serialize;

use crate::store;

/// Arguments of `microscope activation`.
#[derive(clap::Args)]
pub struct ActivationArgs {
    /// Model id.
    #[arg(long)]
    model: String,
    /// The unit, `layer:unit` (any objective text works, e.g. `neuron(blocks.8:50)`).
    #[arg(long)]
    unit: String,
    /// Print JSON: `[{"image", "value"}]`.
    #[arg(long)]
    json: bool,
    /// Pictures (PNG, JPEG or WebP).
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Row {
    image: String,
    value: f32,
}

/// Prints the unit's value on each picture.
pub fn run(args: &ActivationArgs) -> Result<()> {
    let objective: Objective = args.unit.parse().with_context(|| format!("in `{}`", args.unit))?;
    let device = crate::device::current()?.device();
    let network = store::load_network(&args.model, &device)?;
    objective.validate(network.as_ref(), 1, false)?;
    let spec = network.input_spec();
    let mut rows = Vec::with_capacity(args.images.len());
    for path in &args.images {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let rgb =
            decode_rgb(&bytes).with_context(|| format!("cannot decode {}", path.display()))?;
        let input = picture_input(&rgb, &spec, &device);
        let values = pollster::block_on(objective_values(network.as_ref(), &objective, input))?;
        let value = values.first().copied().context("no value")?;
        rows.push(Row { image: path.display().to_string(), value });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for row in rows {
            println!("{:>12.5}  {}", row.value, row.image);
        }
    }
    Ok(())
}
