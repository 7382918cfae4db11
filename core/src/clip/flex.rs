//! [`ClipOp`] on flex: flex's own one-pass `clamp` forward, and a one-pass masked gradient (on
//! all cores natively).

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
        Flex::float_clamp(x, min.into(), max.into())
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
        let shape = x.shape();
        let x = x.to_contiguous();
        let output_grad = output_grad.to_contiguous();
        let xs: &[f32] = x.storage();
        let gs: &[f32] = output_grad.storage();
        let mut out = vec![0.0f32; xs.len()];
        let pass = |((o, x), g): ((&mut [f32], &[f32]), &[f32])| {
            for ((o, &x), &g) in o.iter_mut().zip(x).zip(g) {
                *o = if x < min || x > max { 0.0 } else { g };
            }
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(CHUNK)
                .zip(xs.par_chunks(CHUNK))
                .zip(gs.par_chunks(CHUNK))
                .for_each(pass);
        }
        #[cfg(target_arch = "wasm32")]
        out.chunks_mut(CHUNK).zip(xs.chunks(CHUNK)).zip(gs.chunks(CHUNK)).for_each(pass);
        FlexTensor::from_data(TensorData::new(out, shape))
    }
}
