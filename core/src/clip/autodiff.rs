//! [`ClipOp`] under autodiff: the inner backend's clip, and a backward step that is the inner
//! backend's [`ClipOp::clip_backward`].

use burn::backend::Backend;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;

use super::ClipOp;

/// The backward step of a clip.
#[derive(Debug)]
struct ClipBackward;

impl<B: Backend + ClipOp> Backward<B, 1> for ClipBackward {
    type State = (NodeId, f32, f32);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, min, max) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::clip_backward(x, grad, min, max));
        }
    }
}

impl<B: Backend + ClipOp, C: CheckpointStrategy> ClipOp for Autodiff<B, C> {
    fn clip(x: FloatTensor<Self>, min: f32, max: f32) -> FloatTensor<Self> {
        match ClipBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish((x_state, min, max), B::clip(x.into_primitive(), min, max))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::clip(x.into_primitive(), min, max)),
        }
    }

    fn clip_backward(
        x: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        min: f32,
        max: f32,
    ) -> FloatTensor<Self> {
        // A gradient of the gradient: burn's differentiable generic form.
        let dtype = burn::tensor::BoolDType::Native;
        let below = Self::float_lower_elem(x.clone(), min.into(), dtype);
        let above = Self::float_greater_elem(x, max.into(), dtype);
        let grad = Self::float_mask_fill(output_grad, below, 0f32.into());
        Self::float_mask_fill(grad, above, 0f32.into())
    }
}
