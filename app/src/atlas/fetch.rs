//! Downloading one file's bytes with the browser's `fetch`.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use super::error::LoadError;

/// How a download may use the browser's HTTP cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// As the host's caching headers allow.
    Cached,
    /// Always asks the host whether the file changed (a cheap answer when it did not): for
    /// `atlas.json`, which a build under way rewrites, so that a reload shows the new models.
    Revalidated,
}

/// Downloads `url` (which serves the atlas file `file`). A 404, or a host answering with a web
/// page where a data file belongs (a single-page-app fallback), is [`LoadError::Missing`].
pub async fn fetch_bytes(
    url: &str,
    file: &str,
    freshness: Freshness,
) -> Result<Vec<u8>, LoadError> {
    let network = |message: String| LoadError::Network { file: file.to_owned(), message };
    let window = web_sys::window().ok_or_else(|| network("no window".to_owned()))?;
    let request = match freshness {
        Freshness::Cached => window.fetch_with_str(url),
        Freshness::Revalidated => {
            revalidating_fetch(&window, url).map_err(|e| network(describe(&e)))?
        }
    };
    let response = JsFuture::from(request).await.map_err(|error| {
        let mut message = describe(&error);
        if crate::links::atlas_is_foreign() {
            message.push_str(&format!(
                " (the atlas is on another site, {}: it must be online and allow this site \
                     to read it, by answering with the header Access-Control-Allow-Origin)",
                crate::links::atlas_base()
            ));
        }
        network(message)
    })?;
    let response: Response =
        response.dyn_into().map_err(|_| network("not a response".to_owned()))?;
    let html = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|kind| kind.starts_with("text/html"));
    if response.status() == 404 || (response.ok() && html && !file.ends_with(".html")) {
        return Err(LoadError::Missing { file: file.to_owned() });
    }
    if !response.ok() {
        return Err(network(format!(
            "the host answered {} {}",
            response.status(),
            response.status_text()
        )));
    }
    let buffer = response.array_buffer().map_err(|error| network(describe(&error)))?;
    let buffer = JsFuture::from(buffer).await.map_err(|error| network(describe(&error)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// `fetch(url, { cache: "no-cache" })`, built with `js_sys` (the one option it sets).
fn revalidating_fetch(
    window: &web_sys::Window,
    url: &str,
) -> Result<js_sys::Promise, wasm_bindgen::JsValue> {
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"cache".into(), &"no-cache".into())?;
    let fetch: js_sys::Function = js_sys::Reflect::get(window, &"fetch".into())?.dyn_into()?;
    fetch.call2(window, &url.into(), &init)?.dyn_into()
}

/// A JavaScript error in words.
fn describe(error: &wasm_bindgen::JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the request failed".to_owned())
}
