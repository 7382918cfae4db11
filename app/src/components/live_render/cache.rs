//! Finished browser renders kept in the browser's Cache Storage under their deep link (model,
//! checkpoint, layer, unit, technique, seed, size, steps), so the next visit shows them at once
//! without starting the renderer. Cache Storage is reached through plain JS reflection (no
//! extra web-sys features); a browser without it simply caches nothing.

use js_sys::{Function, JSON, Promise, Reflect};
use microscope_core::protocol::ComputePath;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// The Cache Storage bucket. A new layout of [`CachedRender`] gets a new name.
const CACHE_NAME: &str = "microscope-renders-v1";

/// A finished render as it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedRender {
    /// The compute path that ran.
    pub path: ComputePath,
    /// What it ran on, in words.
    pub ran_on: String,
    /// The images as PNG `data:` URLs (the browser decodes them off the main thread).
    pub images: Vec<String>,
    /// The objective at the first step (the starting noise).
    pub objective_start: f32,
    /// The objective at the last step.
    pub objective_end: f32,
    /// Steps run.
    pub steps: u32,
    /// Wall time of the steps, in milliseconds.
    pub elapsed_ms: f64,
}

pub(crate) fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `target.method(args…)` and awaits the promise it returns (also `your_models`).
pub(crate) async fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Option<JsValue> {
    let function: Function = get(target, method)?.dyn_into().ok()?;
    let array: js_sys::Array = args.iter().copied().collect();
    let promise: Promise = function.apply(target, &array).ok()?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok().filter(|v| !v.is_undefined() && !v.is_null())
}

async fn open() -> Option<JsValue> {
    let caches = get(&js_sys::global(), "caches")?;
    call(&caches, "open", &[&JsValue::from_str(CACHE_NAME)]).await
}

/// The request URL a key is stored under (Cache Storage keys are same-origin URLs).
fn url(key: &str) -> String {
    crate::links::render_cache(key)
}

/// The render stored under `key`, if any (and readable).
pub async fn load(key: &str) -> Option<CachedRender> {
    let cache = open().await?;
    let response: Response =
        call(&cache, "match", &[&JsValue::from_str(&url(key))]).await?.dyn_into().ok()?;
    let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
    let value = JSON::parse(&text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

/// Stores `render` under `key`. Failing to (no Cache Storage, quota) only means no caching.
pub async fn store(key: &str, render: &CachedRender) {
    let Some(cache) = open().await else { return };
    let Ok(value) = serde_wasm_bindgen::to_value(render) else { return };
    let Some(text) = JSON::stringify(&value).ok().and_then(|t| t.as_string()) else { return };
    let Ok(response) = Response::new_with_opt_str(Some(&text)) else { return };
    let _ = call(&cache, "put", &[&JsValue::from_str(&url(key)), &response]).await;
}
