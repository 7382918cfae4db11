//! What the viewer asks the in-browser renderer for: the objective of a technique (a unit's
//! channel, neuron, negative, diversity; a layer's DeepDream; a caricature of the visitor's
//! photo and a DeepDream from it), built with core's objective algebra, and the render settings
//! a deep link carries (`size`, `steps`, `seed`, `path`, `render=1`, the lab's `start=photo`),
//! brought within core's [`RenderLimits::BROWSER`].

use leptos::prelude::*;
use microscope_core::atlas::Technique;
use microscope_core::objective::Objective;
use microscope_core::protocol::{ComputePath, PhotoRole, RenderLimits};

use crate::atlas::UnitCtx;
use crate::components::live_render::{Look, RenderJob, model_ref, weights_bytes};
use crate::gpu::PathChoice;
use crate::pages::query_param;

/// Browser renders by default: small enough to finish in about a minute on a CPU in wasm.
pub const RENDER_SIZE_PX: u32 = 64;
/// Steps of a browser render by default.
pub const RENDER_STEPS: u32 = 64;
/// Images of a diversity render (as in the atlas).
pub const DIVERSITY_BATCH: u32 = 4;

/// The objective of a technique for one unit and how many images it makes.
pub fn technique_objective(technique: Technique, layer: &str, unit: u32) -> (Objective, u32) {
    let unit = unit as usize;
    let channel = Objective::channel(layer, unit);
    match technique {
        Technique::Neuron => (Objective::neuron(layer, unit), 1),
        Technique::Negative => (-channel, 1),
        Technique::Diversity => (channel + Objective::diversity(layer), DIVERSITY_BATCH),
        _ => (channel, 1),
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
    let (objective, batch) = technique_objective(technique, layer, ctx.unit);
    let look = Look { size_px: settings.size_px(), steps: settings.steps(), seed };
    RenderJob::new(
        model_ref(model, &ctx.layer.checkpoint),
        objective,
        batch,
        look,
        &format!("{}/{}/{layer}/{}/{technique}", model.id, ctx.layer.checkpoint, ctx.unit),
        &format!("{}-{layer}-{}-{technique}", model.id, ctx.unit),
    )
    .downloading(weights_bytes(model, &ctx.layer.checkpoint))
}

/// A layer's DeepDream: every unit of the layer at once.
pub fn dream_objective(layer: &str) -> Objective {
    Objective::dream(layer)
}

/// The lab's `start` value that starts a render from the visitor's photo (`start=photo`).
pub const START_FROM_PHOTO: &str = "photo";

/// The techniques made from the visitor's photo, rendered in the lab. A link names the
/// technique (its objective, `start=photo`), never the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoTechnique {
    /// Lucid's caricature: an image, from noise, whose activations at a layer point the way
    /// the photo's do, exaggerated (`caricature(layer)`, the photo as its reference).
    Caricature,
    /// DeepDream starting from the photo: every unit of the layer excited, the photo as the
    /// first image (`dream(layer)`, `start=photo`).
    DeepDream,
}

impl PhotoTechnique {
    /// Both, in the order the pages offer them.
    pub const ALL: [Self; 2] = [Self::Caricature, Self::DeepDream];

    /// The objective at `layer`.
    pub fn objective(self, layer: &str) -> Objective {
        match self {
            Self::Caricature => {
                Objective::Caricature { layer: layer.to_owned(), power: 1.0, batch: None }
            }
            Self::DeepDream => dream_objective(layer),
        }
    }

    /// Whether the render starts from the photo.
    pub fn starts_from_photo(self) -> bool {
        matches!(self, Self::DeepDream)
    }

    /// Its name on buttons and links.
    pub fn label(self) -> &'static str {
        match self {
            Self::Caricature => "Caricature of your photo",
            Self::DeepDream => "DeepDream from your photo",
        }
    }

    /// Its id in the page (`lab-caricature`, `lab-deepdream`; `photo-caricature`…).
    pub fn id(self) -> &'static str {
        match self {
            Self::Caricature => "caricature",
            Self::DeepDream => "deepdream",
        }
    }
}

/// What a render does with the visitor's photo: the reference when `objective` compares with
/// one, the start when the link says `start=photo`; `None` when it needs no photo.
pub fn photo_role(objective: &Objective, start: Option<&str>) -> Option<PhotoRole> {
    PhotoRole::of(objective.needs_reference(), start == Some(START_FROM_PHOTO))
}

/// A number of a link, or `default` when absent or not a number; the caller clamps it.
pub fn link_number(text: Option<String>, default: u32) -> u32 {
    text.and_then(|t| t.trim().parse::<u32>().ok()).unwrap_or(default)
}

/// The render settings of the page's URL, with the defaults above.
#[derive(Clone, Copy)]
pub struct UrlRenderSettings {
    size: Memo<Option<String>>,
    steps: Memo<Option<String>>,
    seed: Memo<Option<String>>,
    path: Memo<Option<String>>,
    render: Memo<Option<String>>,
}

impl UrlRenderSettings {
    /// Reads them from the current route's query.
    pub fn from_query() -> Self {
        Self {
            size: query_param("size"),
            steps: query_param("steps"),
            seed: query_param("seed"),
            path: query_param("path"),
            render: query_param("render"),
        }
    }

    /// `size`, within the limits.
    pub fn size_px(&self) -> u32 {
        RenderLimits::BROWSER.clamp_size_px(link_number(self.size.get(), RENDER_SIZE_PX))
    }

    /// `steps`, within the limits.
    pub fn steps(&self) -> u32 {
        RenderLimits::BROWSER.clamp_steps(link_number(self.steps.get(), RENDER_STEPS))
    }

    /// `seed`, when the link sets one.
    pub fn seed(&self) -> Option<u64> {
        self.seed.get().and_then(|s| s.trim().parse().ok())
    }

    /// Size, steps and `seed` (0 when the link sets none).
    pub fn look(&self) -> Look {
        Look { size_px: self.size_px(), steps: self.steps(), seed: self.seed().unwrap_or(0) }
    }

    /// `path=webgpu|cpu`, when the link forces one.
    pub fn forced_path(&self) -> Option<ComputePath> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_technique_has_its_objective_and_image_count() {
        let channel = Objective::channel("blocks.8", 3);
        assert_eq!(technique_objective(Technique::Channel, "blocks.8", 3), (channel.clone(), 1));
        assert_eq!(
            technique_objective(Technique::Neuron, "blocks.8", 3),
            (Objective::neuron("blocks.8", 3), 1)
        );
        assert_eq!(technique_objective(Technique::Negative, "blocks.8", 3), (-channel.clone(), 1));
        assert_eq!(
            technique_objective(Technique::Diversity, "blocks.8", 3),
            (channel + Objective::diversity("blocks.8"), DIVERSITY_BATCH)
        );
        assert_eq!(dream_objective("head"), Objective::dream("head"));
    }

    #[test]
    fn photo_techniques_use_the_photo_as_their_links_say() {
        let caricature = PhotoTechnique::Caricature.objective("blocks.8");
        assert_eq!(caricature.to_string(), "caricature(blocks.8)");
        assert_eq!(photo_role(&caricature, None), Some(PhotoRole::Reference));
        let dream = PhotoTechnique::DeepDream.objective("blocks.8");
        assert_eq!(dream, Objective::dream("blocks.8"));
        assert!(PhotoTechnique::DeepDream.starts_from_photo());
        assert_eq!(photo_role(&dream, Some(START_FROM_PHOTO)), Some(PhotoRole::Start));
        assert_eq!(photo_role(&dream, None), None, "a plain DeepDream needs no photo");
        assert_eq!(photo_role(&dream, Some("noise")), None);
        assert_eq!(
            photo_role(&caricature, Some(START_FROM_PHOTO)),
            Some(PhotoRole::ReferenceAndStart)
        );
    }

    #[test]
    fn link_numbers_fall_back_to_the_default() {
        assert_eq!(link_number(Some(" 128 ".into()), 64), 128);
        assert_eq!(link_number(Some("-1".into()), 64), 64);
        assert_eq!(link_number(Some("1e9".into()), 64), 64);
        assert_eq!(link_number(Some("99999999999".into()), 64), 64, "past u32");
        assert_eq!(link_number(None, 64), 64);
    }
}
