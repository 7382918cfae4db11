//! [`ClipOp`] on flex: one vectorised pass forward, and one masked pass backward (in place on
//! the gradient when it is not shared), both on all cores natively.

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
        let shape = x.shape();
        let x = x.to_contiguous();
        let xs: &[f32] = x.storage();
        let mut out = vec![0.0f32; xs.len()];
        for_chunks(&mut out, xs, move |(o, x)| clip_into(o, x, min, max));
        FlexTensor::from_data(TensorData::new(out, shape))
    }

    fn clip_backward(x: FlexTensor, output_grad: FlexTensor, min: f32, max: f32) -> FlexTensor {
        let same = x.shape() == output_grad.shape();
        if !same || x.dtype() != DType::F32 || output_grad.dtype() != DType::F32 {
            // burn's form: no gradient where x < min or x > max.
            let dtype = burn::tensor::BoolDType::Native;
            let below = Flex::float_lower_elem(x.clone(), min.into(), dtype);
            let above = Flex::float_greater_elem(x, max.into(), dtype);
            let grad = Flex::float_mask_fill(output_grad, below, 0f32.into());
            return Flex::float_mask_fill(grad, above, 0f32.into());
        }
        let x = x.to_contiguous();
        let xs: &[f32] = x.storage();
        let pass = move |(g, x): (&mut [f32], &[f32])| mask_outside(g, x, min, max);
        // In place when the gradient is this step's alone (the usual case), else on a copy.
        let mut grad = output_grad.to_contiguous();
        drop(output_grad);
        match grad.try_storage_mut::<f32>() {
            Some(gs) => for_chunks(gs, xs, pass),
            None => {
                let shape = grad.shape();
                let mut gs = grad.storage::<f32>().to_vec();
                for_chunks(&mut gs, xs, pass);
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

/// `g[i] = 0` where `x[i]` is outside `[min, max]` (NaN is inside); an unconditional store of a
/// select per element, so that the loop vectorises.
fn mask_outside(g: &mut [f32], x: &[f32], min: f32, max: f32) {
    for (g, &x) in g.iter_mut().zip(x) {
        *g = if x < min || x > max { 0.0 } else { *g };
    }
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
