//! `microscope publish ATLAS --site-url https://host/path/ --out SITE`: the deployable static
//! site of an atlas: the viewer (built for that path), the atlas, and an HTML entry per model,
//! layer and unit that unfurls as a link preview (see [`crate::publish`]).

use std::path::PathBuf;

use anyhow::Result;

use crate::publish::{PublishPlan, write_site};

/// Arguments of `microscope publish`.
#[derive(clap::Args)]
pub struct PublishArgs {
    /// The atlas folder to publish.
    atlas: PathBuf,
    /// Where the site will be served from, such as `https://user.github.io/microscope/`.
    #[arg(long)]
    site_url: String,
    /// The folder to write the site into (absent or empty).
    #[arg(long)]
    out: PathBuf,
    /// Where the atlas will be served from, when not from the site itself (a host that allows
    /// the site with CORS): it is then not copied, and the viewer is told to read it there.
    #[arg(long)]
    atlas_url: Option<String>,
    /// The viewer, built for the site URL's path:
    /// `trunk build --release --public-url /microscope/ --dist DIR`.
    #[arg(long, default_value = "dist")]
    viewer: PathBuf,
}

/// Checks everything, then writes the site and says what it holds.
pub fn run(args: &PublishArgs) -> Result<()> {
    let plan = PublishPlan::new(
        &args.atlas,
        &args.viewer,
        &args.site_url,
        args.atlas_url.as_deref(),
        &args.out,
    )?;
    let report = write_site(&plan)?;
    let generated = report.entries + report.oembed + report.sitemaps + 3;
    println!(
        "published {} for {}\n  \
         {} HTML entries ({} units, {} with a preview picture), {} oEmbed documents, \
         {} sitemap file(s), robots.txt, LICENSE.txt, NOTICE.txt\n  \
         {} files copied (viewer and atlas, {:.1} MB)\n  \
         {} files in all",
        plan.out.display(),
        plan.site.url(),
        report.entries,
        report.unit_entries,
        report.with_image,
        report.oembed,
        report.sitemaps,
        report.copied.files,
        report.copied.bytes as f64 / 1e6,
        report.copied.files + generated as u64,
    );
    Ok(())
}
