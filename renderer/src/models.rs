//! Models in the worker: built from the files a [`ModelRef`] points at, once per model and
//! compute path, and kept for the next job (a page renders many units of one model).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::prelude::Device;
use microscope_core::model::Model;
use microscope_core::network::InputSpec;
use microscope_core::protocol::{ComputePath, ModelRef, WeightsFormat};
use microscope_core::weights::read_safetensors;

use crate::fetch::fetch_cached;

thread_local! {
    static MODELS: RefCell<HashMap<(String, ComputePath), Rc<Model>>> = RefCell::new(HashMap::new());
}

/// The model `model` on `device` (the device of `path`), loading it on first use.
pub async fn model_for(
    model: &ModelRef,
    path: ComputePath,
    device: &Device,
) -> Result<Rc<Model>, String> {
    let key = (model.url.clone(), path);
    if let Some(found) = MODELS.with(|models| models.borrow().get(&key).cloned()) {
        return Ok(found);
    }
    let (bytes, _) = fetch_cached(&model.url).await?;
    let loaded = build(model, &bytes, device)?;
    let loaded = Rc::new(loaded);
    MODELS.with(|models| {
        let mut models = models.borrow_mut();
        // One model per compute path at a time: weights on the GPU are not small.
        models.retain(|(_, p), _| *p != path);
        models.insert(key, Rc::clone(&loaded));
    });
    Ok(loaded)
}

fn build(model: &ModelRef, bytes: &[u8], device: &Device) -> Result<Model, String> {
    match &model.format {
        WeightsFormat::Safetensors => {
            let tensors = read_safetensors(bytes)
                .map_err(|error| format!("the weights at {} are damaged: {error}", model.url))?;
            Model::from_named_weights(&model.id, &tensors, device)
                .map_err(|error| error.to_string())
        }
        WeightsFormat::Onnx { size_px, channels, offset, scale } => {
            let input = InputSpec {
                size_px: *size_px as usize,
                channels: *channels as usize,
                offset: *offset,
                scale: *scale,
            };
            Model::from_onnx(model.id.clone(), bytes, input, device)
                .map_err(|error| error.to_string())
        }
    }
}
