//! Bilinear resampling of a batch of images through a [`Warp`], differentiable with respect to
//! the images, with a constant fill outside them.
//!
//! The warp is known on the host, so the four source taps and weights of every output pixel
//! are computed there, shared by the whole batch, and applied with `select` (a gather, whose
//! backward pass is a scatter-add) on every backend. Outside pixels point at one extra fill
//! pixel appended to each image, which implements lucid's constant-grey padding exactly.
//!
//! The taps go to `select` at most [`MAX_SELECT_INDICES`] at a time: on burn's GPU backends
//! the scatter-add walks its index list in one loop per image plane, and Mesa's software
//! Vulkan (lavapipe, llvmpipe underneath) ends every shader loop after 65,535 iterations, so a
//! longer list (4 taps x 224 x 224 pixels is 200,704) silently loses most of the gradient.

use burn::prelude::*;

use super::transform::Warp;

/// The most indices one `select` is given. A `select`'s backward pass on burn's GPU backends
/// loops over its indices in one shader loop, which Mesa's lavapipe stops after 65,535
/// iterations (llvmpipe's loop limit); longer tap lists are gathered in pieces of this size.
pub const MAX_SELECT_INDICES: usize = 65_535;

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
    let weights = Tensor::<3>::from_data(TensorData::new(taps.weights, [1, oh * ow, 4]), &device);
    let flat = images.reshape([n * c, h * w]);
    let padded = Tensor::cat(vec![flat, Tensor::full([n * c, 1], fill, &device)], 1); // [NC, HW + 1]
    let pieces: Vec<Tensor<2>> = taps
        .indices
        .chunks(MAX_SELECT_INDICES)
        .map(|chunk| {
            let indices = Tensor::<1, Int>::from_data(
                TensorData::new(chunk.to_vec(), [chunk.len()]),
                &device,
            );
            padded.clone().select(1, indices)
        })
        .collect();
    let gathered = match <[Tensor<2>; 1]>::try_from(pieces) {
        Ok([whole]) => whole,
        Err(pieces) if pieces.is_empty() => padded.select(
            1,
            Tensor::<1, Int>::from_data(TensorData::new(Vec::<i32>::new(), [0]), &device),
        ),
        Err(pieces) => Tensor::cat(pieces, 1),
    };
    let gathered = gathered.reshape([n * c, oh * ow, 4]);
    (gathered * weights).sum_dim(2).reshape([n, c, oh, ow])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fv::transform::{Affine, Transform};
    use crate::rng::SplitMix64;

    #[test]
    fn fv_resample_matches_bilinear_sampling_on_the_host() {
        // 12 px: one select; 160 px: 102,400 taps, gathered in two pieces.
        for min_side in [12, 160] {
            matches_the_host(min_side);
        }
        // Identity is a no-op; a shift by whole pixels moves pixels exactly.
        let device = Device::flex();
        let (h, w) = (6usize, 7usize);
        let image = SplitMix64::new(11).normals(2 * h * w, 1.0);
        let warp =
            Warp { source: [h, w], output: [h, w], map: Affine([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]) };
        let tensor = Tensor::<4>::from_data(TensorData::new(image.clone(), [2, 1, h, w]), &device);
        let out: Vec<f32> = resample(tensor, &warp, 0.5).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(out[0], image[1]);
        assert_eq!(out[w - 1], 0.5);
    }

    fn matches_the_host(min_side: usize) {
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
        let warp = Warp::sample(&transforms, [h, w], min_side, &mut rng);
        let tensor = Tensor::<4>::from_data(TensorData::new(image.clone(), [1, 2, h, w]), &device);
        let out: Vec<f32> = resample(tensor, &warp, 0.5).into_data().try_to_vec::<f32>().unwrap();
        let [oh, ow] = warp.output;
        assert_eq!(oh.min(ow), min_side);
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
    }

    #[test]
    fn fv_resample_is_differentiable() {
        let device = Device::flex();
        // 8 px: one select; 160 px: 102,400 taps in two pieces, whose scatter-adds must sum.
        for min_side in [8, 160] {
            let image = Tensor::<4>::ones([1, 1, 4, 4], &device).autodiff().require_grad();
            let warp =
                Warp::sample(&[Transform::Pad(1)], [4, 4], min_side, &mut SplitMix64::new(0));
            let grads = resample(image.clone(), &warp, 0.5).sum().backward();
            let grad: Vec<f32> =
                image.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
            // The gradient of a sum: each source pixel collects the weights of its taps.
            let taps = Taps::of(&warp);
            let mut want = [0.0f32; 16];
            for (&index, &weight) in taps.indices.iter().zip(&taps.weights) {
                if let Some(slot) = want.get_mut(index as usize) {
                    *slot += weight;
                }
            }
            for (g, w) in grad.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                    "{min_side}: {grad:?} vs {want:?}"
                );
            }
            assert!(grad.iter().all(|g| *g > 0.0));
        }
    }
}
