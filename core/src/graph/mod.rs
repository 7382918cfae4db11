//! A backend-agnostic model graph: any vision CNN as operators on values, with weights as
//! host data, shape inference, a layer catalogue with receptive fields, batch-norm folding,
//! and execution on any burn [`Device`](burn::prelude::Device) (autodiff included).
//!
//! - [`Graph`]: the description. An NCHW input, [`Node`]s in topological order (each an
//!   [`Op`] with its weights as [`HostTensor`]s), outputs. Built with [`Graph::add_node`]
//!   (or imported from ONNX by [`crate::onnx::import`]).
//! - [`Graph::infer_shapes`]: every value's shape at a concrete input size.
//! - [`Graph::layers`]: the browsable layers ([`LayerInfo`]) with channels, spatial size and
//!   [`ReceptiveField`].
//! - [`Graph::fold_batch_norms`]: conv + batch norm into one conv.
//! - [`Graph::to_device`] -> [`Executable`]: [`Executable::forward`] returns requested values
//!   ([`Activations`]) and runs only the nodes they need; nothing reads back from the device.

mod activations;
mod catalogue;
mod definition;
mod error;
mod executable;
mod fold;
mod host;
mod kernel;
mod op;
mod padding;
mod receptive_field;
mod resize;
mod shape;
mod unary;

pub use activations::Activations;
pub use catalogue::LayerInfo;
pub use definition::{Dim, Graph, GraphInput, Node, ValueId, sanitize_name};
pub use error::GraphError;
pub use executable::Executable;
pub use host::HostTensor;
pub(crate) use host::checked_product;
pub(crate) use op::normalize_axis;
pub use op::{
    BatchNorm, Conv2d, ConvTranspose2d, CoordinateTransform, Linear, MAX_RANK, NearestMode, Op,
    Pad, PadMode, Pool2d, Resize, ResizeMode, ResizeTarget,
};
pub use padding::{Padding2d, effective_kernel, same_padding};
pub use receptive_field::{AxisField, ReceptiveField};
pub use shape::MAX_ELEMENTS;
pub(crate) use shape::{broadcast, reshape};
pub use unary::Unary;
