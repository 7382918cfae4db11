//! [`TechniqueCounts`]: how many units have each technique, the coverage numbers that
//! `microscope verify` reports from the unit files and `microscope inspect` from layer
//! manifests, so the two agree by construction.

use serde::{Serialize, Serializer};

use super::layer::Coverage;
use super::technique::Technique;
use super::unit::UnitManifest;

/// Units with a `unit.json`, and units with each technique.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TechniqueCounts {
    /// Units with a `unit.json`.
    pub built: u64,
    /// Per technique, in [`Technique::ALL`] order.
    counts: [u64; Technique::ALL.len()],
}

impl TechniqueCounts {
    /// Units with `technique`.
    pub fn get(&self, technique: Technique) -> u64 {
        self.counts.get(slot(technique)).copied().unwrap_or(0)
    }

    /// Counts one unit's manifest.
    pub fn add_unit(&mut self, unit: &UnitManifest) {
        self.built += 1;
        for technique in Technique::ALL {
            if unit.has(technique)
                && let Some(count) = self.counts.get_mut(slot(technique))
            {
                *count += 1;
            }
        }
    }

    /// The counts a layer manifest's coverage states.
    pub fn from_coverage(coverage: &Coverage) -> Self {
        let mut counts = Self { built: coverage.built.len(), ..Self::default() };
        for technique in Technique::ALL {
            if let Some(count) = counts.counts.get_mut(slot(technique)) {
                *count = coverage.get(technique).len();
            }
        }
        counts
    }

    /// Adds another layer's counts (totals per checkpoint, model or atlas).
    pub fn add(&mut self, other: &Self) {
        self.built += other.built;
        for (count, more) in self.counts.iter_mut().zip(other.counts) {
            *count += more;
        }
    }

    /// `(technique, units)` pairs in [`Technique::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Technique, u64)> + '_ {
        Technique::ALL.into_iter().map(|technique| (technique, self.get(technique)))
    }
}

/// The index of a technique in [`Technique::ALL`].
fn slot(technique: Technique) -> usize {
    Technique::ALL.iter().position(|&t| t == technique).unwrap_or(0)
}

/// As `{"built": n, "channel": n, ...}`, for `--json` output.
impl Serialize for TechniqueCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(Technique::ALL.len() + 1))?;
        map.serialize_entry("built", &self.built)?;
        for (technique, count) in self.iter() {
            map.serialize_entry(technique.as_str(), &count)?;
        }
        map.end()
    }
}
