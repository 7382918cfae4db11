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
    fashion_mnist_in(&fashion_mnist_dir())
}

/// The training and test sets from the IDX files in `dir`.
fn fashion_mnist_in(dir: &Path) -> Result<(ImageSet, ImageSet)> {
    let [train_images, train_labels, test_images, test_labels] =
        FASHION_MNIST_FILES.map(|name| read_idx(dir, name));
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_gzipped_and_plain_idx_files_and_rejects_damaged_ones() {
        let dir = std::env::temp_dir().join(format!("microscope-idx-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pixels: Vec<u8> = (0..3 * 784).map(|i| (i % 256) as u8).collect();
        // Training files gzip'd (as Debian ships them), test files plain.
        std::fs::write(dir.join(FASHION_MNIST_FILES[0]), gzip(&idx(&[3, 28, 28], &pixels)))
            .unwrap();
        std::fs::write(dir.join(FASHION_MNIST_FILES[1]), gzip(&idx(&[3], &[1, 2, 3]))).unwrap();
        let plain = |name: &str| dir.join(name.trim_end_matches(".gz"));
        std::fs::write(plain(FASHION_MNIST_FILES[2]), idx(&[1, 28, 28], &pixels[..784])).unwrap();
        std::fs::write(plain(FASHION_MNIST_FILES[3]), idx(&[1], &[9])).unwrap();
        let (train, test) = fashion_mnist_in(&dir).unwrap();
        assert_eq!((train.len(), test.len()), (3, 1));
        assert_eq!(train.pixels, pixels);
        assert_eq!(test.labels, [9]);
        // A truncated gzip stream fails with the file named.
        let good = gzip(&idx(&[3], &[1, 2, 3]));
        std::fs::write(dir.join(FASHION_MNIST_FILES[1]), &good[..good.len() / 2]).unwrap();
        let err = format!("{:#}", fashion_mnist_in(&dir).unwrap_err());
        assert!(err.contains("train-labels"), "{err}");
        // A missing file says how to install the data set.
        std::fs::remove_file(plain(FASHION_MNIST_FILES[3])).unwrap();
        std::fs::write(dir.join(FASHION_MNIST_FILES[1]), &good).unwrap();
        let err = format!("{:#}", fashion_mnist_in(&dir).unwrap_err());
        assert!(err.contains("dataset-fashion-mnist"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
