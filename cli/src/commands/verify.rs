//! `microscope verify ATLAS_DIR`: checks a whole atlas folder with
//! `microscope_core::atlas::verify` (schema, versions, limits, every listed asset's presence,
//! size, sha256, format and pixel size, and that each image decodes to that size,
//! cross-references) and prints errors, warnings and coverage. Fails when there is any error.

use std::path::PathBuf;

use anyhow::{Result, bail};
use microscope_core::atlas::{Technique, VerifyOptions, verify};
use microscope_core::preprocess::decode_rgb;

use crate::build::folder::FolderSource;

/// Arguments of `microscope verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The atlas folder.
    atlas: PathBuf,
    /// Check sizes only, not hashes, formats, pixel sizes and decoding.
    #[arg(long)]
    fast: bool,
    /// Print at most this many errors and warnings each.
    #[arg(long, default_value_t = 20)]
    show: usize,
}

/// The pixel size an image decodes to (PNG, JPEG, WebP).
fn decoded_size(bytes: &[u8]) -> Result<[u32; 2], String> {
    let image = decode_rgb(bytes).map_err(|error| error.to_string())?;
    Ok([image.width(), image.height()])
}

/// Verifies and reports.
pub fn run(args: &VerifyArgs) -> Result<()> {
    let source = FolderSource::new(&args.atlas);
    let options = VerifyOptions {
        check_hashes: !args.fast,
        probe_unlisted_units: true,
        decode: Some(decoded_size),
    };
    let report = verify(&source, &options);
    for error in report.errors.iter().take(args.show) {
        println!("error: {error}");
    }
    for warning in report.warnings.iter().take(args.show) {
        println!("warning: {warning}");
    }
    let totals = report.totals();
    let counts: Vec<String> =
        Technique::ALL.iter().map(|t| format!("{} {}", t.as_str(), totals.get(*t))).collect();
    println!(
        "{}: {} manifests, {} assets ({} bytes); {} layers; units: built {}, {}",
        args.atlas.display(),
        report.manifests,
        report.assets,
        report.asset_bytes,
        report.layers.len(),
        totals.built,
        counts.join(", ")
    );
    println!(
        "{} errors, {} warnings{}",
        report.errors.len(),
        report.warnings.len(),
        if report.dropped > 0 {
            format!(" ({} more not kept)", report.dropped)
        } else {
            String::new()
        }
    );
    if !report.is_ok() {
        bail!("{} has {} errors", args.atlas.display(), report.errors.len());
    }
    Ok(())
}
