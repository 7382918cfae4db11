//! A photo as a render's picture: the reference that `caricature(...)` and `invert(...)`
//! compare with, or the image a render starts from instead of noise (DeepDream from a photo).
//! The file is decoded within [`PhotoLimits`] ([`decode_photo`]) and the whole photo is
//! stretched to the render's square with Pillow-exact bicubic resampling. `microscope render
//! --photo/--start` and the renderer worker both call [`render_picture`], so a caricature or a
//! DeepDream of the same photo starts from the same pixels in the terminal and in the browser.

use crate::fv::RenderedImage;
use crate::preprocess::{CropBox, resize_bicubic};

use super::decode::decode_photo;
use super::limits::{PhotoError, PhotoLimits};

/// The photo file `bytes` as a `size_px` square picture with `channels` channels (3, or 1 for a
/// greyscale model: the mean of red, green and blue) and values in `[0, 1]`.
pub fn render_picture(
    bytes: &[u8],
    limits: PhotoLimits,
    size_px: usize,
    channels: usize,
) -> Result<RenderedImage, PhotoError> {
    let rgb = decode_photo(bytes, limits)?;
    let side = u32::try_from(size_px).ok().filter(|&side| side > 0).ok_or(PhotoError::Empty)?;
    let resized = resize_bicubic(&rgb, CropBox::full(rgb.width(), rgb.height()), side, side);
    Ok(RenderedImage::from_rgb_image(&resized, channels))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Cursor;

    use image::{Rgb, RgbImage};

    use super::*;

    fn png(image: &RgbImage) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn the_whole_photo_is_stretched_to_the_square() {
        // Left half red, right half blue, wider than high: stretched (not cropped), the
        // square keeps both halves.
        let photo =
            RgbImage::from_fn(
                80,
                40,
                |x, _| if x < 40 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) },
            );
        let picture = render_picture(&png(&photo), PhotoLimits::BROWSER, 16, 3).unwrap();
        assert_eq!((picture.width, picture.height, picture.channels), (16, 16, 3));
        let plane = 16 * 16;
        let at = |c: usize, x: usize, y: usize| picture.data[c * plane + y * 16 + x];
        assert_eq!((at(0, 1, 8), at(2, 1, 8)), (1.0, 0.0), "left is red");
        assert_eq!((at(0, 14, 8), at(2, 14, 8)), (0.0, 1.0), "right is blue");
        assert!(picture.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn a_greyscale_model_gets_the_mean_of_the_colours() {
        let photo = RgbImage::from_pixel(10, 10, Rgb([30, 60, 90]));
        let picture = render_picture(&png(&photo), PhotoLimits::BROWSER, 8, 1).unwrap();
        assert_eq!(picture.channels, 1);
        assert!(picture.data.iter().all(|v| (v - 60.0 / 255.0).abs() < 1e-6), "{picture:?}");
    }

    #[test]
    fn a_bad_or_oversized_photo_is_refused_with_the_limits_error() {
        let photo = png(&RgbImage::new(40, 30));
        let small = PhotoLimits { max_bytes: 1 << 20, max_side_px: 32, max_pixels: 10_000 };
        assert!(matches!(render_picture(&photo, small, 16, 3), Err(PhotoError::TooLarge { .. })));
        assert!(matches!(
            render_picture(b"GIF89a", PhotoLimits::BROWSER, 16, 3),
            Err(PhotoError::Undecodable { .. })
        ));
        assert_eq!(render_picture(&[], PhotoLimits::BROWSER, 16, 3), Err(PhotoError::Empty));
    }
}
