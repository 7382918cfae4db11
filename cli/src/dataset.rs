//! Reading Fashion-MNIST from disk: the IDX files Debian's `dataset-fashion-mnist` installs
//! (gzip'd or not) in `$MICROSCOPE_FASHION_MNIST` or `/usr/share/datasets/fashion-mnist`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::read::GzDecoder;
use microscope_core::dataset::{FASHION_MNIST_DIR, FASHION_MNIST_FILES, IDX_MAX_BYTES, ImageSet};

/// The folder of the IDX files.
pub fn fashion_mnist_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_FASHION_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DIR))
}

/// The training set (60,000 images) and the test set (10,000).
pub fn fashion_mnist() -> Result<(ImageSet, ImageSet)> {
    let dir = fashion_mnist_dir();
    let [train_images, train_labels, test_images, test_labels] =
        FASHION_MNIST_FILES.map(|name| read_idx(&dir, name));
    let train = ImageSet::from_idx(&train_images?, &train_labels?)
        .with_context(|| format!("Fashion-MNIST training files in {}", dir.display()))?;
    let test = ImageSet::from_idx(&test_images?, &test_labels?)
        .with_context(|| format!("Fashion-MNIST test files in {}", dir.display()))?;
    Ok((train, test))
}

/// The file `name` (`x.gz`) or its uncompressed twin (`x`), whichever exists.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = name.strip_suffix(".gz").unwrap_or(name);
    [dir.join(name), dir.join(plain)].into_iter().find(|p| p.exists())
}

/// The bytes of an IDX file, decompressed if gzip'd (by its magic number), at most
/// [`IDX_MAX_BYTES`] plus a header.
fn read_idx(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = find(dir, name).with_context(|| {
        format!(
            "Fashion-MNIST file {name} is not in {} (install it: apt-get install dataset-fashion-mnist, or set MICROSCOPE_FASHION_MNIST)",
            dir.display()
        )
    })?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    GzDecoder::new(bytes.as_slice())
        .take((IDX_MAX_BYTES + 64) as u64)
        .read_to_end(&mut out)
        .with_context(|| format!("cannot decompress {}", path.display()))?;
    Ok(out)
}
