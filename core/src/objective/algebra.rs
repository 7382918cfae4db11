//! The objective type: what a visualization maximises, as a small algebra over activations and
//! image penalties (`+`, `-`, unary `-`, `* factor`), with a generated English description.
//! Its text form is written by [`super::text`] and read by [`super::grammar`].
//!
//! Every objective is a scalar to *maximise*. Penalties measure what they are named after
//! (`tv(0.1)` is 0.1 times the image's total variation), so they are subtracted:
//! `blocks.8:50 - tv(0.1)`. `diversity` measures diversity (minus the similarity of the batch
//! elements' Gram matrices), so it is added.

use serde::{Deserialize, Serialize};

use super::LOGITS_LAYER;

/// A scalar function of the activations and the image, to be maximised.
///
/// It crosses the worker boundary as itself (serde), never as text: the page builds or parses
/// it, the renderer checks it against the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Mean activation of one channel over all positions (lucid's `channel`; text `layer:unit`).
    Channel {
        /// Layer name.
        layer: String,
        /// Channel index.
        unit: usize,
        /// Only this batch element (`@i`); all elements' mean when `None`.
        batch: Option<usize>,
    },
    /// Activation of one channel at one position (`neuron(layer:unit[, x, y])`).
    Neuron {
        /// Layer name.
        layer: String,
        /// Channel index.
        unit: usize,
        /// `[x, y]` in the layer's grid; its centre when `None`.
        position: Option<[usize; 2]>,
        /// Only this batch element.
        batch: Option<usize>,
    },
    /// Mean squared activation of a whole layer, DeepDream (`dream(layer)`).
    Dream {
        /// Layer name.
        layer: String,
        /// Only this batch element.
        batch: Option<usize>,
    },
    /// Mean over positions of the activation vector's dot product (or cosine similarity) with
    /// a direction in channel space (`direction(layer, [v...][, cos])`).
    Direction {
        /// Layer name.
        layer: String,
        /// One weight per channel.
        vector: Vec<f32>,
        /// Cosine similarity instead of the dot product.
        cosine: bool,
        /// Only this batch element.
        batch: Option<usize>,
    },
    /// A class logit: channel `class` of the `logits` layer (`class(n)`).
    Class {
        /// Class index.
        class: usize,
        /// Only this batch element.
        batch: Option<usize>,
    },
    /// Caricature of the reference photo: `dot(act, act_photo) * |cos(act, act_photo)|^power`
    /// at a layer, the dot product averaged over positions (`caricature(layer[, power])`).
    Caricature {
        /// Layer name.
        layer: String,
        /// Exponent of the cosine similarity (lucid's `cossim_pow`).
        power: f32,
        /// Only this batch element.
        batch: Option<usize>,
    },
    /// Feature inversion of the reference photo: minus the squared distance to its activations
    /// at a layer, relative to their mean square (`invert(layer)`).
    Inversion {
        /// Layer name.
        layer: String,
        /// Only this batch element.
        batch: Option<usize>,
    },
    /// `weight` times minus the mean pairwise cosine similarity of the batch elements'
    /// flattened Gram matrices at a layer (lucid's `diversity`; `diversity(layer[, weight])`).
    Diversity {
        /// Layer name.
        layer: String,
        /// Multiplier.
        weight: f32,
    },
    /// `weight` times the image's total variation: mean absolute difference of neighbouring
    /// pixels, vertical plus horizontal (`tv([weight])`).
    TotalVariation {
        /// Multiplier.
        weight: f32,
    },
    /// `weight` times the mean absolute difference of the image from grey (`l1([weight])`).
    L1 {
        /// Multiplier.
        weight: f32,
    },
    /// `weight` times the mean squared difference of the image from grey (`l2([weight])`).
    L2 {
        /// Multiplier.
        weight: f32,
    },
    /// `factor * inner`.
    Scaled {
        /// Multiplier.
        factor: f32,
        /// The objective scaled.
        inner: Box<Objective>,
    },
    /// `-inner` (a negative visualization when `inner` is a unit).
    Negated(Box<Objective>),
    /// The sum of at least two objectives (`a + b`, `a - b` is `a + (-b)`).
    Sum(Vec<Objective>),
}

impl Objective {
    /// The mean activation of channel `unit` of `layer`.
    pub fn channel(layer: impl Into<String>, unit: usize) -> Self {
        Self::Channel { layer: layer.into(), unit, batch: None }
    }

    /// The activation of channel `unit` of `layer` at the centre of the layer's grid.
    pub fn neuron(layer: impl Into<String>, unit: usize) -> Self {
        Self::Neuron { layer: layer.into(), unit, position: None, batch: None }
    }

    /// DeepDream on `layer`.
    pub fn dream(layer: impl Into<String>) -> Self {
        Self::Dream { layer: layer.into(), batch: None }
    }

    /// The diversity of `layer` across the batch, weight 1.
    pub fn diversity(layer: impl Into<String>) -> Self {
        Self::Diversity { layer: layer.into(), weight: 1.0 }
    }

    /// The logit of `class`.
    pub fn class(class: usize) -> Self {
        Self::Class { class, batch: None }
    }

    /// One render of many units of one layer at once: batch element `i` maximises
    /// `units[i]` (`layer:u0@0 + layer:u1@1 + ...`). `None` when `units` is empty.
    pub fn units(layer: &str, units: &[usize]) -> Option<Self> {
        Self::total(units.iter().enumerate().map(|(i, &unit)| Self::Channel {
            layer: layer.to_owned(),
            unit,
            batch: Some(i),
        }))
    }

    /// The sum of `terms`: the term itself when there is one, `None` when there are none.
    pub fn total(terms: impl IntoIterator<Item = Self>) -> Option<Self> {
        let mut terms: Vec<Self> = terms.into_iter().collect();
        match terms.len() {
            0 => None,
            1 => terms.pop(),
            _ => Some(Self::Sum(terms)),
        }
    }

    /// This objective restricted to batch element `index` (every term that has a batch
    /// selector; whole-batch terms such as diversity and image penalties are unchanged).
    #[must_use]
    pub fn at(self, index: usize) -> Self {
        let mut objective = self;
        objective.set_batch(Some(index));
        objective
    }

    fn set_batch(&mut self, index: Option<usize>) {
        match self {
            Self::Channel { batch, .. }
            | Self::Neuron { batch, .. }
            | Self::Dream { batch, .. }
            | Self::Direction { batch, .. }
            | Self::Class { batch, .. }
            | Self::Caricature { batch, .. }
            | Self::Inversion { batch, .. } => *batch = index,
            Self::Diversity { .. }
            | Self::TotalVariation { .. }
            | Self::L1 { .. }
            | Self::L2 { .. } => {}
            Self::Scaled { inner, .. } | Self::Negated(inner) => inner.set_batch(index),
            Self::Sum(terms) => terms.iter_mut().for_each(|t| t.set_batch(index)),
        }
    }

    /// How deeply terms nest: 1 for a single term, one more for each sum, factor or minus
    /// around it. Counted without recursion, so that it can measure any objective.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1)];
        while let Some((term, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            match term {
                Self::Scaled { inner, .. } | Self::Negated(inner) => stack.push((inner, depth + 1)),
                Self::Sum(terms) => stack.extend(terms.iter().map(|t| (t, depth + 1))),
                _ => {}
            }
        }
        deepest
    }

    /// Every term, depth first (this objective included).
    pub fn terms(&self) -> Vec<&Self> {
        let mut out = vec![self];
        match self {
            Self::Scaled { inner, .. } | Self::Negated(inner) => out.extend(inner.terms()),
            Self::Sum(terms) => out.extend(terms.iter().flat_map(Self::terms)),
            _ => {}
        }
        out
    }

    /// The layers the objective reads (class logits read [`LOGITS_LAYER`]), without repeats, in
    /// order of first use.
    pub fn layers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for term in self.terms() {
            let layer = match term {
                Self::Channel { layer, .. }
                | Self::Neuron { layer, .. }
                | Self::Dream { layer, .. }
                | Self::Direction { layer, .. }
                | Self::Caricature { layer, .. }
                | Self::Inversion { layer, .. }
                | Self::Diversity { layer, .. } => layer.as_str(),
                Self::Class { .. } => LOGITS_LAYER,
                _ => continue,
            };
            if !out.iter().any(|l| l == layer) {
                out.push(layer.to_owned());
            }
        }
        out
    }

    /// Whether any term compares with a reference photo (caricature, inversion).
    pub fn needs_reference(&self) -> bool {
        self.terms().iter().any(|t| matches!(t, Self::Caricature { .. } | Self::Inversion { .. }))
    }

    /// The highest batch element any term targets.
    pub fn max_batch_index(&self) -> Option<usize> {
        self.terms()
            .iter()
            .filter_map(|t| match t {
                Self::Channel { batch, .. }
                | Self::Neuron { batch, .. }
                | Self::Dream { batch, .. }
                | Self::Direction { batch, .. }
                | Self::Class { batch, .. }
                | Self::Caricature { batch, .. }
                | Self::Inversion { batch, .. } => *batch,
                _ => None,
            })
            .max()
    }

    /// A sentence saying what the objective measures, for people.
    pub fn describe(&self) -> String {
        let image = |batch: &Option<usize>| match batch {
            Some(i) => format!(" in image {i}"),
            None => String::new(),
        };
        match self {
            Self::Channel { layer, unit, batch } => {
                format!("mean activation of unit {unit} of {layer}{}", image(batch))
            }
            Self::Neuron { layer, unit, position, batch } => {
                let at = match position {
                    Some([x, y]) => format!("at ({x}, {y})"),
                    None => "at the centre".to_owned(),
                };
                format!("activation of unit {unit} of {layer} {at}{}", image(batch))
            }
            Self::Dream { layer, batch } => {
                format!("mean squared activation of {layer} (DeepDream){}", image(batch))
            }
            Self::Direction { layer, vector, cosine, batch } => format!(
                "mean {} of {layer}'s activations with a direction over its {} channels{}",
                if *cosine { "cosine similarity" } else { "dot product" },
                vector.len(),
                image(batch)
            ),
            Self::Class { class, batch } => format!("logit of class {class}{}", image(batch)),
            Self::Caricature { layer, power, batch } => format!(
                "dot product with the reference photo's {layer} activations times their cosine similarity to the power {power}{}",
                image(batch)
            ),
            Self::Inversion { layer, batch } => format!(
                "closeness to the reference photo's {layer} activations (minus the relative squared error){}",
                image(batch)
            ),
            Self::Diversity { layer, weight } => format!(
                "{} diversity of {layer} across the batch (minus the mean cosine similarity of Gram matrices)",
                weight_prefix(*weight)
            ),
            Self::TotalVariation { weight } => {
                format!("{} total variation of the image", weight_prefix(*weight))
            }
            Self::L1 { weight } => {
                format!(
                    "{} mean absolute difference of the image from grey",
                    weight_prefix(*weight)
                )
            }
            Self::L2 { weight } => {
                format!("{} mean squared difference of the image from grey", weight_prefix(*weight))
            }
            Self::Scaled { factor, inner } => format!("{factor} × ({})", inner.describe()),
            Self::Negated(inner) => format!("minus ({})", inner.describe()),
            Self::Sum(terms) => terms
                .iter()
                .map(|t| format!("({})", t.describe()))
                .collect::<Vec<_>>()
                .join(" plus "),
        }
    }
}

/// "the" or "0.1 ×" before a weighted measure.
fn weight_prefix(weight: f32) -> String {
    if weight == 1.0 { "the".to_owned() } else { format!("{weight} × the") }
}

impl std::ops::Add for Objective {
    type Output = Self;

    /// `a + b`; sums flatten on the left, as the text form parses `a + b + c`.
    fn add(self, rhs: Self) -> Self {
        match self {
            Self::Sum(mut terms) => {
                terms.push(rhs);
                Self::Sum(terms)
            }
            lhs => Self::Sum(vec![lhs, rhs]),
        }
    }
}

impl std::ops::Sub for Objective {
    type Output = Self;

    /// `a - b`, that is `a + (-b)`.
    fn sub(self, rhs: Self) -> Self {
        self + -rhs
    }
}

impl std::ops::Neg for Objective {
    type Output = Self;

    fn neg(self) -> Self {
        Self::Negated(Box::new(self))
    }
}

impl std::ops::Mul<f32> for Objective {
    type Output = Self;

    fn mul(self, factor: f32) -> Self {
        Self::Scaled { factor, inner: Box::new(self) }
    }
}

impl std::ops::Mul<Objective> for f32 {
    type Output = Objective;

    fn mul(self, objective: Objective) -> Objective {
        objective * self
    }
}
