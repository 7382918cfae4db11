//! What the browser offers for compute: WebGPU present or not, software or hardware adapter,
//! its name and limits. Probed through plain JS reflection so the viewer needs no unstable
//! web-sys APIs and no GPU library.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How capable the browser is for the renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuTier {
    /// No WebGPU adapter: the renderer uses its CPU backend.
    None,
    /// A software (fallback) adapter such as SwiftShader: WebGPU works, slowly.
    Software,
    /// A hardware adapter.
    Hardware,
}

impl GpuTier {
    /// Whether a WebGPU adapter is available at all.
    pub fn has_webgpu(self) -> bool {
        !matches!(self, Self::None)
    }

    /// Whether the adapter is a software fallback.
    pub fn is_fallback(self) -> bool {
        matches!(self, Self::Software)
    }
}

/// The outcome of the WebGPU probe.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuReport {
    /// Capability tier.
    pub tier: GpuTier,
    /// Adapter description (vendor, architecture, device), or why there is none.
    pub summary: String,
    /// Selected adapter limits, by WebGPU name.
    pub limits: Vec<(&'static str, f64)>,
    /// Adapter features.
    pub features: Vec<String>,
}

/// Limits worth showing: those that bound what the renderer can do.
const LIMITS: [&str; 6] = [
    "maxBufferSize",
    "maxStorageBufferBindingSize",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupsPerDimension",
    "maxStorageBuffersPerShaderStage",
];

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(target: &JsValue, key: &str) -> String {
    get(target, key).as_string().unwrap_or_default()
}

fn unavailable(summary: impl Into<String>) -> GpuReport {
    GpuReport {
        tier: GpuTier::None,
        summary: summary.into(),
        limits: Vec::new(),
        features: Vec::new(),
    }
}

/// Asks the browser for a WebGPU adapter and describes it.
pub async fn probe() -> GpuReport {
    let navigator = get(&js_sys::global(), "navigator");
    let gpu = get(&navigator, "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return unavailable("This browser does not offer WebGPU (navigator.gpu is missing).");
    }
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<Function>() else {
        return unavailable("navigator.gpu.requestAdapter is not a function.");
    };
    let promise = match request.call0(&gpu).map(|p| p.dyn_into::<Promise>()) {
        Ok(Ok(promise)) => promise,
        _ => return unavailable("navigator.gpu.requestAdapter() did not return a promise."),
    };
    let adapter = match JsFuture::from(promise).await {
        Ok(adapter) if !adapter.is_null() && !adapter.is_undefined() => adapter,
        Ok(_) => return unavailable("WebGPU is present but offers no adapter."),
        Err(error) => return unavailable(format!("requestAdapter() failed: {error:?}")),
    };
    let info = get(&adapter, "info");
    let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .map(|key| get_string(&info, key))
        .filter(|text| !text.is_empty())
        .collect();
    let summary = if parts.is_empty() { "unnamed adapter".to_owned() } else { parts.join(" · ") };
    let flagged_fallback = get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
        || get(&adapter, "isFallbackAdapter").as_bool().unwrap_or(false);
    let lowered = summary.to_lowercase();
    let software_name = ["swiftshader", "llvmpipe", "lavapipe", "software"]
        .iter()
        .any(|name| lowered.contains(name));
    let tier =
        if flagged_fallback || software_name { GpuTier::Software } else { GpuTier::Hardware };

    let limits_object = get(&adapter, "limits");
    let limits = LIMITS
        .iter()
        .filter_map(|name| get(&limits_object, name).as_f64().map(|value| (*name, value)))
        .collect();
    let features = get(&adapter, "features");
    let features = js_sys::try_iter(&features)
        .ok()
        .flatten()
        .map(|iter| iter.filter_map(|item| item.ok()?.as_string()).collect())
        .unwrap_or_default();
    GpuReport { tier, summary, limits, features }
}
