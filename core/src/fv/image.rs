//! Rendered images on the host: values in `[0, 1]`, channel-major, one per batch element;
//! conversion to 8-bit RGB for previews and files, and from photographs.

use image::RgbImage;

/// One image with values in `[0, 1]`, channel-major (`[C, H, W]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 3 (RGB) or 1 (grayscale).
    pub channels: usize,
    /// `channels * height * width` values: each channel's plane, row-major.
    pub data: Vec<f32>,
}

impl RenderedImage {
    /// Splits a batch read back from the device (`[N, C, H, W]` row-major) into images.
    pub fn from_batch(data: &[f32], [n, channels, height, width]: [usize; 4]) -> Vec<Self> {
        let len = channels * height * width;
        data.chunks(len.max(1))
            .take(n)
            .map(|chunk| Self { width, height, channels, data: chunk.to_vec() })
            .collect()
    }

    /// The image as interleaved 8-bit RGB (`height * width * 3` bytes; grayscale repeated).
    pub fn rgb8(&self) -> Vec<u8> {
        let plane = self.width * self.height;
        let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        let channel = |c: usize| {
            let c = if self.channels >= 3 { c } else { 0 };
            self.data.get(c * plane..(c + 1) * plane).unwrap_or(&[])
        };
        let (r, g, b) = (channel(0), channel(1), channel(2));
        r.iter().zip(g).zip(b).flat_map(|((r, g), b)| [byte(*r), byte(*g), byte(*b)]).collect()
    }

    /// The image as an `image::RgbImage`.
    pub fn to_rgb_image(&self) -> RgbImage {
        let (w, h) = (self.width as u32, self.height as u32);
        RgbImage::from_raw(w, h, self.rgb8()).unwrap_or_else(|| RgbImage::new(w, h))
    }

    /// An RGB image's values in `[0, 1]`, as `channels` planes (1: the mean of R, G and B).
    pub fn from_rgb_image(image: &RgbImage, channels: usize) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let plane = width * height;
        let mut data = vec![0.0f32; 3 * plane];
        for (i, pixel) in image.pixels().enumerate() {
            for (c, value) in pixel.0.iter().enumerate() {
                if let Some(slot) = data.get_mut(c * plane + i) {
                    *slot = f32::from(*value) / 255.0;
                }
            }
        }
        if channels == 1 {
            let grey: Vec<f32> = (0..plane)
                .map(|i| (0..3).filter_map(|c| data.get(c * plane + i)).sum::<f32>() / 3.0)
                .collect();
            return Self { width, height, channels: 1, data: grey };
        }
        Self { width, height, channels: 3, data }
    }
}
