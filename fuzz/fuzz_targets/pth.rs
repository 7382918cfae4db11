//! Legacy `.pth` checkpoints: reading never panics, and the reader's own bounds keep memory
//! within the fuzzer's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = microscope_core::weights::read_pth(data);
});
