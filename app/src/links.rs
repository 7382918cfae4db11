//! Every URL the viewer makes, in one place: its pages (from core's URL shapes in
//! [`microscope_core::unit`]), atlas files (from [`paths`]), the renderer worker's script and
//! the keys of the render cache, all under the site's base path.
//!
//! The atlas is `<base>atlas/` unless the page was opened with `?atlas=URL` (someone else's
//! atlas, on a host that allows CORS) or the site names one in
//! `<meta name="microscope-atlas" content="URL">`; that choice is also made once, so it holds
//! for the whole visit.
//!
//! The base path is read once from `<base href>`, which Trunk writes from `--public-url`: `/`
//! at the root of a host, `/repo/` for a GitHub Pages project site. Every href this module
//! gives already holds the base, so it is used as it is in a plain `<a href>` (the router
//! intercepts clicks on links under its base) and in [`navigate`]. Never prefix a page path
//! by hand, and never pass these hrefs to the router's `<A>` (it would add the base again).

use std::sync::OnceLock;

use leptos_router::NavigateOptions;
use microscope_core::atlas::AssetPath;
use microscope_core::unit::{UnitId, layer_url_path, model_url_path, site_path};

/// The script of the renderer worker (Trunk's loader shim for `microscope-renderer`).
const WORKER_SCRIPT: &str = "microscope-renderer_loader.js";
/// The folder of the atlas, under the base.
const ATLAS_DIR: &str = "atlas/";
/// The sizes of the renderer worker's files, which the site build records (Trunk.toml).
const RENDERER_SIZES: &str = "renderer.json";
/// The URL prefix of render-cache keys (Cache Storage keys are same-origin URLs).
const RENDER_CACHE_DIR: &str = "render-cache/";

/// Where the site lives.
#[derive(Debug)]
struct Base {
    /// The origin, e.g. `https://user.github.io` (no trailing slash).
    origin: String,
    /// The base path: starts and ends with `/`, e.g. `/` or `/repo/`.
    path: String,
}

/// The site's base, read from the document once.
fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let uri = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.base_uri().ok().flatten())
            .unwrap_or_default();
        split_base(&uri)
    })
}

/// Splits a base URI (`https://host/repo/index.html?x`) into origin and base path (the path up
/// to its last `/`).
fn split_base(uri: &str) -> Base {
    let uri = uri.split(['?', '#']).next().unwrap_or_default();
    let (origin, path) = match uri.find("://") {
        Some(scheme_end) => {
            let host_start = scheme_end + 3;
            match uri[host_start..].find('/') {
                Some(slash) => uri.split_at(host_start + slash),
                None => (uri, "/"),
            }
        }
        None => ("", uri),
    };
    let path = match path.rfind('/') {
        Some(slash) if path.starts_with('/') => &path[..=slash],
        _ => "/",
    };
    Base { origin: origin.to_owned(), path: path.to_owned() }
}

/// The base path, e.g. `/` or `/repo/`.
pub fn base_path() -> &'static str {
    &base().path
}

/// The router's base: the base path without its trailing `/` (`None` at the root of a host).
pub fn router_base() -> Option<&'static str> {
    let path = base_path().trim_end_matches('/');
    (!path.is_empty()).then_some(path)
}

/// A page path such as `/models/m` under the base.
fn href(path: &str) -> String {
    site_path(base_path(), path)
}

/// An href of this module made absolute (origin + href), for permalinks and embed code.
pub fn absolute(href: &str) -> String {
    format!("{}{href}", base().origin)
}

/// A browser path (`location.pathname`) as the routes see it: without the base, from `/`.
pub fn route_path(pathname: &str) -> String {
    match pathname.strip_prefix(base_path()) {
        Some(rest) => format!("/{rest}"),
        None => pathname.to_owned(),
    }
}

/// The home page (the model cards).
pub fn home() -> String {
    href("/")
}

/// A model's page.
pub fn model(model: &str) -> String {
    href(&model_url_path(model))
}

/// A layer's page.
pub fn layer(model: &str, layer: &str) -> String {
    href(&layer_url_path(model, layer))
}

/// A unit's page.
pub fn unit(model: &str, layer: &str, unit: usize) -> String {
    href(&UnitId::new(layer, unit).url_path(model))
}

/// A unit's embeddable card.
pub fn embed(model: &str, layer: &str, unit: usize) -> String {
    href(&UnitId::new(layer, unit).embed_url_path(model))
}

/// The compare page.
pub fn compare() -> String {
    href("/compare")
}

/// The compare page for one class (a label name) across every model that has it.
pub fn compare_class(name: &str) -> String {
    format!("{}?class={}", href("/compare"), js_sys::encode_uri_component(name))
}

/// The search page for `text`.
pub fn search(text: &str) -> String {
    format!("{}?q={}", href("/search"), js_sys::encode_uri_component(text))
}

/// The lab, with a query (already encoded, without `?`; empty for none).
pub fn lab(query: &str) -> String {
    let lab = href("/lab");
    if query.is_empty() { lab } else { format!("{lab}?{query}") }
}

/// The page where a visitor imports an ONNX model of their own.
pub fn your_model() -> String {
    href("/your-model")
}

/// The key (a same-origin URL, never fetched) under which the visitor's kept model `sha256`
/// is stored in Cache Storage: its file (`.onnx`) or its record (`.json`).
pub fn your_model_entry(sha256: &str, extension: &str) -> String {
    href(&format!("/your-models/{sha256}.{extension}"))
}

/// The diagnostics page.
pub fn diagnostics() -> String {
    href("/diagnostics")
}

/// The query parameter naming another atlas.
const ATLAS_PARAM: &str = "atlas";
/// The `<meta name>` of a site's own choice of atlas.
const ATLAS_META: &str = "microscope-atlas";

/// An atlas other than the site's own, and who chose it.
#[derive(Debug)]
struct ChosenAtlas {
    /// Its base URL, ending in `/`.
    url: String,
    /// Whether the link chose it (`?atlas=`), rather than the site.
    by_link: bool,
}

/// The atlas chosen by the link (`?atlas=`) or the site (`<meta name="microscope-atlas">`);
/// `None`: the site's own `<base>atlas/`. Read when the visit starts.
fn chosen_atlas() -> Option<&'static ChosenAtlas> {
    static CHOSEN: OnceLock<Option<ChosenAtlas>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| {
            let window = web_sys::window()?;
            let from_link = window.location().search().ok().and_then(|search| query_value(&search));
            let from_site = || {
                let document = window.document()?;
                let selector = format!("meta[name=\"{ATLAS_META}\"]");
                document.query_selector(&selector).ok()??.get_attribute("content")
            };
            let by_link = from_link.is_some();
            let url = from_link.or_else(from_site)?.trim().to_owned();
            if url.is_empty() {
                return None;
            }
            let url = if url.ends_with('/') { url } else { format!("{url}/") };
            Some(ChosenAtlas { url, by_link })
        })
        .as_ref()
}

/// The value of `?atlas=` in a query string (`?a=1&atlas=…`), decoded.
fn query_value(search: &str) -> Option<String> {
    let prefix = format!("{ATLAS_PARAM}=");
    let value =
        search.trim_start_matches('?').split('&').find_map(|item| item.strip_prefix(&prefix))?;
    js_sys::decode_uri_component(&value.replace('+', " ")).ok().map(String::from)
}

/// The query item that keeps the link's atlas in a shared link (`atlas=…`), when the link
/// chose one.
pub fn atlas_query() -> Option<String> {
    let atlas = chosen_atlas().filter(|atlas| atlas.by_link)?;
    Some(format!("{ATLAS_PARAM}={}", js_sys::encode_uri_component(&atlas.url)))
}

/// Whether the atlas lives on another origin (its host must allow CORS).
pub fn atlas_is_foreign() -> bool {
    chosen_atlas()
        .is_some_and(|atlas| atlas.url.contains("://") && !atlas.url.starts_with(&base().origin))
}

/// The atlas's base URL: `<base>atlas/`, or the one the link or the site chose.
pub fn atlas_base() -> String {
    chosen_atlas().map_or_else(|| href(ATLAS_DIR), |atlas| atlas.url.clone())
}

/// The URL of an atlas file.
pub fn asset(path: &AssetPath) -> String {
    format!("{}{}", atlas_base(), path.as_str())
}

/// The renderer worker's script.
pub fn worker_script() -> String {
    href(WORKER_SCRIPT)
}

/// The record of the renderer worker's download size.
pub fn renderer_sizes() -> String {
    href(RENDERER_SIZES)
}

/// The Cache Storage request URL a finished render is stored under (a render of another
/// atlas's model is another key).
pub fn render_cache(key: &str) -> String {
    let key = match chosen_atlas() {
        Some(atlas) => format!("{}{key}", atlas.url),
        None => key.to_owned(),
    };
    let key = String::from(js_sys::encode_uri_component(&key));
    format!("{}{key}", href(RENDER_CACHE_DIR))
}

/// Options for the router's `navigate` with an href of this module: taken as it is, not
/// resolved against the base a second time.
pub fn navigate() -> NavigateOptions {
    NavigateOptions { resolve: false, ..NavigateOptions::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_the_origin_and_the_path_up_to_its_last_slash() {
        let cases = [
            ("https://user.github.io/repo/index.html?x=1#top", "https://user.github.io", "/repo/"),
            ("https://user.github.io/repo/", "https://user.github.io", "/repo/"),
            ("http://localhost:8080/", "http://localhost:8080", "/"),
            ("http://localhost:8080", "http://localhost:8080", "/"),
            ("https://host/a/b/page", "https://host", "/a/b/"),
            ("https://host/app/?next=/a/b#x/y", "https://host", "/app/"),
            ("/sub/path/", "", "/sub/path/"),
            ("", "", "/"),
            ("not a url", "", "/"),
        ];
        for (uri, origin, path) in cases {
            let base = split_base(uri);
            assert_eq!((base.origin.as_str(), base.path.as_str()), (origin, path), "{uri}");
        }
    }
}
