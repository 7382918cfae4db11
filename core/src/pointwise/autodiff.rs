//! [`PointwiseConv`] under autodiff: the inner backend's forward pass, and a backward step whose
//! input gradient is the inner backend's [`PointwiseConv::pointwise_conv2d_x_backward`]. The
//! weight and bias gradients are burn's generic ones; the input is kept for the backward step
//! only when the weight needs a gradient. Mirrors burn-autodiff's own `conv2d`.

use burn::backend::Backend;
use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;

use super::{PointwiseConv, generic_input_grad, pointwise_options};

/// The backward step of a pointwise convolution with a bias.
#[derive(Debug)]
struct WithBias;

/// The backward step of a pointwise convolution without a bias.
#[derive(Debug)]
struct NoBias;

/// What the backward step keeps: the weight always, the input only when the weight asks for a
/// gradient.
type Kept = (Option<NodeId>, NodeId);

/// Registers the gradients of the input (the inner backend's kernel) and of the weight (burn's
/// generic one) for those of `[input, weight]` that ask for one, from what the forward pass
/// kept: the part both backward steps share.
fn register_x_and_weight<B: Backend + PointwiseConv>(
    [x_id, weight_id]: [Option<NodeId>; 2],
    (x_state, weight_state): Kept,
    grad: B::FloatTensorPrimitive,
    grads: &mut Gradients,
    checkpointer: &mut Checkpointer,
) {
    let x = x_state.map(|s| checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(s));
    let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
    if let Some(id) = x_id {
        grads.register::<B>(id, B::pointwise_conv2d_x_backward(weight.clone(), grad.clone()));
    }
    if let (Some(id), Some(x)) = (weight_id, x) {
        grads.register::<B>(id, B::conv2d_weight_backward(x, weight, grad, pointwise_options()));
    }
}

/// The bias gradient: the output gradient (`[N, C_out, H, W]`) summed over all but its
/// channels.
fn bias_grad<B: Backend>(grad: B::FloatTensorPrimitive) -> B::FloatTensorPrimitive {
    let shape = grad.shape();
    let (n, c, hw) = match shape.as_slice() {
        &[n, c, h, w] => (n, c, h * w),
        _ => (1, shape.num_elements(), 1),
    };
    let grad = B::float_reshape(grad, Shape::new([n, c, hw]));
    let summed = B::float_sum_dim(B::float_sum_dim(grad, 2), 0);
    B::float_reshape(summed, Shape::new([c]))
}

impl<B: Backend + PointwiseConv> Backward<B, 3> for WithBias {
    type State = Kept;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, bias_grad::<B>(grad.clone()));
        }
        let ids = [node_x.map(|n| n.id), node_weight.map(|n| n.id)];
        register_x_and_weight::<B>(ids, ops.state, grad, grads, checkpointer);
    }
}

impl<B: Backend + PointwiseConv> Backward<B, 2> for NoBias {
    type State = Kept;

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let ids = [node_x.map(|n| n.id), node_weight.map(|n| n.id)];
        register_x_and_weight::<B>(ids, ops.state, grad, grads, checkpointer);
    }
}

impl<B: Backend + PointwiseConv, C: CheckpointStrategy> PointwiseConv for Autodiff<B, C> {
    fn pointwise_conv2d(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let weight_tracked = weight.is_tracked();
        match NoBias.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = weight_tracked.then(|| prep.checkpoint(&x));
                let weight_state = prep.checkpoint(&weight);
                let out = B::pointwise_conv2d(x.into_primitive(), weight.into_primitive());
                prep.finish((x_state, weight_state), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::pointwise_conv2d(x.into_primitive(), weight.into_primitive()))
            }
        }
    }

    fn pointwise_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let weight_tracked = weight.is_tracked();
        let prep = WithBias.prepare::<C>([x.node(), weight.node(), bias.node()]);
        match prep.compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = weight_tracked.then(|| prep.checkpoint(&x));
                let weight_state = prep.checkpoint(&weight);
                let out = B::pointwise_conv2d_bias(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                );
                prep.finish((x_state, weight_state), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::pointwise_conv2d_bias(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
            )),
        }
    }

    fn pointwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        // A gradient of the gradient: burn's differentiable generic form.
        generic_input_grad::<Self>(weight, output_grad)
    }
}
