//! One tile of a sprite sheet, drawn at any size as a CSS background: a whole layer's
//! thumbnails cost a few image requests.

use leptos::prelude::*;
use microscope_core::atlas::{Sheet, Tile};

use crate::atlas::asset_url;

/// The inline style showing `tile` of `sheet` scaled to `size` pixels wide.
pub fn tile_style(sheet: &Sheet, tile: Tile, size: u32) -> String {
    let scale = f64::from(size) / f64::from(tile.width.max(1));
    let height = f64::from(tile.height) * scale;
    format!(
        "width:{size}px;height:{height:.0}px;background-image:url('{}');\
         background-size:{:.2}px {:.2}px;background-position:-{:.2}px -{:.2}px",
        asset_url(&sheet.image.path),
        f64::from(sheet.image.width) * scale,
        f64::from(sheet.image.height) * scale,
        f64::from(tile.x) * scale,
        f64::from(tile.y) * scale,
    )
}

/// A sprite tile with an accessible name.
#[component]
pub fn SpriteTile(
    sheet: Sheet,
    tile: Tile,
    size: u32,
    #[prop(into)] label: String,
) -> impl IntoView {
    view! { <div class="sprite" role="img" aria-label=label style=tile_style(&sheet, tile, size)></div> }
}
