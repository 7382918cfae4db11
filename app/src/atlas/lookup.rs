//! Resolving a URL's model, layer and unit against the atlas: found, not found (with the
//! nearest names the atlas does have), or the atlas could not be read.

use std::sync::Arc;

use microscope_core::atlas::{AtlasIndex, LayerInfo, LayerManifest, ModelManifest, UnitManifest};

use super::client::{load_index, load_layer, load_model, load_unit};
use super::error::LoadError;
use crate::links;
use crate::suggest::{Suggestion, nearest, nearest_named};

/// The outcome of resolving a URL.
#[derive(Debug, Clone)]
pub enum Lookup<T> {
    /// Everything the URL names exists.
    Found(T),
    /// Something it names is not in the atlas: what was not found, and what is near.
    NotFound {
        /// What was not found, in words.
        what: String,
        /// The nearest things that exist.
        suggestions: Vec<Suggestion>,
    },
    /// The atlas (or one of its files) could not be read.
    Failed(LoadError),
}

/// A model that exists.
#[derive(Debug, Clone)]
pub struct ModelCtx {
    /// The index.
    pub index: Arc<AtlasIndex>,
    /// The model's manifest.
    pub model: Arc<ModelManifest>,
}

/// A layer that exists, at a checkpoint.
#[derive(Debug, Clone)]
pub struct LayerCtx {
    /// The model.
    pub model: ModelCtx,
    /// The layer's position in the model.
    pub position: usize,
    /// The checkpoint shown.
    pub checkpoint: String,
    /// The layer manifest; an error when the atlas has none (the layer is not built).
    pub manifest: Result<Arc<LayerManifest>, LoadError>,
}

impl LayerCtx {
    /// The layer as the model describes it.
    pub fn info(&self) -> &LayerInfo {
        &self.model.model.graph.layers[self.position]
    }
}

/// A unit that exists in the architecture, at a checkpoint.
#[derive(Debug, Clone)]
pub struct UnitCtx {
    /// Its layer.
    pub layer: LayerCtx,
    /// The unit index.
    pub unit: u32,
    /// Its manifest; an error when the atlas lacks it (not built) or it is damaged.
    pub manifest: Result<Arc<UnitManifest>, LoadError>,
}

/// Resolves a model id.
pub async fn resolve_model(model: &str) -> Lookup<ModelCtx> {
    let index = match load_index().await {
        Ok(index) => index,
        Err(error) => return Lookup::Failed(error),
    };
    if index.model(model).is_none() {
        let candidates = index.models.iter().map(|m| {
            (
                m.id.as_str().to_owned(),
                format!("{} ({})", m.title, m.id),
                links::model(m.id.as_str()),
            )
        });
        return Lookup::NotFound {
            what: format!("model {model}"),
            suggestions: nearest_named(model, candidates, 5),
        };
    }
    match load_model(model).await {
        Ok(manifest) => Lookup::Found(ModelCtx { index, model: manifest }),
        Err(error) => Lookup::Failed(error),
    }
}

/// Resolves a model's layer at `checkpoint` (the model's default when `None` or unknown).
pub async fn resolve_layer(model: &str, layer: &str, checkpoint: Option<&str>) -> Lookup<LayerCtx> {
    let ctx = match resolve_model(model).await {
        Lookup::Found(ctx) => ctx,
        Lookup::NotFound { what, suggestions } => return Lookup::NotFound { what, suggestions },
        Lookup::Failed(error) => return Lookup::Failed(error),
    };
    let layers = &ctx.model.graph.layers;
    let Some(position) = layers.iter().position(|info| info.name.as_str() == layer) else {
        let candidates = layers
            .iter()
            .map(|info| (info.name.as_str().to_owned(), links::layer(model, info.name.as_str())));
        return Lookup::NotFound {
            what: format!("layer {layer} in model {model}"),
            suggestions: nearest(layer, candidates, 5),
        };
    };
    let checkpoint = checkpoint
        .filter(|id| ctx.model.checkpoint(id).is_some())
        .unwrap_or(ctx.model.default_checkpoint.as_str())
        .to_owned();
    let manifest = load_layer(model, &checkpoint, layer).await;
    Lookup::Found(LayerCtx { model: ctx, position, checkpoint, manifest })
}

/// Resolves one unit.
pub async fn resolve_unit(
    model: &str,
    layer: &str,
    unit: usize,
    checkpoint: Option<&str>,
) -> Lookup<UnitCtx> {
    let ctx = match resolve_layer(model, layer, checkpoint).await {
        Lookup::Found(ctx) => ctx,
        Lookup::NotFound { what, suggestions } => return Lookup::NotFound { what, suggestions },
        Lookup::Failed(error) => return Lookup::Failed(error),
    };
    let units = ctx.info().units;
    let Some(unit) = u32::try_from(unit).ok().filter(|unit| *unit < units) else {
        let last = units.saturating_sub(1);
        let mut suggestions = vec![Suggestion {
            label: format!("{layer}:{last} (the last of its {units} units)"),
            href: links::unit(model, layer, last as usize),
        }];
        suggestions.push(Suggestion {
            label: format!("{layer} (all units)"),
            href: links::layer(model, layer),
        });
        return Lookup::NotFound {
            what: format!("unit {unit} of {layer} (it has {units} units)"),
            suggestions,
        };
    };
    let built = match &ctx.manifest {
        Ok(manifest) => manifest.coverage.built.contains(unit),
        // No layer manifest: the layer is not built (format § 9). A damaged one says nothing,
        // so the unit file may still be there.
        Err(LoadError::Missing { .. }) => false,
        Err(_) => true,
    };
    let manifest = if built {
        load_unit(model, &ctx.checkpoint, layer, unit).await
    } else {
        Err(LoadError::Missing { file: format!("unit {unit} (not built yet)") })
    };
    Lookup::Found(UnitCtx { layer: ctx, unit, manifest })
}
