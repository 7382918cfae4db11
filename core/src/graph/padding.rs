//! Spatial padding of convolutions and pools: explicit `(begin, end)` amounts, or ONNX
//! `auto_pad` (`SAME_UPPER`, which is TensorFlow's SAME, `SAME_LOWER`, `VALID`) computed from
//! the actual input size at every call, so any input size works.

/// How a convolution or pool pads its two spatial axes (height, then width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding2d {
    /// Fixed `(begin, end)` padding per axis, `[(top, bottom), (left, right)]`.
    Explicit([(usize, usize); 2]),
    /// Enough padding that the output has `ceil(input / stride)` positions, with an odd extra
    /// pixel at the end (bottom/right): ONNX `SAME_UPPER`, TensorFlow `SAME`.
    SameUpper,
    /// As [`Padding2d::SameUpper`] but with the odd extra pixel at the beginning (top/left).
    SameLower,
    /// No padding (ONNX `VALID`).
    Valid,
}

impl Padding2d {
    /// The `(begin, end)` padding of each spatial axis for an input of `input` = `[H, W]`
    /// positions and a window of `kernel` taps with `stride` and `dilation`.
    pub fn resolve(
        &self,
        input: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
    ) -> [(usize, usize); 2] {
        let same = |upper: bool| {
            [0, 1].map(|a| {
                let extent = effective_kernel(kernel[a], dilation[a]);
                same_padding(input[a], extent, stride[a], upper)
            })
        };
        match self {
            Padding2d::Explicit(pads) => *pads,
            Padding2d::Valid => [(0, 0); 2],
            Padding2d::SameUpper => same(true),
            Padding2d::SameLower => same(false),
        }
    }
}

/// The span of a dilated window: `(kernel - 1) * dilation + 1` (zero kernels and dilations
/// count as 1).
pub fn effective_kernel(kernel: usize, dilation: usize) -> usize {
    kernel.max(1).saturating_sub(1).saturating_mul(dilation.max(1)).saturating_add(1)
}

/// Padding `(begin, end)` of a SAME window of span `extent` along one axis of `input`
/// positions: the output has `ceil(input / stride)` positions, and
/// `total = max((out - 1) * stride + extent - input, 0)` is split in half, the odd extra pixel
/// going to the end when `upper` (`SAME_UPPER`) and to the beginning otherwise. A zero
/// `stride` is treated as 1.
pub fn same_padding(input: usize, extent: usize, stride: usize, upper: bool) -> (usize, usize) {
    let stride = stride.max(1);
    let out = input.div_ceil(stride);
    let covered = out.saturating_sub(1).saturating_mul(stride).saturating_add(extent);
    let total = covered.saturating_sub(input);
    let small = total / 2;
    if upper { (small, total - small) } else { (total - small, small) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_same_padding_matches_tensorflow_and_onnx() {
        // TensorFlow SAME (= SAME_UPPER): odd extra after.
        assert_eq!(same_padding(224, 3, 2, true), (0, 1));
        assert_eq!(same_padding(56, 5, 2, true), (1, 2));
        assert_eq!(same_padding(15, 5, 2, true), (2, 2));
        assert_eq!(same_padding(7, 3, 1, true), (1, 1));
        assert_eq!(same_padding(9, 1, 2, true), (0, 0));
        // The sizes the EfficientNet-Lite organisms meet. Lite0 at 224 (even sizes, stride 2):
        // the odd extra after. Lite1 at 240 and Lite2 at 260 reach odd sizes, where stride-2
        // padding is symmetric.
        for (input, kernel, stride, pads) in [
            (224, 3, 1, (1, 1)),
            (112, 3, 2, (0, 1)),
            (28, 3, 2, (0, 1)),
            (14, 5, 2, (1, 2)),
            (240, 3, 2, (0, 1)),
            (30, 3, 2, (0, 1)),
            (15, 5, 2, (2, 2)),
            (130, 3, 2, (0, 1)),
            (65, 5, 2, (2, 2)),
            (65, 3, 2, (1, 1)),
            (33, 3, 2, (1, 1)),
            (17, 5, 2, (2, 2)),
            (14, 1, 1, (0, 0)),
            (1, 5, 2, (2, 2)),
            (1, 3, 1, (1, 1)),
        ] {
            assert_eq!(
                same_padding(input, kernel, stride, true),
                pads,
                "{input} k{kernel} s{stride}"
            );
        }
        // A zero stride counts as 1.
        assert_eq!(same_padding(7, 3, 0, true), (1, 1));
        // SAME_LOWER puts it before.
        assert_eq!(same_padding(56, 5, 2, false), (2, 1));
        // Dilation widens the window: k3 d2 spans 5.
        let p = Padding2d::SameUpper.resolve([10, 11], [3, 3], [1, 2], [2, 1]);
        assert_eq!(p, [(2, 2), (1, 1)]);
        assert_eq!(Padding2d::Valid.resolve([5, 5], [3, 3], [1, 1], [1, 1]), [(0, 0); 2]);
        assert_eq!(effective_kernel(3, 2), 5);
        assert_eq!(effective_kernel(1, 7), 1);
    }
}
