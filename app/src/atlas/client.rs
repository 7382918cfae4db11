//! Loading atlas manifests: URL from the page's `<base href>` and a [`paths`] helper, bytes
//! from [`fetch_bytes`], parsing by the core reader, and a per-session cache (successes and
//! failures alike, so a page never asks twice for the same file).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use microscope_core::atlas::{
    self, AnnotationsManifest, AssetPath, AtlasIndex, LayerManifest, Manifest, ModelManifest, Name,
    PhotosManifest, UnitManifest, paths,
};

use super::error::LoadError;
use super::fetch::fetch_bytes;

/// What a load gives: a shared parsed manifest or why there is none.
pub type Loaded<M> = Result<Arc<M>, LoadError>;

thread_local! {
    /// Parsed manifests (or load errors) by atlas path, for the whole session.
    static CACHE: RefCell<HashMap<String, Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

/// The atlas's base URL: `<base href>atlas/`.
pub fn atlas_base() -> String {
    format!("{}atlas/", crate::site::base_url())
}

/// The URL of an atlas file.
pub fn asset_url(path: &AssetPath) -> String {
    format!("{}{}", atlas_base(), path.as_str())
}

/// Loads, parses and caches the manifest at `path`.
async fn load<M: Manifest + Send + Sync + 'static>(path: AssetPath) -> Loaded<M> {
    let key = path.as_str().to_owned();
    let cached = CACHE.with(|cache| cache.borrow().get(&key).cloned());
    if let Some(entry) = cached.and_then(|entry| entry.downcast::<Loaded<M>>().ok()) {
        return (*entry).clone();
    }
    let result = match fetch_bytes(&asset_url(&path), &key).await {
        Ok(bytes) => atlas::parse::<M>(&key, &bytes)
            .map(Arc::new)
            .map_err(|error| LoadError::Corrupt { file: key.clone(), message: error.to_string() }),
        Err(error) => Err(error),
    };
    // Network failures may be temporary: only answers from the host are kept.
    if !matches!(result, Err(LoadError::Network { .. })) {
        let entry: Rc<dyn Any> = Rc::new(result.clone());
        CACHE.with(|cache| cache.borrow_mut().insert(key, entry));
    }
    result
}

/// A name from the URL, or a missing-file error naming what it would have been.
fn name(text: &str, file: &str) -> Result<Name, LoadError> {
    Name::new(text).map_err(|_| LoadError::Missing { file: file.to_owned() })
}

/// `atlas.json`.
pub async fn load_index() -> Loaded<AtlasIndex> {
    load(paths::index()).await
}

/// `models/<model>/model.json`.
pub async fn load_model(model: &str) -> Loaded<ModelManifest> {
    let model = name(model, "models/…/model.json")?;
    load(paths::model_manifest(&model)).await
}

/// `.../layers/<layer>/layer.json` at a checkpoint.
pub async fn load_layer(model: &str, checkpoint: &str, layer: &str) -> Loaded<LayerManifest> {
    let file = "layer.json";
    let (model, checkpoint, layer) =
        (name(model, file)?, name(checkpoint, file)?, name(layer, file)?);
    load(paths::layer_manifest(&model, &checkpoint, &layer)).await
}

/// `.../units/<unit>/unit.json` at a checkpoint.
pub async fn load_unit(
    model: &str,
    checkpoint: &str,
    layer: &str,
    unit: u32,
) -> Loaded<UnitManifest> {
    let file = "unit.json";
    let (model, checkpoint, layer) =
        (name(model, file)?, name(checkpoint, file)?, name(layer, file)?);
    load(paths::unit_manifest(&model, &checkpoint, &layer, unit)).await
}

/// `annotations.json`.
pub async fn load_annotations() -> Loaded<AnnotationsManifest> {
    load(paths::annotations()).await
}

/// `photos/photos.json`.
pub async fn load_photos() -> Loaded<PhotosManifest> {
    load(paths::photos_manifest()).await
}
