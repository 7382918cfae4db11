//! The renderer's burn devices, created once per worker: WebGPU needs asynchronous start-up and
//! can be initialised only once, so the device is kept after the first success.

use std::cell::RefCell;

use burn::prelude::Device;
use burn::tensor::wgpu::WgpuBackend;
use microscope_core::protocol::ComputePath;

thread_local! {
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// The WebGPU device if it has been started (nothing is started here).
pub fn started_webgpu() -> Option<Device> {
    WEBGPU.with(|slot| slot.borrow().clone())
}

/// The device for a compute path, starting WebGPU on first use.
pub async fn device_for(path: ComputePath) -> Result<Device, String> {
    match path {
        ComputePath::Cpu => Ok(Device::flex()),
        ComputePath::Webgpu => {
            if let Some(device) = started_webgpu() {
                return Ok(device);
            }
            let device = Device::wgpu_options()
                .graphics_api(WgpuBackend::WebGpu)
                .init_async()
                .await
                .map_err(|error| format!("WebGPU could not start: {error}"))?;
            WEBGPU.with(|slot| *slot.borrow_mut() = Some(device.clone()));
            Ok(device)
        }
    }
}
