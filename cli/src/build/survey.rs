//! What is left to build at one checkpoint, technique by technique: for every unit of the
//! plan's layers and shard, the techniques it wants (visualizations only for `--fv-units`)
//! whose recorded fingerprint (`built` in `unit.json`) is absent or differs from this run's.
//! A unit keeps everything else it holds, so adding a technique, units, checkpoints or
//! changing a setting builds exactly what is missing or changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;
use microscope_core::atlas::{
    AtlasSource, Name, Technique, UnitManifest, check_assets, parse_unit, paths,
};
use microscope_core::model::Model;

use super::folder::{FolderSource, remove_leftovers};
use super::plan::BuildPlan;
use super::selection::{BuildTechnique, layer_units};

/// One unit with something to build.
pub struct UnitWork {
    /// The unit.
    pub unit: u32,
    /// What to build (the rest of `base` is kept).
    pub techniques: BTreeSet<BuildTechnique>,
    /// The unit as the folder holds it, complete, if it does.
    pub base: Option<UnitManifest>,
}

impl UnitWork {
    /// Whether `technique` is to be built.
    pub fn needs(&self, technique: BuildTechnique) -> bool {
        self.techniques.contains(&technique)
    }
}

/// The units to build in one layer.
pub struct LayerWork {
    /// Catalogue index.
    pub layer: usize,
    /// Its name.
    pub name: Name,
    /// Units, ascending.
    pub units: Vec<UnitWork>,
}

impl LayerWork {
    /// The units that need `technique`.
    pub fn needing(&self, technique: BuildTechnique) -> impl Iterator<Item = &UnitWork> {
        self.units.iter().filter(move |u| u.needs(technique))
    }
}

/// What is left at one checkpoint.
#[derive(Default)]
pub struct Survey {
    /// Layers with work, in catalogue order.
    pub layers: Vec<LayerWork>,
    /// Units with nothing to build.
    pub done: usize,
    /// Units whose parts carry no build record (built by an older `microscope`): their
    /// present parts are kept as they are.
    pub unrecorded: usize,
}

impl Survey {
    /// Units with something to build.
    pub fn units(&self) -> usize {
        self.layers.iter().map(|l| l.units.len()).sum()
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.units() == 0
    }

    /// Whether any unit needs `technique`.
    pub fn needs(&self, technique: BuildTechnique) -> bool {
        self.layers.iter().any(|l| l.needing(technique).next().is_some())
    }

    /// `N units to build, M already complete`, then how many units need each technique.
    pub fn summary(&self) -> String {
        let mut text = format!("{} units to build, {} already complete", self.units(), self.done);
        let mut counts: BTreeMap<BuildTechnique, usize> = BTreeMap::new();
        for unit in self.layers.iter().flat_map(|l| &l.units) {
            for &technique in &unit.techniques {
                *counts.entry(technique).or_default() += 1;
            }
        }
        if !counts.is_empty() {
            let parts: Vec<String> =
                counts.iter().map(|(t, n)| format!("{} {n}", t.name())).collect();
            let _ = write!(text, " (to build: {})", parts.join(", "));
        }
        if self.unrecorded > 0 {
            let _ = write!(
                text,
                "; {} units hold parts without a build record (an older microscope built them): kept",
                self.unrecorded
            );
        }
        text
    }
}

/// Surveys the plan's units of `model` at `checkpoint` in the atlas folder against this run's
/// `fingerprints` (by atlas technique).
pub fn survey(
    plan: &BuildPlan,
    model: &Model,
    model_name: &Name,
    checkpoint: &Name,
    fingerprints: &BTreeMap<Technique, String>,
) -> Result<Survey> {
    let source = FolderSource::new(&plan.out);
    let catalogue = model.layers();
    let mut survey = Survey::default();
    for &layer in &plan.layers {
        let Some(info) = catalogue.get(layer) else { continue };
        let name = Name::new(info.name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let units_dir =
            plan.out.join(paths::layer_dir(model_name, checkpoint, &name).as_str()).join("units");
        remove_leftovers(&units_dir)?;
        let mut units = Vec::new();
        for unit in layer_units(plan.units.as_ref(), u32::try_from(info.channels)?, plan.shard) {
            let base = complete_unit(&source, model_name, checkpoint, &name, unit);
            let wanted = plan
                .techniques
                .iter()
                .copied()
                .filter(|t| !t.is_visualization() || plan.renders(unit));
            let mut unrecorded = false;
            let techniques: BTreeSet<BuildTechnique> = wanted
                .filter(|&technique| match &base {
                    None => true,
                    Some(base) => match is_current(base, technique, fingerprints) {
                        Current::Yes => false,
                        Current::Unrecorded => {
                            unrecorded = true;
                            false
                        }
                        Current::No => true,
                    },
                })
                .collect();
            survey.unrecorded += usize::from(unrecorded);
            if techniques.is_empty() {
                survey.done += 1;
            } else {
                units.push(UnitWork { unit, techniques, base });
            }
        }
        if !units.is_empty() {
            survey.layers.push(LayerWork { layer, name, units });
        }
    }
    Ok(survey)
}

/// Whether a unit's part is up to date.
enum Current {
    /// Recorded with this run's fingerprint.
    Yes,
    /// Present without a record: kept.
    Unrecorded,
    /// Absent, or recorded with another fingerprint.
    No,
}

fn is_current(
    base: &UnitManifest,
    technique: BuildTechnique,
    fingerprints: &BTreeMap<Technique, String>,
) -> Current {
    let mut unrecorded = false;
    for &part in technique.atlas_techniques() {
        match (base.built.get(part.as_str()), fingerprints.get(&part)) {
            (Some(recorded), Some(wanted)) if recorded == wanted => {}
            (None, _) if base.has(part) => unrecorded = true,
            _ => return Current::No,
        }
    }
    if unrecorded { Current::Unrecorded } else { Current::Yes }
}

/// The unit's manifest if its `unit.json` parses and its assets have their recorded sizes.
fn complete_unit(
    source: &FolderSource,
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    unit: u32,
) -> Option<UnitManifest> {
    let path = paths::unit_manifest(model, checkpoint, layer, unit);
    let bytes = source.read(&path).ok()??;
    let manifest = parse_unit(path.as_str(), &bytes).ok()?;
    check_assets(source, &manifest, false).is_empty().then_some(manifest)
}
