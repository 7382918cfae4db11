//! ONNX import, then a forward pass at a small input (8x8, the declared channels): import and
//! execution never panic, and whatever a file declares, memory stays within the limits of the
//! graph module (checked before any tensor of that size exists).
#![no_main]

use burn::prelude::*;
use libfuzzer_sys::fuzz_target;
use microscope_core::onnx;

/// Most input channels tried (an image has 1 to 4; larger declared counts are skipped).
const MAX_CHANNELS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let Ok(graph) = onnx::import(data) else { return };
    let channels = graph.input().channels().unwrap_or(3);
    if channels == 0 || channels > MAX_CHANNELS {
        return;
    }
    let _ = graph.layers([8, 8]);
    let Ok(graph) = graph.fold_batch_norms() else { return };
    let device = Device::flex();
    let executable = graph.to_device(&device);
    let input = Tensor::<4>::zeros([1, channels, 8, 8], &device);
    let _ = executable.output(input);
});
