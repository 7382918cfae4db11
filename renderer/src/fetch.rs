//! Fetching model files inside the worker, through the browser's Cache Storage: the first
//! render of a model downloads its weights once, later ones (and later visits) read them from
//! the cache.
//!
//! Nothing unchecked is kept: a download (and a cached copy) must pass core's
//! [`check_model_file`] (not a web page, not a stub, the sha256 the atlas records), and a file
//! with a recorded sha256 is cached under it, so a rebuilt atlas's new weights replace the old
//! ones instead of being shadowed by them.

use js_sys::{ArrayBuffer, Uint8Array};
use microscope_core::protocol::{ModelFile, RenderFailure};
use microscope_core::weights::check_model_file;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, CacheQueryOptions, Response, WorkerGlobalScope};

/// The Cache Storage bucket for model files. A new format of the files (or of their keys)
/// gets a new name, and the buckets of older names are deleted.
const CACHE_NAME: &str = "microscope-models-v2";
/// Buckets of earlier versions: their entries were stored unchecked, by URL alone.
const OLD_CACHE_NAMES: [&str; 1] = ["microscope-models-v1"];

fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn describe(error: &JsValue) -> String {
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}

/// The key of `model`'s file in the cache: its URL, plus its sha256 when the atlas records one
/// (the key is never fetched; it only has to be a URL).
fn cache_key(model: &ModelFile) -> String {
    match &model.sha256 {
        Some(sha256) => {
            let separator = if model.url.contains('?') { '&' } else { '?' };
            format!("{}{separator}sha256={sha256}", model.url)
        }
        None => model.url.clone(),
    }
}

/// The bytes of `model`'s file, from Cache Storage when it holds a copy that passes the checks,
/// else from the network (and then stored). Cache Storage missing (some private modes) only
/// means no caching.
pub async fn fetch_model_file(model: &ModelFile) -> Result<Vec<u8>, RenderFailure> {
    let url = model.url.as_str();
    let sha256 = model.sha256.as_ref().map(|hash| hash.as_str());
    let key = cache_key(model);
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Ok(hit) = JsFuture::from(cache.match_with_str(&key)).await
        && let Ok(response) = hit.dyn_into::<Response>()
        && response.ok()
    {
        match body(url, &response).await {
            Ok(bytes) if check_model_file(&bytes, None, sha256).is_ok() => return Ok(bytes),
            // A damaged copy: forget it and download again.
            _ => {
                let _ = JsFuture::from(cache.delete_with_str(&key)).await;
            }
        }
    }
    let download = |status: Option<u16>, message: String| RenderFailure::Download {
        url: url.to_owned(),
        status,
        message,
    };
    let response: Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|error| download(None, describe(&error)))?
        .dyn_into()
        .map_err(|_| download(None, "not a response".to_owned()))?;
    if !response.ok() {
        return Err(download(Some(response.status()), format!("HTTP {}", response.status())));
    }
    let content_type = response.headers().get("content-type").ok().flatten();
    let mut bytes = body(url, &response).await?;
    check_model_file(&bytes, content_type.as_deref(), sha256)
        .map_err(|problem| download(None, problem.to_string()))?;
    if let Some(cache) = &cache {
        store(cache, url, &key, &mut bytes).await;
    }
    Ok(bytes)
}

/// Stores checked `bytes` under `key`, after removing every older copy of `url` (whatever
/// hash it was stored under). A failed store (quota) is not a failed render.
async fn store(cache: &Cache, url: &str, key: &str, bytes: &mut [u8]) {
    let options = CacheQueryOptions::new();
    options.set_ignore_search(true);
    let _ = JsFuture::from(cache.delete_with_str_and_options(url, &options)).await;
    if let Ok(copy) = Response::new_with_opt_u8_array(Some(bytes)) {
        let _ = JsFuture::from(cache.put_with_str(key, &copy)).await;
    }
}

async fn open_cache() -> Option<Cache> {
    let storage = scope().caches().ok()?;
    for old in OLD_CACHE_NAMES {
        let _ = JsFuture::from(storage.delete(old)).await;
    }
    JsFuture::from(storage.open(CACHE_NAME)).await.ok()?.dyn_into().ok()
}

async fn body(url: &str, response: &Response) -> Result<Vec<u8>, RenderFailure> {
    let interrupted =
        |message: String| RenderFailure::Download { url: url.to_owned(), status: None, message };
    let promise = response.array_buffer().map_err(|error| interrupted(describe(&error)))?;
    let buffer: ArrayBuffer = JsFuture::from(promise)
        .await
        .map_err(|error| interrupted(format!("download interrupted: {}", describe(&error))))?
        .dyn_into()
        .map_err(|_| interrupted("the download gave no bytes".to_owned()))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
