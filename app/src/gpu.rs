//! What the browser offers for compute: WebGPU present or not, software or hardware adapter,
//! its name and limits, and which compute path the renderer should take ([`PathChoice`]).
//! Probed through plain JS reflection so the viewer needs no unstable web-sys APIs and no GPU
//! library.

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use microscope_core::protocol::ComputePath;
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

    /// The path the renderer takes by default: only a hardware adapter beats burn's CPU
    /// backend in wasm (software WebGPU measured 6-25x slower on a GPU-less machine).
    pub fn preferred_path(self) -> ComputePath {
        match self {
            Self::Hardware => ComputePath::Webgpu,
            Self::None | Self::Software => ComputePath::Cpu,
        }
    }
}

/// The compute path of a render and why it was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct PathChoice {
    /// The path the renderer runs on.
    pub path: ComputePath,
    /// Whether the URL forced it (`?path=webgpu|cpu`).
    pub forced: bool,
    /// The probe it was chosen from.
    pub tier: GpuTier,
    /// The adapter's description (or why there is none).
    pub adapter: String,
}

impl PathChoice {
    /// Chooses from a probe: `forced` wins, else the tier's preferred path.
    pub fn choose(report: &GpuReport, forced: Option<ComputePath>) -> Self {
        Self {
            path: forced.unwrap_or(report.tier.preferred_path()),
            forced: forced.is_some(),
            tier: report.tier,
            adapter: report.summary.clone(),
        }
    }

    /// Probes the browser (once per page session) and chooses.
    pub async fn detect(forced: Option<ComputePath>) -> Self {
        Self::choose(&probe_once().await, forced)
    }

    /// The path a URL value names (`webgpu` or `cpu`), if any.
    pub fn parse_path(text: &str) -> Option<ComputePath> {
        match text.trim().to_ascii_lowercase().as_str() {
            "webgpu" | "gpu" => Some(ComputePath::Webgpu),
            "cpu" => Some(ComputePath::Cpu),
            _ => None,
        }
    }

    /// Whether this path is the slow one worth warning about.
    pub fn is_slow(&self) -> bool {
        self.path == ComputePath::Cpu
            || (self.path == ComputePath::Webgpu && self.tier.is_fallback())
    }

    /// What runs, in words, for the progress line.
    pub fn describe(&self) -> String {
        let why = if self.forced { " (chosen in the URL)" } else { "" };
        match (self.path, self.tier) {
            (ComputePath::Webgpu, GpuTier::Software) => format!(
                "WebGPU on {} — a software adapter, much slower than a GPU{why}",
                self.adapter
            ),
            (ComputePath::Webgpu, _) => format!("WebGPU on {}{why}", self.adapter),
            (ComputePath::Cpu, GpuTier::None) => {
                format!("CPU in WebAssembly — slower; this browser offers no WebGPU adapter{why}")
            }
            (ComputePath::Cpu, GpuTier::Software) => format!(
                "CPU in WebAssembly — slower, yet faster than the software adapter ({}){why}",
                self.adapter
            ),
            (ComputePath::Cpu, GpuTier::Hardware) => {
                format!("CPU in WebAssembly — slower{why}")
            }
        }
    }
}

thread_local! {
    static PROBED: RefCell<Option<GpuReport>> = const { RefCell::new(None) };
}

/// [`probe`], once per page session (the adapter does not change while the page lives).
pub async fn probe_once() -> GpuReport {
    if let Some(report) = PROBED.with(|slot| slot.borrow().clone()) {
        return report;
    }
    let report = probe().await;
    PROBED.with(|slot| *slot.borrow_mut() = Some(report.clone()));
    report
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tier: GpuTier) -> GpuReport {
        GpuReport { tier, summary: "SwiftShader".into(), limits: Vec::new(), features: Vec::new() }
    }

    #[test]
    fn only_a_hardware_adapter_takes_webgpu_unless_the_url_forces_a_path() {
        for (tier, path) in [
            (GpuTier::None, ComputePath::Cpu),
            (GpuTier::Software, ComputePath::Cpu),
            (GpuTier::Hardware, ComputePath::Webgpu),
        ] {
            let choice = PathChoice::choose(&report(tier), None);
            assert_eq!((choice.path, choice.forced), (path, false), "{tier:?}");
        }
        let forced = PathChoice::choose(&report(GpuTier::Software), Some(ComputePath::Webgpu));
        assert!(forced.forced && forced.is_slow(), "software WebGPU is slow");
        assert!(
            forced.describe().contains("software adapter") && forced.describe().contains("URL")
        );
        let hardware = PathChoice::choose(&report(GpuTier::Hardware), None);
        assert!(!hardware.is_slow());
        assert_eq!(hardware.describe(), "WebGPU on SwiftShader");
        assert!(PathChoice::choose(&report(GpuTier::None), None).describe().contains("no WebGPU"));
    }

    #[test]
    fn url_paths_parse_loosely_and_refuse_the_rest() {
        assert_eq!(PathChoice::parse_path(" WebGPU "), Some(ComputePath::Webgpu));
        assert_eq!(PathChoice::parse_path("gpu"), Some(ComputePath::Webgpu));
        assert_eq!(PathChoice::parse_path("CPU"), Some(ComputePath::Cpu));
        assert_eq!(PathChoice::parse_path("vulkan"), None);
        assert_eq!(PathChoice::parse_path(""), None);
    }
}
