//! [`DepthwiseConv`] on flex: the forward pass from [`convolve`] and the input gradient from
//! [`add_input_grad`], each over every `(image, channel)` plane (on all cores natively).

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::prelude::TensorData;
use burn::tensor::DType;
use burn::tensor::ops::ConvOptions;

use super::DepthwiseConv;
use super::plane::{PlaneGeometry, add_input_grad, convolve};

impl DepthwiseConv for Flex {
    fn depthwise_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        match forward(&x, &weight, None, &options) {
            Some(y) => y,
            None => Flex::conv2d(x, weight, None, options),
        }
    }

    fn depthwise_conv2d_bias(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        match forward(&x, &weight, Some(&bias), &options) {
            Some(y) => y,
            None => Flex::conv2d(x, weight, Some(bias), options),
        }
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

/// The plane geometry of a depthwise convolution of `x` (`[N, C, H, W]`) with `weight`
/// (`[C, 1, kH, kW]`) giving `output` (`[OH, OW]`): `None` unless the shapes are depthwise and
/// the tensors float32.
fn depthwise_geometry(
    x: &FlexTensor,
    weight: &FlexTensor,
    output: [usize; 2],
    options: &ConvOptions<2>,
) -> Option<PlaneGeometry> {
    let f32s = [x, weight].iter().all(|t| t.dtype() == DType::F32);
    let (&[_, channels, in_h, in_w], &[w_c, 1, kernel_h, kernel_w]) =
        (x.shape().as_slice(), weight.shape().as_slice())
    else {
        return None;
    };
    if !f32s || w_c != channels || options.groups != channels {
        return None;
    }
    Some(PlaneGeometry {
        input: [in_h, in_w],
        output,
        kernel: [kernel_h, kernel_w],
        stride: options.stride,
        dilation: options.dilation,
        pad_begin: options.padding.map(|(begin, _)| begin),
    })
}

/// The output size of a convolution along one axis: `(input + pads - span) / stride + 1`, or
/// `None` where the window does not fit.
fn output_size(
    input: usize,
    (begin, end): (usize, usize),
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> Option<usize> {
    let span = kernel.checked_sub(1)?.checked_mul(dilation.max(1))?.checked_add(1)?;
    let padded = input.checked_add(begin)?.checked_add(end)?;
    Some(padded.checked_sub(span)? / stride.max(1) + 1)
}

/// The forward pass of a float32 depthwise convolution with finite weights; `None` for
/// anything else (burn's `conv2d` then runs it, and multiplies the padding's zeros by
/// non-finite weights as IEEE says).
fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    options: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let &[batch, channels, in_h, in_w] = x.shape().as_slice() else {
        return None;
    };
    let &[_, _, kernel_h, kernel_w] = weight.shape().as_slice() else {
        return None;
    };
    let out_h =
        output_size(in_h, options.padding[0], kernel_h, options.stride[0], options.dilation[0])?;
    let out_w =
        output_size(in_w, options.padding[1], kernel_w, options.stride[1], options.dilation[1])?;
    let geometry = depthwise_geometry(x, weight, [out_h, out_w], options)?;
    let weight = weight.to_contiguous();
    let taps: &[f32] = weight.storage();
    if !taps.iter().all(|w| w.is_finite()) {
        return None;
    }
    let bias = match bias {
        Some(b) if b.dtype() == DType::F32 && b.shape().as_slice() == [channels] => {
            Some(b.to_contiguous())
        }
        Some(_) => return None,
        None => None,
    };
    let biases: &[f32] = bias.as_ref().map(|b| b.storage()).unwrap_or(&[]);
    let x = x.to_contiguous();
    let xs: &[f32] = x.storage();
    let (in_plane, out_plane, tap_count) = (in_h * in_w, out_h * out_w, kernel_h * kernel_w);
    let mut out = zeros(batch * channels * out_plane);
    if in_plane > 0 && out_plane > 0 && tap_count > 0 {
        let arch = pulp::Arch::new();
        let plane = |scratch: &mut Vec<f32>, (index, (y, x)): (usize, (&mut [f32], &[f32]))| {
            let c = index % channels;
            let b = biases.get(c).copied().unwrap_or(0.0);
            if let Some(w) = taps.get(c * tap_count..(c + 1) * tap_count) {
                arch.dispatch(Forward {
                    output: y,
                    input: x,
                    weight: w,
                    bias: b,
                    geometry: &geometry,
                    scratch,
                });
            }
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(out_plane)
                .zip(xs.par_chunks(in_plane))
                .enumerate()
                .for_each_init(Vec::new, plane);
        }
        #[cfg(target_arch = "wasm32")]
        {
            let mut scratch = Vec::new();
            out.chunks_mut(out_plane)
                .zip(xs.chunks(in_plane))
                .enumerate()
                .for_each(|item| plane(&mut scratch, item));
        }
    }
    Some(FlexTensor::from_data(TensorData::new(out, [batch, channels, out_h, out_w])))
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
    let mut grad = zeros(batch * channels * in_plane);
    if in_plane > 0 && out_plane > 0 && tap_count > 0 {
        let arch = pulp::Arch::new();
        let plane = |(index, (gi, go)): (usize, (&mut [f32], &[f32]))| {
            let c = index % channels;
            if let Some(w) = taps.get(c * tap_count..(c + 1) * tap_count) {
                arch.dispatch(InputGrad {
                    grad_input: gi,
                    grad_output: go,
                    weight: w,
                    geometry: &geometry,
                });
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

/// One plane's [`convolve`], through `pulp`'s dispatch: compiled for the widest vectors the CPU
/// has (AVX2 on most x86 machines; the build's baseline is SSE2), chosen at run time. The
/// kernel is inlined into this call, so the same loops vectorise wider, in the same order (the
/// sums do not change).
struct Forward<'a> {
    output: &'a mut [f32],
    input: &'a [f32],
    weight: &'a [f32],
    bias: f32,
    geometry: &'a PlaneGeometry,
    scratch: &'a mut Vec<f32>,
}

impl pulp::WithSimd for Forward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        convolve(self.output, self.input, self.weight, self.bias, self.geometry, self.scratch);
    }
}

/// One plane's [`add_input_grad`], through `pulp`'s dispatch as [`Forward`] is.
struct InputGrad<'a> {
    grad_input: &'a mut [f32],
    grad_output: &'a [f32],
    weight: &'a [f32],
    geometry: &'a PlaneGeometry,
}

impl pulp::WithSimd for InputGrad<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        add_input_grad(self.grad_input, self.grad_output, self.weight, self.geometry);
    }
}

/// `len` zeros, written by all cores natively: a fresh buffer of the heap the allocator reuses
/// is not zero already, and one core zeroing a batch's output kept the others waiting.
fn zeros(len: usize) -> Vec<f32> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        let mut out = Vec::with_capacity(len);
        out.par_extend(rayon::iter::repeat_n(0.0f32, len));
        out
    }
    #[cfg(target_arch = "wasm32")]
    vec![0.0f32; len]
}
