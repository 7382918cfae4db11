//! The objective grammar (objectives come from links): parsing never panics and never
//! overflows the stack, on a thread whose stack is as small as a wasm module's (1 MiB), the
//! stack the browser's renderer worker parses on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microscope_core::fv::Objective;

/// Rust's default stack for wasm32 modules.
const WASM_STACK_BYTES: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let text = text.to_owned();
    let parser = std::thread::Builder::new()
        .stack_size(WASM_STACK_BYTES)
        .spawn(move || {
            let _ = text.parse::<Objective>();
        })
        .expect("spawn the parsing thread");
    if parser.join().is_err() {
        panic!("the objective parser panicked");
    }
});
