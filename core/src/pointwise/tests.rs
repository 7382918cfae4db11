//! The pointwise path against burn's generic `conv2d` on flex: values and the gradients of
//! input, weight and bias, with and without a bias, over batches and odd sizes.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use super::{FlexPointwise, pointwise_conv2d};

/// Largest absolute difference between two tensors, relative to the larger's largest value.
fn relative_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let scale = a.clone().abs().max().into_scalar::<f32>().max(1e-6);
    (a - b).abs().max().into_scalar::<f32>() / scale
}

fn check(input: [usize; 4], c_out: usize, with_bias: bool) {
    let device = Device::flex();
    let [_, c_in, _, _] = input;
    let x0 = Tensor::<4>::random(input, Distribution::Normal(0.0, 1.0), &device);
    let w0 = Tensor::<4>::random([c_out, c_in, 1, 1], Distribution::Normal(0.0, 1.0), &device);
    let b0 = Tensor::<1>::random([c_out], Distribution::Normal(0.0, 1.0), &device);
    let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let auto = device.clone().autodiff();
    for d in [&device, &auto] {
        assert!(FlexPointwise::applies(d, &w0.dims(), 1, [1, 1], [(0, 0); 2]));
    }

    let bias = with_bias.then(|| b0.clone());
    let want = conv2d(x0.clone(), w0.clone(), bias.clone(), options.clone());
    let got = pointwise_conv2d(x0.clone(), w0.clone(), bias);
    assert!(relative_diff(want.clone(), got) < 1e-5, "forward");

    // With autodiff: an objective that weighs every output differently, every input tracked.
    let mix = Tensor::<4>::random(want.dims(), Distribution::Default, &device);
    let run = |ours: bool| {
        let x = x0.clone().autodiff().require_grad();
        let w = w0.clone().autodiff().require_grad();
        let b = b0.clone().autodiff().require_grad();
        let bias = with_bias.then(|| b.clone());
        let y = if ours {
            pointwise_conv2d(x.clone(), w.clone(), bias)
        } else {
            conv2d(x.clone(), w.clone(), bias, options.clone())
        };
        let grads = (y.clone() * mix.clone().autodiff()).sum().backward();
        let gb = with_bias.then(|| b.grad(&grads)).flatten();
        (y.inner(), x.grad(&grads), w.grad(&grads), gb)
    };
    let (y_want, gx_want, gw_want, gb_want) = run(false);
    let (y_got, gx_got, gw_got, gb_got) = run(true);
    assert!(relative_diff(y_want, y_got) < 1e-5, "forward under autodiff");
    let (Some(gx_want), Some(gx_got)) = (gx_want, gx_got) else {
        panic!("no input gradient");
    };
    assert!(relative_diff(gx_want, gx_got) < 1e-5, "input gradient");
    let (Some(gw_want), Some(gw_got)) = (gw_want, gw_got) else {
        panic!("no weight gradient");
    };
    assert!(relative_diff(gw_want, gw_got) < 1e-5, "weight gradient");
    match (gb_want, gb_got) {
        (Some(want), Some(got)) => assert!(relative_diff(want, got) < 1e-5, "bias gradient"),
        (None, None) => assert!(!with_bias),
        _ => panic!("bias gradient on one side only"),
    }
}

#[test]
fn pointwise_matches_burn_conv2d_values_and_gradients() {
    check([1, 16, 7, 9], 96, true);
    check([3, 24, 5, 11], 8, true);
    check([4, 5, 3, 3], 7, false);
    check([2, 1, 6, 4], 1, true);
}

#[test]
fn pointwise_input_gradient_without_weight_gradient() {
    // The feature-visualization case: constant weights, only the input tracked.
    let device = Device::flex();
    let x0 = Tensor::<4>::random([2, 6, 5, 4], Distribution::Normal(0.0, 1.0), &device);
    let w0 = Tensor::<4>::random([3, 6, 1, 1], Distribution::Normal(0.0, 1.0), &device);
    let b0 = Tensor::<1>::random([3], Distribution::Normal(0.0, 1.0), &device);
    let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let grad = |ours: bool| {
        let x = x0.clone().autodiff().require_grad();
        let (w, b) = (w0.clone().autodiff(), b0.clone().autodiff());
        let y = if ours {
            pointwise_conv2d(x.clone(), w, Some(b))
        } else {
            conv2d(x.clone(), w, Some(b), options.clone())
        };
        let grads = (y.clone() * y).sum().backward();
        x.grad(&grads).expect("an input gradient")
    };
    assert!(relative_diff(grad(false), grad(true)) < 1e-5);
}

#[test]
fn pointwise_path_needs_a_plain_1x1_window() {
    let flex = Device::flex();
    let pads = [(0, 0); 2];
    assert!(FlexPointwise::applies(&flex, &[8, 4, 1, 1], 1, [1, 1], pads));
    assert!(!FlexPointwise::applies(&flex, &[8, 4, 3, 3], 1, [1, 1], pads));
    assert!(!FlexPointwise::applies(&flex, &[8, 2, 1, 1], 2, [1, 1], pads));
    assert!(!FlexPointwise::applies(&flex, &[8, 4, 1, 1], 1, [2, 2], pads));
    assert!(!FlexPointwise::applies(&flex, &[8, 4, 1, 1], 1, [1, 1], [(1, 1), (0, 0)]));
}
