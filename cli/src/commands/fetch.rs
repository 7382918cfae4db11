//! `microscope fetch MODEL...`: downloads, checks and converts weights (and the labels).

use anyhow::Result;
use microscope_core::organisms::ORGANISMS;

use crate::store;

/// Arguments of `microscope fetch`.
#[derive(clap::Args)]
pub struct FetchArgs {
    /// What to fetch: model ids (as `microscope models` lists them), `photos` (the bundled
    /// real photographs), or `all` for every model and the photos.
    #[arg(required = true)]
    models: Vec<String>,
}

/// Fetches each model, then the labels.
pub fn run(args: &FetchArgs) -> Result<()> {
    let all = args.models.iter().any(|m| m == "all");
    let wanted: Vec<&str> = if all {
        ORGANISMS.iter().map(|o| o.id).collect()
    } else {
        args.models.iter().map(String::as_str).filter(|m| *m != "photos").collect()
    };
    if all || args.models.iter().any(|m| m == "photos") {
        println!("photos: {}", store::photos()?.display());
    }
    for id in wanted {
        let organism = store::known(id)?;
        let path = store::fetch(organism)?;
        println!("{id}: {}", path.display());
    }
    store::labels()?;
    Ok(())
}
