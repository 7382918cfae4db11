//! safetensors files: reading never panics, and a file that reads writes back to the same
//! tensors (bit for bit: NaN payloads included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use microscope_core::weights::{TensorMap, read_safetensors, write_safetensors};

/// Names, shapes and value bits, in order.
fn bits(map: &TensorMap) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    map.names()
        .filter_map(|name| {
            let t = map.get(name)?;
            Some((
                name.to_owned(),
                t.shape().to_vec(),
                t.data().iter().map(|v| v.to_bits()).collect(),
            ))
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tensors) = read_safetensors(data) {
        let again = read_safetensors(&write_safetensors(&tensors)).expect("a written file reads");
        assert_eq!(bits(&again), bits(&tensors), "a written file must read back the same");
    }
});
