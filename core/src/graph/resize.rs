//! The coordinate arithmetic of ONNX `Resize`: which input positions and weights make each
//! output position, per axis, computed on the host from sizes alone.
//!
//! Execution gathers those positions with `select` (differentiable on every backend), so
//! every coordinate transform and rounding mode of ONNX is exact rather than approximated by
//! a backend's interpolation kernel.

use super::op::{CoordinateTransform, NearestMode, ResizeMode, ResizeTarget};

/// The affine map `x_in = a * x_out + b` of a transform along an axis of `input` positions
/// resized to `output`, with `scale` the effective scale (the given one, or `out / in`).
pub(crate) fn affine(
    transform: CoordinateTransform,
    input: usize,
    output: usize,
    scale: f64,
) -> (f64, f64) {
    let inv = 1.0 / scale;
    match transform {
        CoordinateTransform::HalfPixel => (inv, 0.5 * inv - 0.5),
        CoordinateTransform::PytorchHalfPixel if output > 1 => (inv, 0.5 * inv - 0.5),
        CoordinateTransform::PytorchHalfPixel => (0.0, 0.0),
        CoordinateTransform::HalfPixelSymmetric => {
            let adjustment = output as f64 / (scale * input as f64);
            let offset = input as f64 / 2.0 * (1.0 - adjustment);
            (inv, offset + 0.5 * inv - 0.5)
        }
        CoordinateTransform::AlignCorners if output > 1 => {
            ((input as f64 - 1.0) / (output as f64 - 1.0), 0.0)
        }
        CoordinateTransform::AlignCorners => (0.0, 0.0),
        CoordinateTransform::Asymmetric => (inv, 0.0),
        CoordinateTransform::TfHalfPixelForNn => (inv, 0.5 * inv),
    }
}

/// The input coordinate of output position `x` along an axis of `input` positions resized to
/// `output` with `scale`, computed as the ONNX specification writes it, in `f32` as
/// ONNX Runtime does (so that ties like `(1 + 0.5) / 0.6 = 2.5` round the same way).
pub(crate) fn source_coordinate(
    transform: CoordinateTransform,
    x: usize,
    input: usize,
    output: usize,
    scale: f64,
) -> f64 {
    let (x, s, i, o) = (x as f32, scale as f32, input as f32, output as f32);
    let c = match transform {
        CoordinateTransform::HalfPixel => (x + 0.5) / s - 0.5,
        CoordinateTransform::PytorchHalfPixel if output > 1 => (x + 0.5) / s - 0.5,
        CoordinateTransform::AlignCorners if output > 1 => x * (i - 1.0) / (o - 1.0),
        CoordinateTransform::PytorchHalfPixel | CoordinateTransform::AlignCorners => 0.0,
        CoordinateTransform::HalfPixelSymmetric => {
            let adjustment = o / (s * i);
            let offset = i / 2.0 * (1.0 - adjustment);
            offset + (x + 0.5) / s - 0.5
        }
        CoordinateTransform::Asymmetric => x / s,
        CoordinateTransform::TfHalfPixelForNn => (x + 0.5) / s,
    };
    f64::from(c)
}

/// The effective scale of each axis of `input` resized to `output` under `target`.
pub(crate) fn scales(target: &ResizeTarget, input: &[usize], output: &[usize]) -> Vec<f64> {
    match target {
        ResizeTarget::Scales(scales) => scales.iter().map(|&s| f64::from(s)).collect(),
        ResizeTarget::Sizes(_) => {
            input.iter().zip(output).map(|(&i, &o)| o as f64 / i.max(1) as f64).collect()
        }
    }
}

/// How one axis is sampled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AxisSampling {
    /// Output position `j` takes input position `indices[j]`.
    Nearest(Vec<i64>),
    /// Output position `j` is `(1 - w[j]) * x[lower[j]] + w[j] * x[upper[j]]`.
    Linear { lower: Vec<i64>, upper: Vec<i64>, weights: Vec<f32> },
}

/// The sampling of an axis of `input` positions resized to `output` with `scale`.
pub(crate) fn sample_axis(
    mode: ResizeMode,
    transform: CoordinateTransform,
    input: usize,
    output: usize,
    scale: f64,
) -> AxisSampling {
    let last = input.saturating_sub(1) as f64;
    let coords = (0..output).map(move |x| source_coordinate(transform, x, input, output, scale));
    match mode {
        ResizeMode::Nearest(rounding) => AxisSampling::Nearest(
            coords
                .map(|c| {
                    let r = match rounding {
                        NearestMode::RoundPreferFloor if c.fract().abs() == 0.5 => c.floor(),
                        NearestMode::RoundPreferCeil if c.fract().abs() == 0.5 => c.ceil(),
                        NearestMode::RoundPreferFloor | NearestMode::RoundPreferCeil => c.round(),
                        NearestMode::Floor => c.floor(),
                        NearestMode::Ceil => c.ceil(),
                    };
                    r.clamp(0.0, last) as i64
                })
                .collect(),
        ),
        ResizeMode::Linear => {
            let mut lower = Vec::with_capacity(output);
            let mut upper = Vec::with_capacity(output);
            let mut weights = Vec::with_capacity(output);
            for c in coords {
                let c = c.clamp(0.0, last);
                let lo = c.floor();
                lower.push(lo as i64);
                upper.push((lo + 1.0).min(last) as i64);
                weights.push((c - lo) as f32);
            }
            AxisSampling::Linear { lower, upper, weights }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_resize_sampling_follows_onnx() {
        let nearest = |t, m, i, o, s| match sample_axis(ResizeMode::Nearest(m), t, i, o, s) {
            AxisSampling::Nearest(idx) => idx,
            AxisSampling::Linear { .. } => unreachable!(),
        };
        // Integer upsampling: every nearest variant repeats each position.
        assert_eq!(
            nearest(CoordinateTransform::Asymmetric, NearestMode::Floor, 3, 6, 2.0),
            [0, 0, 1, 1, 2, 2]
        );
        assert_eq!(
            nearest(CoordinateTransform::HalfPixel, NearestMode::RoundPreferFloor, 3, 6, 2.0),
            [0, 0, 1, 1, 2, 2]
        );
        // Downsampling by 2 with half-pixel: x_in = 2x + 0.5, rounds half down.
        assert_eq!(
            nearest(CoordinateTransform::HalfPixel, NearestMode::RoundPreferFloor, 4, 2, 0.5),
            [0, 2]
        );
        assert_eq!(
            nearest(CoordinateTransform::HalfPixel, NearestMode::RoundPreferCeil, 4, 2, 0.5),
            [1, 3]
        );
        match sample_axis(ResizeMode::Linear, CoordinateTransform::HalfPixel, 2, 4, 2.0) {
            AxisSampling::Linear { lower, upper, weights } => {
                // x_in = (x + 0.5) / 2 - 0.5 = [-0.25, 0.25, 0.75, 1.25], clamped to [0, 1].
                assert_eq!(lower, [0, 0, 0, 1]);
                assert_eq!(upper, [1, 1, 1, 1]);
                assert_eq!(weights, [0.0, 0.25, 0.75, 0.0]);
            }
            AxisSampling::Nearest(_) => unreachable!(),
        }
        assert_eq!(affine(CoordinateTransform::AlignCorners, 3, 5, 5.0 / 3.0), (0.5, 0.0));
    }
}
