//! IDX arrays (Fashion-MNIST's container): parsing never panics, and what parses is
//! consistent (as many elements as the dimensions say).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = microscope_core::dataset::parse_idx(data) {
        assert_eq!(array.dims.iter().product::<usize>(), array.data.len());
    }
});
