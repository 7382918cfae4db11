//! Models in the worker: built from the files a [`ModelRef`] points at (or from the visitor's
//! imported graph), once per model and compute path, and kept for the next job (a page
//! renders many units of one model).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::prelude::Device;
use microscope_core::atlas::Sha256Hex;
use microscope_core::model::Model;
use microscope_core::network::InputSpec;
use microscope_core::protocol::{ComputePath, ModelFile, ModelRef, RenderFailure, WeightsFormat};
use microscope_core::weights::read_safetensors;

use crate::fetch::fetch_model_file;

/// A loaded model's identity: its file (an atlas URL and, when known, hash; or the visitor's
/// file's hash) and the compute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Atlas(String, Option<Sha256Hex>, ComputePath),
    Visitor(Sha256Hex, ComputePath),
}

impl Key {
    fn path(&self) -> ComputePath {
        match self {
            Self::Atlas(_, _, path) | Self::Visitor(_, path) => *path,
        }
    }
}

thread_local! {
    static MODELS: RefCell<HashMap<Key, Rc<Model>>> = RefCell::new(HashMap::new());
}

/// Keeps `loaded` as the model of `path`: one model per compute path at a time, weights on
/// the GPU are not small.
fn keep(key: Key, loaded: Rc<Model>) {
    MODELS.with(|models| {
        let mut models = models.borrow_mut();
        let path = key.path();
        models.retain(|old, _| old.path() != path);
        models.insert(key, loaded);
    });
}

/// Keeps the visitor's model just imported on `path`, so its first render does not build it
/// again.
pub fn keep_visitor(sha256: &Sha256Hex, path: ComputePath, model: Model) {
    keep(Key::Visitor(sha256.clone(), path), Rc::new(model));
}

/// The model `model` on `device` (the device of `path`), loading it on first use.
pub async fn model_for(
    model: &ModelRef,
    path: ComputePath,
    device: &Device,
) -> Result<Rc<Model>, RenderFailure> {
    let key = match model {
        ModelRef::Atlas(file) => Key::Atlas(file.url.clone(), file.sha256.clone(), path),
        ModelRef::Visitor { sha256, .. } => Key::Visitor(sha256.clone(), path),
    };
    if let Some(found) = MODELS.with(|models| models.borrow().get(&key).cloned()) {
        return Ok(found);
    }
    let loaded = match model {
        ModelRef::Atlas(file) => {
            let bytes = fetch_model_file(file).await?;
            build(file, &bytes, device)
                .map_err(|message| RenderFailure::Model { url: file.url.clone(), message })?
        }
        ModelRef::Visitor { sha256, name } => {
            let imported = crate::visitor::find(sha256)
                .ok_or_else(|| RenderFailure::NotImported { name: name.clone() })?;
            imported.model(name, device).map_err(|error| RenderFailure::Import { error })?
        }
    };
    let loaded = Rc::new(loaded);
    keep(key, Rc::clone(&loaded));
    Ok(loaded)
}

fn build(model: &ModelFile, bytes: &[u8], device: &Device) -> Result<Model, String> {
    match &model.format {
        WeightsFormat::Safetensors => {
            let tensors = read_safetensors(bytes)
                .map_err(|error| format!("the weights are damaged: {error}"))?;
            Model::from_named_weights(&model.id, &tensors, device)
                .map_err(|error| error.to_string())
        }
        WeightsFormat::Onnx { height_px, width_px, channels, offset, scale } => {
            let input = InputSpec {
                height_px: *height_px as usize,
                width_px: *width_px as usize,
                channels: *channels as usize,
                offset: *offset,
                scale: *scale,
            };
            Model::from_onnx(model.id.clone(), bytes, input, device)
                .map_err(|error| error.to_string())
        }
    }
}
