//! `microscope layers --model ID [--json]`: every browsable layer in order.

use anyhow::Result;
use serde::Serialize;

use crate::store;

/// Arguments of `microscope layers`.
#[derive(clap::Args)]
pub struct LayersArgs {
    /// Model id (built-in or imported).
    #[arg(long)]
    model: String,
    /// Print JSON: `[{"name", "op", "channels", "height", "width", "receptive_field_px"}]`.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct LayerRow {
    name: String,
    op: &'static str,
    channels: usize,
    height: usize,
    width: usize,
    receptive_field_px: usize,
}

/// Prints the layer catalogue at the model's input size. Needs no weights.
pub fn run(args: &LayersArgs) -> Result<()> {
    let (_, layers) = store::layers(&args.model)?;
    let rows: Vec<LayerRow> = layers
        .into_iter()
        .map(|layer| LayerRow {
            op: layer.op,
            channels: layer.channels,
            height: layer.spatial[0],
            width: layer.spatial[1],
            receptive_field_px: layer.receptive_field.size().round() as usize,
            name: layer.name,
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(22);
    println!(
        "{:<width$} {:<18} {:>8} {:>9} {:>16}",
        "layer", "op", "channels", "size", "receptive field"
    );
    for row in rows {
        println!(
            "{:<width$} {:<18} {:>8} {:>9} {:>13} px",
            row.name,
            row.op,
            row.channels,
            format!("{}x{}", row.height, row.width),
            row.receptive_field_px
        );
    }
    Ok(())
}
