//! `microscope layers --model ID [--json]`: every browsable layer in order.

use anyhow::Result;
use microscope_core::model::ModelId;
use serde::Serialize;

use crate::store;

/// Arguments of `microscope layers`.
#[derive(clap::Args)]
pub struct LayersArgs {
    /// Model id.
    #[arg(long)]
    model: String,
    /// Print JSON: `[{"name", "channels", "height", "width"}]`.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct LayerRow {
    name: String,
    channels: usize,
    height: usize,
    width: usize,
    receptive_field_px: usize,
}

/// Prints the layer catalogue at the model's input size. Needs no weights.
pub fn run(args: &LayersArgs) -> Result<()> {
    store::known(&args.model)?;
    let id: ModelId = args.model.parse()?;
    let rows: Vec<LayerRow> = id
        .architecture()
        .layers()
        .into_iter()
        .map(|layer| LayerRow {
            name: layer.name(),
            channels: layer.channels,
            height: layer.spatial,
            width: layer.spatial,
            receptive_field_px: layer.receptive_field.size,
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("{:<22} {:>8} {:>9} {:>16}", "layer", "channels", "size", "receptive field");
    for row in rows {
        println!(
            "{:<22} {:>8} {:>9} {:>13} px",
            row.name,
            row.channels,
            format!("{}x{}", row.height, row.width),
            row.receptive_field_px
        );
    }
    Ok(())
}
