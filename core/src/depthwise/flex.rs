//! [`DepthwiseConv`] on flex: burn's `conv2d` forward, and the input gradient from
//! [`add_input_grad`] over every `(image, channel)` plane (on all cores natively).

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::prelude::TensorData;
use burn::tensor::DType;
use burn::tensor::ops::ConvOptions;

use super::DepthwiseConv;
use super::plane::{PlaneGeometry, add_input_grad};

impl DepthwiseConv for Flex {
    fn depthwise_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        Flex::conv2d(x, weight, None, options)
    }

    fn depthwise_conv2d_bias(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        Flex::conv2d(x, weight, Some(bias), options)
    }

    fn depthwise_conv2d_x_backward(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        match input_grad(&x, &weight, &output_grad, &options) {
            Some(grad) => grad,
            // Another dtype or a shape that is not depthwise: burn's generic gradient.
            None => Flex::conv2d_x_backward(x, weight, output_grad, options),
        }
    }
}

/// The input gradient of a float32 depthwise convolution; `None` for anything else.
fn input_grad(
    x: &FlexTensor,
    weight: &FlexTensor,
    output_grad: &FlexTensor,
    options: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let f32s = [x, weight, output_grad].iter().all(|t| t.dtype() == DType::F32);
    let (&[batch, channels, in_h, in_w], &[w_c, 1, kernel_h, kernel_w], &[g_n, g_c, out_h, out_w]) =
        (x.shape().as_slice(), weight.shape().as_slice(), output_grad.shape().as_slice())
    else {
        return None;
    };
    if !f32s || w_c != channels || options.groups != channels || g_n != batch || g_c != channels {
        return None;
    }
    let geometry = PlaneGeometry {
        input: [in_h, in_w],
        output: [out_h, out_w],
        kernel: [kernel_h, kernel_w],
        stride: options.stride,
        dilation: options.dilation,
        pad_begin: options.padding.map(|(begin, _)| begin),
    };
    let weight = weight.to_contiguous();
    let output_grad = output_grad.to_contiguous();
    let taps: &[f32] = weight.storage();
    let grads: &[f32] = output_grad.storage();
    let (in_plane, out_plane, tap_count) = (in_h * in_w, out_h * out_w, kernel_h * kernel_w);
    let mut grad = vec![0.0f32; batch * channels * in_plane];
    if in_plane > 0 && out_plane > 0 && tap_count > 0 {
        let plane = |(index, (gi, go)): (usize, (&mut [f32], &[f32]))| {
            let c = index % channels;
            if let Some(w) = taps.get(c * tap_count..(c + 1) * tap_count) {
                add_input_grad(gi, go, w, &geometry);
            }
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            grad.par_chunks_mut(in_plane)
                .zip(grads.par_chunks(out_plane))
                .enumerate()
                .for_each(plane);
        }
        #[cfg(target_arch = "wasm32")]
        grad.chunks_mut(in_plane).zip(grads.chunks(out_plane)).enumerate().for_each(plane);
    }
    Some(FlexTensor::from_data(TensorData::new(grad, [batch, channels, in_h, in_w])))
}
