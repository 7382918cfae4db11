//! Shared by the CLI tests that train on the real Fashion-MNIST: where the data set is, whether
//! to skip, running the `microscope` binary, and the arguments of a tiny training run.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Debian's `dataset-fashion-mnist` folder, or `$MICROSCOPE_FASHION_MNIST`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_FASHION_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"))
}

/// Whether the test must be skipped for want of Fashion-MNIST (it says so); a failure instead
/// when `MICROSCOPE_REQUIRE_DATA=1`.
pub fn skip_without_data() -> bool {
    let dir = data_dir();
    if dir.join("train-images-idx3-ubyte.gz").exists()
        || dir.join("train-images-idx3-ubyte").exists()
    {
        return false;
    }
    if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
        panic!("MICROSCOPE_REQUIRE_DATA=1 but Fashion-MNIST is missing in {dir:?}");
    }
    eprintln!("SKIPPED: Fashion-MNIST is missing (apt-get install dataset-fashion-mnist)");
    true
}

/// Runs `microscope` with its cache in `cache`; fails the test if it fails.
pub fn microscope(cache: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(args)
        .env("MICROSCOPE_CACHE", cache)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "microscope {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `microscope train` on a slice of the data: seconds, still learning something.
pub const TINY: [&str; 10] = [
    "train",
    "--quiet",
    "--batch",
    "32",
    "--train-limit",
    "640",
    "--test-limit",
    "500",
    "--lr",
    "0.002",
];
