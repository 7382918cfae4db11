//! Decorrelated colour: the optimiser works in a colour space whose axes are uncorrelated
//! over natural images, and a fixed linear map takes it to RGB.
//!
//! Optimising RGB directly lets the three channels drift apart independently, which shows up
//! as saturated high-frequency colour noise; in the decorrelated space a step changes
//! luminance and the two opponent colour axes separately, as natural images do (lucid's
//! `_linear_decorrelate_color`).

use burn::prelude::*;

/// Square root of the colour correlation of ImageNet (lucid's `color_correlation_svd_sqrt`):
/// row `i` gives how much of each decorrelated component goes into RGB channel `i`.
pub const COLOR_CORRELATION_SVD_SQRT: [[f32; 3]; 3] =
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]];

/// [`COLOR_CORRELATION_SVD_SQRT`] divided by its largest column norm, so that no
/// decorrelated unit step moves RGB by more than one unit step.
pub fn color_correlation_normalized() -> [[f32; 3]; 3] {
    let m = COLOR_CORRELATION_SVD_SQRT;
    let column_norm = |j: usize| m.iter().map(|row| row[j] * row[j]).sum::<f32>().sqrt();
    let max_norm = (0..3).map(column_norm).fold(0.0f32, f32::max);
    m.map(|row| row.map(|v| v / max_norm))
}

/// The inverse of [`color_correlation_normalized`] (to start from a photograph).
pub fn color_correlation_inverse() -> [[f32; 3]; 3] {
    let [[a, b, c], [d, e, f], [g, h, i]] =
        color_correlation_normalized().map(|row| row.map(f64::from));
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    // The adjugate (transposed cofactors) over the determinant.
    [
        [e * i - f * h, c * h - b * i, b * f - c * e],
        [f * g - d * i, a * i - c * g, c * d - a * f],
        [d * h - e * g, b * g - a * h, a * e - b * d],
    ]
    .map(|row| row.map(|v| (v / det) as f32))
}

/// Maps decorrelated colour to RGB (before the sigmoid).
///
/// A broadcast product and a sum rather than a matrix product: a 3x3 map gains nothing from a
/// matmul kernel, and this way the colour map runs on every backend whose elementwise kernels
/// work (software Vulkan adapters included, whose matmul pipelines do not build).
///
/// # Shapes
/// - `image`: `[N, 3, H, W]`
/// - returns: `[N, 3, H, W]`
pub fn decorrelated_to_rgb(image: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = image.dims();
    let matrix = color_correlation_normalized();
    let flat: Vec<f32> = matrix.iter().flatten().copied().collect();
    // [1, RGB, decorrelated, 1] * [N, 1, decorrelated, H W], summed over the decorrelated axis.
    let matrix = Tensor::<1>::from_floats(flat.as_slice(), &image.device()).reshape([1, 3, 3, 1]);
    let pixels = image.reshape([n, 1, c, h * w]);
    (matrix * pixels).sum_dim(2).reshape([n, c, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fv_color_matrix_is_normalised_and_invertible() {
        let m = color_correlation_normalized();
        let norms: Vec<f32> =
            (0..3).map(|j| m.iter().map(|row| row[j] * row[j]).sum::<f32>().sqrt()).collect();
        assert!((norms[0] - 1.0).abs() < 1e-6, "{norms:?}");
        assert!(norms.iter().all(|&n| n <= 1.0 + 1e-6));
        let inv = color_correlation_inverse();
        for (i, row) in m.iter().enumerate() {
            for j in 0..3 {
                let product: f32 = row.iter().zip(&inv).map(|(a, inv_row)| a * inv_row[j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((product - want).abs() < 1e-4, "{i} {j} {product}");
            }
        }
    }

    #[test]
    fn fv_decorrelated_to_rgb_applies_the_matrix_per_pixel() {
        let device = Device::flex();
        let values = vec![1.0f32, 0.0, 0.5, -1.0, 2.0, 0.25];
        let image = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, 3, 1, 2]), &device);
        let out: Vec<f32> = decorrelated_to_rgb(image).into_data().try_to_vec::<f32>().unwrap();
        let m = color_correlation_normalized();
        for pixel in 0..2 {
            for (row, channel) in m.iter().zip(0..3) {
                let want: f32 = (0..3).map(|k| row[k] * values[k * 2 + pixel]).sum();
                assert!((out[channel * 2 + pixel] - want).abs() < 1e-6);
            }
        }
    }
}
