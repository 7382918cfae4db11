//! What a first live render downloads, told to the visitor before it starts ("downloads about
//! 10 MB once"): the renderer worker, whose size the site build records in `renderer.json`
//! (a Trunk hook: the wasm and its script, and their gzip size, what a host that compresses
//! sends), and the model's weights, whose size the atlas records (a checkpoint's `weights` in
//! `model.json`). Nothing is guessed: a size that is not recorded is not told.

use serde::Deserialize;

use crate::atlas::fetch::{Freshness, fetch_bytes};

/// The largest `renderer.json` read (it holds two sizes).
const MAX_RENDERER_SIZES_BYTES: u64 = 4096;

/// `renderer.json`.
#[derive(Deserialize)]
struct RendererSizes {
    /// The renderer's files gzip-compressed, in bytes.
    gzip_bytes: u64,
}

/// The renderer's download in bytes (compressed), if the site records it.
pub async fn renderer_bytes() -> Option<u64> {
    let url = crate::links::renderer_sizes();
    let bytes = fetch_bytes(&url, "renderer.json", MAX_RENDERER_SIZES_BYTES, Freshness::Cached)
        .await
        .ok()?;
    serde_json::from_slice::<RendererSizes>(&bytes).ok().map(|sizes| sizes.gzip_bytes)
}

/// Bytes in megabytes, one decimal.
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The sentence for the visitor, from what is recorded.
pub fn first_render_text(renderer: Option<u64>, weights: Option<u64>) -> Option<String> {
    let text = match (renderer, weights) {
        (Some(renderer), Some(weights)) => format!(
            "The first render downloads about {} once: the renderer ({}) and the model's weights \
             ({}); later renders reuse them.",
            megabytes(renderer + weights),
            megabytes(renderer),
            megabytes(weights)
        ),
        (Some(renderer), None) => {
            format!("The first render downloads the renderer ({}) once.", megabytes(renderer))
        }
        (None, Some(weights)) => {
            format!("The first render downloads the model's weights ({}) once.", megabytes(weights))
        }
        (None, None) => return None,
    };
    Some(text)
}
