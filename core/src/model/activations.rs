//! The intermediate values a forward pass was asked for ([`Activations`]), and the bookkeeping
//! that lets the pass stop as soon as the deepest of them is computed.

use std::ops::ControlFlow;

use burn::prelude::*;

use super::{LayerId, LayerInfo, ModelError, ModelId};

/// Activations of the requested layers, in forward order, each `[N, C, H, W]` (logits are
/// `[N, 1000, 1, 1]`).
///
/// Values of layers followed by ReLU6 (`stem`, `expand`, `depthwise`, `head`) are the batch-norm
/// outputs before ReLU6; see [`crate::model::layers`].
#[derive(Clone, Default)]
pub struct Activations {
    entries: Vec<(LayerId, Tensor<4>)>,
}

impl Activations {
    /// The activation of `layer`, if it was requested.
    pub fn get(&self, layer: LayerId) -> Option<&Tensor<4>> {
        self.entries.iter().find(|(id, _)| *id == layer).map(|(_, t)| t)
    }

    /// Removes and returns the activation of `layer`, if it was requested.
    pub fn remove(&mut self, layer: LayerId) -> Option<Tensor<4>> {
        let i = self.entries.iter().position(|(id, _)| *id == layer)?;
        Some(self.entries.remove(i).1)
    }

    /// Number of activations held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no activation is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The layers and their activations, in forward order.
    pub fn iter(&self) -> impl Iterator<Item = (LayerId, &Tensor<4>)> {
        self.entries.iter().map(|(id, t)| (*id, t))
    }
}

impl IntoIterator for Activations {
    type Item = (LayerId, Tensor<4>);
    type IntoIter = std::vec::IntoIter<(LayerId, Tensor<4>)>;

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

/// Collects the requested activations during a forward pass and says when to stop.
pub(crate) struct Tapper {
    wanted: Vec<LayerId>,
    deepest: Option<LayerId>,
    found: Activations,
}

impl Tapper {
    /// A tapper for `taps` (duplicates allowed) of a model with catalogue `layers`.
    ///
    /// Fails with [`ModelError::UnknownLayer`] for a layer the model doesn't have.
    pub(crate) fn new(
        model: ModelId,
        layers: &[LayerInfo],
        taps: &[LayerId],
    ) -> Result<Self, ModelError> {
        let mut deepest = None;
        let mut wanted = Vec::with_capacity(taps.len());
        for &tap in taps {
            let position = layers
                .iter()
                .position(|l| l.id == tap)
                .ok_or(ModelError::UnknownLayer { model, layer: tap })?;
            if deepest.is_none_or(|(p, _)| position > p) {
                deepest = Some((position, tap));
            }
            if !wanted.contains(&tap) {
                wanted.push(tap);
            }
        }
        Ok(Self { wanted, deepest: deepest.map(|(_, id)| id), found: Activations::default() })
    }

    /// Whether nothing was requested (the forward pass need not run at all).
    pub(crate) fn is_empty(&self) -> bool {
        self.deepest.is_none()
    }

    /// Records `value` as the activation of `layer` if it was requested; breaks once the
    /// deepest requested layer is recorded.
    pub(crate) fn tap(&mut self, layer: LayerId, value: &Tensor<4>) -> ControlFlow<()> {
        if self.wanted.contains(&layer) {
            self.found.entries.push((layer, value.clone()));
        }
        if self.deepest == Some(layer) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }

    /// The activations collected.
    pub(crate) fn finish(self) -> Activations {
        self.found
    }
}
