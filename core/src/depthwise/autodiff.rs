//! [`DepthwiseConv`] under autodiff: the inner backend's forward pass, and a backward step whose
//! input gradient is the inner backend's [`DepthwiseConv::depthwise_conv2d_x_backward`]. The
//! weight and bias gradients are burn's generic ones. Mirrors burn-autodiff's own `conv2d`.

use burn::backend::Backend;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::ops::ConvOptions;

use super::DepthwiseConv;

/// The backward step of a depthwise convolution with a bias.
#[derive(Debug)]
struct WithBias;

/// The backward step of a depthwise convolution without a bias.
#[derive(Debug)]
struct NoBias;

/// Registers the gradients of the input (the inner backend's depthwise kernel) and of the
/// weight (burn's generic one) for those of `[input, weight]` that ask for one: the part both
/// backward steps share.
fn register_x_and_weight<B: Backend + DepthwiseConv>(
    [x_id, weight_id]: [Option<NodeId>; 2],
    x: B::FloatTensorPrimitive,
    weight: B::FloatTensorPrimitive,
    grad: B::FloatTensorPrimitive,
    options: ConvOptions<2>,
    grads: &mut Gradients,
) {
    if let Some(id) = x_id {
        let g = B::depthwise_conv2d_x_backward(
            x.clone(),
            weight.clone(),
            grad.clone(),
            options.clone(),
        );
        grads.register::<B>(id, g);
    }
    if let Some(id) = weight_id {
        grads.register::<B>(id, B::conv2d_weight_backward(x, weight, grad, options));
    }
}

impl<B: Backend + DepthwiseConv> Backward<B, 3> for WithBias {
    type State = (NodeId, NodeId, NodeId, ConvOptions<2>);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, bias_state, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        let bias = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(bias_state);
        register_x_and_weight::<B>(
            [node_x.map(|n| n.id), node_weight.map(|n| n.id)],
            x.clone(),
            weight,
            grad.clone(),
            options,
            grads,
        );
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, B::conv2d_bias_backward(x, bias, grad));
        }
    }
}

impl<B: Backend + DepthwiseConv> Backward<B, 2> for NoBias {
    type State = (NodeId, NodeId, ConvOptions<2>);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        register_x_and_weight::<B>(
            [node_x.map(|n| n.id), node_weight.map(|n| n.id)],
            x,
            weight,
            grad,
            options,
            grads,
        );
    }
}

impl<B: Backend + DepthwiseConv, C: CheckpointStrategy> DepthwiseConv for Autodiff<B, C> {
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match NoBias.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let out = B::depthwise_conv2d(
                    x.into_primitive(),
                    weight.into_primitive(),
                    options.clone(),
                );
                prep.finish((x_state, weight_state, options), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::depthwise_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }

    fn depthwise_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let prep = WithBias.prepare::<C>([x.node(), weight.node(), bias.node()]);
        match prep.compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let bias_state = prep.checkpoint(&bias);
                let out = B::depthwise_conv2d_bias(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                    options.clone(),
                );
                prep.finish((x_state, weight_state, bias_state, options), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::depthwise_conv2d_bias(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                options,
            )),
        }
    }

    fn depthwise_conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        // A gradient of the gradient: burn's differentiable generic form.
        Self::conv2d_x_backward(x, weight, output_grad, options)
    }
}
