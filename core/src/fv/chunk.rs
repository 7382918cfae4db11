//! Micro-batching: a render of many images can run its forward and backward passes on a few
//! images at a time and still take exactly the same steps, when the objective is a sum of
//! per-image terms. On the CPU this is faster (each pass's activations stay in cache; see
//! BENCHMARKS.md); on a GPU whole batches are.

use crate::objective::Objective;

impl Objective {
    /// Whether the objective is a sum of per-image terms, so that it can be evaluated on
    /// parts of the batch separately (diversity compares images; caricature and inversion
    /// need the reference photo in each part).
    pub fn is_separable(&self) -> bool {
        !self.terms().iter().any(|t| {
            matches!(t, Self::Diversity { .. } | Self::Caricature { .. } | Self::Inversion { .. })
        })
    }

    /// The part of a separable objective over `batch` images that concerns images
    /// `start..start + len`, renumbered from 0: targeted terms of those images, and
    /// whole-batch means scaled by `len / batch`, so that the parts' values add up to the
    /// whole's. `None` when no term concerns those images.
    pub fn restrict(&self, start: usize, len: usize, batch: usize) -> Option<Self> {
        let share = |term: &Self| {
            if len == batch {
                term.clone()
            } else {
                Self::Scaled { factor: len as f32 / batch as f32, inner: Box::new(term.clone()) }
            }
        };
        let renumber = |term: &Self, index: usize| {
            (start..start + len).contains(&index).then(|| term.clone().at(index - start))
        };
        match self {
            Self::Channel { batch: target, .. }
            | Self::Neuron { batch: target, .. }
            | Self::Dream { batch: target, .. }
            | Self::Direction { batch: target, .. }
            | Self::Class { batch: target, .. }
            | Self::Caricature { batch: target, .. }
            | Self::Inversion { batch: target, .. } => match target {
                Some(index) => renumber(self, *index),
                None => Some(share(self)),
            },
            Self::Diversity { .. }
            | Self::TotalVariation { .. }
            | Self::L1 { .. }
            | Self::L2 { .. } => Some(share(self)),
            Self::Scaled { factor, inner } => inner
                .restrict(start, len, batch)
                .map(|inner| Self::Scaled { factor: *factor, inner: Box::new(inner) }),
            Self::Negated(inner) => inner.restrict(start, len, batch).map(|inner| -inner),
            Self::Sum(terms) => {
                Self::total(terms.iter().filter_map(|t| t.restrict(start, len, batch)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fv_restrict_keeps_each_parts_terms() {
        let objective: Objective = "a:1@0 + a:2@3 - tv(0.5) + -dream(b)".parse().unwrap();
        assert!(objective.is_separable());
        assert_eq!(
            objective.restrict(2, 2, 4).unwrap().to_string(),
            "a:2@1 - 0.5 * tv(0.5) - 0.5 * dream(b)"
        );
        assert_eq!(objective.restrict(0, 4, 4), Some(objective.clone()));
        let only: Objective = "a:1@0".parse().unwrap();
        assert_eq!(only.restrict(1, 1, 2), None);
        assert!(!"a:1 + diversity(a)".parse::<Objective>().unwrap().is_separable());
    }
}
