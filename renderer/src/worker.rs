//! The worker's message loop: requests in, progress and results out, each tagged with its job.

use burn::prelude::Device;
use microscope_core::protocol::{RenderFailure, RendererEvent, RendererRequest};
use microscope_core::smoke::run_smoke;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::devices::device_for;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends an event to the page. A message that cannot be serialised or posted is reported on
/// the console: there is no one else to tell.
fn post(event: &RendererEvent) {
    match serde_wasm_bindgen::to_value(event) {
        Ok(value) => {
            if let Err(error) = scope().post_message(&value) {
                web_sys::console::error_1(&error);
            }
        }
        Err(error) => web_sys::console::error_1(&error.to_string().into()),
    }
}

/// Installs the message handler and tells the page the worker is ready.
pub fn start() {
    console_error_panic_hook::set_once();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<RendererRequest>(event.data()) {
            Ok(request) => wasm_bindgen_futures::spawn_local(handle(request)),
            Err(error) => post(&RendererEvent::Failed {
                job: 0,
                failure: RenderFailure::Other { message: format!("unreadable request: {error}") },
            }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&RendererEvent::Ready);
}

async fn handle(request: RendererRequest) {
    match request {
        RendererRequest::Render { job, path, model, settings, photo } => {
            crate::render_job::run(job, path, model, settings, photo, post).await;
        }
        RendererRequest::Photo { job, path, model, photo, query } => {
            crate::photo_job::run(job, path, model, photo, query, post).await;
        }
        RendererRequest::ImportOnnx { job, path, file, settings } => {
            crate::import_job::run(job, path, file, settings, post).await;
        }
        RendererRequest::Cancel { job } => crate::jobs::cancel(job),
        RendererRequest::Smoke { job, path, steps } => {
            let outcome = async {
                let device: Device = device_for(path).await?;
                let started = js_sys::Date::now();
                let objectives = run_smoke(&device, steps, |step, objective| {
                    post(&RendererEvent::Progress { job, step, steps, objective });
                })
                .await
                .map_err(|error| error.to_string())?;
                Ok::<_, String>((objectives, js_sys::Date::now() - started))
            }
            .await;
            post(&match outcome {
                Ok((objectives, elapsed_ms)) => {
                    RendererEvent::SmokeDone { job, path, objectives, elapsed_ms }
                }
                Err(message) => {
                    RendererEvent::Failed { job, failure: RenderFailure::Other { message } }
                }
            });
        }
    }
}
