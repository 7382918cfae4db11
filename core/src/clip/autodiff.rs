//! [`ClipOp`] under autodiff: the inner backend's clip, and a backward step that is the inner
//! backend's [`ClipOp::clip_backward`] on the clip's output (kept as the step's state, so that
//! the input is not kept alive).

use burn::backend::Backend;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;

use super::ClipOp;

/// The backward step of a clip.
#[derive(Debug)]
struct ClipBackward;

impl<B: Backend + ClipOp> Backward<B, 1> for ClipBackward {
    type State = (B::FloatTensorPrimitive, f32, f32);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (output, min, max) = ops.state;
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::clip_backward(output, grad, min, max));
        }
    }
}

impl<B: Backend + ClipOp, C: CheckpointStrategy> ClipOp for Autodiff<B, C> {
    fn clip(x: FloatTensor<Self>, min: f32, max: f32) -> FloatTensor<Self> {
        match ClipBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let output = B::clip(x.into_primitive(), min, max);
                prep.finish((output.clone(), min, max), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::clip(x.into_primitive(), min, max)),
        }
    }

    fn clip_backward(
        output: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        min: f32,
        max: f32,
    ) -> FloatTensor<Self> {
        // A gradient of the gradient: burn's differentiable generic form.
        let dtype = burn::tensor::BoolDType::Native;
        let below = Self::float_lower_equal_elem(output.clone(), min.into(), dtype);
        let above = Self::float_greater_equal_elem(output, max.into(), dtype);
        let grad = Self::float_mask_fill(output_grad, below, 0f32.into());
        Self::float_mask_fill(grad, above, 0f32.into())
    }
}
