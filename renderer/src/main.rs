//! The in-browser renderer: a web worker that runs microscope-core's tensor code on burn's
//! WebGPU backend (the visitor's GPU) or its CPU backend (flex, in wasm). Trunk builds it as a
//! separate wasm module that the viewer starts only when it needs it.

#[cfg(target_arch = "wasm32")]
mod devices;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod import_job;
#[cfg(target_arch = "wasm32")]
mod jobs;
#[cfg(target_arch = "wasm32")]
mod memory;
#[cfg(target_arch = "wasm32")]
mod models;
#[cfg(target_arch = "wasm32")]
mod photo_job;
#[cfg(target_arch = "wasm32")]
mod render_job;
#[cfg(target_arch = "wasm32")]
mod visitor;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("microscope-renderer runs inside a browser worker; build it with `trunk build`.");
    std::process::exit(2);
}
