//! The visitor's own ONNX models kept in this browser (Cache Storage, like the render cache):
//! each file under its sha256 with a small record (name, size, when it was kept) beside it,
//! so the next visit lists them without reading the files. Nothing is sent anywhere; "remove"
//! deletes both entries. A browser without Cache Storage keeps nothing.

use js_sys::{Array, JSON};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::components::live_render::cache::{call, get};
use crate::links::your_model_entry;

/// The Cache Storage bucket. A new layout of [`KeptModel`] gets a new name.
const CACHE_NAME: &str = "microscope-your-models-v1";

/// A kept model's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptModel {
    /// The file's name.
    pub name: String,
    /// sha256 of the file (its key).
    pub sha256: String,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// When it was kept (milliseconds since 1970).
    pub kept_ms: f64,
}

async fn open() -> Option<JsValue> {
    let caches = get(&js_sys::global(), "caches")?;
    call(&caches, "open", &[&JsValue::from_str(CACHE_NAME)]).await
}

/// Every kept model, the most recently kept first.
pub async fn list() -> Vec<KeptModel> {
    let Some(cache) = open().await else { return Vec::new() };
    let Some(keys) = call(&cache, "keys", &[]).await else { return Vec::new() };
    let mut kept = Vec::new();
    for request in Array::from(&keys).iter() {
        let url = get(&request, "url").and_then(|url| url.as_string()).unwrap_or_default();
        if !url.ends_with(".json") {
            continue;
        }
        if let Some(record) = read_record(&cache, &request).await {
            kept.push(record);
        }
    }
    kept.sort_by(|a, b| b.kept_ms.total_cmp(&a.kept_ms));
    kept
}

async fn read_record(cache: &JsValue, request: &JsValue) -> Option<KeptModel> {
    let response: Response = call(cache, "match", &[request]).await?.dyn_into().ok()?;
    let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
    serde_wasm_bindgen::from_value(JSON::parse(&text).ok()?).ok()
}

/// The file of the kept model `sha256`, if it is kept (and readable).
pub async fn file(sha256: &str) -> Option<Vec<u8>> {
    let cache = open().await?;
    let key = JsValue::from_str(&your_model_entry(sha256, "onnx"));
    let response: Response = call(&cache, "match", &[&key]).await?.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Keeps `bytes` as the model `record` describes; false when the browser refused (no Cache
/// Storage, quota).
pub async fn keep(record: &KeptModel, bytes: &[u8]) -> bool {
    let Some(cache) = open().await else { return false };
    let Ok(value) = serde_wasm_bindgen::to_value(record) else { return false };
    let Some(text) = JSON::stringify(&value).ok().and_then(|t| t.as_string()) else {
        return false;
    };
    let mut copy = bytes.to_vec();
    let (Ok(file), Ok(meta)) =
        (Response::new_with_opt_u8_array(Some(&mut copy)), Response::new_with_opt_str(Some(&text)))
    else {
        return false;
    };
    // `put` resolves to undefined, which `call` reads as nothing: each entry is checked by
    // reading it back, and the record (what lists the model) is written only after the file.
    for (extension, response) in [("onnx", file), ("json", meta)] {
        let key = JsValue::from_str(&your_model_entry(&record.sha256, extension));
        let _ = call(&cache, "put", &[&key, &response]).await;
        if call(&cache, "match", &[&key]).await.is_none() {
            return false;
        }
    }
    true
}

/// Removes the kept model `sha256` (its file and its record).
pub async fn remove(sha256: &str) {
    let Some(cache) = open().await else { return };
    for extension in ["onnx", "json"] {
        let key = JsValue::from_str(&your_model_entry(sha256, extension));
        let _ = call(&cache, "delete", &[&key]).await;
    }
}
