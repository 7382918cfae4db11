//! How the builder stores an image, by what it shows (`ImageContent`, docs/atlas-format.md,
//! "Images"): generated pictures (feature visualizations and their sheets) as lossless PNG,
//! photographic ones (dataset-example sheets, crops of photos) as JPEG at [`JPEG_QUALITY`],
//! which no one can tell from the lossless crop at the viewer's sizes and which is about a
//! quarter of the PNG's size (BENCHMARKS.md, "Atlas size"). Both encoders are deterministic, so
//! rebuilding or compacting gives the same bytes.

use std::io::Cursor;

use anyhow::{Context, Result};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat as Codec};
use microscope_core::atlas::{ImageContent, ImageFormat};
use serde::Serialize;

/// JPEG quality (1-100) of photographic images: no visible loss at the viewer's sizes.
pub const JPEG_QUALITY: u8 = 90;

/// The format the builder writes images of `content` in.
pub fn format_for(content: ImageContent) -> ImageFormat {
    match content {
        ImageContent::Generated => ImageFormat::Png,
        ImageContent::Photographic => ImageFormat::Jpeg,
    }
}

/// What `model.json`'s build settings record of the formats (`image_formats`).
#[derive(Debug, Clone, Serialize)]
pub struct ImageFormats {
    /// Feature visualizations and their sheets.
    pub generated: ImageFormat,
    /// Dataset-example sheets.
    pub photographic: ImageFormat,
    /// The JPEG quality of photographic images.
    pub jpeg_quality: u8,
}

/// The formats this builder writes.
pub fn image_formats() -> ImageFormats {
    ImageFormats {
        generated: format_for(ImageContent::Generated),
        photographic: format_for(ImageContent::Photographic),
        jpeg_quality: JPEG_QUALITY,
    }
}

/// The bytes of `image` in the format for `content` (which [`format_for`] names). JPEG has no
/// transparency: transparent pixels (the blank tiles of a layer sheet) become black.
pub fn encode(image: &DynamicImage, content: ImageContent) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    match format_for(content) {
        ImageFormat::Jpeg => {
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
                .encode_image(&rgb)
                .context("encoding a JPEG")?;
        }
        ImageFormat::Png => {
            image.write_to(&mut Cursor::new(&mut bytes), Codec::Png).context("encoding a PNG")?;
        }
        ImageFormat::Webp => anyhow::bail!("the builder writes no WebP"),
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage, Rgba, RgbaImage};
    use microscope_core::atlas::sniff;

    use super::*;

    #[test]
    fn photographic_images_are_jpeg_close_to_the_original_and_generated_ones_lossless_png() {
        // A smooth gradient with an edge: what a photo crop looks like to an encoder.
        let image = RgbImage::from_fn(64, 32, |x, y| {
            let edge = if x > 40 { 60 } else { 0 };
            Rgb([(x * 3 + edge) as u8, (y * 6) as u8, (128 + x - y) as u8])
        });
        let dynamic = DynamicImage::ImageRgb8(image.clone());
        let jpeg = encode(&dynamic, ImageContent::Photographic).unwrap();
        assert_eq!(
            sniff(&jpeg).map(|h| (h.format, h.width, h.height)),
            Some((ImageFormat::Jpeg, 64, 32))
        );
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let mean_error = image
            .as_raw()
            .iter()
            .zip(back.as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / image.as_raw().len() as f64;
        assert!(mean_error < 2.0, "mean error {mean_error} of 255");
        assert_eq!(encode(&dynamic, ImageContent::Photographic).unwrap(), jpeg, "deterministic");

        let png = encode(&dynamic, ImageContent::Generated).unwrap();
        assert_eq!(sniff(&png).map(|h| h.format), Some(ImageFormat::Png));
        assert_eq!(image::load_from_memory(&png).unwrap().to_rgb8(), image, "lossless");
    }

    #[test]
    fn transparent_tiles_become_black_in_a_jpeg() {
        let sheet = RgbaImage::from_pixel(16, 16, Rgba([0, 0, 0, 0]));
        let jpeg = encode(&DynamicImage::ImageRgba8(sheet), ImageContent::Photographic).unwrap();
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert!(back.pixels().all(|p| p.0.iter().all(|&v| v < 4)));
    }
}
