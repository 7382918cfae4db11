//! The build settings `model.json` records (`provenance.build.settings`), serialised from the
//! plan and the option structs the build runs with (never prose restating constants), and the
//! fingerprint of each technique's share of them that every unit records in `unit.json`
//! (`built`): a rerun compares fingerprints and redoes exactly what changed.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use microscope_core::atlas::{Sha256Hex, Statistic, Technique, to_json_compact};
use microscope_core::examples::MAX_CROPS_PER_PHOTO;
use microscope_core::examples::label_rule;
use microscope_core::fv::{Augmentation, Parameterization};
use microscope_core::weights::sha256_hex;
use serde::Serialize;
use serde_json::Value;

use super::corpus::{Corpus, WORKING_SIDE};
use super::encode::{ImageFormats, image_formats};
use super::plan::BuildPlan;
use super::selection::BuildTechnique;
use super::unit_files::EXAMPLE_TILE;
use super::visualize::{DIVERSITY, diversity_objective, render_options};
use crate::device::DeviceInfo;

/// Hex digits of a fingerprint (64 bits of a sha256: plenty to tell settings apart).
const FINGERPRINT_HEX: usize = 16;

/// Everything `model.json` records about how its units were built.
#[derive(Debug, Clone, Serialize)]
pub struct BuildSettings {
    /// The layers asked for (`all` or names).
    pub layers: String,
    /// The units asked for (`all` or ranges).
    pub units: String,
    /// The units asked to get feature visualizations.
    pub fv_units: String,
    /// The techniques of the last run.
    pub techniques: Vec<&'static str>,
    /// The formats of the images (not part of any fingerprint: `microscope compact` changes
    /// the formats of an atlas without changing what its images show).
    pub image_formats: ImageFormats,
    /// Feature visualizations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fv: Option<FvSettings>,
    /// Dataset examples and histograms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examples: Option<ExamplesSettings>,
    /// Top classes and labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<ClassesSettings>,
    /// Circuits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuits: Option<CircuitsSettings>,
}

/// The settings sections that describe one kind of unit content: a later run that does not
/// build a kind keeps its section, since the units it built keep that content.
const SECTIONS: [&str; 4] = ["fv", "examples", "classes", "circuits"];

/// How feature visualizations are rendered.
#[derive(Debug, Clone, Serialize)]
pub struct FvSettings {
    /// What every image shares.
    #[serde(flatten)]
    pub render: RenderSettings,
    /// The diversity images.
    pub diversity: DiversitySettings,
    /// The device the last run rendered on (not part of a part's fingerprint: a device does
    /// not change what an image should be).
    pub device: DeviceInfo,
}

/// The render loop's options (`microscope_core::fv::RenderOptions`).
#[derive(Debug, Clone, Serialize)]
pub struct RenderSettings {
    /// Side in pixels.
    pub size_px: usize,
    /// Optimisation steps.
    pub steps: usize,
    /// Base seed; each image's seed derives from it, the layer, unit and technique.
    pub seed: u64,
    /// Adam's step size.
    pub learning_rate: f32,
    /// The image parameterization.
    pub parameterization: ParameterizationSetting,
    /// Whether colours are decorrelated.
    pub decorrelate: bool,
    /// The random transforms.
    pub transforms: &'static str,
}

/// An image parameterization.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterizationSetting {
    /// A Fourier spectrum with this decay.
    Fourier {
        /// Exponent of the spectral decay.
        decay: f32,
    },
    /// One value per pixel.
    Pixel,
}

/// How each unit's diversity images are made.
#[derive(Debug, Clone, Serialize)]
pub struct DiversitySettings {
    /// Images per unit.
    pub images: usize,
    /// The objective (`LAYER` and `UNIT` stand for the unit's).
    pub objective: String,
}

/// The photos examples and classes are computed over.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusSettings {
    /// The corpus in words.
    pub description: String,
    /// Photos in it.
    pub photos: usize,
    /// sha256 of its `photos.json` (which photos, at which sizes, from where).
    pub photos_sha256: String,
    /// Longest side of the working copy of a photo.
    pub working_side_px: u32,
    /// Square crop sides as fractions of a photo's short side.
    pub crop_scales: Vec<f32>,
    /// Crops per forward pass.
    pub batch: usize,
}

/// Dataset examples and histograms.
#[derive(Debug, Clone, Serialize)]
pub struct ExamplesSettings {
    /// The corpus.
    pub corpus: CorpusSettings,
    /// Top and bottom examples kept per unit.
    pub top_k: usize,
    /// The most crops of one photo in a top or bottom row.
    pub max_crops_per_photo: usize,
    /// What ranks the top examples (and what the histogram counts).
    pub top_by: Statistic,
    /// What ranks the bottom examples.
    pub bottom_by: &'static str,
    /// Side of a crop in a unit's example sheet.
    pub tile_px: u32,
    /// Histogram bins before empty end bins are trimmed.
    pub histogram_bins: usize,
}

/// Top classes and the label taken from them.
#[derive(Debug, Clone, Serialize)]
pub struct ClassesSettings {
    /// The corpus.
    pub corpus: CorpusSettings,
    /// Classes kept per unit.
    pub count: usize,
    /// The score: Pearson correlation over the corpus crops of the unit's spatial mean with
    /// each class logit.
    pub score: &'static str,
    /// The unit's label: the short name of its top class, when the label rule allows
    /// (`microscope_core::examples::label_rule`, in words with its numbers).
    pub label: String,
}

/// Circuits.
#[derive(Debug, Clone, Serialize)]
pub struct CircuitsSettings {
    /// Connections kept per direction.
    pub per_direction: usize,
    /// The rule (`microscope_core::circuits`).
    pub method: &'static str,
}

impl BuildSettings {
    /// The settings of `plan`, with the loaded `corpus` when it has one.
    pub fn new(plan: &BuildPlan, corpus: Option<&Corpus>) -> Result<Self> {
        let asked = &plan.asked;
        let corpus = corpus.map(|corpus| corpus_settings(plan, corpus)).transpose()?;
        let has = |t: BuildTechnique| plan.wants(t);
        let fv = (!plan.fv_techniques().is_empty()).then(|| fv_settings(plan));
        let examples = corpus.clone().filter(|_| has(BuildTechnique::Examples)).map(|corpus| {
            ExamplesSettings {
                corpus,
                top_k: plan.stats.top_k,
                max_crops_per_photo: MAX_CROPS_PER_PHOTO,
                top_by: Statistic::SpatialMax,
                bottom_by: "spatial_min",
                tile_px: EXAMPLE_TILE,
                histogram_bins: plan.stats.bins,
            }
        });
        let classes =
            corpus.filter(|_| has(BuildTechnique::Classes)).map(|corpus| ClassesSettings {
                corpus,
                count: plan.top_classes,
                score: "pearson(spatial_mean, logit)",
                label: format!("top_class_short_name: {}", label_rule::rule_text()),
            });
        let circuits = has(BuildTechnique::Circuits)
            .then_some(CircuitsSettings { per_direction: plan.circuit_links, method: "weights" });
        Ok(Self {
            layers: asked.layers.clone(),
            units: asked.units.clone(),
            fv_units: asked.fv_units.clone(),
            techniques: plan.techniques.iter().map(|t| t.name()).collect(),
            image_formats: image_formats(),
            fv,
            examples,
            classes,
            circuits,
        })
    }

    /// As `model.json` records them, joined with what it recorded before (`previous`): the
    /// section of a kind of content this run does not build is kept.
    pub fn to_map(
        &self,
        previous: Option<&BTreeMap<String, Value>>,
    ) -> Result<BTreeMap<String, Value>> {
        let Value::Object(fields) = serde_json::to_value(self)? else {
            anyhow::bail!("build settings are not an object");
        };
        let mut map: BTreeMap<String, Value> = fields.into_iter().collect();
        for section in SECTIONS {
            if let Some(old) = previous.and_then(|p| p.get(section))
                && !map.contains_key(section)
            {
                map.insert(section.to_owned(), old.clone());
            }
        }
        Ok(map)
    }

    /// The fingerprint of each atlas technique this run builds, for a checkpoint whose weights
    /// have `weights` as sha256: what a unit records in `built`.
    pub fn fingerprints(&self, weights: Option<&Sha256Hex>) -> Result<BTreeMap<Technique, String>> {
        let weights = weights.map(|w| w.as_str());
        let mut out = BTreeMap::new();
        if let Some(fv) = &self.fv {
            let render = fingerprint(&(&fv.render, weights))?;
            for technique in [Technique::Channel, Technique::Neuron, Technique::Negative] {
                out.insert(technique, render.clone());
            }
            out.insert(Technique::Diversity, fingerprint(&(&fv.render, &fv.diversity, weights))?);
        }
        if let Some(examples) = &self.examples {
            let print = fingerprint(&(examples, weights))?;
            out.insert(Technique::DatasetExamples, print.clone());
            out.insert(Technique::Histogram, print);
        }
        if let Some(classes) = &self.classes {
            out.insert(Technique::TopClasses, fingerprint(&(classes, weights))?);
        }
        if let Some(circuits) = &self.circuits {
            out.insert(Technique::Circuits, fingerprint(&(circuits, weights))?);
        }
        Ok(out)
    }
}

/// The first hex digits of the sha256 of `value` as compact JSON.
fn fingerprint<T: Serialize>(value: &T) -> Result<String> {
    let bytes = serde_json::to_vec(value).context("serialising settings")?;
    let mut hex = sha256_hex(&bytes);
    hex.truncate(FINGERPRINT_HEX);
    Ok(hex)
}

fn fv_settings(plan: &BuildPlan) -> FvSettings {
    let options = render_options(&plan.fv);
    let parameterization = match options.parameterization {
        Parameterization::Fourier { decay } => ParameterizationSetting::Fourier { decay },
        Parameterization::Pixel => ParameterizationSetting::Pixel,
    };
    let transforms = match options.augmentation {
        Augmentation::Standard => "standard",
        Augmentation::Custom(_) => "custom",
    };
    FvSettings {
        render: RenderSettings {
            size_px: options.size_px,
            steps: options.steps,
            seed: options.seed,
            learning_rate: options.learning_rate,
            parameterization,
            decorrelate: options.decorrelate,
            transforms,
        },
        diversity: DiversitySettings {
            images: DIVERSITY,
            objective: diversity_objective("LAYER", "UNIT"),
        },
        device: plan.device_info.clone(),
    }
}

fn corpus_settings(plan: &BuildPlan, corpus: &Corpus) -> Result<CorpusSettings> {
    let photos_json = to_json_compact(&corpus.manifest())?;
    Ok(CorpusSettings {
        description: corpus.description.clone(),
        photos: corpus.photos.len(),
        photos_sha256: sha256_hex(&photos_json),
        working_side_px: WORKING_SIDE,
        crop_scales: plan.stats.scales.clone(),
        batch: plan.stats.batch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(steps: usize) -> RenderSettings {
        RenderSettings {
            size_px: 24,
            steps,
            seed: 0,
            learning_rate: 0.05,
            parameterization: ParameterizationSetting::Fourier { decay: 1.0 },
            decorrelate: true,
            transforms: "standard",
        }
    }

    fn settings(steps: usize, per_direction: usize) -> BuildSettings {
        BuildSettings {
            layers: "all".into(),
            units: "all".into(),
            fv_units: "all".into(),
            techniques: vec!["channel", "circuits"],
            image_formats: image_formats(),
            fv: Some(FvSettings {
                render: render(steps),
                diversity: DiversitySettings { images: 4, objective: "x".into() },
                device: crate::device::cpu_info(),
            }),
            examples: None,
            classes: None,
            circuits: Some(CircuitsSettings { per_direction, method: "weights" }),
        }
    }

    #[test]
    fn a_setting_changes_only_the_fingerprints_of_the_techniques_it_governs() {
        let base = settings(12, 8).fingerprints(None).unwrap();
        let steps = settings(16, 8).fingerprints(None).unwrap();
        let links = settings(12, 4).fingerprints(None).unwrap();
        assert_eq!(base.len(), 5, "four visualizations and circuits: {base:?}");
        for (technique, print) in &base {
            assert_eq!(print.len(), FINGERPRINT_HEX);
            let visual = technique != &Technique::Circuits;
            assert_eq!(steps[technique] != *print, visual, "{technique} after a steps change");
            assert_eq!(links[technique] != *print, !visual, "{technique} after a links change");
        }
        // Other weights make everything stale.
        let sha = Sha256Hex::parse(&"ab".repeat(32)).unwrap();
        let other = settings(12, 8).fingerprints(Some(&sha)).unwrap();
        assert!(base.iter().all(|(t, p)| other[t] != *p));
    }

    #[test]
    fn model_json_keeps_the_sections_of_content_this_run_did_not_build() {
        let mut previous = BTreeMap::new();
        previous.insert("examples".to_owned(), serde_json::json!({"top_k": 4}));
        previous.insert("fv".to_owned(), serde_json::json!({"steps": 1}));
        previous.insert("fv_steps".to_owned(), serde_json::json!(1));
        let map = settings(12, 8).to_map(Some(&previous)).unwrap();
        assert_eq!(map["examples"]["top_k"], 4, "kept");
        assert_eq!(map["fv"]["steps"], 12, "replaced");
        assert!(!map.contains_key("fv_steps"), "keys of older builders are not carried");
        assert_eq!(map["fv"]["parameterization"]["fourier"]["decay"], 1.0);
        assert_eq!(map["image_formats"]["generated"], "png");
        assert_eq!(map["image_formats"]["photographic"], "jpeg");
    }
}
