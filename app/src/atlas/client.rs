//! Loading atlas manifests: URL from the page's `<base href>` and a [`paths`] helper, bytes
//! from [`fetch_bytes`], parsing by the core reader, and a per-session cache (successes and
//! failures alike, so a page never asks twice for the same file). Views that ask for a file
//! already on its way (eight circuit thumbnails of one layer) wait for that one request.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use microscope_core::atlas::{
    self, AnnotationsManifest, AssetPath, AtlasIndex, LayerManifest, Manifest, ModelManifest, Name,
    PhotosManifest, UnitManifest, paths,
};

use super::error::LoadError;
use super::fetch::{Freshness, fetch_bytes};

/// What a load gives: a shared parsed manifest or why there is none.
pub type Loaded<M> = Result<Arc<M>, LoadError>;

thread_local! {
    /// Parsed manifests (or load errors) by atlas path, for the whole session.
    static CACHE: RefCell<HashMap<String, Rc<dyn Any>>> = RefCell::new(HashMap::new());
    /// Loads under way, by atlas path.
    static IN_FLIGHT: RefCell<HashMap<String, Rc<InFlight>>> = RefCell::new(HashMap::new());
}

/// One load under way: its result once there, and the tasks waiting for it.
#[derive(Default)]
struct InFlight {
    result: RefCell<Option<Rc<dyn Any>>>,
    waiting: RefCell<Vec<Waker>>,
}

impl InFlight {
    fn finish(&self, result: Rc<dyn Any>) {
        *self.result.borrow_mut() = Some(result);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }
}

/// Waits for an [`InFlight`] load to finish.
struct Finished(Rc<InFlight>);

impl Future for Finished {
    type Output = Rc<dyn Any>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(result) = self.0.result.borrow().as_ref() {
            return Poll::Ready(Rc::clone(result));
        }
        self.0.waiting.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// The URL of an atlas file.
pub fn asset_url(path: &AssetPath) -> String {
    crate::links::asset(path)
}

/// Loads, parses and caches the manifest at `path`; a second caller while the first load is
/// under way waits for it instead of asking the host again.
async fn load<M: Manifest + Send + Sync + 'static>(path: AssetPath) -> Loaded<M> {
    let key = path.as_str().to_owned();
    let cached = CACHE.with(|cache| cache.borrow().get(&key).cloned());
    if let Some(entry) = cached.and_then(|entry| entry.downcast::<Loaded<M>>().ok()) {
        return (*entry).clone();
    }
    let (in_flight, first) = IN_FLIGHT.with(|loads| {
        let mut loads = loads.borrow_mut();
        match loads.get(&key) {
            Some(load) => (Rc::clone(load), false),
            None => {
                let load = Rc::new(InFlight::default());
                loads.insert(key.clone(), Rc::clone(&load));
                (load, true)
            }
        }
    });
    if first {
        // The load runs as a task of its own, so it finishes (and its waiters wake) even if
        // the view that started it goes away.
        let (load, key) = (Rc::clone(&in_flight), key.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let result = fetch_and_parse::<M>(&path, &key).await;
            let entry: Rc<dyn Any> = Rc::new(result);
            // Network failures may be temporary: only answers from the host are kept.
            let keep = entry
                .downcast_ref::<Loaded<M>>()
                .is_some_and(|r| !matches!(r, Err(LoadError::Network { .. })));
            if keep {
                CACHE.with(|cache| cache.borrow_mut().insert(key.clone(), Rc::clone(&entry)));
            }
            IN_FLIGHT.with(|loads| loads.borrow_mut().remove(&key));
            load.finish(entry);
        });
    }
    let entry = Finished(in_flight).await;
    match entry.downcast::<Loaded<M>>() {
        Ok(result) => (*result).clone(),
        // The same path read as two manifest kinds: cannot happen with `paths`, but say so.
        Err(_) => Err(LoadError::Corrupt { file: key, message: "read as two kinds".to_owned() }),
    }
}

/// Downloads and parses the manifest at `path` (`key` is its text).
async fn fetch_and_parse<M: Manifest>(path: &AssetPath, key: &str) -> Loaded<M> {
    // The index says which models are still being built: a reload must see it anew.
    let freshness =
        if *path == paths::index() { Freshness::Revalidated } else { Freshness::Cached };
    let bytes = fetch_bytes(&asset_url(path), key, M::KIND.max_bytes(), freshness).await?;
    atlas::parse::<M>(key, &bytes)
        .map(Arc::new)
        .map_err(|error| LoadError::Corrupt { file: key.to_owned(), message: error.to_string() })
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
