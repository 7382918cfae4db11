//! `microscope publish`: an atlas and the viewer made into a deployable static site, whose
//! every model, layer and unit has a small HTML entry of its own (the viewer's `index.html`
//! with that page's title, description, canonical URL, Open Graph / Twitter card and oEmbed
//! discovery), so a deep link answers 200 and unfurls with the unit's picture without
//! JavaScript. Beside them: a static oEmbed JSON per unit, `robots.txt`, the sitemap, and the
//! licence texts.
//!
//! [`PublishPlan`] is decided once from the arguments (every check that can fail before a file
//! is written); [`write_site`] then carries it out.

pub mod entries;
pub mod files;
pub mod html;
pub mod oembed;
pub mod site_url;
pub mod sitemap;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use microscope_core::atlas::{AtlasSource, parse_index, paths};

use crate::build::folder::FolderSource;

pub use self::site_url::SiteUrl;

/// The project's licence, carried by every published site.
const LICENSE: &str = include_str!("../../../LICENSE");
/// The notices of what the site carries: the weights' and the photographs' licences.
const NOTICE: &str = include_str!("../../../NOTICE");

/// Where the atlas goes in the site (the viewer reads `<base>atlas/`).
pub const ATLAS_DIR: &str = "atlas";

/// Everything a publish does, decided before anything is written.
#[derive(Debug)]
pub struct PublishPlan {
    /// The atlas folder.
    pub atlas: PathBuf,
    /// The viewer (Trunk's output, built for the site's path).
    pub viewer: PathBuf,
    /// The viewer's `index.html`, the template of every entry.
    pub template: html::Template,
    /// Where the site will live.
    pub site: SiteUrl,
    /// Where its atlas will live: `<site>atlas/`, or another host's URL (`--atlas-url`).
    pub atlas_url: SiteUrl,
    /// Whether the atlas lives on another host (then it is not copied into the site, and the
    /// viewer is told where it is).
    pub atlas_elsewhere: bool,
    /// The folder to write.
    pub out: PathBuf,
}

impl PublishPlan {
    /// Checks the arguments: the site URL, the atlas (its `atlas.json` parses), the viewer
    /// (built for the site URL's path), the atlas URL when the atlas lives elsewhere, and an
    /// output folder that is absent or empty.
    pub fn new(
        atlas: &Path,
        viewer: &Path,
        site_url: &str,
        atlas_url: Option<&str>,
        out: &Path,
    ) -> Result<Self> {
        let site = SiteUrl::parse(site_url)?;
        let atlas_url = match atlas_url {
            Some(url) => Some(SiteUrl::parse_option("--atlas-url", url)?),
            None => None,
        };
        let index_path = paths::index();
        let bytes = FolderSource::new(atlas).read(&index_path)?.with_context(|| {
            format!("{} is not an atlas: it has no atlas.json", atlas.display())
        })?;
        parse_index(index_path.as_str(), &bytes)?;
        let index_html = viewer.join("index.html");
        let text = std::fs::read_to_string(&index_html).with_context(|| {
            format!(
                "no viewer at {}: build it with `trunk build --release --public-url {} --dist {}`",
                viewer.display(),
                site.path(),
                viewer.display()
            )
        })?;
        let template = html::Template::parse(&text)
            .with_context(|| format!("reading {}", index_html.display()))?;
        if template.base() != site.path() {
            bail!(
                "the viewer in {} was built for {} but the site lives at {}: rebuild it with \
                 `trunk build --release --public-url {} --dist {}`",
                viewer.display(),
                template.base(),
                site.path(),
                site.path(),
                viewer.display()
            );
        }
        if out.exists() && std::fs::read_dir(out)?.next().is_some() {
            bail!(
                "{} is not empty: publish writes a whole site into an empty folder",
                out.display()
            );
        }
        let atlas_elsewhere = atlas_url.is_some();
        let atlas_url = match atlas_url {
            Some(url) => url,
            None => SiteUrl::parse(&site.join(&format!("{ATLAS_DIR}/")))?,
        };
        Ok(Self {
            atlas: atlas.to_path_buf(),
            viewer: viewer.to_path_buf(),
            template,
            site,
            atlas_url,
            atlas_elsewhere,
            out: out.to_path_buf(),
        })
    }
}

/// What a publish wrote.
#[derive(Debug, Default)]
pub struct SiteReport {
    /// HTML entries of models, layers and units.
    pub entries: usize,
    /// Of which unit entries.
    pub unit_entries: usize,
    /// Unit entries with an image for link previews.
    pub with_image: usize,
    /// oEmbed JSON files.
    pub oembed: usize,
    /// Sitemap files.
    pub sitemaps: usize,
    /// Files of the viewer and of the atlas, copied.
    pub copied: files::CopyCount,
}

/// Writes the site the plan describes.
pub fn write_site(plan: &PublishPlan) -> Result<SiteReport> {
    let out = &plan.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut report = SiteReport::default();
    // The viewer, less any atlas Trunk linked into it: the published atlas goes there.
    report.copied.add(files::copy_tree(&plan.viewer, out, &[ATLAS_DIR])?);
    if plan.atlas_elsewhere {
        // Deep links opened through 404.html must find the atlas too.
        let tags = html::atlas_meta(&plan.atlas_url);
        files::write(out, "404.html", plan.template.with_head_tags(&tags).as_bytes())?;
    } else {
        report.copied.add(files::copy_tree(&plan.atlas, &out.join(ATLAS_DIR), &[])?);
    }
    files::write(out, "LICENSE.txt", LICENSE.as_bytes())?;
    files::write(out, "NOTICE.txt", NOTICE.as_bytes())?;

    let source = FolderSource::new(&plan.atlas);
    let pages = entries::collect(&source)?;
    for page in &pages {
        let head = html::Head::of(page, plan);
        files::write(out, &html::entry_file(&page.path), plan.template.render(&head).as_bytes())?;
        report.entries += 1;
        if let Some(unit) = &page.unit {
            report.unit_entries += 1;
            report.with_image += usize::from(page.image.is_some());
            let json = oembed::document(page, unit, &plan.site, &plan.atlas_url)?;
            files::write(out, &oembed::file(&page.path), &json)?;
            report.oembed += 1;
        }
    }
    let urls: Vec<String> = pages.iter().map(|page| plan.site.join(&page.path)).collect();
    let maps = sitemap::sitemaps(&plan.site, &urls, sitemap::MAX_URLS);
    for (name, text) in &maps {
        files::write(out, name, text.as_bytes())?;
    }
    report.sitemaps = maps.len();
    files::write(out, "robots.txt", sitemap::robots(&plan.site).as_bytes())?;
    Ok(report)
}
