//! How much of an image's energy sits at high spatial frequencies: the measure by which a
//! lucid-like visualization (structure at mid frequencies) differs from adversarial noise.

use super::dft::{forward_real_dft, frequency_width, radial_frequencies};
use super::image::RenderedImage;

/// Fraction of the image's spectral energy (mean removed, channels summed) at radial
/// frequencies above `cutoff` cycles per pixel (0.5 is the Nyquist limit; a natural photo
/// keeps a few percent above 0.25).
pub fn high_frequency_fraction(image: &RenderedImage, cutoff: f32) -> f32 {
    let (h, w) = (image.height, image.width);
    let plane = h * w;
    let fw = frequency_width(w);
    let frequencies = radial_frequencies(h, w);
    let (mut high, mut total) = (0.0f64, 0.0f64);
    for channel in image.data.chunks(plane.max(1)).take(image.channels) {
        let spectrum = forward_real_dft(channel, h, w);
        for (bin, &f) in frequencies.iter().enumerate() {
            if f == 0.0 {
                continue; // the mean says nothing about structure
            }
            let (ky, kx) = (bin / fw, bin % fw);
            let re = f64::from(spectrum.get(ky * fw + kx).copied().unwrap_or(0.0));
            let im = f64::from(spectrum.get((h + ky) * fw + kx).copied().unwrap_or(0.0));
            // Columns other than 0 and Nyquist stand for their mirror images too.
            let weight = if kx == 0 || (w % 2 == 0 && kx == w / 2) { 1.0 } else { 2.0 };
            let energy = weight * (re * re + im * im);
            total += energy;
            if f > cutoff {
                high += energy;
            }
        }
    }
    if total == 0.0 { 0.0 } else { (high / total) as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn fv_high_frequency_fraction_separates_noise_from_smooth_images() {
        let n = 32;
        let smooth: Vec<f32> = (0..n * n)
            .map(|i| 0.5 + 0.4 * ((i % n) as f32 * std::f32::consts::TAU / n as f32 * 2.0).sin())
            .collect();
        let smooth = RenderedImage { width: n, height: n, channels: 1, data: smooth };
        assert!(high_frequency_fraction(&smooth, 0.25) < 1e-6);
        let noise = SplitMix64::new(1).normals(n * n, 1.0);
        let noise = RenderedImage { width: n, height: n, channels: 1, data: noise };
        // White noise spreads evenly: the disc of radius 0.25 is about a fifth of the square.
        let fraction = high_frequency_fraction(&noise, 0.25);
        assert!((0.7..0.9).contains(&fraction), "{fraction}");
    }
}
