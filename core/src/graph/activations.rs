//! The result of a forward pass: the requested values, each as an NCHW-form tensor.

use burn::prelude::*;

use super::ValueId;

/// Values computed by [`Executable::forward`](super::Executable::forward), in topological
/// order.
///
/// Every value is a `Tensor<4>`: rank-4 values as they are, lower ranks padded with trailing
/// 1s (`[N, C]` logits become `[N, C, 1, 1]`), so a channel is always axis 1.
#[derive(Clone, Default)]
pub struct Activations {
    pub(crate) entries: Vec<(ValueId, Tensor<4>)>,
}

impl Activations {
    /// The value `id`, if it was requested.
    pub fn get(&self, id: ValueId) -> Option<&Tensor<4>> {
        self.entries.iter().find(|(v, _)| *v == id).map(|(_, t)| t)
    }

    /// Takes the value `id` out, if it was requested.
    pub fn remove(&mut self, id: ValueId) -> Option<Tensor<4>> {
        let i = self.entries.iter().position(|(v, _)| *v == id)?;
        Some(self.entries.remove(i).1)
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no value was requested.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The values and their ids, in topological order.
    pub fn iter(&self) -> impl Iterator<Item = (ValueId, &Tensor<4>)> {
        self.entries.iter().map(|(id, t)| (*id, t))
    }
}

impl IntoIterator for Activations {
    type Item = (ValueId, Tensor<4>);
    type IntoIter = std::vec::IntoIter<(ValueId, Tensor<4>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl std::fmt::Debug for Activations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Shapes only: printing values would read them back from the device.
        f.debug_map()
            .entries(self.entries.iter().map(|(id, t)| (id.to_string(), t.dims())))
            .finish()
    }
}
