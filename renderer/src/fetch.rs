//! Fetching model files inside the worker, through the browser's Cache Storage: the first
//! render of a model downloads its weights once, later ones (and later visits) read them from
//! the cache.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response, WorkerGlobalScope};

/// The Cache Storage bucket for model files. A new format of the files gets a new name.
const CACHE_NAME: &str = "microscope-models-v1";

fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn describe(error: &JsValue) -> String {
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}

/// The bytes at `url`, from Cache Storage when it has them, else from the network (and then
/// stored). Cache Storage missing (some private modes) only means no caching.
///
/// Returns the bytes and whether they came from the cache.
pub async fn fetch_cached(url: &str) -> Result<(Vec<u8>, bool), String> {
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await
        && let Ok(response) = hit.dyn_into::<Response>()
        && response.ok()
    {
        return Ok((body(&response).await?, true));
    }
    let response: Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|error| format!("could not download {url}: {}", describe(&error)))?
        .dyn_into()
        .map_err(|_| format!("could not download {url}: not a response"))?;
    if !response.ok() {
        return Err(format!("could not download {url}: HTTP {}", response.status()));
    }
    if let Some(cache) = &cache
        && let Ok(copy) = response.clone()
    {
        // A failed store (quota) is not a failed render.
        let _ = JsFuture::from(cache.put_with_str(url, &copy)).await;
    }
    Ok((body(&response).await?, false))
}

async fn open_cache() -> Option<Cache> {
    let storage = scope().caches().ok()?;
    JsFuture::from(storage.open(CACHE_NAME)).await.ok()?.dyn_into().ok()
}

async fn body(response: &Response) -> Result<Vec<u8>, String> {
    let promise = response.array_buffer().map_err(|error| describe(&error))?;
    let buffer: ArrayBuffer = JsFuture::from(promise)
        .await
        .map_err(|error| format!("download interrupted: {}", describe(&error)))?
        .dyn_into()
        .map_err(|_| "download gave no bytes".to_owned())?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
