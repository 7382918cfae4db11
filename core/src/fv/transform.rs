//! Random transformations applied to the image before each step ("transformation
//! robustness"): a visualization must still activate its unit when jittered, scaled and
//! rotated a little, which rules out the brittle high-frequency patterns that exploit exact
//! pixel positions.
//!
//! The host draws each step's offsets, factors and angles from the seeded generator; every
//! transform is an affine map of pixel coordinates, so the whole chain (and the final
//! upsampling to the model's input size) composes into one [`Warp`], resampled once
//! (bilinear, see [`super::resample`]) instead of once per transform.

use crate::rng::SplitMix64;

/// Pixel amounts of the standard transforms are lucid's at this render size.
pub const STANDARD_SIZE_PX: usize = 128;

/// One random transformation.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// Pads each side by this many pixels with constant grey (0.5).
    Pad(usize),
    /// Crops this many pixels off, at a random offset in `0..=px` on each axis.
    Jitter(usize),
    /// Resizes by a factor chosen uniformly from the list.
    Scale(Vec<f32>),
    /// Rotates about the centre by an angle in degrees chosen uniformly from the list.
    Rotate(Vec<f32>),
}

/// lucid's `standard_transforms`: pad 12 (grey), jitter 8, scale 0.90..=1.10 in 11 steps,
/// rotate -10..=10 degrees (0 five times more often), jitter 4.
pub fn standard_transforms() -> Vec<Transform> {
    standard_transforms_for(STANDARD_SIZE_PX)
}

/// [`standard_transforms`] with pixel amounts scaled from 128 px to `size_px` (the same
/// amounts relative to the image, so tiny models' inputs are not swamped by padding).
pub fn standard_transforms_for(size_px: usize) -> Vec<Transform> {
    let px = |amount: usize| {
        let scaled = (amount * size_px + STANDARD_SIZE_PX / 2) / STANDARD_SIZE_PX;
        scaled.max(1)
    };
    let scales = (0..11).map(|i| 1.0 + (i as f32 - 5.0) / 50.0).collect();
    let angles = (-10..=10).map(|a| a as f32).chain([0.0; 5]).collect();
    vec![
        Transform::Pad(px(12)),
        Transform::Jitter(px(8)),
        Transform::Scale(scales),
        Transform::Rotate(angles),
        Transform::Jitter(px(4)),
    ]
}

/// An affine map of pixel coordinates (pixel centres at integers):
/// `(x, y) -> (a x + b y + c, d x + e y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f64; 6]);

impl Affine {
    /// The identity.
    pub const IDENTITY: Self = Self([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);

    /// Where `(x, y)` goes.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + b * y + c, d * x + e * y + f)
    }

    /// `self` after `inner`: `p -> self(inner(p))`.
    pub fn after(&self, inner: &Self) -> Self {
        let [a, b, c, d, e, f] = self.0;
        let [p, q, r, s, t, u] = inner.0;
        Self([
            a * p + b * s,
            a * q + b * t,
            a * r + b * u + c,
            d * p + e * s,
            d * q + e * t,
            d * r + e * u + f,
        ])
    }

    /// Resizing from `from` to `to` pixels per axis (`[height, width]`), half-pixel centres
    /// (PyTorch's `align_corners=False`): maps output coordinates to input coordinates.
    fn resize(from: [usize; 2], to: [usize; 2]) -> Self {
        let sy = from[0] as f64 / to[0].max(1) as f64;
        let sx = from[1] as f64 / to[1].max(1) as f64;
        Self([sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5])
    }
}

/// One step's composed transformation: which source pixel each output pixel samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Warp {
    /// `[height, width]` of the source image.
    pub source: [usize; 2],
    /// `[height, width]` of the output.
    pub output: [usize; 2],
    /// Output pixel coordinates to source pixel coordinates.
    pub map: Affine,
}

impl Warp {
    /// The identity warp of a `size` image.
    pub fn identity(size: [usize; 2]) -> Self {
        Self { source: size, output: size, map: Affine::IDENTITY }
    }

    /// Draws the random choices of `transforms` for a `source` image, then upsamples
    /// (bilinear) any side below `min_side` to it (the model's input size).
    pub fn sample(
        transforms: &[Transform],
        source: [usize; 2],
        min_side: usize,
        rng: &mut SplitMix64,
    ) -> Self {
        let (size, mut map) = Self::draw(transforms, source, rng);
        let upsampled = size.map(|n| n.max(min_side));
        if upsampled != size {
            map = map.after(&Affine::resize(size, upsampled));
        }
        Self { source, output: upsampled, map }
    }

    /// Draws the random choices of `transforms` for a `source` image, then resamples
    /// (bilinear, up or down) to exactly `output` (`[height, width]`): for models that take
    /// only their own input size (a flatten before a fully connected layer).
    pub fn sample_exact(
        transforms: &[Transform],
        source: [usize; 2],
        output: [usize; 2],
        rng: &mut SplitMix64,
    ) -> Self {
        let (size, mut map) = Self::draw(transforms, source, rng);
        let output = output.map(|n| n.max(1));
        if output != size {
            map = map.after(&Affine::resize(size, output));
        }
        Self { source, output, map }
    }

    /// The size after `transforms` and the map from it back to the source.
    fn draw(
        transforms: &[Transform],
        source: [usize; 2],
        rng: &mut SplitMix64,
    ) -> ([usize; 2], Affine) {
        let mut size = source;
        let mut map = Affine::IDENTITY;
        for transform in transforms {
            let (next, stage) = match transform {
                Transform::Pad(px) => {
                    let p = *px as f64;
                    ([size[0] + 2 * px, size[1] + 2 * px], Affine([1.0, 0.0, -p, 0.0, 1.0, -p]))
                }
                Transform::Jitter(px) => {
                    // Never crop an image away entirely.
                    let dy = (*px).min(size[0].saturating_sub(1));
                    let dx = (*px).min(size[1].saturating_sub(1));
                    let oy = rng.below(dy + 1) as f64;
                    let ox = rng.below(dx + 1) as f64;
                    ([size[0] - dy, size[1] - dx], Affine([1.0, 0.0, ox, 0.0, 1.0, oy]))
                }
                Transform::Scale(factors) => {
                    let factor = f64::from(rng.choose(factors).copied().unwrap_or(1.0));
                    let scaled = size.map(|n| ((n as f64 * factor).round() as usize).max(1));
                    (scaled, Affine::resize(size, scaled))
                }
                Transform::Rotate(degrees) => {
                    let angle = f64::from(rng.choose(degrees).copied().unwrap_or(0.0)).to_radians();
                    let (sin, cos) = angle.sin_cos();
                    let cy = (size[0] as f64 - 1.0) / 2.0;
                    let cx = (size[1] as f64 - 1.0) / 2.0;
                    // src = R (out - centre) + centre
                    let rotation = Affine([
                        cos,
                        -sin,
                        cx - cos * cx + sin * cy,
                        sin,
                        cos,
                        cy - sin * cx - cos * cy,
                    ]);
                    (size, rotation)
                }
            };
            map = map.after(&stage);
            size = next;
        }
        (size, map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fv_exact_warps_hit_the_model_size_from_larger_and_smaller_images() {
        let transforms = standard_transforms_for(28);
        for source in [128usize, 28, 16] {
            let mut rng = SplitMix64::new(source as u64);
            for _ in 0..20 {
                let warp = Warp::sample_exact(&transforms, [source; 2], [28, 28], &mut rng);
                assert_eq!(warp.output, [28, 28]);
                let wide = Warp::sample_exact(&transforms, [source; 2], [20, 36], &mut rng);
                assert_eq!(wide.output, [20, 36]);
                assert_eq!(warp.source, [source; 2]);
                // The output's corners map near the (padded) source's corners.
                let (x, _) = warp.map.apply(27.0, 27.0);
                assert!(x > source as f64 * 0.6, "{source}: {x}");
            }
        }
    }

    #[test]
    fn fv_standard_transforms_are_lucids_at_128_px() {
        let t = standard_transforms();
        assert_eq!(t[0], Transform::Pad(12));
        assert_eq!(t[1], Transform::Jitter(8));
        assert_eq!(t[4], Transform::Jitter(4));
        let Transform::Scale(s) = &t[2] else { panic!() };
        assert_eq!(s.len(), 11);
        assert!((s[0] - 0.9).abs() < 1e-6 && (s[10] - 1.1).abs() < 1e-6);
        let Transform::Rotate(r) = &t[3] else { panic!() };
        assert_eq!(r.len(), 26);
        assert_eq!(standard_transforms_for(28)[0], Transform::Pad(3));
    }

    #[test]
    fn fv_warp_composes_pad_jitter_and_upsampling() {
        let mut rng = SplitMix64::new(1);
        // Pad then jitter by 0: output pixel (0, 0) is 2 px outside the source.
        let warp = Warp::sample(&[Transform::Pad(2), Transform::Jitter(0)], [10, 10], 0, &mut rng);
        assert_eq!(warp.output, [14, 14]);
        assert_eq!(warp.map.apply(0.0, 0.0), (-2.0, -2.0));
        // Upsampling 10 -> 20: output centres map onto the source with half-pixel centres.
        let warp = Warp::sample(&[], [10, 10], 20, &mut rng);
        assert_eq!(warp.output, [20, 20]);
        let (x, y) = warp.map.apply(0.0, 19.0);
        assert!((x + 0.25).abs() < 1e-12 && (y - 9.25).abs() < 1e-12);
        // A rotation keeps the centre in place.
        let warp = Warp::sample(&[Transform::Rotate(vec![30.0])], [9, 9], 0, &mut rng);
        let (x, y) = warp.map.apply(4.0, 4.0);
        assert!((x - 4.0).abs() < 1e-12 && (y - 4.0).abs() < 1e-12);
        // The standard chain at 128 px stays close to 128 px before upsampling to 224.
        let warp = Warp::sample(&standard_transforms(), [128, 128], 224, &mut rng);
        assert_eq!(warp.output, [224, 224]);
    }
}
