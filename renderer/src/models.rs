//! Models in the worker: built from the files a [`ModelRef`] points at, once per model and
//! compute path, and kept for the next job (a page renders many units of one model).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::prelude::Device;
use microscope_core::atlas::Sha256Hex;
use microscope_core::model::Model;
use microscope_core::network::InputSpec;
use microscope_core::protocol::{ComputePath, ModelRef, RenderFailure, WeightsFormat};
use microscope_core::weights::read_safetensors;

use crate::fetch::fetch_model_file;

/// A loaded model's identity: its file (URL and, when known, hash) and the compute path.
type Key = (String, Option<Sha256Hex>, ComputePath);

thread_local! {
    static MODELS: RefCell<HashMap<Key, Rc<Model>>> = RefCell::new(HashMap::new());
}

/// The model `model` on `device` (the device of `path`), loading it on first use.
pub async fn model_for(
    model: &ModelRef,
    path: ComputePath,
    device: &Device,
) -> Result<Rc<Model>, RenderFailure> {
    let key = (model.url.clone(), model.sha256.clone(), path);
    if let Some(found) = MODELS.with(|models| models.borrow().get(&key).cloned()) {
        return Ok(found);
    }
    let bytes = fetch_model_file(model).await?;
    let loaded = build(model, &bytes, device)
        .map_err(|message| RenderFailure::Model { url: model.url.clone(), message })?;
    let loaded = Rc::new(loaded);
    MODELS.with(|models| {
        let mut models = models.borrow_mut();
        // One model per compute path at a time: weights on the GPU are not small.
        models.retain(|(_, _, p), _| *p != path);
        models.insert(key, Rc::clone(&loaded));
    });
    Ok(loaded)
}

fn build(model: &ModelRef, bytes: &[u8], device: &Device) -> Result<Model, String> {
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
