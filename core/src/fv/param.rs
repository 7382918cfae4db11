//! Image parameterizations: what the optimiser actually changes, and how that becomes an
//! image with values in `[0, 1]`.
//!
//! The Fourier parameterization (lucid's `fft_image`) optimises a spectrum whose coefficients
//! are scaled by `1 / frequency^decay`, so that a unit step changes every frequency's energy
//! in proportion to its share in natural images: gradient steps no longer favour the high
//! frequencies that make pixel-space visualizations look like noise. Colours pass through the
//! decorrelation of [`super::color`], and a sigmoid keeps values in range.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use super::color::{color_correlation_inverse, decorrelated_to_rgb};
use super::dft::{InverseRealDft, forward_real_dft, frequency_width, radial_frequencies};
use crate::rng::SplitMix64;

/// How an image is represented for optimisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameterization {
    /// A real 2-D spectrum scaled by `1 / max(f, 1 / max(W, H))^decay` (lucid uses decay 1).
    Fourier {
        /// Exponent of the spectral decay.
        decay: f32,
    },
    /// One value per pixel and channel.
    Pixel,
}

impl Default for Parameterization {
    /// Fourier with decay 1, as lucid.
    fn default() -> Self {
        Self::Fourier { decay: 1.0 }
    }
}

/// Standard deviation of the initial parameters (lucid's default `sd`).
pub const INIT_SD: f32 = 0.01;

/// Lucid divides the inverse transform by 4 so that the initial image stays near grey.
const FOURIER_IMAGE_DIVISOR: f32 = 4.0;

/// Logit of values clamped to this distance from 0 and 1, when starting from an image: the
/// sigmoid's gradient vanishes at saturation, so exact black or white would be frozen.
const INIT_CLAMP: f32 = 0.02;

/// The spectral scale `sqrt(H W) / max(f, 1 / max(H, W))^decay` of every stored bin,
/// repeated for the real and the imaginary rows: `[2H, W/2 + 1]` row-major.
fn spectrum_scale(height: usize, width: usize, decay: f32) -> Vec<f32> {
    // The floor keeps the zero frequency finite; sqrt(H W) makes the transform unitary so
    // that pixel-space learning rates carry over (as in lucid).
    let floor = 1.0 / height.max(width) as f32;
    let unitary = ((height * width) as f32).sqrt();
    let scale: Vec<f32> = radial_frequencies(height, width)
        .into_iter()
        .map(|f| unitary / f.max(floor).powf(decay))
        .collect();
    [scale.clone(), scale].concat()
}

/// A batch of images represented by a raw parameter tensor (which the optimiser owns).
#[derive(Debug, Clone)]
pub struct ImageParam {
    kind: Parameterization,
    decorrelate: bool,
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    dft: Option<InverseRealDft>,
    /// `[1, 2H, W/2 + 1]`: the spectral scale, repeated for the real and imaginary rows.
    spectrum_scale: Option<Tensor<3>>,
}

impl ImageParam {
    /// A parameterization of `batch` images of `channels x height x width`.
    ///
    /// `decorrelate` applies only to 3-channel images (a grayscale image has no colours to
    /// decorrelate).
    pub fn new(
        kind: Parameterization,
        decorrelate: bool,
        batch: usize,
        channels: usize,
        [height, width]: [usize; 2],
        device: &Device,
    ) -> Self {
        let (dft, spectrum_scale) = match kind {
            Parameterization::Fourier { decay } => {
                let both = spectrum_scale(height, width, decay);
                let shape = [1, 2 * height, frequency_width(width)];
                let scale = Tensor::<3>::from_data(TensorData::new(both, shape), device);
                (Some(InverseRealDft::new(height, width, device)), Some(scale))
            }
            Parameterization::Pixel => (None, None),
        };
        Self {
            kind,
            decorrelate: decorrelate && channels == 3,
            batch,
            channels,
            height,
            width,
            dft,
            spectrum_scale,
        }
    }

    /// The parameterization.
    pub fn kind(&self) -> Parameterization {
        self.kind
    }

    /// `[N, C, H, W]` of the images.
    pub fn image_dims(&self) -> [usize; 4] {
        [self.batch, self.channels, self.height, self.width]
    }

    /// Shape of the raw parameter tensor: `[N C, 2H, W/2 + 1]` (Fourier) or `[N C, H, W]`.
    pub fn raw_dims(&self) -> [usize; 3] {
        let planes = self.batch * self.channels;
        match self.kind {
            Parameterization::Fourier { .. } => {
                [planes, 2 * self.height, frequency_width(self.width)]
            }
            Parameterization::Pixel => [planes, self.height, self.width],
        }
    }

    /// Random initial parameters, `N(0, sd²)` (lucid: `sd = 0.01`).
    ///
    /// # Shapes
    /// - returns: [`Self::raw_dims`]
    pub fn random(&self, rng: &mut SplitMix64, sd: f32, device: &Device) -> Tensor<3> {
        let dims = self.raw_dims();
        let values = rng.normals(dims.iter().product(), sd);
        Tensor::from_data(TensorData::new(values, dims), device)
    }

    /// Parameters whose image is `images` (values in `[0, 1]`, clamped slightly inside so
    /// that the sigmoid can still move them).
    ///
    /// # Shapes
    /// - `images`: `N x C x H x W` values, row-major
    /// - returns: [`Self::raw_dims`]
    pub fn from_images(&self, images: &[f32], device: &Device) -> Tensor<3> {
        let plane = self.height * self.width;
        let logit = |v: f32| {
            let v = v.clamp(INIT_CLAMP, 1.0 - INIT_CLAMP);
            (v / (1.0 - v)).ln()
        };
        let mut planes: Vec<Vec<f32>> =
            images.chunks(plane).map(|p| p.iter().map(|&v| logit(v)).collect()).collect();
        planes.resize(self.batch * self.channels, vec![0.0; plane]);
        if self.decorrelate {
            let inverse = color_correlation_inverse();
            for pixel_planes in planes.chunks_mut(3) {
                if let [r, g, b] = pixel_planes {
                    for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
                        let rgb = [*r, *g, *b];
                        let [x, y, z] =
                            inverse.map(|row| row.iter().zip(rgb).map(|(m, v)| m * v).sum());
                        (*r, *g, *b) = (x, y, z);
                    }
                }
            }
        }
        let raw: Vec<f32> = match (&self.kind, &self.spectrum_scale) {
            (Parameterization::Fourier { decay }, Some(_)) => {
                let scale = spectrum_scale(self.height, self.width, *decay);
                planes
                    .iter()
                    .flat_map(|p| {
                        let p: Vec<f32> = p.iter().map(|v| v * FOURIER_IMAGE_DIVISOR).collect();
                        let spectrum = forward_real_dft(&p, self.height, self.width);
                        spectrum.into_iter().zip(scale.iter().cycle()).map(|(s, k)| s / k)
                    })
                    .collect()
            }
            _ => planes.concat(),
        };
        Tensor::from_data(TensorData::new(raw, self.raw_dims()), device)
    }

    /// The images of `raw`, values in `(0, 1)`; differentiable.
    ///
    /// # Shapes
    /// - `raw`: [`Self::raw_dims`], or its first dimension narrowed to whole images
    /// - returns: [`Self::image_dims`] (as many images as `raw` holds)
    pub fn image(&self, raw: Tensor<3>) -> Tensor<4> {
        // Any number of whole images: a micro-batch passes a slice of the parameters.
        let planes = raw.dims()[0];
        let dims = [planes / self.channels.max(1), self.channels, self.height, self.width];
        let planes = match (&self.dft, &self.spectrum_scale) {
            (Some(dft), Some(scale)) => {
                dft.apply(raw * scale.clone()).div_scalar(FOURIER_IMAGE_DIVISOR)
            }
            _ => raw,
        };
        let image = planes.reshape(dims);
        let image = if self.decorrelate { decorrelated_to_rgb(image) } else { image };
        sigmoid(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn fv_param_starts_grey_and_round_trips_an_image() {
        let device = Device::flex();
        let mut rng = SplitMix64::new(5);
        for kind in [Parameterization::default(), Parameterization::Pixel] {
            for channels in [3usize, 1] {
                let param = ImageParam::new(kind, true, 2, channels, [12, 9], &device);
                let raw = param.random(&mut rng, INIT_SD, &device);
                assert_eq!(raw.dims(), param.raw_dims());
                let image = values(param.image(raw));
                assert_eq!(image.len(), 2 * channels * 12 * 9);
                // Near-zero parameters give a near-grey image.
                assert!(image.iter().all(|v| (v - 0.5).abs() < 0.1), "{kind:?}");

                let target: Vec<f32> =
                    (0..image.len()).map(|i| 0.1 + 0.8 * ((i * 37 % 101) as f32 / 100.0)).collect();
                let raw = param.from_images(&target, &device);
                let back = values(param.image(raw));
                for (b, t) in back.iter().zip(&target) {
                    assert!((b - t).abs() < 1e-3, "{kind:?} {channels}: {b} vs {t}");
                }
            }
        }
    }
}
