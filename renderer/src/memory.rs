//! The worker's own memory, reported after every render job so that a page can check that
//! repeated renders do not accumulate: the wasm linear memory, and what burn's GPU memory
//! pools hold on the WebGPU path.

use burn::prelude::Device;
use microscope_core::protocol::{ComputePath, GpuMemory, WorkerMemory};
use wasm_bindgen::JsCast;

/// The worker's memory now; `path` says whether to ask the WebGPU device's pools too.
pub fn worker_memory(path: ComputePath) -> WorkerMemory {
    let gpu = match path {
        ComputePath::Webgpu => crate::devices::started_webgpu().as_ref().and_then(gpu_memory),
        ComputePath::Cpu => None,
    };
    WorkerMemory { wasm_bytes: wasm_bytes(), gpu }
}

/// Bytes of this module's linear memory.
fn wasm_bytes() -> u64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
    u64::from(buffer.byte_length())
}

/// What the device's allocator holds, when its backend reports it.
fn gpu_memory(device: &Device) -> Option<GpuMemory> {
    device.memory_pool_usage().map(|usage| GpuMemory {
        allocations: usage.number_allocs,
        bytes_in_use: usage.bytes_in_use,
        bytes_reserved: usage.bytes_reserved,
    })
}
