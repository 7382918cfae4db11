//! A visitor's photo decoded within [`PhotoLimits`]: the image's header is read first, so a
//! file that claims too many pixels is refused before anything is allocated. The pixels are
//! those of [`crate::preprocess::decode_rgb`] (the CLI's decoder): the same crate, format
//! detection and conversion to 8-bit RGB.

use std::io::Cursor;

use image::{ImageReader, Limits, RgbImage};

use super::limits::{PhotoError, PhotoLimits};

/// Decodes `bytes` (PNG, JPEG or WebP) to 8-bit RGB within `limits`.
pub fn decode_photo(bytes: &[u8], limits: PhotoLimits) -> Result<RgbImage, PhotoError> {
    limits.check_bytes(bytes.len() as u64)?;
    let undecodable =
        |error: &dyn std::fmt::Display| PhotoError::Undecodable { message: error.to_string() };
    let reader = || ImageReader::new(Cursor::new(bytes)).with_guessed_format();
    let (width, height) =
        reader().map_err(|e| undecodable(&e))?.into_dimensions().map_err(|e| undecodable(&e))?;
    limits.check_size(width, height)?;
    let mut decoder = reader().map_err(|e| undecodable(&e))?;
    let mut bounds = Limits::default();
    bounds.max_image_width = Some(limits.max_side_px);
    bounds.max_image_height = Some(limits.max_side_px);
    // RGBA at 16 bits a channel is the most a decoder holds per pixel, plus the RGB copy.
    bounds.max_alloc = Some(limits.max_pixels.saturating_mul(11));
    decoder.limits(bounds);
    let image = decoder.decode().map_err(|e| undecodable(&e))?;
    let rgb = image.to_rgb8();
    limits.check_size(rgb.width(), rgb.height())?;
    Ok(rgb)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use image::Rgb;

    use super::*;
    use crate::preprocess::decode_rgb;

    fn encode(image: &RgbImage, format: image::ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn decodes_the_same_pixels_as_the_cli() {
        let image = RgbImage::from_fn(37, 23, |x, y| Rgb([(x * 7) as u8, (y * 11) as u8, 99]));
        for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
            let bytes = encode(&image, format);
            let ours = decode_photo(&bytes, PhotoLimits::BROWSER).unwrap();
            assert_eq!(ours, decode_rgb(&bytes).unwrap(), "{format:?}");
        }
    }

    #[test]
    fn refuses_what_the_limits_forbid_and_what_is_not_an_image() {
        let bytes = encode(&RgbImage::new(40, 30), image::ImageFormat::Png);
        let small = PhotoLimits { max_bytes: 1 << 20, max_side_px: 32, max_pixels: 10_000 };
        assert!(matches!(decode_photo(&bytes, small), Err(PhotoError::TooLarge { .. })));
        let few = PhotoLimits { max_bytes: 1 << 20, max_side_px: 64, max_pixels: 1_000 };
        assert!(matches!(decode_photo(&bytes, few), Err(PhotoError::TooLarge { .. })));
        let tiny = PhotoLimits { max_bytes: 10, ..PhotoLimits::BROWSER };
        assert!(matches!(decode_photo(&bytes, tiny), Err(PhotoError::TooManyBytes { .. })));
        assert!(matches!(
            decode_photo(b"not an image", PhotoLimits::BROWSER),
            Err(PhotoError::Undecodable { .. })
        ));
        assert_eq!(decode_photo(&[], PhotoLimits::BROWSER), Err(PhotoError::Empty));
        assert!(matches!(
            decode_photo(&bytes[..bytes.len() / 2], PhotoLimits::BROWSER),
            Err(PhotoError::Undecodable { .. })
        ));
    }
}
