//! The compute device of a run: `--device auto|cpu|vulkan[:i]|wgpu[:i]` (or
//! `MICROSCOPE_DEVICE`), parsed once into a [`DeviceRequest`], resolved the first time a
//! command computes into a [`ChosenDevice`] (the burn device and its [`DeviceInfo`]), printed
//! then, and the same for the rest of the process.
//!
//! `auto` takes the first hardware GPU and otherwise the CPU: a software adapter (Mesa's
//! lavapipe, SwiftShader) is far slower than burn's CPU backend, so it is used only when asked
//! for by name. GPUs are reached through burn's wgpu runtime, which exists only in builds with
//! the `gpu` feature (the default).

#[cfg(feature = "gpu")]
mod adapters;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use anyhow::{Result, bail};
use burn::prelude::Device;
use serde::Serialize;

/// The environment variable read when `--device` is not given.
pub const DEVICE_ENV: &str = "MICROSCOPE_DEVICE";

/// The way a GPU is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuApi {
    /// Vulkan, pinned: kernels compiled to SPIR-V where the adapter allows it.
    Vulkan,
    /// wgpu with the graphics API left to it (Vulkan where there is Vulkan, else Metal or
    /// DirectX 12).
    Wgpu,
}

impl GpuApi {
    /// The spelling in `--device` and in [`DeviceInfo::id`].
    pub fn name(self) -> &'static str {
        match self {
            Self::Vulkan => "vulkan",
            Self::Wgpu => "wgpu",
        }
    }
}

/// What `--device` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRequest {
    /// The first hardware GPU, otherwise the CPU.
    Auto,
    /// burn's CPU backend (flex).
    Cpu,
    /// A GPU adapter through `api`: the `index`th one that `microscope devices` lists for that
    /// API, or (`None`) its first hardware adapter, else its first adapter.
    Gpu {
        /// How the adapter is reached.
        api: GpuApi,
        /// Position in the API's adapter list.
        index: Option<usize>,
    },
}

impl FromStr for DeviceRequest {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        let (name, index) = match text.split_once(':') {
            Some((name, index)) => {
                let index = index.parse::<usize>().map_err(|_| {
                    format!("`{index}` is not an adapter number (vulkan:0, wgpu:1)")
                })?;
                (name, Some(index))
            }
            None => (text.as_str(), None),
        };
        match (name, index) {
            ("auto", None) => Ok(Self::Auto),
            ("cpu", None) => Ok(Self::Cpu),
            ("vulkan", index) => Ok(Self::Gpu { api: GpuApi::Vulkan, index }),
            ("wgpu", index) => Ok(Self::Gpu { api: GpuApi::Wgpu, index }),
            ("auto" | "cpu", Some(_)) => Err(format!("`{name}` takes no adapter number")),
            _ => Err(format!("unknown device `{text}`: auto, cpu, vulkan[:i] or wgpu[:i]")),
        }
    }
}

impl fmt::Display for DeviceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Gpu { api, index: None } => f.write_str(api.name()),
            Self::Gpu { api, index: Some(i) } => write!(f, "{}:{i}", api.name()),
        }
    }
}

/// What a device is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    /// A GPU (discrete, integrated or virtualised).
    Hardware,
    /// A GPU API implemented on the CPU (Mesa's lavapipe, SwiftShader).
    Software,
    /// burn's CPU backend.
    Cpu,
}

/// A device as `microscope devices` lists it and a build records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// How to ask for it with `--device`: `cpu`, `vulkan:0`, `wgpu:1`.
    pub id: String,
    /// burn's backend: `flex` (CPU), `vulkan` or `wgpu`.
    pub backend: String,
    /// The adapter's name (the CPU's model for `cpu`).
    pub name: String,
    /// Hardware GPU, software adapter or CPU.
    pub kind: DeviceClass,
    /// The driver and its version, as the adapter reports them (empty for the CPU).
    pub driver: String,
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DeviceClass::Hardware => "hardware GPU",
            DeviceClass::Software => "software adapter",
            DeviceClass::Cpu => "CPU",
        };
        write!(f, "{} ({}, {kind}: {}", self.id, self.backend, self.name)?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        f.write_str(")")
    }
}

/// The CPU, as burn's flex backend runs on it.
pub fn cpu_info() -> DeviceInfo {
    // flex computes on rayon's pool, which RAYON_NUM_THREADS sizes.
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    DeviceInfo {
        id: "cpu".into(),
        backend: "flex".into(),
        name: format!("{model}, {threads} threads"),
        kind: DeviceClass::Cpu,
        driver: String::new(),
    }
}

/// Every device this build can compute on: the CPU first, then each GPU adapter once per API
/// (with the reason a listed adapter is refused, if it is).
pub fn available() -> Vec<Listed> {
    let mut devices = vec![Listed { info: cpu_info(), refused: None }];
    #[cfg(feature = "gpu")]
    for api in [GpuApi::Vulkan, GpuApi::Wgpu] {
        devices.extend(
            adapters::list(api)
                .into_iter()
                .map(|adapter| Listed { refused: adapter.refused(), info: adapter.info }),
        );
    }
    devices
}

/// One line of `microscope devices`.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// The device.
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// Why `--device` refuses it (`None`: usable).
    pub refused: Option<String>,
}

/// The device a run computes on.
#[derive(Debug, Clone)]
pub struct ChosenDevice {
    device: Device,
    info: DeviceInfo,
}

impl ChosenDevice {
    /// burn's device.
    pub fn device(&self) -> Device {
        self.device.clone()
    }

    /// What it is (for messages and the atlas's build settings).
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// How many images a render passes forward and backward at a time, when its objective
    /// allows splitting: one on the CPU, where flex's convolutions get no cheaper per image
    /// with the batch (BENCHMARKS.md), the whole batch on a GPU, which needs the width.
    pub fn micro_batch(&self) -> Option<usize> {
        match self.info.kind {
            DeviceClass::Cpu => Some(1),
            DeviceClass::Hardware | DeviceClass::Software => None,
        }
    }

    /// Steps between readbacks of a render's objective: every step on the CPU (free there),
    /// every [`GPU_READBACK_EVERY`] on a GPU so that steps queue without waiting for the host.
    pub fn readback_every(&self) -> usize {
        match self.info.kind {
            DeviceClass::Cpu => 1,
            DeviceClass::Hardware | DeviceClass::Software => GPU_READBACK_EVERY,
        }
    }
}

/// Steps a GPU runs between readbacks of a render's objective.
pub const GPU_READBACK_EVERY: usize = 16;

/// Resolves a request into a device, starting the GPU runtime when one is chosen.
pub fn choose(request: DeviceRequest) -> Result<ChosenDevice> {
    let cpu = || ChosenDevice { device: Device::flex(), info: cpu_info() };
    match request {
        DeviceRequest::Cpu => Ok(cpu()),
        #[cfg(feature = "gpu")]
        DeviceRequest::Auto => match adapters::first_hardware() {
            Some(adapter) => adapter.start(),
            None => Ok(cpu()),
        },
        #[cfg(not(feature = "gpu"))]
        DeviceRequest::Auto => Ok(cpu()),
        #[cfg(feature = "gpu")]
        DeviceRequest::Gpu { api, index } => adapters::select(api, index)?.start(),
        #[cfg(not(feature = "gpu"))]
        DeviceRequest::Gpu { .. } => {
            bail!("`--device {request}`: this microscope was built without the `gpu` feature")
        }
    }
}

static REQUEST: OnceLock<DeviceRequest> = OnceLock::new();
static CHOSEN: OnceLock<ChosenDevice> = OnceLock::new();

/// Records what `--device` asked for; called once, by `main`, before any command runs.
pub fn set_request(request: DeviceRequest) -> Result<()> {
    if REQUEST.set(request).is_err() {
        bail!("the device was already requested");
    }
    Ok(())
}

/// The device of this run: chosen and printed (on stderr) the first time it is asked for, the
/// same afterwards. Commands that compute call this instead of naming a backend.
pub fn current() -> Result<&'static ChosenDevice> {
    if let Some(chosen) = CHOSEN.get() {
        return Ok(chosen);
    }
    let request = REQUEST.get().copied().unwrap_or(DeviceRequest::Auto);
    let chosen = choose(request)?;
    eprintln!("device: {}", chosen.info);
    if chosen.info.kind == DeviceClass::Software {
        eprintln!(
            "warning: a software adapter is for testing the GPU code path: far slower than the \
             CPU, and some objectives do not run on it (BENCHMARKS.md)"
        );
    }
    Ok(CHOSEN.get_or_init(|| chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_requests_parse_and_print_back() {
        for text in ["auto", "cpu", "vulkan", "vulkan:0", "wgpu", "wgpu:3"] {
            let request: DeviceRequest = text.parse().unwrap();
            assert_eq!(request.to_string(), text);
        }
        assert_eq!(
            "Vulkan:2".parse::<DeviceRequest>().unwrap(),
            DeviceRequest::Gpu { api: GpuApi::Vulkan, index: Some(2) }
        );
        for bad in ["gpu", "cpu:0", "vulkan:x", "vulkan:-1", "", "cuda"] {
            assert!(bad.parse::<DeviceRequest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cpu_is_always_listed_first_and_usable() {
        let devices = available();
        let first = devices.first().unwrap();
        assert_eq!(first.info.id, "cpu");
        assert_eq!(first.info.kind, DeviceClass::Cpu);
        assert!(first.refused.is_none());
        assert!(!first.info.name.is_empty());
    }
}
