//! What EfficientNet-Lite0's depthwise convolutions cost on the CPU backend (flex), forward and
//! forward + backward (the gradient with respect to the input, as a feature visualization needs
//! it; the weights are constants), beside the same convolution written as a sum of shifted
//! products (a formulation whose backward avoids burn's grouped transposed convolution), and
//! through `microscope_core::depthwise` (burn's forward, a direct input-gradient kernel), which
//! the graphs use on flex.
//! A measurement, not a check: it prints and asserts nothing about speed.
//!
//! ```sh
//! cargo test --release -p microscope-core --test depthwise_cost -- --ignored --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use microscope_core::depthwise::depthwise_conv2d;
use std::time::Instant;

/// The depthwise convolution as a sum of k*k shifted inputs times their weight (TF SAME padding).
fn shift_sum(x: Tensor<4>, w: Tensor<4>, k: usize, stride: usize) -> Tensor<4> {
    let [b, c, h, wd] = x.dims();
    // TF SAME padding
    let out_h = h.div_ceil(stride);
    let out_w = wd.div_ceil(stride);
    let pad_h = ((out_h - 1) * stride + k).saturating_sub(h);
    let pad_w = ((out_w - 1) * stride + k).saturating_sub(wd);
    let x = x.pad((pad_w / 2, pad_w - pad_w / 2, pad_h / 2, pad_h - pad_h / 2), 0.0);
    let mut acc: Option<Tensor<4>> = None;
    for ky in 0..k {
        for kx in 0..k {
            use burn::tensor::Slice;
            let span = |o: usize, start: usize| {
                Slice::new(
                    start as isize,
                    Some((start + (o - 1) * stride + 1) as isize),
                    stride as isize,
                )
            };
            let s = x.clone().slice([
                Slice::from(0..b),
                Slice::from(0..c),
                span(out_h, ky),
                span(out_w, kx),
            ]);
            let wk = w.clone().slice([0..c, 0..1, ky..ky + 1, kx..kx + 1]).reshape([1, c, 1, 1]);
            let term = s * wk;
            acc = Some(match acc {
                None => term,
                Some(a) => a + term,
            });
        }
    }
    acc.expect("a kernel has at least one tap")
}

/// The depthwise layers of EfficientNet-Lite0 up to `blocks.8` at a 224 px input, batch 1 and 16.
#[test]
#[ignore = "a measurement; run it by hand"]
fn depthwise_convolution_cost() {
    let device = Device::flex();
    let cases: [(usize, usize, usize, usize, usize); 10] = [
        (32, 3, 1, 112, 1),
        (96, 3, 2, 112, 1),
        (144, 3, 1, 56, 1),
        (144, 5, 2, 56, 1),
        (240, 5, 1, 28, 1),
        (240, 3, 2, 28, 1),
        (480, 3, 1, 14, 1),
        (480, 5, 1, 14, 1),
        (144, 3, 1, 56, 16),
        (480, 5, 1, 14, 16),
    ];
    for (c, k, s, hw, batch) in cases {
        let x0 = Tensor::<4>::random(
            [batch, c, hw, hw],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let w = Tensor::<4>::random(
            [c, 1, k, k],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let out = hw.div_ceil(s);
        let pad = ((out - 1) * s + k).saturating_sub(hw);
        let opts = ConvOptions::new([s, s], [pad / 2, pad / 2], [1, 1], c);
        let time = |f: &dyn Fn() -> f32| {
            let _ = f();
            let mut best = f64::INFINITY;
            for _ in 0..5 {
                let t = Instant::now();
                let _ = f();
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
            }
            best
        };
        let wa = w.clone().autodiff();
        let fwd_conv =
            time(&|| conv2d(x0.clone(), w.clone(), None, opts.clone()).sum().into_scalar::<f32>());
        let fwd_shift = time(&|| shift_sum(x0.clone(), w.clone(), k, s).sum().into_scalar::<f32>());
        let bwd_conv = time(&|| {
            let x = x0.clone().autodiff().require_grad();
            let y = conv2d(x.clone(), wa.clone(), None, opts.clone());
            let g = (y.clone() * y).sum().backward();
            x.grad(&g).unwrap().sum().into_scalar::<f32>()
        });
        let bwd_shift = time(&|| {
            let x = x0.clone().autodiff().require_grad();
            let y = shift_sum(x.clone(), wa.clone(), k, s);
            let g = (y.clone() * y).sum().backward();
            x.grad(&g).unwrap().sum().into_scalar::<f32>()
        });
        let bwd_ours = time(&|| {
            let x = x0.clone().autodiff().require_grad();
            let y = depthwise_conv2d(x.clone(), wa.clone(), None, opts.clone());
            let g = (y.clone() * y).sum().backward();
            x.grad(&g).unwrap().sum().into_scalar::<f32>()
        });
        eprintln!(
            "c{c} k{k} s{s} {hw}px b{batch}: fwd conv {fwd_conv:.2} shift {fwd_shift:.2} | fwd+bwd conv {bwd_conv:.2} shift {bwd_shift:.2} depthwise module {bwd_ours:.2} ms"
        );
    }
}
