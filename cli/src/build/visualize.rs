//! Feature visualizations for a build: channel, neuron and negative images of many units of
//! one layer optimised as one batch (one image per unit and technique), and each unit's
//! diversity images as a batch of their own. Every image has its own seed (from the base
//! seed, layer, unit and technique) and the objective is separable, so a unit's images do
//! not depend on which units share its batch: shards and resumed builds give the same bytes.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use anyhow::{Context, Result};
use burn::prelude::Device;
use microscope_core::fv::image::RenderedImage;
use microscope_core::fv::{Objective, RenderOptions, render};
use microscope_core::network::Network;
use microscope_core::rng::SplitMix64;

use super::selection::BuildTechnique;

/// Images in a diversity set.
pub const DIVERSITY: usize = 4;

/// Render settings of a build.
#[derive(Debug, Clone)]
pub struct FvOptions {
    /// Side in pixels.
    pub size: usize,
    /// Optimisation steps.
    pub steps: usize,
    /// Base seed.
    pub seed: u64,
}

/// The render options every image of a build starts from (batch and seeds are set per
/// batch); the build settings record them.
pub fn render_options(options: &FvOptions) -> RenderOptions {
    RenderOptions {
        size_px: options.size,
        steps: options.steps,
        seed: options.seed,
        micro_batch: Some(1),
        ..RenderOptions::default()
    }
}

/// The objective of a unit's diversity images, in the objective grammar.
pub fn diversity_objective(layer: &str, unit: &str) -> String {
    format!("{layer}:{unit} + diversity({layer})")
}

/// One rendered image and how.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The image.
    pub image: RenderedImage,
    /// The objective in the grammar.
    pub objective: String,
    /// Its seed.
    pub seed: u64,
}

/// A unit's renders by technique (diversity: several).
pub type UnitRenders = BTreeMap<BuildTechnique, Vec<Rendered>>;

/// The seed (below 2^53) of image `index` of `technique` for `unit` of `layer`.
pub fn image_seed(
    base: u64,
    layer: &str,
    unit: u32,
    technique: BuildTechnique,
    index: usize,
) -> u64 {
    // FNV-1a of the layer name, then SplitMix64 streams: stable across versions and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in layer.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let stream = (u64::from(unit) << 16) | ((technique as u64) << 8) | index as u64;
    // 53 bits: seeds stay exact as JSON numbers in the browser.
    SplitMix64::new(base ^ hash).fork(stream).next_u64() & ((1 << 53) - 1)
}

fn run(
    network: &dyn Network,
    objective: &Objective,
    options: &RenderOptions,
    device: &Device,
    on_step: &mut dyn FnMut(usize),
) -> Result<Vec<RenderedImage>> {
    let rendering = pollster::block_on(render(network, objective, options, device, |p| {
        on_step(p.step);
        ControlFlow::Continue(())
    }))?;
    Ok(rendering.images)
}

/// Renders `techniques` (the visualization ones) for `units` of `layer`. `on_step` hears
/// about every optimisation step.
pub fn render_units(
    network: &dyn Network,
    layer: &str,
    units: &[u32],
    techniques: &[BuildTechnique],
    options: &FvOptions,
    device: &Device,
    on_step: &mut dyn FnMut(usize),
) -> Result<BTreeMap<u32, UnitRenders>> {
    let mut out: BTreeMap<u32, UnitRenders> =
        units.iter().map(|&u| (u, UnitRenders::new())).collect();
    // The device decides how images are grouped and how often values are read back; neither
    // changes a picture, so neither is part of the recorded settings.
    let chosen = crate::device::current()?;
    let base = RenderOptions {
        micro_batch: chosen.micro_batch(),
        readback_every: chosen.readback_every(),
        ..render_options(options)
    };
    // Channel, neuron and negative of every unit: one separable batch.
    let mut terms = Vec::new();
    let mut slots = Vec::new();
    let mut seeds = Vec::new();
    for &unit in units {
        for &technique in techniques {
            let objective = match technique {
                BuildTechnique::Channel => Objective::channel(layer, unit as usize),
                BuildTechnique::Neuron => Objective::neuron(layer, unit as usize),
                BuildTechnique::Negative => {
                    Objective::Negated(Box::new(Objective::channel(layer, unit as usize)))
                }
                _ => continue,
            };
            let index = terms.len();
            slots.push((unit, technique, objective.to_string()));
            seeds.push(image_seed(options.seed, layer, unit, technique, 0));
            terms.push(objective.at(index));
        }
    }
    if !terms.is_empty() {
        let batch = terms.len();
        let objective = Objective::total(terms).context("no objective")?;
        let render_options = RenderOptions { batch, image_seeds: seeds.clone(), ..base.clone() };
        let images = run(network, &objective, &render_options, device, on_step)?;
        for ((image, (unit, technique, text)), seed) in images.into_iter().zip(slots).zip(seeds) {
            if let Some(renders) = out.get_mut(&unit) {
                renders.entry(technique).or_default().push(Rendered {
                    image,
                    objective: text,
                    seed,
                });
            }
        }
    }
    if techniques.contains(&BuildTechnique::Diversity) {
        for &unit in units {
            let text = diversity_objective(layer, &unit.to_string());
            let objective: Objective =
                text.parse().with_context(|| format!("objective `{text}`"))?;
            let seeds: Vec<u64> = (0..DIVERSITY)
                .map(|i| image_seed(options.seed, layer, unit, BuildTechnique::Diversity, i))
                .collect();
            let render_options = RenderOptions {
                batch: DIVERSITY,
                image_seeds: seeds.clone(),
                micro_batch: None,
                ..base.clone()
            };
            let images = run(network, &objective, &render_options, device, on_step)?;
            if let Some(renders) = out.get_mut(&unit) {
                let list = renders.entry(BuildTechnique::Diversity).or_default();
                for (image, seed) in images.into_iter().zip(seeds) {
                    list.push(Rendered { image, objective: text.clone(), seed });
                }
            }
        }
    }
    Ok(out)
}
