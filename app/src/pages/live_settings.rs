//! What the viewer asks the in-browser renderer for: the objective of a technique (a unit's
//! channel, neuron, negative, diversity; a layer's DeepDream) in core's objective grammar, and
//! the render settings a deep link carries (`size`, `steps`, `seed`, `path`, `render=1`).

use leptos::prelude::*;
use microscope_core::atlas::Technique;
use microscope_core::protocol::RenderSettings;

use crate::atlas::UnitCtx;
use crate::components::live_render::{RenderJob, model_ref};
use crate::gpu::PathChoice;
use crate::pages::query_param;

/// Browser renders by default: small enough to finish in about a minute on a CPU in wasm.
pub const RENDER_SIZE_PX: u32 = 64;
/// Steps of a browser render by default.
pub const RENDER_STEPS: u32 = 64;
/// Images of a diversity render (as in the atlas).
pub const DIVERSITY_BATCH: u32 = 4;

/// A layer name in the objective grammar: bare when it can be, else quoted.
pub fn layer_text(layer: &str) -> String {
    let mut chars = layer.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/'));
    if bare {
        layer.to_owned()
    } else {
        format!("\"{}\"", layer.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The objective of a technique for one unit and how many images it makes.
pub fn technique_objective(technique: Technique, layer: &str, unit: u32) -> (String, u32) {
    let layer = layer_text(layer);
    match technique {
        Technique::Neuron => (format!("neuron({layer}:{unit})"), 1),
        Technique::Negative => (format!("-{layer}:{unit}"), 1),
        Technique::Diversity => (format!("{layer}:{unit} + diversity({layer})"), DIVERSITY_BATCH),
        _ => (format!("{layer}:{unit}"), 1),
    }
}

/// The browser render of `technique` for a unit with `seed` and the link's size and steps,
/// cached under the same key wherever it is asked for (unit page or embed card).
pub fn technique_job(
    ctx: &UnitCtx,
    technique: Technique,
    seed: u64,
    settings: &UrlRenderSettings,
) -> RenderJob {
    let model = &ctx.layer.model.model;
    let layer = ctx.layer.info().name.as_str();
    let (size_px, steps) = (settings.size_px(), settings.steps());
    let (objective, batch) = technique_objective(technique, layer, ctx.unit);
    let key = format!("{}/{}/{layer}/{}", model.id, ctx.layer.checkpoint, ctx.unit);
    RenderJob {
        model: model_ref(model, &ctx.layer.checkpoint),
        settings: RenderSettings {
            objective,
            size_px,
            steps,
            seed,
            batch,
            preview_every: (steps / 16).clamp(1, 8),
        },
        cache_key: Some(format!("{key}/{technique}?seed={seed}&size={size_px}&steps={steps}")),
        file_stem: format!("{}-{layer}-{}-{technique}-seed{seed}-{size_px}px", model.id, ctx.unit),
    }
}

/// A layer's DeepDream: every unit of the layer at once.
pub fn dream_objective(layer: &str) -> String {
    format!("dream({})", layer_text(layer))
}

/// The render settings of the page's URL, with the defaults above.
#[derive(Clone, Copy)]
pub struct UrlRenderSettings {
    size: Memo<Option<String>>,
    steps: Memo<Option<String>>,
    path: Memo<Option<String>>,
    render: Memo<Option<String>>,
}

impl UrlRenderSettings {
    /// Reads them from the current route's query.
    pub fn from_query() -> Self {
        Self {
            size: query_param("size"),
            steps: query_param("steps"),
            path: query_param("path"),
            render: query_param("render"),
        }
    }

    /// `size` (16 to 512 px).
    pub fn size_px(&self) -> u32 {
        self.size
            .get()
            .and_then(|s| s.parse::<u32>().ok())
            .map_or(RENDER_SIZE_PX, |s| s.clamp(16, 512))
    }

    /// `steps` (1 to 8192).
    pub fn steps(&self) -> u32 {
        self.steps
            .get()
            .and_then(|s| s.parse::<u32>().ok())
            .map_or(RENDER_STEPS, |s| s.clamp(1, 8192))
    }

    /// `path=webgpu|cpu`, when the link forces one.
    pub fn forced_path(&self) -> Option<microscope_core::protocol::ComputePath> {
        self.path.get().and_then(|p| PathChoice::parse_path(&p))
    }

    /// `render=1`: start without waiting for a click.
    pub fn auto_start(&self) -> bool {
        self.render.get().is_some_and(|r| r == "1" || r == "true")
    }

    /// The settings the link gives (not the defaults), as query items, so a shared link or an
    /// embed reproduces the same render: `size`, `steps`, `path`, `render=1`.
    pub fn link_query(&self) -> Vec<String> {
        let mut query = Vec::new();
        if self.size.get().is_some() {
            query.push(format!("size={}", self.size_px()));
        }
        if self.steps.get().is_some() {
            query.push(format!("steps={}", self.steps()));
        }
        if let Some(path) = self.forced_path() {
            query.push(format!("path={}", path.as_str()));
        }
        if self.auto_start() {
            query.push("render=1".to_owned());
        }
        query
    }
}
