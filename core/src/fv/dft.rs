//! The inverse real 2-D discrete Fourier transform as two 1x1 convolutions.
//!
//! burn has no FFT, and an FFT would not be differentiable anyway; two linear maps with
//! precomputed cosine and sine bases are, on every backend (WebGPU included), and for the
//! image sizes of feature visualization (≤ 512 px) they cost little next to the network.
//! They are written as 1x1 convolutions rather than matrix products: the same arithmetic
//! (burn's CPU backend runs a 1x1 convolution as one matrix product), but no matmul kernel on
//! the GPU backends, whose pipelines crash Mesa's software Vulkan (lavapipe), the adapter the
//! GPU code path is tested on.
//!
//! Spectra are stored real rows first: a `[2H, W/2 + 1]` matrix whose first `H` rows are the
//! real parts and last `H` rows the imaginary parts of numpy's `rfft2` layout. The inverse
//! follows numpy's `irfft2` (imaginary parts of the zero and Nyquist columns are ignored).

use std::f64::consts::TAU;

use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

/// Number of stored frequency columns for an image `width` pixels wide.
pub fn frequency_width(width: usize) -> usize {
    width / 2 + 1
}

/// numpy's `fftfreq(n)[k]`: the signed frequency of bin `k` in cycles per sample.
fn signed_frequency(k: usize, n: usize) -> f64 {
    let (k, n) = (k as f64, n as f64);
    if k <= (n - 1.0) / 2.0 { k / n } else { (k - n) / n }
}

/// Radial frequency (cycles per pixel) of every stored bin, row-major `[H, W/2 + 1]`.
pub fn radial_frequencies(height: usize, width: usize) -> Vec<f32> {
    let fw = frequency_width(width);
    let mut out = Vec::with_capacity(height * fw);
    for ky in 0..height {
        let fy = signed_frequency(ky, height);
        for kx in 0..fw {
            let fx = kx as f64 / width as f64;
            out.push((fx * fx + fy * fy).sqrt() as f32);
        }
    }
    out
}

/// How many times column `kx` of a real spectrum counts (Hermitian symmetry: the columns
/// other than zero and Nyquist stand for themselves and their mirror image).
fn column_weight(kx: usize, width: usize) -> f64 {
    if kx == 0 || (width.is_multiple_of(2) && kx == width / 2) { 1.0 } else { 2.0 }
}

/// Precomputed bases of the inverse real DFT of `height x width` images.
#[derive(Debug, Clone)]
pub struct InverseRealDft {
    height: usize,
    width: usize,
    /// `[[cos, -sin], [sin, cos]]` over rows: the complex inverse DFT along y, as the weight
    /// of a 1x1 convolution `[2H out, 2H in, 1, 1]`.
    rows: Tensor<4>,
    /// `w_kx cos(2π kx x / W) / (H W)` then `-w_kx sin(2π kx x / W) / (H W)` over `kx`: the
    /// real inverse along x, as the weight of a 1x1 convolution `[W out, 2 (W/2 + 1) in, 1, 1]`.
    columns: Tensor<4>,
}

impl InverseRealDft {
    /// The bases for `height x width` images on `device`.
    pub fn new(height: usize, width: usize, device: &Device) -> Self {
        let h2 = 2 * height;
        let phase = |k: usize, p: usize, n: usize| TAU * (k * p % n) as f64 / n as f64;
        // Output row r (real parts first), input row c (real parts first):
        // real out = cos * re - sin * im; imaginary out = sin * re + cos * im.
        let rows: Vec<f32> = (0..h2)
            .flat_map(|r| {
                (0..h2).map(move |c| {
                    let angle = phase(c % height, r % height, height);
                    let value = match (r < height, c < height) {
                        (true, true) | (false, false) => angle.cos(),
                        (true, false) => -angle.sin(),
                        (false, true) => angle.sin(),
                    };
                    value as f32
                })
            })
            .collect();
        let fw = frequency_width(width);
        let norm = (height * width) as f64;
        let columns = |f: fn(f64) -> f64| -> Vec<f32> {
            (0..fw)
                .flat_map(|kx| {
                    let weight = column_weight(kx, width) / norm;
                    (0..width).map(move |x| (weight * f(phase(kx, x, width))) as f32)
                })
                .collect()
        };
        // [2 (W/2 + 1), W] (cos rows, then -sin rows), transposed to [W, 2 (W/2 + 1)].
        let both = [columns(f64::cos), columns(|a| -a.sin())].concat();
        let both: Vec<f32> =
            (0..width).flat_map(|x| both.iter().skip(x).step_by(width).copied()).collect();
        let tensor = |values: Vec<f32>, shape: [usize; 4]| {
            Tensor::<4>::from_data(TensorData::new(values, shape), device)
        };
        Self {
            height,
            width,
            rows: tensor(rows, [h2, h2, 1, 1]),
            columns: tensor(both, [width, 2 * fw, 1, 1]),
        }
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The real images whose spectra are `spectrum` (numpy's `irfft2`).
    ///
    /// # Shapes
    /// - `spectrum`: `[B, 2H, W/2 + 1]`, real rows then imaginary rows
    /// - returns: `[B, H, W]`
    pub fn apply(&self, spectrum: Tensor<3>) -> Tensor<3> {
        let [batch, h2, fw] = spectrum.dims();
        let (height, width) = (self.height, self.width);
        let options = || ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        // Complex inverse DFT along y, the spectrum's rows as channels: [B, 2H, W/2 + 1, 1].
        let along_y =
            conv2d(spectrum.reshape([batch, h2, fw, 1]), self.rows.clone(), None, options());
        // Real inverse along x, Re(G e^{iθ}) = re cos θ - im sin θ, with (real or imaginary,
        // column) as channels and the image's rows as positions: [B, 2 (W/2 + 1), H, 1].
        let planes = along_y.reshape([batch, 2, height, fw]).swap_dims(2, 3);
        let planes = planes.reshape([batch, 2 * fw, height, 1]);
        let image = conv2d(planes, self.columns.clone(), None, options()); // [B, W, H, 1]
        image.reshape([batch, width, height]).swap_dims(1, 2)
    }
}

/// The real 2-D DFT of one `height x width` image on the host (numpy's `rfft2`, unnormalised),
/// in the real-rows-then-imaginary-rows layout. Used to start from a photograph.
pub fn forward_real_dft(image: &[f32], height: usize, width: usize) -> Vec<f32> {
    let fw = frequency_width(width);
    // Along x: partial[y][kx] = Σ_x image[y][x] e^{-2πi kx x / W}.
    let mut partial = vec![(0.0f64, 0.0f64); height * fw];
    for (y, row) in image.chunks(width).take(height).enumerate() {
        for kx in 0..fw {
            let (mut re, mut im) = (0.0, 0.0);
            for (x, &v) in row.iter().enumerate() {
                let angle = TAU * (kx * x % width) as f64 / width as f64;
                re += f64::from(v) * angle.cos();
                im -= f64::from(v) * angle.sin();
            }
            if let Some(slot) = partial.get_mut(y * fw + kx) {
                *slot = (re, im);
            }
        }
    }
    // Along y: X[ky][kx] = Σ_y partial[y][kx] e^{-2πi ky y / H}.
    let mut out = vec![0.0f32; 2 * height * fw];
    for ky in 0..height {
        for kx in 0..fw {
            let (mut re, mut im) = (0.0, 0.0);
            for y in 0..height {
                let (pr, pi) = partial.get(y * fw + kx).copied().unwrap_or_default();
                let angle = TAU * (ky * y % height) as f64 / height as f64;
                let (sin, cos) = angle.sin_cos();
                re += pr * cos + pi * sin;
                im += pi * cos - pr * sin;
            }
            if let Some(slot) = out.get_mut(ky * fw + kx) {
                *slot = re as f32;
            }
            if let Some(slot) = out.get_mut((height + ky) * fw + kx) {
                *slot = im as f32;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// The inverse real DFT straight from its definition (a double sum per pixel).
    fn naive_inverse(spectrum: &[f32], height: usize, width: usize) -> Vec<f32> {
        let fw = frequency_width(width);
        let mut out = vec![0.0f32; height * width];
        for y in 0..height {
            for x in 0..width {
                let mut sum = 0.0f64;
                for ky in 0..height {
                    for kx in 0..fw {
                        let re = f64::from(spectrum[ky * fw + kx]);
                        let im = f64::from(spectrum[(height + ky) * fw + kx]);
                        let angle = TAU
                            * (ky as f64 * y as f64 / height as f64
                                + kx as f64 * x as f64 / width as f64);
                        sum += column_weight(kx, width) * (re * angle.cos() - im * angle.sin());
                    }
                }
                out[y * width + x] = (sum / (height * width) as f64) as f32;
            }
        }
        out
    }

    #[test]
    fn fv_inverse_dft_matches_the_naive_dft_and_inverts_the_forward_one() {
        let device = Device::flex();
        let mut rng = SplitMix64::new(3);
        // Even and odd sizes, square and not.
        for (h, w) in [(8usize, 8usize), (7, 10), (6, 9), (1, 5)] {
            let fw = frequency_width(w);
            let batch = 2;
            let spectrum = rng.normals(batch * 2 * h * fw, 1.0);
            let dft = InverseRealDft::new(h, w, &device);
            let tensor = Tensor::<3>::from_data(
                TensorData::new(spectrum.clone(), [batch, 2 * h, fw]),
                &device,
            );
            let got: Vec<f32> = dft.apply(tensor).into_data().try_to_vec::<f32>().unwrap();
            for b in 0..batch {
                let one = &spectrum[b * 2 * h * fw..(b + 1) * 2 * h * fw];
                let want = naive_inverse(one, h, w);
                for (g, v) in got[b * h * w..(b + 1) * h * w].iter().zip(&want) {
                    assert!((g - v).abs() < 1e-5, "{h}x{w}: {g} vs {v}");
                }
            }
            // A real image survives the forward DFT and the matrix inverse.
            let image = rng.normals(h * w, 1.0);
            let spectrum = forward_real_dft(&image, h, w);
            let tensor = Tensor::<3>::from_data(TensorData::new(spectrum, [1, 2 * h, fw]), &device);
            let back: Vec<f32> = dft.apply(tensor).into_data().try_to_vec::<f32>().unwrap();
            for (g, v) in back.iter().zip(&image) {
                assert!((g - v).abs() < 1e-4, "{h}x{w} round trip: {g} vs {v}");
            }
        }
    }

    #[test]
    fn fv_radial_frequencies_follow_numpy_fftfreq() {
        let f = radial_frequencies(4, 4); // fy = [0, .25, -.5, -.25], fx = [0, .25, .5]
        let want = [
            0.0,
            0.25,
            0.5,
            0.25,
            0.353_553_4,
            0.559_017,
            0.5,
            0.559_017,
            std::f32::consts::FRAC_1_SQRT_2,
        ];
        for (g, w) in f.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{f:?}");
        }
        assert_eq!(f.len(), 12);
    }
}
