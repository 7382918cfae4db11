//! GPU adapters as burn's wgpu runtime sees them: listed without opening them, numbered per
//! API the way `--device vulkan:i` / `wgpu:i` counts, and started on request.

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use burn::tensor::DeviceKind;
use burn::tensor::wgpu::{WgpuBackend, wgpu};

use super::{ChosenDevice, DeviceClass, DeviceInfo, GpuApi};

/// One adapter of one API.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// What it is, numbered within its API.
    pub info: DeviceInfo,
    api: GpuApi,
    /// How burn's runtime addresses it: each adapter type counts from zero on its own.
    kind: DeviceKind,
}

/// The graphics APIs wgpu tries, in its order, when left to choose (as burn's runtime does),
/// less OpenGL: probing it without a display prints errors, and a GPU reachable only through
/// OpenGL is not worth them here.
fn auto_chain() -> &'static [wgpu::Backend] {
    if cfg!(target_os = "macos") {
        &[wgpu::Backend::Metal]
    } else {
        &[wgpu::Backend::Vulkan, wgpu::Backend::Dx12]
    }
}

/// The adapters on one graphics API, in the runtime's enumeration order.
fn probe(backend: wgpu::Backend) -> Vec<wgpu::AdapterInfo> {
    let backends = wgpu::Backends::from(backend);
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    pollster::block_on(instance.enumerate_adapters(backends))
        .iter()
        .map(wgpu::Adapter::get_info)
        .collect()
}

/// The graphics API and adapters a device on `api` comes up on: Vulkan when pinned; when left
/// to wgpu, the first API in its chain with a GPU, else the first with any adapter.
fn settle(api: GpuApi) -> Vec<wgpu::AdapterInfo> {
    match api {
        GpuApi::Vulkan => probe(wgpu::Backend::Vulkan),
        GpuApi::Wgpu => {
            let mut software_only = Vec::new();
            for &backend in auto_chain() {
                let adapters = probe(backend);
                if adapters.iter().any(|a| a.device_type != wgpu::DeviceType::Cpu) {
                    return adapters;
                }
                if software_only.is_empty() {
                    software_only = adapters;
                }
            }
            software_only
        }
    }
}

/// Every adapter burn can open on `api`, numbered in order.
pub fn list(api: GpuApi) -> Vec<Adapter> {
    let mut per_type = [0usize; 3];
    let mut cpu_seen = false;
    let mut adapters = Vec::new();
    for info in settle(api) {
        let (kind, class) = match info.device_type {
            wgpu::DeviceType::DiscreteGpu => (DeviceKind::DiscreteGpu(per_type[0]), 0),
            wgpu::DeviceType::IntegratedGpu => (DeviceKind::IntegratedGpu(per_type[1]), 1),
            wgpu::DeviceType::VirtualGpu => (DeviceKind::VirtualGpu(per_type[2]), 2),
            // The runtime reaches only the first software adapter, and none of type `Other`.
            wgpu::DeviceType::Cpu if !cpu_seen => (DeviceKind::Cpu, 3),
            wgpu::DeviceType::Cpu | wgpu::DeviceType::Other => continue,
        };
        if let Some(count) = per_type.get_mut(class) {
            *count += 1;
        }
        cpu_seen |= class == 3;
        let driver = [info.driver.as_str(), info.driver_info.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let index = adapters.len();
        adapters.push(Adapter {
            info: DeviceInfo {
                id: format!("{}:{index}", api.name()),
                backend: match api {
                    GpuApi::Vulkan => "vulkan".to_owned(),
                    GpuApi::Wgpu => {
                        format!("wgpu ({})", format!("{:?}", info.backend).to_lowercase())
                    }
                },
                name: info.name,
                kind: if class == 3 { DeviceClass::Software } else { DeviceClass::Hardware },
                driver,
            },
            api,
            kind,
        });
    }
    adapters
}

/// The first hardware GPU on Vulkan, else through wgpu's own choice of API.
pub fn first_hardware() -> Option<Adapter> {
    [GpuApi::Vulkan, GpuApi::Wgpu]
        .into_iter()
        .find_map(|api| list(api).into_iter().find(|a| a.info.kind == DeviceClass::Hardware))
}

/// The adapter `--device api[:index]` names: the `index`th listed, or the first hardware one,
/// else the first.
pub fn select(api: GpuApi, index: Option<usize>) -> Result<Adapter> {
    let adapters = list(api);
    let found = match index {
        Some(i) => adapters.get(i).cloned(),
        None => adapters
            .iter()
            .find(|a| a.info.kind == DeviceClass::Hardware)
            .or(adapters.first())
            .cloned(),
    };
    let Some(adapter) = found else {
        let spelled = index.map_or(api.name().to_owned(), |i| format!("{}:{i}", api.name()));
        if adapters.is_empty() {
            bail!(
                "`--device {spelled}`: no {} adapter found (is the Vulkan loader, Debian's \
                 libvulkan1, and a driver installed? `microscope devices` lists what is usable)",
                api.name()
            );
        }
        bail!(
            "`--device {spelled}`: there are {} {} adapters (`microscope devices` lists them)",
            adapters.len(),
            api.name()
        );
    };
    if let Some(reason) = adapter.refused() {
        bail!("`--device {}` refused: {reason}", adapter.info.id);
    }
    Ok(adapter)
}

impl Adapter {
    /// Why this adapter cannot be used, if it cannot.
    pub fn refused(&self) -> Option<String> {
        None
    }

    /// Opens the adapter in burn's runtime.
    pub fn start(self) -> Result<ChosenDevice> {
        let api = match self.api {
            GpuApi::Vulkan => WgpuBackend::Vulkan,
            GpuApi::Wgpu => WgpuBackend::Auto,
        };
        let device = Device::wgpu_options()
            .device_kind(self.kind)
            .graphics_api(api)
            .init()
            .with_context(|| format!("cannot start {}", self.info))?;
        Ok(ChosenDevice { device, info: self.info })
    }
}
