//! The bounds of a visitor's photo. One definition, used by the viewer (which refuses a file
//! before sending it to the worker) and by the worker (which decodes within them), so a
//! crafted file cannot make a tab allocate gigabytes.

use serde::{Deserialize, Serialize};

/// How large a photo may be, as a file and as pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Largest width or height, in pixels.
    pub max_side_px: u32,
    /// Most pixels (width times height).
    pub max_pixels: u64,
}

impl PhotoLimits {
    /// The browser's limits: a 50-megapixel camera's JPEG fits, a decompression bomb does not.
    pub const BROWSER: Self =
        Self { max_bytes: 64 * 1024 * 1024, max_side_px: 16_384, max_pixels: 50_000_000 };

    /// Whether a file of `bytes` bytes may be read.
    pub fn check_bytes(self, bytes: u64) -> Result<(), PhotoError> {
        if bytes == 0 {
            return Err(PhotoError::Empty);
        }
        if bytes > self.max_bytes {
            return Err(PhotoError::TooManyBytes { bytes, max_bytes: self.max_bytes });
        }
        Ok(())
    }

    /// Whether a `width x height` image may be decoded.
    pub fn check_size(self, width: u32, height: u32) -> Result<(), PhotoError> {
        if width == 0 || height == 0 {
            return Err(PhotoError::Empty);
        }
        let pixels = u64::from(width) * u64::from(height);
        if width > self.max_side_px || height > self.max_side_px || pixels > self.max_pixels {
            return Err(PhotoError::TooLarge {
                width,
                height,
                max_side_px: self.max_side_px,
                max_pixels: self.max_pixels,
            });
        }
        Ok(())
    }
}

/// Why a photo cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum PhotoError {
    /// The file or the image has nothing in it.
    #[error("the photo is empty")]
    Empty,
    /// The file is larger than [`PhotoLimits::max_bytes`].
    #[error("the file has {bytes} bytes; at most {max_bytes} are read")]
    TooManyBytes {
        /// Its size.
        bytes: u64,
        /// The limit.
        max_bytes: u64,
    },
    /// The image has more pixels than the limits allow.
    #[error(
        "the photo is {width}x{height} pixels; at most {max_side_px} a side and {max_pixels} in all are decoded"
    )]
    TooLarge {
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
        /// The limit on a side.
        max_side_px: u32,
        /// The limit on the area.
        max_pixels: u64,
    },
    /// The bytes are not a PNG, JPEG or WebP image, or are damaged.
    #[error("the file is not a PNG, JPEG or WebP image that can be read: {message}")]
    Undecodable {
        /// What the decoder said.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_empty_huge_files_and_images() {
        let limits = PhotoLimits::BROWSER;
        assert_eq!(limits.check_bytes(0), Err(PhotoError::Empty));
        assert!(limits.check_bytes(5_000_000).is_ok());
        assert!(matches!(
            limits.check_bytes(limits.max_bytes + 1),
            Err(PhotoError::TooManyBytes { .. })
        ));
        assert!(limits.check_size(8000, 6000).is_ok());
        assert!(matches!(limits.check_size(16_385, 10), Err(PhotoError::TooLarge { .. })));
        assert!(matches!(limits.check_size(10_000, 10_000), Err(PhotoError::TooLarge { .. })));
        assert_eq!(limits.check_size(0, 10), Err(PhotoError::Empty));
    }
}
