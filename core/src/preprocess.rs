//! Photos to model inputs: decode (PNG, JPEG, WebP bytes; no file I/O), frame, resize, and
//! normalise to the `[3, S, S]` float layout EfficientNet-Lite expects.
//!
//! This reproduces the reference pipeline (`tools/reference/`), which is that of the
//! EfficientNet-Lite evaluation:
//!
//! 1. decode to 8-bit RGB (alpha dropped, ICC profiles and EXIF orientation ignored, as
//!    `PIL.Image.convert("RGB")` does);
//! 2. [`Framing::CentreCrop`]: a centred square of side `int(S / (S + 32) * min(w, h))`, or
//!    [`Framing::Stretch`]: the whole image;
//! 3. bicubic resize to `S x S`, bit-exact with Pillow's `Image.resize(..., BICUBIC)`
//!    (Catmull-Rom, `a = -0.5`, widened when shrinking so that it antialiases; horizontal pass
//!    first, 8-bit intermediate, 22-bit fixed-point weights);
//! 4. `(x - 127) / 128` on the 0..=255 values, channel-major (CHW).

use image::{Rgb, RgbImage};

/// Subtracted from each 0..=255 channel value.
pub const PIXEL_OFFSET: f32 = 127.0;
/// Each channel value is divided by this after the offset.
pub const PIXEL_SCALE: f32 = 128.0;
/// The centre crop keeps `S / (S + CROP_PADDING)` of the short side.
pub const CROP_PADDING: usize = 32;

/// Why an image could not be turned into a model input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreprocessError {
    /// The bytes are not an image in a supported format (PNG, JPEG, WebP), or are corrupt.
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// The image has no pixels.
    #[error("the image is empty ({width}x{height} pixels)")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The requested output size is zero.
    #[error("the output size must be at least 1 pixel")]
    ZeroSize,
}

/// How the photo is framed before resizing to a square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// A centred square of `S / (S + 32)` of the short side, as in the models' evaluation.
    #[default]
    CentreCrop,
    /// The whole image, squashed to a square (aspect ratio not kept).
    Stretch,
}

/// A rectangle of source pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    /// First column.
    pub left: u32,
    /// First row.
    pub top: u32,
    /// Number of columns.
    pub width: u32,
    /// Number of rows.
    pub height: u32,
}

impl CropBox {
    /// The whole of a `width x height` image.
    pub fn full(width: u32, height: u32) -> Self {
        Self { left: 0, top: 0, width, height }
    }

    /// The evaluation centre crop of a `width x height` image for inputs of `size` pixels: a
    /// square of side `int(size / (size + 32) * min(width, height))` (at least 1) at
    /// `((width - side + 1) / 2, (height - side + 1) / 2)`.
    pub fn centre(width: u32, height: u32, size: usize) -> Self {
        let short = width.min(height);
        // The same double-precision expression, in the same order, as the Python reference.
        let ratio = size as f64 / (size + CROP_PADDING) as f64;
        let side = ((ratio * f64::from(short)) as u32).clamp(1.min(short), short);
        Self {
            left: (width - side).div_ceil(2),
            top: (height - side).div_ceil(2),
            width: side,
            height: side,
        }
    }
}

/// A preprocessed image: `[3, height, width]` values, channel-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessed {
    /// `[height, width]` of the image in pixels.
    pub size: [usize; 2],
    /// `3 * height * width` normalised values: all of R, then G, then B, each row-major.
    pub data: Vec<f32>,
}

#[cfg(feature = "ml")]
impl Preprocessed {
    /// The image as a batch of one on `device`.
    ///
    /// # Shapes
    /// - returns: `[1, 3, height, width]`
    pub fn to_tensor(&self, device: &burn::prelude::Device) -> burn::prelude::Tensor<4> {
        let [height, width] = self.size;
        let data = burn::prelude::TensorData::new(self.data.clone(), [1, 3, height, width]);
        burn::prelude::Tensor::from_data(data, device)
    }
}

/// Decodes `bytes` (PNG, JPEG or WebP, detected from the content) to 8-bit RGB.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, PreprocessError> {
    let image =
        image::load_from_memory(bytes).map_err(|e| PreprocessError::Decode(e.to_string()))?;
    let rgb = image.to_rgb8();
    if rgb.width() == 0 || rgb.height() == 0 {
        return Err(PreprocessError::EmptyImage { width: rgb.width(), height: rgb.height() });
    }
    Ok(rgb)
}

/// Decodes `bytes`, frames the image, resizes it to `size` (`[height, width]`) and
/// normalises it.
pub fn preprocess(
    bytes: &[u8],
    size: [usize; 2],
    framing: Framing,
) -> Result<Preprocessed, PreprocessError> {
    let rgb = decode_rgb(bytes)?;
    preprocess_rgb(&rgb, size, framing)
}

/// Frames `image`, resizes it to `size` (`[height, width]`) and normalises it. A centre crop
/// is square (sized for the longer side) and stretched to a non-square `size`.
pub fn preprocess_rgb(
    image: &RgbImage,
    size: [usize; 2],
    framing: Framing,
) -> Result<Preprocessed, PreprocessError> {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        return Err(PreprocessError::EmptyImage { width, height });
    }
    let [out_height, out_width] =
        size.map(|n| u32::try_from(n).ok().filter(|&n| n > 0).ok_or(PreprocessError::ZeroSize));
    let (out_height, out_width) = (out_height?, out_width?);
    let crop = match framing {
        Framing::CentreCrop => CropBox::centre(width, height, size[0].max(size[1])),
        Framing::Stretch => CropBox::full(width, height),
    };
    let resized = resize_bicubic(image, crop, out_width, out_height);
    Ok(Preprocessed { size, data: normalise(&resized) })
}

/// `(x - 127) / 128` of every channel value, channel-major: `[3, height, width]`.
pub fn normalise(image: &RgbImage) -> Vec<f32> {
    let plane = image.width() as usize * image.height() as usize;
    let mut out = vec![0.0f32; 3 * plane];
    let (r, rest) = out.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for (i, Rgb([pr, pg, pb])) in image.pixels().enumerate() {
        let norm = |v: &u8| (f32::from(*v) - PIXEL_OFFSET) / PIXEL_SCALE;
        if let (Some(r), Some(g), Some(b)) = (r.get_mut(i), g.get_mut(i), b.get_mut(i)) {
            (*r, *g, *b) = (norm(pr), norm(pg), norm(pb));
        }
    }
    out
}

/// Bits of fixed-point precision of Pillow's 8-bit resampling weights.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Pillow's bicubic kernel (`a = -0.5`, support 2).
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Fixed-point resampling weights from `in_size` source positions to `out_size`, as Pillow's
/// `precompute_coeffs` and `normalize_coeffs_8bpc` compute them.
struct Coefficients {
    /// For each output position: first source position and number of weights.
    bounds: Vec<(usize, usize)>,
    /// Weights per output position (`ksize` slots each, unused ones zero).
    weights: Vec<i32>,
    ksize: usize,
}

impl Coefficients {
    fn new(in_size: usize, out_size: usize) -> Self {
        let scale = in_size as f64 / out_size as f64;
        let filter_scale = scale.max(1.0);
        let support = 2.0 * filter_scale;
        let ksize = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(out_size);
        let mut weights = vec![0i32; out_size * ksize];
        let mut k = vec![0.0f64; ksize];
        for (xx, slots) in weights.chunks_exact_mut(ksize).enumerate() {
            let center = (xx as f64 + 0.5) * scale;
            // C's `(int)` truncates toward zero, as `as` does.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).clamp(0, in_size as i64) as usize;
            let count = xmax.saturating_sub(xmin).min(ksize);
            let mut total = 0.0;
            for (x, w) in k.iter_mut().enumerate().take(count) {
                *w = bicubic(((x + xmin) as f64 - center + 0.5) / filter_scale);
                total += *w;
            }
            for (slot, w) in slots.iter_mut().zip(&k).take(count) {
                let w = if total == 0.0 { *w } else { *w / total };
                let fixed = w * f64::from(1u32 << PRECISION_BITS);
                *slot = if w < 0.0 { (fixed - 0.5) as i32 } else { (fixed + 0.5) as i32 };
            }
            bounds.push((xmin, count));
        }
        Self { bounds, weights, ksize }
    }

    /// The first source position and the weights of output position `i`.
    fn at(&self, i: usize) -> (usize, &[i32]) {
        let (start, count) = self.bounds.get(i).copied().unwrap_or((0, 0));
        let weights = self.weights.get(i * self.ksize..i * self.ksize + count).unwrap_or(&[]);
        (start, weights)
    }
}

/// Rounds a fixed-point sum to a byte, clamping.
fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes the `crop` region of `image` to `width x height` with Pillow's antialiasing
/// bicubic filter, bit-exact with `image.crop(box).resize((width, height), Image.BICUBIC)` in
/// Pillow 9. Pixels outside `crop` are never read. The crop is clipped to the image.
pub fn resize_bicubic(image: &RgbImage, crop: CropBox, width: u32, height: u32) -> RgbImage {
    let (iw, ih) = image.dimensions();
    let left = crop.left.min(iw);
    let top = crop.top.min(ih);
    let cw = crop.width.min(iw - left) as usize;
    let ch = crop.height.min(ih - top) as usize;
    let (ow, oh) = (width as usize, height as usize);
    if cw == 0 || ch == 0 || ow == 0 || oh == 0 {
        return RgbImage::new(width, height);
    }
    let src = image.as_raw();
    let stride = iw as usize * 3;
    let (left, top) = (left as usize, top as usize);
    let half = 1i64 << (PRECISION_BITS - 1);

    // Horizontal pass: crop rows -> `ow` columns, 8-bit intermediate.
    let horizontal = Coefficients::new(cw, ow);
    let mut tmp = vec![0u8; ch * ow * 3];
    for (y, out_row) in tmp.chunks_exact_mut(ow * 3).enumerate() {
        let row_start = (top + y) * stride + left * 3;
        let row = src.get(row_start..row_start + cw * 3).unwrap_or(&[]);
        for (x, out_px) in out_row.chunks_exact_mut(3).enumerate() {
            let (start, weights) = horizontal.at(x);
            let mut sums = [half; 3];
            let pixels = row.get(start * 3..).unwrap_or(&[]).chunks_exact(3);
            for (px, &w) in pixels.zip(weights) {
                for (sum, &v) in sums.iter_mut().zip(px) {
                    *sum += i64::from(v) * i64::from(w);
                }
            }
            for (o, sum) in out_px.iter_mut().zip(sums) {
                *o = clip8(sum);
            }
        }
    }

    // Vertical pass: `ch` rows -> `oh` rows.
    let vertical = Coefficients::new(ch, oh);
    let row_len = ow * 3;
    let mut out = vec![0u8; oh * row_len];
    let mut sums = vec![0i64; row_len];
    for (y, out_row) in out.chunks_exact_mut(row_len).enumerate() {
        let (start, weights) = vertical.at(y);
        sums.fill(half);
        for (dy, &w) in weights.iter().enumerate() {
            let Some(row) = tmp.get((start + dy) * row_len..(start + dy + 1) * row_len) else {
                break;
            };
            for (sum, &v) in sums.iter_mut().zip(row) {
                *sum += i64::from(v) * i64::from(w);
            }
        }
        for (o, &sum) in out_row.iter_mut().zip(&sums) {
            *o = clip8(sum);
        }
    }
    RgbImage::from_raw(width, height, out).unwrap_or_else(|| RgbImage::new(width, height))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn png(image: &RgbImage) -> Vec<u8> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn preprocess_centre_crop_boxes() {
        // The boxes of the reference fixtures (lite0, S = 224).
        assert_eq!(
            CropBox::centre(600, 400, 224),
            CropBox { left: 125, top: 25, width: 350, height: 350 }
        );
        assert_eq!(
            CropBox::centre(451, 300, 224),
            CropBox { left: 95, top: 19, width: 262, height: 262 }
        );
        assert_eq!(
            CropBox::centre(512, 512, 224),
            CropBox { left: 32, top: 32, width: 448, height: 448 }
        );
        assert_eq!(
            CropBox::centre(640, 427, 224),
            CropBox { left: 134, top: 27, width: 373, height: 373 }
        );
        // Tiny images keep at least one pixel.
        assert_eq!(CropBox::centre(1, 1, 224), CropBox { left: 0, top: 0, width: 1, height: 1 });
    }

    #[test]
    fn preprocess_layout_and_normalisation() {
        let mut image = RgbImage::new(4, 4);
        for (x, y, p) in image.enumerate_pixels_mut() {
            *p = Rgb([255, 127, (x + 4 * y) as u8]);
        }
        // Same size, whole image: the resize is the identity.
        let out = preprocess(&png(&image), [4; 2], Framing::Stretch).unwrap();
        assert_eq!(out.size, [4, 4]);
        assert_eq!(out.data.len(), 3 * 16);
        // A non-square output: rows and columns as asked.
        let wide = preprocess(&png(&image), [2, 6], Framing::Stretch).unwrap();
        assert_eq!((wide.size, wide.data.len()), ([2, 6], 3 * 12));
        assert!(out.data[..16].iter().all(|&v| v == 1.0));
        assert!(out.data[16..32].iter().all(|&v| v == 0.0));
        let blue: Vec<f32> = (0..16).map(|i| (i as f32 - 127.0) / 128.0).collect();
        assert_eq!(out.data[32..], blue);
    }

    #[test]
    fn preprocess_resize_constant_and_shrink() {
        // A constant image stays constant through any resize (weights sum to one).
        let image = RgbImage::from_pixel(37, 23, Rgb([10, 200, 99]));
        let out = resize_bicubic(&image, CropBox::full(37, 23), 16, 9);
        assert!(out.pixels().all(|p| *p == Rgb([10, 200, 99])));
        let up = resize_bicubic(&image, CropBox { left: 3, top: 2, width: 5, height: 7 }, 40, 41);
        assert_eq!(up.dimensions(), (40, 41));
        assert!(up.pixels().all(|p| *p == Rgb([10, 200, 99])));
        // Pixels outside the crop are never read.
        let mut framed = RgbImage::from_pixel(10, 10, Rgb([255, 0, 0]));
        for y in 2..8 {
            for x in 2..8 {
                framed.put_pixel(x, y, Rgb([0, 0, 255]));
            }
        }
        let inner = resize_bicubic(&framed, CropBox { left: 2, top: 2, width: 6, height: 6 }, 3, 3);
        assert!(inner.pixels().all(|p| *p == Rgb([0, 0, 255])));
    }

    #[test]
    fn preprocess_matches_pillow_on_a_gradient() {
        // Pillow 9.4: Image.fromarray(a).resize((5, 3), Image.BICUBIC) for
        // a[y, x] = (x * 37 + y * 11) % 256, 13 x 7, all three channels equal.
        let image = RgbImage::from_fn(13, 7, |x, y| {
            let v = ((x * 37 + y * 11) % 256) as u8;
            Rgb([v, v, v])
        });
        let out = resize_bicubic(&image, CropBox::full(13, 7), 5, 3);
        let red: Vec<u8> = out.pixels().map(|p| p[0]).collect();
        assert_eq!(red, PILLOW_GRADIENT_5X3);
    }

    /// See `preprocess_matches_pillow_on_a_gradient`.
    const PILLOW_GRADIENT_5X3: [u8; 15] =
        [40, 141, 154, 63, 164, 65, 166, 148, 88, 189, 90, 191, 100, 113, 214];

    #[test]
    fn preprocess_rejects_bad_input() {
        assert!(matches!(
            preprocess(b"not an image", [224; 2], Framing::CentreCrop),
            Err(PreprocessError::Decode(_))
        ));
        assert!(matches!(
            preprocess(&[], [224; 2], Framing::CentreCrop),
            Err(PreprocessError::Decode(_))
        ));
        let image = RgbImage::from_pixel(3, 3, Rgb([1, 2, 3]));
        let bytes = png(&image);
        assert!(matches!(
            preprocess(&bytes[..bytes.len() / 2], [8; 2], Framing::Stretch),
            Err(PreprocessError::Decode(_))
        ));
        assert_eq!(preprocess(&bytes, [0; 2], Framing::Stretch), Err(PreprocessError::ZeroSize));
        assert_eq!(
            preprocess_rgb(&RgbImage::new(0, 5), [8; 2], Framing::CentreCrop),
            Err(PreprocessError::EmptyImage { width: 0, height: 5 })
        );
    }
}
