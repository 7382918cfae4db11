//! TensorFlow "SAME" padding, which every convolution of EfficientNet-Lite uses.
//!
//! The output of a SAME convolution has `ceil(input / stride)` positions; the padding needed
//! for that is split with the smaller half before and the larger half after. It depends on the
//! input size (not only on the kernel and stride), so the network computes it from the actual
//! input at forward time: feature visualization may feed sizes other than the model's own.

/// Number of output positions of a SAME convolution along one axis: `ceil(input / stride)`.
///
/// A zero `stride` is treated as 1.
pub fn same_output_size(input: usize, stride: usize) -> usize {
    input.div_ceil(stride.max(1))
}

/// Padding `(before, after)` of a SAME convolution along one axis.
///
/// `total = max((ceil(input / stride) - 1) * stride + kernel - input, 0)`,
/// `before = total / 2`, `after = total - before`: an odd extra row or column goes after
/// (bottom or right). A zero `stride` is treated as 1.
pub fn same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let stride = stride.max(1);
    let out = same_output_size(input, stride);
    let covered = out.saturating_sub(1) * stride + kernel;
    let total = covered.saturating_sub(input);
    let before = total / 2;
    (before, total - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_same_padding_matches_tensorflow() {
        // Stride 1: symmetric, (k-1)/2 on each side, at any size.
        assert_eq!(same_padding(224, 3, 1), (1, 1));
        assert_eq!(same_padding(7, 5, 1), (2, 2));
        assert_eq!(same_padding(14, 1, 1), (0, 0));
        // Stride 2 on even sizes: the odd extra goes bottom/right (lite0 at 224).
        assert_eq!(same_padding(224, 3, 2), (0, 1));
        assert_eq!(same_padding(112, 3, 2), (0, 1));
        assert_eq!(same_padding(56, 5, 2), (1, 2));
        assert_eq!(same_padding(28, 3, 2), (0, 1));
        assert_eq!(same_padding(14, 5, 2), (1, 2));
        // Odd sizes give symmetric stride-2 padding (lite1 at 240: 15 -> 8 with k5; lite2 at
        // 260: 65 -> 33 with k5, 33 -> 17 with k3, 17 -> 9 with k5).
        assert_eq!(same_padding(15, 5, 2), (2, 2));
        assert_eq!(same_padding(65, 5, 2), (2, 2));
        assert_eq!(same_padding(33, 3, 2), (1, 1));
        assert_eq!(same_padding(65, 3, 2), (1, 1));
        // lite1 240: 240 -> 120 -> 60 -> 30 -> 15 -> 8; lite2 260: 130 -> 65 -> 33 -> 17 -> 9.
        assert_eq!(same_padding(240, 3, 2), (0, 1));
        assert_eq!(same_padding(30, 3, 2), (0, 1));
        assert_eq!(same_padding(130, 3, 2), (0, 1));
        assert_eq!(same_padding(17, 5, 2), (2, 2));
        // Kernel smaller than stride needs no padding.
        assert_eq!(same_padding(9, 1, 2), (0, 0));
        // Tiny inputs.
        assert_eq!(same_padding(1, 5, 2), (2, 2));
        assert_eq!(same_padding(1, 3, 1), (1, 1));
    }

    #[test]
    fn model_same_output_size_is_ceil() {
        assert_eq!(same_output_size(224, 2), 112);
        assert_eq!(same_output_size(15, 2), 8);
        assert_eq!(same_output_size(65, 2), 33);
        assert_eq!(same_output_size(7, 1), 7);
        assert_eq!(same_output_size(7, 0), 7);
    }
}
