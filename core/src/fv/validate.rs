//! Checking an objective against a model before rendering, so that a typo in a layer name or
//! a unit out of range is reported at once, in the model's terms, not after minutes of work.

use crate::network::{LayerSummary, Network};
use crate::objective::{LOGITS_LAYER, MAX_DEPTH, Objective};

/// Why an objective does not fit a model (or a render).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    /// The model has no such layer.
    #[error("{model} has no layer `{layer}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownLayer {
        /// Model id.
        model: String,
        /// The name asked for.
        layer: String,
        /// A layer with a similar name.
        suggestion: Option<String>,
    },
    /// The layer has fewer channels.
    #[error("{layer} of {model} has {channels} units; unit {unit} is out of range (0..{channels})")]
    UnitOutOfRange {
        /// Model id.
        model: String,
        /// Layer name.
        layer: String,
        /// The unit asked for.
        unit: usize,
        /// Its number of channels.
        channels: usize,
    },
    /// The neuron's position is outside the layer's grid.
    #[error("{layer} of {model} is {width}x{height} at its input size; ({x}, {y}) is outside it")]
    PositionOutOfRange {
        /// Model id.
        model: String,
        /// Layer name.
        layer: String,
        /// Column asked for.
        x: usize,
        /// Row asked for.
        y: usize,
        /// Grid width.
        width: usize,
        /// Grid height.
        height: usize,
    },
    /// A direction's length differs from the layer's number of channels.
    #[error("the direction has {length} values but {layer} of {model} has {channels} channels")]
    DirectionLength {
        /// Model id.
        model: String,
        /// Layer name.
        layer: String,
        /// Values given.
        length: usize,
        /// Channels of the layer.
        channels: usize,
    },
    /// The model has no `logits` layer for `class(...)`.
    #[error("{model} has no `{LOGITS_LAYER}` layer, so class objectives do not apply")]
    NoLogits {
        /// Model id.
        model: String,
    },
    /// A batch index beyond the render's batch.
    #[error("the objective targets image {index} but the render has {batch} image(s)")]
    BatchOutOfRange {
        /// The index asked for.
        index: usize,
        /// Images rendered.
        batch: usize,
    },
    /// Diversity compares images, so it needs two or more.
    #[error("diversity compares images; render a batch of 2 or more (the batch is {batch})")]
    DiversityNeedsBatch {
        /// Images rendered.
        batch: usize,
    },
    /// Caricature and inversion compare with a photo, and none was given.
    #[error("`{objective}` compares with a reference photo; give one")]
    NeedsReference {
        /// The term, in text form.
        objective: String,
    },
    /// A weight, factor or direction value is infinite or NaN.
    #[error("`{objective}` has a number that is not finite")]
    NotFinite {
        /// The term, in text form.
        objective: String,
    },
    /// The objective nests deeper than its text form may ([`MAX_DEPTH`]); evaluating it would
    /// recurse that deep.
    #[error("the objective nests {depth} levels deep; at most {MAX_DEPTH} are allowed")]
    TooDeep {
        /// Its depth.
        depth: usize,
    },
    /// The forward pass failed while evaluating.
    #[error("evaluating the objective: {0}")]
    Evaluation(String),
}

/// A layer whose name is closest to `name` (same prefix or the fewest differing characters).
fn suggest(name: &str, layers: &[LayerSummary]) -> Option<String> {
    let distance = |a: &str, b: &str| {
        // Levenshtein distance on characters, two rows.
        let b: Vec<char> = b.chars().collect();
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut current = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
                let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
                let insert = current.get(j).copied().unwrap_or(0) + 1;
                current.push(substitute.min(delete).min(insert));
            }
            previous = current;
        }
        previous.last().copied().unwrap_or(0)
    };
    layers
        .iter()
        .map(|l| (distance(name, &l.name), &l.name))
        .filter(|(d, _)| *d <= name.len().max(3) / 3 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.clone())
}

impl Objective {
    /// Checks every term against `network` for a render of `batch` images, with or without a
    /// reference photo.
    pub fn validate(
        &self,
        network: &dyn Network,
        batch: usize,
        has_reference: bool,
    ) -> Result<(), ObjectiveError> {
        // First, before anything below recurses through the terms. Parsed objectives are at
        // most one level deeper than the grammar's count (their innermost term).
        let depth = self.depth();
        if depth > MAX_DEPTH + 1 {
            return Err(ObjectiveError::TooDeep { depth });
        }
        let layers = network.layers();
        let model = network.id().to_owned();
        let find = |layer: &str| {
            layers.iter().find(|l| l.name == layer).ok_or_else(|| ObjectiveError::UnknownLayer {
                model: model.clone(),
                layer: layer.to_owned(),
                suggestion: suggest(layer, &layers),
            })
        };
        let unit_in = |summary: &LayerSummary, unit: usize| {
            if unit < summary.channels {
                Ok(())
            } else {
                Err(ObjectiveError::UnitOutOfRange {
                    model: model.clone(),
                    layer: summary.name.clone(),
                    unit,
                    channels: summary.channels,
                })
            }
        };
        for term in self.terms() {
            let finite = match term {
                Self::Direction { vector, .. } => vector.iter().all(|v| v.is_finite()),
                Self::Caricature { power: w, .. }
                | Self::Diversity { weight: w, .. }
                | Self::TotalVariation { weight: w }
                | Self::L1 { weight: w }
                | Self::L2 { weight: w }
                | Self::Scaled { factor: w, .. } => w.is_finite(),
                _ => true,
            };
            if !finite {
                return Err(ObjectiveError::NotFinite { objective: term.to_string() });
            }
            match term {
                Self::Channel { layer, unit, .. } => unit_in(find(layer)?, *unit)?,
                Self::Neuron { layer, unit, position, .. } => {
                    let summary = find(layer)?;
                    unit_in(summary, *unit)?;
                    if let Some([x, y]) = position {
                        let [height, width] = summary.spatial;
                        if *x >= width || *y >= height {
                            return Err(ObjectiveError::PositionOutOfRange {
                                model: model.clone(),
                                layer: layer.clone(),
                                x: *x,
                                y: *y,
                                width,
                                height,
                            });
                        }
                    }
                }
                Self::Direction { layer, vector, .. } => {
                    let summary = find(layer)?;
                    if vector.len() != summary.channels {
                        return Err(ObjectiveError::DirectionLength {
                            model: model.clone(),
                            layer: layer.clone(),
                            length: vector.len(),
                            channels: summary.channels,
                        });
                    }
                }
                Self::Class { class, .. } => {
                    let summary = layers
                        .iter()
                        .find(|l| l.name == LOGITS_LAYER)
                        .ok_or_else(|| ObjectiveError::NoLogits { model: model.clone() })?;
                    unit_in(summary, *class)?;
                }
                Self::Dream { layer, .. }
                | Self::Inversion { layer, .. }
                | Self::Caricature { layer, .. } => {
                    find(layer)?;
                }
                Self::Diversity { layer, .. } => {
                    find(layer)?;
                    if batch < 2 {
                        return Err(ObjectiveError::DiversityNeedsBatch { batch });
                    }
                }
                _ => {}
            }
            if matches!(term, Self::Caricature { .. } | Self::Inversion { .. }) && !has_reference {
                return Err(ObjectiveError::NeedsReference { objective: term.to_string() });
            }
        }
        if let Some(index) = self.max_batch_index().filter(|&i| i >= batch) {
            return Err(ObjectiveError::BatchOutOfRange { index, batch });
        }
        Ok(())
    }
}
