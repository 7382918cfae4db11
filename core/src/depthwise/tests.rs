//! The extension against burn's generic `conv2d` on flex: values and the gradients of input,
//! weight and bias, over strides, kernels, odd sizes, asymmetric padding and batches.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use super::{FlexDepthwise, depthwise_conv2d};

/// Largest absolute difference between two tensors, relative to the larger's largest value.
fn relative_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
    let scale = a.clone().abs().max().into_scalar::<f32>().max(1e-6);
    (a - b).abs().max().into_scalar::<f32>() / scale
}

/// One case: `[N, C, H, W]` input, `k`x`k` kernel, stride, `(begin, end)` padding per axis,
/// dilation.
struct Case {
    input: [usize; 4],
    kernel: usize,
    stride: usize,
    padding: [(usize, usize); 2],
    dilation: usize,
}

fn check(case: &Case, with_bias: bool, track_weights: bool) {
    let device = Device::flex();
    let [_, c, _, _] = case.input;
    let k = case.kernel;
    let x0 = Tensor::<4>::random(case.input, Distribution::Normal(0.0, 1.0), &device);
    let w0 = Tensor::<4>::random([c, 1, k, k], Distribution::Normal(0.0, 1.0), &device);
    let b0 = Tensor::<1>::random([c], Distribution::Normal(0.0, 1.0), &device);
    let options = ConvOptions {
        stride: [case.stride; 2],
        padding: case.padding,
        dilation: [case.dilation; 2],
        groups: c,
    };
    assert!(FlexDepthwise::applies(&device, &w0.dims(), c));
    assert!(FlexDepthwise::applies(&device.clone().autodiff(), &w0.dims(), c));

    // Without autodiff.
    let bias = with_bias.then(|| b0.clone());
    let want = conv2d(x0.clone(), w0.clone(), bias.clone(), options.clone());
    let got = depthwise_conv2d(x0.clone(), w0.clone(), bias, options.clone());
    assert_eq!(got.dims(), want.dims());
    let mix = Tensor::<4>::random(want.dims(), Distribution::Default, &device);
    assert!(relative_diff(want, got) < 1e-5, "forward");

    // With autodiff: an objective that weighs every output differently.
    let run = |ours: bool| {
        let x = x0.clone().autodiff().require_grad();
        let mut w = w0.clone().autodiff();
        let mut b = b0.clone().autodiff();
        if track_weights {
            w = w.require_grad();
            b = b.require_grad();
        }
        let bias = with_bias.then(|| b.clone());
        let y = if ours {
            depthwise_conv2d(x.clone(), w.clone(), bias, options.clone())
        } else {
            conv2d(x.clone(), w.clone(), bias, options.clone())
        };
        let grads = (y.clone() * y.clone() + y.clone() * mix.clone().autodiff()).sum().backward();
        let gx = x.grad(&grads).expect("input gradient");
        let gw = track_weights.then(|| w.grad(&grads).expect("weight gradient"));
        let gb = (track_weights && with_bias).then(|| b.grad(&grads).expect("bias gradient"));
        (y.inner(), gx, gw, gb)
    };
    let (y_want, gx_want, gw_want, gb_want) = run(false);
    let (y_got, gx_got, gw_got, gb_got) = run(true);
    assert!(relative_diff(y_want, y_got) < 1e-5, "autodiff forward");
    assert_eq!(gx_got.dims(), case.input);
    assert!(relative_diff(gx_want, gx_got) < 1e-5, "input gradient");
    if let (Some(want), Some(got)) = (gw_want, gw_got) {
        assert!(relative_diff(want, got) < 1e-5, "weight gradient");
    }
    if let (Some(want), Some(got)) = (gb_want, gb_got) {
        let (want, got) = (want.reshape([1, 1, 1, c]), got.reshape([1, 1, 1, c]));
        assert!(relative_diff(want, got) < 1e-5, "bias gradient");
    }
}

#[test]
fn depthwise_matches_burn_conv2d_values_and_gradients() {
    let cases = [
        // EfficientNet's: TF SAME padding, stride 1 symmetric, stride 2 with the extra at the end.
        Case { input: [1, 8, 16, 16], kernel: 3, stride: 1, padding: [(1, 1); 2], dilation: 1 },
        Case { input: [2, 6, 16, 16], kernel: 3, stride: 2, padding: [(0, 1); 2], dilation: 1 },
        Case { input: [1, 5, 14, 14], kernel: 5, stride: 2, padding: [(1, 2); 2], dilation: 1 },
        Case { input: [3, 4, 13, 11], kernel: 5, stride: 1, padding: [(2, 2); 2], dilation: 1 },
        // Odd sizes, stride 2 with symmetric padding, no padding, dilation.
        Case { input: [2, 7, 15, 9], kernel: 3, stride: 2, padding: [(1, 1); 2], dilation: 1 },
        Case { input: [1, 3, 9, 10], kernel: 5, stride: 2, padding: [(0, 0); 2], dilation: 1 },
        Case { input: [2, 4, 12, 12], kernel: 3, stride: 1, padding: [(2, 2); 2], dilation: 2 },
        Case { input: [1, 3, 7, 8], kernel: 3, stride: 1, padding: [(0, 2), (1, 0)], dilation: 1 },
    ];
    for case in &cases {
        for (with_bias, track_weights) in [(true, false), (false, false), (true, true)] {
            check(case, with_bias, track_weights);
        }
    }
}

#[test]
fn depthwise_path_is_only_for_depthwise_shapes() {
    let flex = Device::flex();
    assert!(FlexDepthwise::applies(&flex, &[32, 1, 3, 3], 32));
    // Ordinary, grouped with several channels per group, and channel-multiplier convolutions.
    assert!(!FlexDepthwise::applies(&flex, &[32, 16, 3, 3], 1));
    assert!(!FlexDepthwise::applies(&flex, &[32, 2, 3, 3], 16));
    assert!(!FlexDepthwise::applies(&flex, &[64, 1, 3, 3], 32));
    // One channel: an ordinary convolution.
    assert!(!FlexDepthwise::applies(&flex, &[1, 1, 3, 3], 1));
}

#[test]
fn depthwise_non_finite_weights_match_burn_conv2d() {
    // A window reaching into the padding multiplies the padding's zeros by its taps: with an
    // infinite tap that is NaN there (IEEE), which the fast forward pass leaves to burn.
    let device = Device::flex();
    let x = Tensor::<4>::random([1, 2, 6, 6], Distribution::Normal(0.0, 1.0), &device);
    let mut taps = vec![0.5f32; 2 * 9];
    taps[0] = f32::INFINITY;
    let w = Tensor::<4>::from_data(TensorData::new(taps, [2, 1, 3, 3]), &device);
    let options = ConvOptions { stride: [1, 1], padding: [(1, 1); 2], dilation: [1, 1], groups: 2 };
    let want: Vec<f32> =
        conv2d(x.clone(), w.clone(), None, options.clone()).to_data().try_to_vec::<f32>().unwrap();
    let got: Vec<f32> =
        depthwise_conv2d(x, w, None, options).to_data().try_to_vec::<f32>().unwrap();
    assert!(want.iter().any(|v| v.is_nan()));
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(a == b || (a.is_nan() && b.is_nan()), "element {i}: {a} vs {b}");
    }
}
