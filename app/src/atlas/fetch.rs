//! Downloading one file's bytes with the browser's `fetch`, read as a stream so that no more
//! than the file's limit is ever held ([`Bounded`]).

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, ReadableStreamReadResult, Response};

use super::bounded::Bounded;
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

/// Downloads `url` (which serves the atlas file `file`), at most `limit` bytes (a larger file
/// is [`LoadError::Corrupt`], refused from its `Content-Length` or while it streams). A 404, or
/// a host answering with a web page where a data file belongs (a single-page-app fallback), is
/// [`LoadError::Missing`].
pub async fn fetch_bytes(
    url: &str,
    file: &str,
    limit: u64,
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
    let content_type = response.headers().get("content-type").ok().flatten();
    if is_missing(response.status(), content_type.as_deref(), file) {
        return Err(LoadError::Missing { file: file.to_owned() });
    }
    if !response.ok() {
        return Err(network(format!(
            "the host answered {} {}",
            response.status(),
            response.status_text()
        )));
    }
    let length = response.headers().get("content-length").ok().flatten();
    let mut body = Bounded::new(file, limit, length.as_deref())?;
    if let Some(stream) = response.body() {
        read_stream(&stream, &mut body, file).await?;
    }
    Ok(body.into_bytes())
}

/// Reads `stream` (the body of the atlas file `file`) chunk by chunk into `body`; a chunk past
/// the limit cancels the download.
async fn read_stream(
    stream: &ReadableStream,
    body: &mut Bounded,
    file: &str,
) -> Result<(), LoadError> {
    let interrupted = |error: &wasm_bindgen::JsValue| LoadError::Network {
        file: file.to_owned(),
        message: format!("download interrupted: {}", describe(error)),
    };
    let reader = ReadableStreamDefaultReader::new(stream).map_err(|error| interrupted(&error))?;
    loop {
        let result: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(|error| interrupted(&error))?
            .unchecked_into();
        if result.get_done().unwrap_or(true) {
            return Ok(());
        }
        let chunk: Uint8Array =
            result.get_value().dyn_into().map_err(|value| interrupted(&value))?;
        match body.room(chunk.length() as usize) {
            Ok(room) => chunk.copy_to(room),
            Err(refused) => {
                let _ = reader.cancel();
                return Err(refused);
            }
        }
    }
}

/// Whether an answer with `status` and `content_type` means the host lacks `file`: a 404, or
/// a successful web page where a data file belongs (a single-page-app fallback).
fn is_missing(status: u16, content_type: Option<&str>, file: &str) -> bool {
    let html = content_type.is_some_and(|kind| kind.starts_with("text/html"));
    status == 404 || ((200..300).contains(&status) && html && !file.ends_with(".html"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_404_or_a_web_page_for_a_data_file_is_missing() {
        assert!(is_missing(404, None, "atlas.json"));
        assert!(is_missing(200, Some("text/html; charset=utf-8"), "atlas.json"));
        assert!(!is_missing(200, Some("application/json"), "atlas.json"));
        assert!(!is_missing(200, None, "models/m/layer.json"));
        assert!(!is_missing(200, Some("text/html"), "notes.html"), "an HTML file is HTML");
        assert!(!is_missing(500, Some("text/html"), "atlas.json"), "an error, not a fallback");
    }
}
