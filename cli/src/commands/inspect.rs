//! `microscope inspect ATLAS_DIR`: coverage from the layer manifests alone: per model,
//! checkpoint and layer, how many units are built and how many have each technique, then per
//! technique its share of all the model's units (`channel: 4 of 48 units (8.3 %)`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use microscope_core::atlas::{
    AtlasSource, Technique, TechniqueCounts, parse_index, parse_layer, parse_model, paths,
};

use crate::build::folder::FolderSource;

/// Arguments of `microscope inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The atlas folder.
    atlas: PathBuf,
}

/// Prints the coverage table.
pub fn run(args: &InspectArgs) -> Result<()> {
    let source = FolderSource::new(&args.atlas);
    let index_path = paths::index();
    let bytes = source
        .read(&index_path)?
        .with_context(|| format!("no atlas.json in {}", args.atlas.display()))?;
    let index = parse_index(index_path.as_str(), &bytes)?;
    let short = ["built", "chan", "neur", "neg", "div", "examp", "hist", "class", "circ"];
    for entry in &index.models {
        let path = paths::model_manifest(&entry.id);
        let Some(bytes) = source.read(&path)? else {
            println!("{}: no model.json", entry.id);
            continue;
        };
        let model = parse_model(path.as_str(), &bytes)?;
        for checkpoint in &model.checkpoints {
            println!("{} @ {}", model.id, checkpoint.id);
            println!(
                "{:<24} {:>6} {}",
                "layer",
                "units",
                short.map(|s| format!("{s:>6}")).join("")
            );
            let mut totals = TechniqueCounts::default();
            let mut units = 0u64;
            for layer in &model.graph.layers {
                units += u64::from(layer.units);
                let path = paths::layer_manifest(&model.id, &checkpoint.id, &layer.name);
                let Some(bytes) = source.read(&path)? else {
                    println!("{:<24} {:>6} {:>6}", layer.name.as_str(), layer.units, "-");
                    continue;
                };
                let manifest = parse_layer(path.as_str(), &bytes)?;
                let counts = TechniqueCounts::from_coverage(&manifest.coverage);
                totals.add(&counts);
                println!("{:<24} {:>6} {}", layer.name.as_str(), layer.units, row(&counts));
            }
            println!("{:<24} {:>6} {}", "total", units, row(&totals));
            for (technique, count) in totals.iter() {
                println!("{}", share(technique, count, units));
            }
        }
    }
    Ok(())
}

fn row(counts: &TechniqueCounts) -> String {
    let mut out = format!("{:>6}", counts.built);
    for technique in Technique::ALL {
        out.push_str(&format!("{:>6}", counts.get(technique)));
    }
    out
}

/// `  channel: 4 of 48 units (8.3 %)`.
fn share(technique: Technique, count: u64, units: u64) -> String {
    let percent = if units == 0 { 0.0 } else { count as f64 * 100.0 / units as f64 };
    format!("  {}: {count} of {units} units ({percent:.1} %)", technique.as_str())
}
