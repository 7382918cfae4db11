//! The extension against burn's `clamp` on flex: values and gradients, bounds and NaN included
//! (the gradient is 0 for inputs exactly on a bound, PyTorch's rule, where burn's passes).

use burn::prelude::*;
use burn::tensor::Distribution;

use super::{FlexClip, clip};

#[test]
fn clip_matches_burn_clamp_values_and_gradients() {
    let device = Device::flex();
    assert!(FlexClip::applies(&device, 0.0, 6.0));
    assert!(FlexClip::applies(&device.clone().autodiff(), 0.0, 6.0));
    // Large enough for several parallel chunks, the last one short; values on both bounds
    // exactly, and a NaN; a transposed (strided) view.
    let n = 7 * 7100;
    let mut values: Vec<f32> = Tensor::<1>::random([n], Distribution::Uniform(-3.0, 9.0), &device)
        .to_data()
        .try_to_vec::<f32>()
        .unwrap();
    values[0] = 0.0;
    values[1] = 6.0;
    values[2] = f32::NAN;
    let x0 = Tensor::<2>::from_data(TensorData::new(values, [7, n / 7]), &device).transpose();
    let mix = Tensor::<2>::random(x0.dims(), Distribution::Default, &device);

    let same = |a: Tensor<2>, b: Tensor<2>| {
        let a: Vec<f32> = a.to_data().try_to_vec::<f32>().unwrap();
        let b: Vec<f32> = b.to_data().try_to_vec::<f32>().unwrap();
        assert_eq!(a.len(), b.len());
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            assert!(a == b || (a.is_nan() && b.is_nan()), "element {i}: {a} vs {b}");
        }
    };
    // Shared input (a copy) and an input of its own (in place).
    same(clip(x0.clone(), 0.0, 6.0), x0.clone().clamp(0.0, 6.0));
    same(clip(x0.clone() * 1.0, 0.0, 6.0), x0.clone().clamp(0.0, 6.0));

    let run = |ours: bool| {
        let x = x0.clone().autodiff().require_grad();
        // A fresh tensor (the product), as a convolution's output: clipped in place.
        let y = if ours { clip(x.clone() * 1.0, 0.0, 6.0) } else { x.clone().clamp(0.0, 6.0) };
        let grads = (y.clone() * mix.clone().autodiff()).sum().backward();
        (y.inner(), x.grad(&grads).unwrap())
    };
    let (y_want, g_want) = run(false);
    let (y_got, g_got) = run(true);
    same(y_got, y_want);
    let on_bound = x0.clone().equal_elem(0.0).bool_or(x0.clone().equal_elem(6.0));
    assert_eq!(on_bound.clone().int().sum().into_scalar::<i64>(), 2);
    same(g_got, g_want.mask_fill(on_bound, 0.0));
}

#[test]
fn clip_path_needs_finite_ordered_bounds() {
    let flex = Device::flex();
    assert!(!FlexClip::applies(&flex, 0.0, f32::INFINITY));
    assert!(!FlexClip::applies(&flex, f32::NEG_INFINITY, 6.0));
    assert!(!FlexClip::applies(&flex, 6.0, 0.0));
}
