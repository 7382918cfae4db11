//! What a build covers: layers, units per layer, techniques, and the shard that this run
//! builds (unit `u` of every layer belongs to shard `u mod N`).

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};

/// What a build can put in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BuildTechnique {
    /// Channel visualization.
    Channel,
    /// Neuron (centre position) visualization.
    Neuron,
    /// Negative (minimising) visualization.
    Negative,
    /// Four diverse channel visualizations.
    Diversity,
    /// Top and bottom dataset examples and the activation histogram.
    Examples,
    /// Top classes (and the label taken from the strongest).
    Classes,
    /// Strongest input and output weights.
    Circuits,
}

impl BuildTechnique {
    /// Every technique, in the order builds do them.
    pub const ALL: [Self; 7] = [
        Self::Channel,
        Self::Neuron,
        Self::Negative,
        Self::Diversity,
        Self::Examples,
        Self::Classes,
        Self::Circuits,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Channel => "channel",
            Self::Neuron => "neuron",
            Self::Negative => "negative",
            Self::Diversity => "diversity",
            Self::Examples => "examples",
            Self::Classes => "classes",
            Self::Circuits => "circuits",
        }
    }

    /// Whether it is a feature visualization.
    pub fn is_visualization(self) -> bool {
        matches!(self, Self::Channel | Self::Neuron | Self::Negative | Self::Diversity)
    }
}

/// Parses `channel,neuron,examples` (`all` for every technique; `labels` is `classes`,
/// `histogram` and `dataset_examples` are `examples`).
pub fn parse_techniques(text: &str) -> Result<BTreeSet<BuildTechnique>> {
    let mut out = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "all" {
            out.extend(BuildTechnique::ALL);
            continue;
        }
        let technique = match part {
            "labels" | "top_classes" => BuildTechnique::Classes,
            "histogram" | "dataset_examples" => BuildTechnique::Examples,
            other => {
                *BuildTechnique::ALL.iter().find(|t| t.name() == other).with_context(|| {
                    let names: Vec<&str> = BuildTechnique::ALL.iter().map(|t| t.name()).collect();
                    format!("unknown technique `{other}`; known: {}, all", names.join(", "))
                })?
            }
        };
        out.insert(technique);
    }
    if out.is_empty() {
        bail!("no techniques in `{text}`");
    }
    Ok(out)
}

/// Parses `0-15,40` (inclusive ranges and single units) into a sorted set; `all` is `None`.
pub fn parse_units(text: &str) -> Result<Option<BTreeSet<u32>>> {
    if text.trim() == "all" {
        return Ok(None);
    }
    let mut units = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((first, last)) = part.split_once('-') {
            let first: u32 = first.trim().parse().with_context(|| format!("bad range `{part}`"))?;
            let last: u32 = last.trim().parse().with_context(|| format!("bad range `{part}`"))?;
            if last < first {
                bail!("the range `{part}` is reversed");
            }
            units.extend(first..=last);
        } else {
            units.insert(part.parse().with_context(|| format!("`{part}` is not a unit number"))?);
        }
    }
    if units.is_empty() {
        bail!("no units in `{text}`");
    }
    Ok(Some(units))
}

/// A shard: this run builds units `u` with `u mod count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0 .. count`.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole build.
    pub const ALL: Self = Self { index: 0, count: 1 };

    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Self> {
        let (index, count) = text.split_once('/').context("a shard is written K/N, e.g. 0/4")?;
        let index: u32 = index.trim().parse().context("bad shard index")?;
        let count: u32 = count.trim().parse().context("bad shard count")?;
        if count == 0 || index >= count {
            bail!("shard {index}/{count}: need 0 <= K < N");
        }
        Ok(Self { index, count })
    }

    /// Whether `unit` belongs to this shard.
    pub fn owns(self, unit: u32) -> bool {
        unit % self.count == self.index
    }
}

/// The units of a layer of `channels` units that a build covers.
pub fn layer_units(units: Option<&BTreeSet<u32>>, channels: u32, shard: Shard) -> Vec<u32> {
    let all: Vec<u32> = match units {
        Some(set) => set.iter().copied().filter(|&u| u < channels).collect(),
        None => (0..channels).collect(),
    };
    all.into_iter().filter(|&u| shard.owns(u)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_techniques_and_shards() {
        let units = parse_units("0-3, 7,2").unwrap().unwrap();
        assert_eq!(units.into_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 7]);
        assert_eq!(parse_units("all").unwrap(), None);
        assert!(parse_units("5-2").is_err());
        let t = parse_techniques("channel,labels,histogram").unwrap();
        assert_eq!(
            t.into_iter().collect::<Vec<_>>(),
            vec![BuildTechnique::Channel, BuildTechnique::Examples, BuildTechnique::Classes]
        );
        assert_eq!(parse_techniques("all").unwrap().len(), BuildTechnique::ALL.len());
        assert!(parse_techniques("bogus").is_err());
        let shard = Shard::parse("1/3").unwrap();
        let set: BTreeSet<u32> = (0..10).collect();
        assert_eq!(layer_units(Some(&set), 8, shard), vec![1, 4, 7]);
        assert!(Shard::parse("3/3").is_err());
    }
}
