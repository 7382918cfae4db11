//! [`ClipOp`] on flex: one vectorised pass forward (in place on the input when it is not
//! shared), and one masked pass backward (in place on the gradient when it is not shared), both
//! on all cores natively.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::{Flex, TensorMetadata};
use burn::prelude::TensorData;
use burn::tensor::DType;

use super::ClipOp;

/// Elements per parallel task: large enough that a task costs more than handing it out.
const CHUNK: usize = 1 << 14;

impl ClipOp for Flex {
    fn clip(x: FlexTensor, min: f32, max: f32) -> FlexTensor {
        if x.dtype() != DType::F32 {
            return Flex::float_clamp(x, min.into(), max.into());
        }
        // In place when `x` is this op's alone (under autodiff the usual case: the backward
        // step keeps the output, not the input), else into a new buffer.
        let mut values = x.to_contiguous();
        drop(x);
        if let Some(xs) = values.try_storage_mut::<f32>() {
            for_chunks_in_place(xs, move |x| clip_in_place(x, min, max));
            return values;
        }
        let xs: &[f32] = values.storage();
        let mut out = vec![0.0f32; xs.len()];
        for_chunks(&mut out, xs, move |(o, x)| clip_into(o, x, min, max));
        FlexTensor::from_data(TensorData::new(out, values.shape()))
    }

    fn clip_backward(
        output: FlexTensor,
        output_grad: FlexTensor,
        min: f32,
        max: f32,
    ) -> FlexTensor {
        let same = output.shape() == output_grad.shape();
        if !same || output.dtype() != DType::F32 || output_grad.dtype() != DType::F32 {
            // No gradient where the output is on a bound or outside (NaN passes).
            let dtype = burn::tensor::BoolDType::Native;
            let below = Flex::float_lower_equal_elem(output.clone(), min.into(), dtype);
            let above = Flex::float_greater_equal_elem(output, max.into(), dtype);
            let grad = Flex::float_mask_fill(output_grad, below, 0f32.into());
            return Flex::float_mask_fill(grad, above, 0f32.into());
        }
        let output = output.to_contiguous();
        let ys: &[f32] = output.storage();
        let pass = move |(g, y): (&mut [f32], &[f32])| mask_on_bounds(g, y, min, max);
        // In place when the gradient is this step's alone (the usual case), else on a copy.
        let mut grad = output_grad.to_contiguous();
        drop(output_grad);
        match grad.try_storage_mut::<f32>() {
            Some(gs) => for_chunks(gs, ys, pass),
            None => {
                let shape = grad.shape();
                let mut gs = grad.storage::<f32>().to_vec();
                for_chunks(&mut gs, ys, pass);
                grad = FlexTensor::from_data(TensorData::new(gs, shape));
            }
        }
        grad
    }
}

/// `out[i] = x[i]` clipped to `[min, max]`; NaN fails both tests and stays.
///
/// The bounds are arguments (not captured by reference) and every element is a select, not a
/// branch: that is what lets the loop vectorise (a closure reading captured bounds compiled to
/// a scalar loop reloading them for every element).
fn clip_into(out: &mut [f32], x: &[f32], min: f32, max: f32) {
    for (o, &x) in out.iter_mut().zip(x) {
        let low = if x < min { min } else { x };
        *o = if low > max { max } else { low };
    }
}

/// `x[i]` clipped to `[min, max]` in place, as [`clip_into`].
fn clip_in_place(x: &mut [f32], min: f32, max: f32) {
    for x in x.iter_mut() {
        let low = if *x < min { min } else { *x };
        *x = if low > max { max } else { low };
    }
}

/// `g[i] = 0` where the clip's output `y[i]` is on a bound (the input was on it or beyond;
/// NaN passes); an unconditional store of a select per element, so that the loop vectorises.
fn mask_on_bounds(g: &mut [f32], y: &[f32], min: f32, max: f32) {
    for (g, &y) in g.iter_mut().zip(y) {
        *g = if y <= min || y >= max { 0.0 } else { *g };
    }
}

/// Runs `pass` on the chunks of `values`, on all cores natively.
fn for_chunks_in_place(values: &mut [f32], pass: impl Fn(&mut [f32]) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        values.par_chunks_mut(CHUNK).for_each(pass);
    }
    #[cfg(target_arch = "wasm32")]
    values.chunks_mut(CHUNK).for_each(pass);
}

/// Runs `pass` on matching chunks of `out` and `input`, on all cores natively.
fn for_chunks(out: &mut [f32], input: &[f32], pass: impl Fn((&mut [f32], &[f32])) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(CHUNK).zip(input.par_chunks(CHUNK)).for_each(pass);
    }
    #[cfg(target_arch = "wasm32")]
    out.chunks_mut(CHUNK).zip(input.chunks(CHUNK)).for_each(pass);
}
