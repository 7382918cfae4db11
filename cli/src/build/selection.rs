//! What a build covers: layers, units per layer, techniques, and the shard that this run
//! builds (unit `u` of every layer belongs to shard `u mod N`), given as `K/N` or read from
//! the job engine (`auto`: a Kubernetes Indexed Job or a Slurm job array).

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use microscope_core::atlas::Technique;

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

    /// The parts of a unit it makes, as the atlas names them (what `unit.json` records in
    /// `built`).
    pub fn atlas_techniques(self) -> &'static [Technique] {
        match self {
            Self::Channel => &[Technique::Channel],
            Self::Neuron => &[Technique::Neuron],
            Self::Negative => &[Technique::Negative],
            Self::Diversity => &[Technique::Diversity],
            Self::Examples => &[Technique::DatasetExamples, Technique::Histogram],
            Self::Classes => &[Technique::TopClasses],
            Self::Circuits => &[Technique::Circuits],
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

/// The index of a task of a Kubernetes Indexed Job.
pub const KUBERNETES_INDEX: &str = "JOB_COMPLETION_INDEX";
/// The number of shards, for engines that do not say it (Kubernetes); it also overrides
/// Slurm's count.
pub const SHARD_COUNT_VARIABLE: &str = "MICROSCOPE_SHARD_COUNT";
/// The task id of a Slurm job array.
const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
/// The smallest task id of the array.
const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
/// The number of tasks of the array.
const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// The step between task ids of the array.
const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";

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
        Self::checked(index, count)
    }

    /// The shard of this task of a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, with the
    /// count in [`SHARD_COUNT_VARIABLE`], which the job sets to its `completions`) or of a
    /// Slurm job array (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN` of
    /// `SLURM_ARRAY_TASK_COUNT` tasks; the array must have step 1). Says which it found.
    pub fn from_environment() -> Result<Self> {
        let (shard, source) = Self::from_variables(|name| std::env::var(name).ok())?;
        eprintln!("shard {}/{} from {source}", shard.index, shard.count);
        Ok(shard)
    }

    /// [`Shard::from_environment`] over any variables (`get` reads one); also returns where
    /// the shard came from, in words.
    pub fn from_variables(get: impl Fn(&str) -> Option<String>) -> Result<(Self, String)> {
        let number = |name: &str| -> Result<Option<u32>> {
            get(name)
                .map(|text| {
                    text.trim()
                        .parse::<u32>()
                        .with_context(|| format!("{name}={text:?} is not a whole number"))
                })
                .transpose()
        };
        if let Some(index) = number(KUBERNETES_INDEX)? {
            let count = number(SHARD_COUNT_VARIABLE)?.with_context(|| {
                format!(
                    "{KUBERNETES_INDEX} is set (a Kubernetes Indexed Job) but {SHARD_COUNT_VARIABLE}                      is not: set it to the job's completions"
                )
            })?;
            let shard = Self::checked(index, count)?;
            let source = format!(
                "the Kubernetes Indexed Job ({KUBERNETES_INDEX}={index}, {SHARD_COUNT_VARIABLE}={count})"
            );
            return Ok((shard, source));
        }
        if let Some(id) = number(SLURM_ID)? {
            if let Some(step) = number(SLURM_STEP)?
                && step != 1
            {
                bail!("the Slurm array has step {step}: --shard auto needs consecutive task ids");
            }
            let min = number(SLURM_MIN)?
                .with_context(|| format!("{SLURM_ID} is set but {SLURM_MIN} is not"))?;
            let count = number(SHARD_COUNT_VARIABLE)?
                .or(number(SLURM_COUNT)?)
                .with_context(|| format!("{SLURM_ID} is set but {SLURM_COUNT} is not"))?;
            let index = id
                .checked_sub(min)
                .with_context(|| format!("{SLURM_ID}={id} is below {SLURM_MIN}={min}"))?;
            let shard = Self::checked(index, count)?;
            let source =
                format!("the Slurm job array ({SLURM_ID}={id}, {SLURM_MIN}={min}, {count} tasks)");
            return Ok((shard, source));
        }
        bail!(
            "--shard auto found no job index: run it as a Kubernetes Indexed Job ({KUBERNETES_INDEX},              with {SHARD_COUNT_VARIABLE} set to the completions) or a Slurm job array              ({SLURM_ID}, {SLURM_MIN}, {SLURM_COUNT}), or give --shard K/N"
        )
    }

    fn checked(index: u32, count: u32) -> Result<Self> {
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

    fn shard_of(vars: &[(&str, &str)]) -> Result<Shard> {
        Shard::from_variables(|name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        })
        .map(|(shard, _)| shard)
    }

    #[test]
    fn auto_shards_come_from_kubernetes_or_slurm() {
        let k8s = [(KUBERNETES_INDEX, "2"), (SHARD_COUNT_VARIABLE, "3")];
        assert_eq!(shard_of(&k8s).unwrap(), Shard { index: 2, count: 3 });
        let error = shard_of(&[(KUBERNETES_INDEX, "2")]).unwrap_err().to_string();
        assert!(error.contains(SHARD_COUNT_VARIABLE), "{error}");
        assert!(shard_of(&[(KUBERNETES_INDEX, "3"), (SHARD_COUNT_VARIABLE, "3")]).is_err());
        // `sbatch --array=1-3`: ids 1, 2, 3 are shards 0, 1, 2 of 3.
        let slurm = |id: &'static str| {
            [(SLURM_ID, id), (SLURM_MIN, "1"), (SLURM_COUNT, "3"), ("SLURM_ARRAY_TASK_MAX", "3")]
        };
        assert_eq!(shard_of(&slurm("1")).unwrap(), Shard { index: 0, count: 3 });
        assert_eq!(shard_of(&slurm("3")).unwrap(), Shard { index: 2, count: 3 });
        let stepped = [(SLURM_ID, "2"), (SLURM_MIN, "0"), (SLURM_COUNT, "2"), (SLURM_STEP, "2")];
        assert!(shard_of(&stepped).unwrap_err().to_string().contains("step 2"));
        let error = shard_of(&[]).unwrap_err().to_string();
        assert!(error.contains(KUBERNETES_INDEX) && error.contains(SLURM_ID), "{error}");
        assert!(shard_of(&[(KUBERNETES_INDEX, "x"), (SHARD_COUNT_VARIABLE, "3")]).is_err());
    }
}
