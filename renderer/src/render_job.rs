//! Feature-visualization jobs in the worker: core's render session, one step at a time, with
//! a pause between steps so that cancel requests (and other messages) get through, progress
//! after every step and a preview every few. A visitor's photo becomes the render's reference
//! or start picture through core's `render_picture` (what `microscope render --photo/--start`
//! calls), decoded within [`PhotoLimits::BROWSER`].

use burn::prelude::Device;
use microscope_core::fv::{CancelFlag, RenderError, RenderOptions, RenderSession, RenderedImage};
use microscope_core::photo_query::{PhotoLimits, render_picture};
use microscope_core::protocol::{
    ComputePath, ModelRef, Picture, RenderFailure, RenderLimits, RenderPhoto, RenderSettings,
    RendererEvent,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::WorkerGlobalScope;

use crate::devices::device_for;
use crate::memory::worker_memory;
use crate::models::model_for;

/// Runs a render job to its end, sending its events through `post`.
pub async fn run(
    job: u32,
    path: ComputePath,
    model: ModelRef,
    settings: RenderSettings,
    photo: Option<RenderPhoto>,
    post: impl Fn(&RendererEvent),
) {
    let flag = crate::jobs::begin(job);
    let mut outcome = render(job, path, &model, &settings, photo.as_ref(), &flag, &post).await;
    crate::jobs::end(job);
    // Measured here, once the session and its tensors are gone.
    if let Ok(RendererEvent::RenderDone { path, memory, .. }) = &mut outcome {
        *memory = Some(worker_memory(*path));
    }
    post(&match outcome {
        Ok(done) => done,
        Err(failure) => RendererEvent::Failed { job, failure },
    });
}

async fn render(
    job: u32,
    path: ComputePath,
    model: &ModelRef,
    settings: &RenderSettings,
    photo: Option<&RenderPhoto>,
    flag: &CancelFlag,
    post: &impl Fn(&RendererEvent),
) -> Result<RendererEvent, RenderFailure> {
    RenderLimits::BROWSER.check(settings).map_err(|error| RenderFailure::Settings { error })?;
    let device: Device =
        device_for(path).await.map_err(|message| RenderFailure::Other { message })?;
    let network = model_for(model, path, &device).await?;
    let mut options = RenderOptions {
        size_px: settings.size_px as usize,
        steps: settings.steps as usize,
        seed: settings.seed,
        batch: settings.batch as usize,
        ..RenderOptions::default()
    };
    if let Some(RenderPhoto { file, role }) = photo {
        let channels = network.input_spec().channels;
        let picture = render_picture(&file.bytes, PhotoLimits::BROWSER, options.size_px, channels)
            .map_err(|error| RenderFailure::Photo { error })?;
        if role.is_start() {
            options.start = Some(vec![picture.clone()]);
        }
        if role.is_reference() {
            options.reference = Some(picture);
        }
    }
    let mut session = RenderSession::new(network.as_ref(), &settings.objective, &options, &device)
        .map_err(failure)?;
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
        let value = session.step().await.map_err(failure)?;
        objectives.push(value);
        let preview = if settings.preview_every > 0 && step % settings.preview_every == 0 {
            let images = session.images().await.map_err(failure)?;
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
    let images = session.images().await.map_err(failure)?;
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

/// What a render error means for the page.
pub fn failure(error: RenderError) -> RenderFailure {
    match error {
        RenderError::Objective(error) => RenderFailure::Objective { message: error.to_string() },
        RenderError::DeviceLost(message) => RenderFailure::DeviceLost { message },
        other => RenderFailure::Other { message: other.to_string() },
    }
}

/// An image as RGBA bytes for the page.
fn picture(image: &RenderedImage) -> Picture {
    let rgba = image.rgb8().chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    Picture { width: image.width as u32, height: image.height as u32, rgba }
}

/// Yields to the worker's event loop once (a zero-delay timeout), so `onmessage` can run.
pub async fn pause() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
        if scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).is_err() {
            // No timers: carry on without pausing.
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}
