//! Bilinear resampling of a batch of images through a [`Warp`], differentiable with respect to
//! the images, with a constant fill outside them.
//!
//! The warp is known on the host, so the four source taps and weights of every output pixel
//! are computed there, shared by the whole batch, and applied with one `select` (a gather,
//! whose backward pass is a scatter-add) on every backend. Outside pixels point at one extra
//! fill pixel appended to each image, which implements lucid's constant-grey padding exactly.

use burn::prelude::*;

use super::transform::Warp;

/// The four bilinear taps of every output pixel: indices into the flattened source image
/// (`height * width` means the fill pixel) and their weights, tap-minor.
#[derive(Debug, Clone, PartialEq)]
pub struct Taps {
    /// `4 * output pixels` indices.
    pub indices: Vec<i32>,
    /// `4 * output pixels` weights; each group of four sums to 1.
    pub weights: Vec<f32>,
}

impl Taps {
    /// The taps of `warp`.
    pub fn of(warp: &Warp) -> Self {
        let [sh, sw] = warp.source;
        let [oh, ow] = warp.output;
        let fill = (sh * sw) as i32;
        let index = |x: i64, y: i64| {
            if x < 0 || y < 0 || x >= sw as i64 || y >= sh as i64 {
                fill
            } else {
                (y * sw as i64 + x) as i32
            }
        };
        let mut indices = Vec::with_capacity(4 * oh * ow);
        let mut weights = Vec::with_capacity(4 * oh * ow);
        for row in 0..oh {
            for col in 0..ow {
                let (x, y) = warp.map.apply(col as f64, row as f64);
                let (x0, y0) = (x.floor(), y.floor());
                let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
                let (x0, y0) = (x0 as i64, y0 as i64);
                indices.extend([
                    index(x0, y0),
                    index(x0 + 1, y0),
                    index(x0, y0 + 1),
                    index(x0 + 1, y0 + 1),
                ]);
                weights.extend([
                    (1.0 - fx) * (1.0 - fy),
                    fx * (1.0 - fy),
                    (1.0 - fx) * fy,
                    fx * fy,
                ]);
            }
        }
        Self { indices, weights }
    }
}

/// Samples `images` through `warp`; pixels outside the source take the value `fill`.
///
/// # Shapes
/// - `images`: `[N, C, H, W]` with `[H, W] == warp.source`
/// - returns: `[N, C, H', W']` with `[H', W'] == warp.output`
pub fn resample(images: Tensor<4>, warp: &Warp, fill: f32) -> Tensor<4> {
    if warp.source == warp.output && warp.map == super::transform::Affine::IDENTITY {
        return images;
    }
    let [n, c, h, w] = images.dims();
    let [oh, ow] = warp.output;
    let device = images.device();
    let taps = Taps::of(warp);
    let count = taps.indices.len();
    let indices = Tensor::<1, Int>::from_data(TensorData::new(taps.indices, [count]), &device);
    let weights = Tensor::<3>::from_data(TensorData::new(taps.weights, [1, oh * ow, 4]), &device);
    let flat = images.reshape([n * c, h * w]);
    let padded = Tensor::cat(vec![flat, Tensor::full([n * c, 1], fill, &device)], 1); // [NC, HW + 1]
    let gathered = padded.select(1, indices).reshape([n * c, oh * ow, 4]);
    (gathered * weights).sum_dim(2).reshape([n, c, oh, ow])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fv::transform::{Affine, Transform};
    use crate::rng::SplitMix64;

    #[test]
    fn fv_resample_matches_bilinear_sampling_on_the_host() {
        let device = Device::flex();
        let mut rng = SplitMix64::new(11);
        let (h, w) = (6usize, 7usize);
        let image = rng.normals(2 * h * w, 1.0);
        let transforms = [
            Transform::Pad(2),
            Transform::Jitter(2),
            Transform::Scale(vec![1.3]),
            Transform::Rotate(vec![17.0]),
        ];
        let warp = Warp::sample(&transforms, [h, w], 12, &mut rng);
        let tensor = Tensor::<4>::from_data(TensorData::new(image.clone(), [1, 2, h, w]), &device);
        let out: Vec<f32> = resample(tensor, &warp, 0.5).into_data().try_to_vec::<f32>().unwrap();
        let [oh, ow] = warp.output;
        let at = |ch: usize, x: i64, y: i64| {
            if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
                0.5
            } else {
                image[ch * h * w + y as usize * w + x as usize]
            }
        };
        for ch in 0..2 {
            for row in 0..oh {
                for col in 0..ow {
                    let (x, y) = warp.map.apply(col as f64, row as f64);
                    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
                    let (fx, fy) = ((x - x.floor()) as f32, (y - y.floor()) as f32);
                    let want = at(ch, x0, y0) * (1.0 - fx) * (1.0 - fy)
                        + at(ch, x0 + 1, y0) * fx * (1.0 - fy)
                        + at(ch, x0, y0 + 1) * (1.0 - fx) * fy
                        + at(ch, x0 + 1, y0 + 1) * fx * fy;
                    let got = out[ch * oh * ow + row * ow + col];
                    assert!((got - want).abs() < 1e-5, "{ch} {row} {col}: {got} vs {want}");
                }
            }
        }
        // Identity is a no-op; a shift by whole pixels moves pixels exactly.
        let warp =
            Warp { source: [h, w], output: [h, w], map: Affine([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]) };
        let tensor = Tensor::<4>::from_data(TensorData::new(image.clone(), [2, 1, h, w]), &device);
        let out: Vec<f32> = resample(tensor, &warp, 0.5).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(out[0], image[1]);
        assert_eq!(out[w - 1], 0.5);
    }

    #[test]
    fn fv_resample_is_differentiable() {
        let device = Device::flex();
        let image = Tensor::<4>::ones([1, 1, 4, 4], &device).autodiff().require_grad();
        let warp = Warp::sample(&[Transform::Pad(1)], [4, 4], 8, &mut SplitMix64::new(0));
        let grads = resample(image.clone(), &warp, 0.5).sum().backward();
        let grad: Vec<f32> = image.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(grad.len(), 16);
        // Each output pixel's weights sum to one, so the inside pixels share 8x8 minus what
        // fell on the padding.
        let total: f32 = grad.iter().sum();
        assert!(total > 10.0 && total < 64.0, "{total}");
        assert!(grad.iter().all(|g| *g > 0.0));
    }
}
