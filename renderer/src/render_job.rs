//! Feature-visualization jobs in the worker: core's render session, one step at a time, with
//! a pause between steps so that cancel requests (and other messages) get through, progress
//! after every step and a preview every few.

use std::cell::RefCell;
use std::collections::HashMap;

use burn::prelude::Device;
use microscope_core::fv::{CancelFlag, Objective, RenderOptions, RenderSession, RenderedImage};
use microscope_core::protocol::{ComputePath, ModelRef, Picture, RenderSettings, RendererEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::WorkerGlobalScope;

use crate::devices::device_for;
use crate::memory::worker_memory;
use crate::models::model_for;

/// The most steps and pixels a job may ask for: a tab must not be made to run for hours or
/// allocate gigabytes by a crafted link.
const MAX_STEPS: u32 = 8192;
const MAX_SIZE_PX: u32 = 512;
const MAX_BATCH: u32 = 16;

thread_local! {
    static RUNNING: RefCell<HashMap<u32, CancelFlag>> = RefCell::new(HashMap::new());
}

/// Asks job `job` to stop after its current step (nothing happens if it has ended).
pub fn cancel(job: u32) {
    RUNNING.with(|running| {
        if let Some(flag) = running.borrow().get(&job) {
            flag.cancel();
        }
    });
}

/// Runs a render job to its end, sending its events through `post`.
pub async fn run(
    job: u32,
    path: ComputePath,
    model: ModelRef,
    settings: RenderSettings,
    post: impl Fn(&RendererEvent),
) {
    let flag = CancelFlag::new();
    RUNNING.with(|running| running.borrow_mut().insert(job, flag.clone()));
    let mut outcome = render(job, path, &model, &settings, &flag, &post).await;
    RUNNING.with(|running| running.borrow_mut().remove(&job));
    // Measured here, once the session and its tensors are gone.
    if let Ok(RendererEvent::RenderDone { path, memory, .. }) = &mut outcome {
        *memory = Some(worker_memory(*path));
    }
    post(&match outcome {
        Ok(done) => done,
        Err(message) => RendererEvent::Failed { job, message },
    });
}

async fn render(
    job: u32,
    path: ComputePath,
    model: &ModelRef,
    settings: &RenderSettings,
    flag: &CancelFlag,
    post: &impl Fn(&RendererEvent),
) -> Result<RendererEvent, String> {
    check(settings)?;
    let objective: Objective =
        settings.objective.parse().map_err(|error| format!("objective: {error}"))?;
    let device: Device = device_for(path).await?;
    let network = model_for(model, path, &device).await?;
    let options = RenderOptions {
        size_px: settings.size_px as usize,
        steps: settings.steps as usize,
        seed: settings.seed,
        batch: settings.batch as usize,
        ..RenderOptions::default()
    };
    let mut session = RenderSession::new(network.as_ref(), &objective, &options, &device)
        .map_err(|error| error.to_string())?;
    let started = js_sys::Date::now();
    let mut objectives = Vec::with_capacity(options.steps);
    let mut cancelled = false;
    for step in 1..=settings.steps {
        // Let queued messages (a cancel) run before the next step.
        pause().await;
        if flag.is_cancelled() {
            cancelled = true;
            break;
        }
        let value = session.step().await.map_err(|error| error.to_string())?;
        objectives.push(value);
        let preview = if settings.preview_every > 0 && step % settings.preview_every == 0 {
            let images = session.images().await.map_err(|error| error.to_string())?;
            images.first().map(picture)
        } else {
            None
        };
        post(&RendererEvent::RenderProgress {
            job,
            step,
            steps: settings.steps,
            objective: value,
            elapsed_ms: js_sys::Date::now() - started,
            preview,
        });
    }
    let images = session.images().await.map_err(|error| error.to_string())?;
    Ok(RendererEvent::RenderDone {
        job,
        path,
        images: images.iter().map(picture).collect(),
        objectives,
        elapsed_ms: js_sys::Date::now() - started,
        cancelled,
        memory: None,
    })
}

fn check(settings: &RenderSettings) -> Result<(), String> {
    let within = |value: u32, max: u32| (1..=max).contains(&value);
    if !within(settings.steps, MAX_STEPS) {
        return Err(format!("steps must be 1 to {MAX_STEPS}, not {}", settings.steps));
    }
    if !(16..=MAX_SIZE_PX).contains(&settings.size_px) {
        return Err(format!("size must be 16 to {MAX_SIZE_PX} px, not {}", settings.size_px));
    }
    if !within(settings.batch, MAX_BATCH) {
        return Err(format!("batch must be 1 to {MAX_BATCH}, not {}", settings.batch));
    }
    Ok(())
}

/// An image as RGBA bytes for the page.
fn picture(image: &RenderedImage) -> Picture {
    let rgba = image.rgb8().chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    Picture { width: image.width as u32, height: image.height as u32, rgba }
}

/// Yields to the worker's event loop once (a zero-delay timeout), so `onmessage` can run.
async fn pause() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
        if scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).is_err() {
            // No timers: carry on without pausing.
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}
