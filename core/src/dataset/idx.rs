//! The IDX container of MNIST-style data sets: a 4-byte magic (two zero bytes, an element
//! type, the number of dimensions), one big-endian `u32` per dimension, then the elements in
//! row-major order. Only unsigned bytes (type `0x08`), which the image and label files use,
//! are read. Parsing is bounded and never panics: every size is checked before it is used.

/// The largest payload [`parse_idx`] accepts, in bytes (the Fashion-MNIST training images
/// are 47 MB).
pub const IDX_MAX_BYTES: usize = 256 << 20;

/// The largest number of dimensions accepted.
const MAX_DIMS: usize = 4;

/// The element type code of unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// An IDX array of bytes: its dimensions and its elements in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (`[60000, 28, 28]` for images, `[60000]` for labels).
    pub dims: Vec<usize>,
    /// The elements, `dims.iter().product()` of them.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// The size of one item (the product of every dimension but the first; 1 for a vector).
    pub fn item_len(&self) -> usize {
        self.dims.iter().skip(1).product()
    }

    /// The number of items (the first dimension).
    pub fn items(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }
}

/// Why bytes are not an IDX array this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxError {
    /// The file ends before the header or the data does.
    #[error("truncated IDX data: needs {needed} bytes, has {actual}")]
    Truncated {
        /// Bytes the header says the file needs.
        needed: usize,
        /// Bytes present.
        actual: usize,
    },
    /// The first two bytes are not zero.
    #[error("not an IDX file: the magic number starts {0:#04x} {1:#04x}, not 0x00 0x00")]
    BadMagic(u8, u8),
    /// An element type other than unsigned bytes.
    #[error("unsupported IDX element type {0:#04x} (only 0x08, unsigned bytes, is read)")]
    UnsupportedType(u8),
    /// No dimensions, or more than [`MAX_DIMS`].
    #[error("unsupported IDX rank {0} (1 to 4 dimensions are read)")]
    BadRank(u8),
    /// The dimensions multiply past [`IDX_MAX_BYTES`] (or overflow).
    #[error("IDX dimensions {0:?} exceed the {IDX_MAX_BYTES}-byte limit")]
    TooLarge(Vec<u64>),
    /// Bytes after the data.
    #[error("{0} unexpected bytes after the IDX data")]
    TrailingBytes(usize),
}

/// Parses an IDX array of unsigned bytes.
///
/// Fails on a short file, a wrong magic number, another element type, a rank outside 1..=4,
/// a payload over [`IDX_MAX_BYTES`] and trailing bytes.
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let Some(&[z0, z1, kind, rank]) = bytes.first_chunk::<4>() else {
        return Err(IdxError::Truncated { needed: 4, actual: bytes.len() });
    };
    if z0 != 0 || z1 != 0 {
        return Err(IdxError::BadMagic(z0, z1));
    }
    if kind != TYPE_U8 {
        return Err(IdxError::UnsupportedType(kind));
    }
    let dims_count = usize::from(rank);
    if dims_count == 0 || dims_count > MAX_DIMS {
        return Err(IdxError::BadRank(rank));
    }
    let header = 4 + 4 * dims_count;
    let Some(dim_bytes) = bytes.get(4..header) else {
        return Err(IdxError::Truncated { needed: header, actual: bytes.len() });
    };
    let raw: Vec<u64> = dim_bytes
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    let len = raw
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= IDX_MAX_BYTES as u64)
        .ok_or_else(|| IdxError::TooLarge(raw.clone()))? as usize;
    let needed = header + len;
    let Some(data) = bytes.get(header..needed) else {
        return Err(IdxError::Truncated { needed, actual: bytes.len() });
    };
    if bytes.len() > needed {
        return Err(IdxError::TrailingBytes(bytes.len() - needed));
    }
    Ok(IdxArray { dims: raw.iter().map(|&d| d as usize).collect(), data: data.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IDX file of bytes with these dimensions and data.
    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, TYPE_U8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn parses_images_and_labels() {
        let data: Vec<u8> = (0..2 * 3 * 2).collect();
        let images = parse_idx(&idx(&[2, 3, 2], &data)).unwrap();
        assert_eq!(images.dims, [2, 3, 2]);
        assert_eq!(images.items(), 2);
        assert_eq!(images.item_len(), 6);
        assert_eq!(images.data, data);
        let labels = parse_idx(&idx(&[3], &[9, 0, 4])).unwrap();
        assert_eq!((labels.items(), labels.item_len()), (3, 1));
        assert_eq!(labels.data, [9, 0, 4]);
        let empty = parse_idx(&idx(&[0, 28, 28], &[])).unwrap();
        assert_eq!(empty.items(), 0);
    }

    #[test]
    fn rejects_truncated_files_at_every_length() {
        let file = idx(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
        for cut in 0..file.len() {
            let err = parse_idx(&file[..cut]).unwrap_err();
            assert!(matches!(err, IdxError::Truncated { .. }), "cut at {cut}: {err}");
        }
        assert!(parse_idx(&file).is_ok());
    }

    #[test]
    fn rejects_corrupt_headers() {
        let good = idx(&[2], &[1, 2]);
        let mut magic = good.clone();
        magic[1] = 0x01;
        assert_eq!(parse_idx(&magic), Err(IdxError::BadMagic(0, 1)));
        let mut kind = good.clone();
        kind[2] = 0x0d; // floats
        assert_eq!(parse_idx(&kind), Err(IdxError::UnsupportedType(0x0d)));
        let mut rank = good.clone();
        rank[3] = 0;
        assert_eq!(parse_idx(&rank), Err(IdxError::BadRank(0)));
        rank[3] = 200;
        assert_eq!(parse_idx(&rank), Err(IdxError::BadRank(200)));
        let mut trailing = good.clone();
        trailing.push(7);
        assert_eq!(parse_idx(&trailing), Err(IdxError::TrailingBytes(1)));
        // Dimensions whose product overflows or is huge are refused before any allocation.
        let huge = idx(&[u32::MAX, u32::MAX, u32::MAX, u32::MAX], &[]);
        assert!(matches!(parse_idx(&huge), Err(IdxError::TooLarge(_))));
        let big = idx(&[70_000, 1024, 1024], &[]);
        assert!(matches!(parse_idx(&big), Err(IdxError::TooLarge(_))));
    }

    #[test]
    fn never_panics_on_mutated_bytes() {
        let file = idx(&[3, 2, 2], &[0; 12]);
        for i in 0..file.len() {
            for value in [0u8, 1, 2, 8, 0x7f, 0xff] {
                let mut bad = file.clone();
                bad[i] = value;
                let _ = parse_idx(&bad);
            }
        }
    }
}
