//! A unit's oEmbed document (<https://oembed.com>, type `rich`: the embed card's iframe),
//! written as a static JSON file and announced by the unit's entry, so a CMS or a chat that
//! speaks oEmbed embeds the card from a plain link.

use anyhow::Result;
use microscope_core::unit::{EMBED_HEIGHT_PX, EMBED_WIDTH_PX, embed_code};
use serde_json::json;

use super::entries::{Page, SITE_NAME, UnitPage};
use super::site_url::SiteUrl;

/// The folder of the oEmbed documents.
const OEMBED_DIR: &str = "oembed";

/// The file of the oEmbed document of the page at `path`: `oembed/<path>.json`.
pub fn file(path: &str) -> String {
    format!("{OEMBED_DIR}/{}.json", path.trim_matches('/'))
}

/// The oEmbed document of a unit page.
pub fn document(page: &Page, unit: &UnitPage, site: &SiteUrl, atlas: &SiteUrl) -> Result<Vec<u8>> {
    let embed_url = site.join(&unit.id.embed_url_path(&unit.model));
    let mut value = json!({
        "version": "1.0",
        "type": "rich",
        "provider_name": SITE_NAME,
        "provider_url": site.url(),
        "title": page.title,
        "html": embed_code(&embed_url, &unit.model, &unit.id),
        "width": EMBED_WIDTH_PX,
        "height": EMBED_HEIGHT_PX,
    });
    if let (Some(image), Some(object)) = (&page.image, value.as_object_mut()) {
        object.insert("thumbnail_url".to_owned(), json!(atlas.join(image.path.as_str())));
        object.insert("thumbnail_width".to_owned(), json!(image.width));
        object.insert("thumbnail_height".to_owned(), json!(image.height));
    }
    Ok(serde_json::to_vec_pretty(&value)?)
}
