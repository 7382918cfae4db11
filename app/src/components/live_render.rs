//! The live render panel: one feature visualization computed in the browser by the renderer
//! worker, with a progress bar (step, steps per second, ETA), a live preview, cancel (also when
//! the panel goes away), which compute path ran and why, errors with a retry, the result with
//! a PNG download, and the result cached under its deep link for the next visit (except a
//! render of the visitor's photo, which is neither cached nor in any link).
//!
//! Its state is in the DOM for tests and tools: `data-state` (idle, running, done, cancelled,
//! failed, cached), `data-path`, `data-step`, `data-objective-start` (the objective at the
//! first step: the noise) and `data-objective-end`.

pub mod cache;
pub mod download;

use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::atlas::{ModelManifest, paths};
use microscope_core::model::builds_from_named_weights;
use microscope_core::objective::Objective;
use microscope_core::protocol::{
    ComputePath, ModelFile, ModelRef, RenderFailure, RenderLimits, RenderPhoto, RenderSettings,
    RendererEvent, RendererRequest, WeightsFormat,
};

use self::cache::CachedRender;
use crate::gpu::PathChoice;
use crate::picture;
use crate::renderer_client;

/// Where a render stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Not started.
    #[default]
    Idle,
    /// Choosing a path, loading the model, or stepping.
    Running,
    /// Finished; the images are shown.
    Done,
    /// Stopped by the user before the last step.
    Cancelled,
    /// The renderer reported an error.
    Failed,
    /// Shown from the browser's cache; no job ran.
    Cached,
}

impl Phase {
    /// The name in `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Cached => "cached",
        }
    }
}

/// Everything the panel shows.
#[derive(Debug, Clone, PartialEq, Default)]
struct Status {
    phase: Phase,
    /// The path taken (or, when cached, the path that ran then).
    path: Option<ComputePath>,
    /// The path, in words.
    ran_on: String,
    /// Whether the path is the slow one (a notice is shown).
    slow: bool,
    step: u32,
    steps: u32,
    objective_start: Option<f32>,
    objective_end: Option<f32>,
    elapsed_ms: f64,
    /// Finished images as PNG `data:` URLs.
    images: Vec<String>,
    /// Why it failed, in words.
    message: String,
}

impl Status {
    fn steps_per_sec(&self) -> f64 {
        if self.elapsed_ms > 0.0 { f64::from(self.step) * 1000.0 / self.elapsed_ms } else { 0.0 }
    }

    fn progress_text(&self) -> String {
        if self.step == 0 {
            return "Starting the renderer and loading the model's weights (once per visit)…"
                .to_owned();
        }
        let rate = self.steps_per_sec();
        let left = f64::from(self.steps.saturating_sub(self.step));
        let eta = if rate > 0.0 {
            format!(", about {} left", seconds(left / rate))
        } else {
            String::new()
        };
        format!("Step {} of {} · {rate:.2} steps/s{eta}", self.step, self.steps)
    }
}

/// A duration in words: `12 s`, `3 min 5 s`.
fn seconds(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    if secs < 60 { format!("{secs} s") } else { format!("{} min {} s", secs / 60, secs % 60) }
}

/// What a deep link sets about a render's look: side, steps and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Side of the image in pixels.
    pub size_px: u32,
    /// Optimisation steps.
    pub steps: u32,
    /// Seed of the initial image and of the transforms.
    pub seed: u64,
}

/// What one panel renders.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderJob {
    /// The model and where its weights are.
    pub model: ModelRef,
    /// Objective, size, steps, seed, batch.
    pub settings: RenderSettings,
    /// Key of the result in the browser's cache (the deep link's settings); `None`: not cached.
    pub cache_key: Option<String>,
    /// Downloaded files are called `<file_stem>.png` (`-<i>` added for several images).
    pub file_stem: String,
    /// The size of the model's weights file, where the atlas records it (told to the visitor
    /// before a first render).
    pub weights_bytes: Option<u64>,
    /// The visitor's photo, when the render compares with it or starts from it.
    pub photo: Option<RenderPhoto>,
}

impl RenderJob {
    /// The one way a page makes a job: `objective` of `model`, making `batch` images with
    /// `look` (all brought within [`RenderLimits::BROWSER`]), a preview every few steps, the
    /// result cached under `subject` and the settings, files named after `stem` and the look.
    pub fn new(
        model: ModelRef,
        objective: Objective,
        batch: u32,
        look: Look,
        subject: &str,
        stem: &str,
    ) -> Self {
        let limits = RenderLimits::BROWSER;
        let (size_px, steps) = (limits.clamp_size_px(look.size_px), limits.clamp_steps(look.steps));
        let (seed, batch) = (look.seed, limits.clamp_batch(batch));
        Self {
            model,
            settings: RenderSettings {
                objective,
                size_px,
                steps,
                seed,
                batch,
                preview_every: (steps / 16).clamp(1, 8),
            },
            cache_key: Some(format!(
                "{subject}?seed={seed}&size={size_px}&steps={steps}&batch={batch}"
            )),
            file_stem: format!("{stem}-seed{seed}-{size_px}px"),
            weights_bytes: None,
            photo: None,
        }
    }

    /// The job, rendered with the visitor's photo. Not cached: the cache's key is the link,
    /// which never names the photo (another photo would find this one's result), and a
    /// picture made from the photo is not kept after the tab closes.
    pub fn with_photo(self, photo: RenderPhoto) -> Self {
        Self { photo: Some(photo), cache_key: None, ..self }
    }

    /// The job, telling that the model's weights are `weights_bytes` (see [`weights_bytes`]).
    pub fn downloading(self, weights_bytes: Option<u64>) -> Self {
        Self { weights_bytes, ..self }
    }
}

/// The size of the weights file the atlas ships for `model` at `checkpoint`, where its
/// manifest records it (`weights` of a checkpoint, format 1.1).
pub fn weights_bytes(model: &ModelManifest, checkpoint: &str) -> Option<u64> {
    let checkpoint = model
        .checkpoint(checkpoint)
        .or_else(|| model.checkpoint(model.default_checkpoint.as_str()))?;
    checkpoint.weights.as_ref().map(|weights| weights.bytes)
}

/// How the renderer gets an atlas model's weights at `checkpoint`: the safetensors of a built-in
/// organism or of the fashion-cnn trained here, or an imported model's ONNX file, both in the
/// checkpoint's folder (`docs/atlas-format.md`, "Model weights").
pub fn model_ref(model: &ModelManifest, checkpoint: &str) -> ModelRef {
    let checkpoint = model.checkpoint(checkpoint).map_or(&model.default_checkpoint, |c| &c.id);
    let folder = format!("{}/", crate::links::asset(&paths::checkpoint_dir(&model.id, checkpoint)));
    if builds_from_named_weights(model.id.as_str()) {
        return ModelRef::Atlas(ModelFile {
            id: model.id.as_str().to_owned(),
            url: format!("{folder}weights.safetensors"),
            format: WeightsFormat::Safetensors,
            sha256: model.shipped_weights_sha256(checkpoint.as_str()).cloned(),
        });
    }
    let triple = |values: &[f32], default: f32| {
        let at = |i: usize| values.get(i).or(values.first()).copied().unwrap_or(default);
        [at(0), at(1), at(2)]
    };
    ModelRef::Atlas(ModelFile {
        id: model.id.as_str().to_owned(),
        url: format!("{folder}model.onnx"),
        format: WeightsFormat::Onnx {
            height_px: model.input.height,
            width_px: model.input.width,
            channels: model.input.channels,
            offset: triple(&model.input.offset, 0.0),
            scale: triple(&model.input.scale, 1.0),
        },
        sha256: model.shipped_weights_sha256(checkpoint.as_str()).cloned(),
    })
}

/// Handles shared by the panel's callbacks (all `Copy`).
#[derive(Clone, Copy)]
struct Panel {
    status: RwSignal<Status>,
    /// The job in flight, if any.
    job: StoredValue<Option<u32>>,
    /// Set when the user cancels before the job has a number.
    cancel_requested: StoredValue<bool>,
    /// The path the URL (or a "retry on the CPU") forces.
    forced: RwSignal<Option<ComputePath>>,
    request: StoredValue<RenderJob>,
    canvas: NodeRef<Canvas>,
    /// Where a failure goes besides the panel (the lab shows objective errors inline).
    failure: Option<RwSignal<Option<RenderFailure>>>,
}

impl Panel {
    fn is_current(self, job: u32) -> bool {
        self.job.try_get_value().flatten() == Some(job)
    }

    /// Starts a render (doing nothing while one runs).
    fn start(self) {
        let Some(status) = self.status.try_get_untracked() else { return };
        if status.phase == Phase::Running {
            return;
        }
        let Some(request) = self.request.try_get_value() else { return };
        self.cancel_requested.set_value(false);
        if let Some(failure) = self.failure {
            failure.try_set(None);
        }
        self.status.set(Status {
            phase: Phase::Running,
            steps: request.settings.steps,
            ..Status::default()
        });
        let forced = self.forced.get_untracked();
        spawn_local(async move {
            let choice = PathChoice::detect(forced).await;
            // Gone or cancelled while probing: start nothing.
            if self.cancel_requested.try_get_value() != Some(false) {
                self.status.try_update(|s| s.phase = Phase::Cancelled);
                return;
            }
            self.status.try_update(|s| {
                s.path = Some(choice.path);
                s.ran_on = choice.describe();
                s.slow = choice.is_slow();
            });
            let RenderJob { model, settings, photo, .. } = request;
            let path = choice.path;
            let started = renderer_client::run_job(
                move |job| {
                    self.job.set_value(Some(job));
                    RendererRequest::Render { job, path, model, settings, photo }
                },
                move |event| self.on_event(event),
            );
            if let Err(failure) = started {
                self.job.set_value(None);
                self.fail(failure);
            }
        });
    }

    fn cancel(self) {
        self.cancel_requested.set_value(true);
        if let Some(Some(job)) = self.job.try_get_value() {
            renderer_client::cancel_job(job);
        }
    }

    fn fail(self, failure: RenderFailure) {
        self.status.try_update(|s| {
            s.phase = Phase::Failed;
            s.message = explain_failure(&failure);
        });
        if let Some(signal) = self.failure {
            signal.try_set(Some(failure));
        }
    }

    fn on_event(self, event: RendererEvent) {
        match event {
            RendererEvent::RenderProgress { job, step, steps, objective, elapsed_ms, preview } => {
                if !self.is_current(job) {
                    return;
                }
                self.status.try_update(|s| {
                    s.step = step;
                    s.steps = steps;
                    s.elapsed_ms = elapsed_ms;
                    s.objective_start.get_or_insert(objective);
                    s.objective_end = Some(objective);
                });
                if let (Some(picture), Some(Some(canvas))) =
                    (preview, self.canvas.try_get_untracked())
                {
                    picture::draw(&canvas, &picture);
                }
            }
            RendererEvent::RenderDone {
                job, images, objectives, elapsed_ms, cancelled, ..
            } => {
                if !self.is_current(job) {
                    return;
                }
                self.job.set_value(None);
                if cancelled {
                    if let (Some(picture), Some(Some(canvas))) =
                        (images.first(), self.canvas.try_get_untracked())
                    {
                        picture::draw(&canvas, picture);
                    }
                    self.status.try_update(|s| {
                        s.phase = Phase::Cancelled;
                        s.elapsed_ms = elapsed_ms;
                    });
                    return;
                }
                let urls: Vec<String> = images.iter().filter_map(picture::png_data_url).collect();
                let Some(status) = self.status.try_get_untracked() else { return };
                let status = Status {
                    phase: Phase::Done,
                    step: objectives.len() as u32,
                    objective_start: objectives.first().copied(),
                    objective_end: objectives.last().copied(),
                    elapsed_ms,
                    images: urls,
                    ..status
                };
                self.status.set(status.clone());
                let key = self.request.try_get_value().and_then(|r| r.cache_key);
                if let Some(key) = key {
                    spawn_local(async move {
                        cache::store(&key, &cached_from(&status)).await;
                    });
                }
            }
            RendererEvent::Failed { job, failure } => {
                if !self.is_current(job) {
                    return;
                }
                self.job.set_value(None);
                if self.cancel_requested.try_get_value() == Some(true) {
                    self.status.try_update(|s| s.phase = Phase::Cancelled);
                } else {
                    self.fail(failure);
                }
            }
            RendererEvent::Ready
            | RendererEvent::Progress { .. }
            | RendererEvent::SmokeDone { .. }
            | RendererEvent::PhotoProgress { .. }
            | RendererEvent::PhotoDone { .. }
            | RendererEvent::ImportProgress { .. }
            | RendererEvent::ImportDone { .. } => {}
        }
    }
}

fn cached_from(status: &Status) -> CachedRender {
    CachedRender {
        path: status.path.unwrap_or(ComputePath::Cpu),
        ran_on: status.ran_on.clone(),
        images: status.images.clone(),
        objective_start: status.objective_start.unwrap_or(f32::NAN),
        objective_end: status.objective_end.unwrap_or(f32::NAN),
        steps: status.step,
        elapsed_ms: status.elapsed_ms,
    }
}

/// A renderer failure in words a visitor can act on.
fn explain_failure(failure: &RenderFailure) -> String {
    match failure {
        RenderFailure::Download { status: Some(404), .. } => format!(
            "This atlas does not ship this model's weights, so the browser cannot render it ({failure})."
        ),
        RenderFailure::Download { .. } => format!(
            "The model's weights could not be downloaded: {failure}. Check the connection and retry."
        ),
        RenderFailure::DeviceLost { .. } | RenderFailure::OutOfMemory { .. } => {
            format!(
                "The GPU or the browser gave up ({failure}). Retry, or render on the CPU (slower but dependable), or smaller."
            )
        }
        RenderFailure::Crashed { .. } => {
            format!("The renderer stopped ({failure}). Retry: a new one starts.")
        }
        RenderFailure::ObjectiveSyntax { .. } | RenderFailure::Objective { .. } => {
            format!("The objective cannot be rendered: {failure}")
        }
        RenderFailure::Photo { error } => {
            format!("Your photo cannot be used: {error}. Choose another photo.")
        }
        RenderFailure::NotImported { .. } => {
            format!(
                "The renderer was restarted and no longer holds your model ({failure}): choose the file again, or open it from the models kept in this browser."
            )
        }
        RenderFailure::Settings { .. }
        | RenderFailure::Model { .. }
        | RenderFailure::Cancelled
        | RenderFailure::Import { .. }
        | RenderFailure::Other { .. } => format!("The render failed: {failure}"),
    }
}

/// The render panel. `auto_start` starts it at once (unless the cache has the result);
/// `forced_path` is the URL's `?path=`; `placeholder` is shown until there is something to
/// show.
#[component]
pub fn LiveRender(
    job: RenderJob,
    #[prop(optional)] forced_path: Option<ComputePath>,
    #[prop(optional)] auto_start: bool,
    /// Side of the shown image, in CSS pixels.
    display_px: u32,
    #[prop(optional, into)] placeholder: Option<ViewFn>,
    /// Receives the failure when a render fails (`None` again on a new start).
    #[prop(optional)]
    failure: Option<RwSignal<Option<RenderFailure>>>,
) -> impl IntoView {
    let cache_key = job.cache_key.clone();
    let panel = Panel {
        status: RwSignal::new(Status { steps: job.settings.steps, ..Status::default() }),
        job: StoredValue::new(None),
        cancel_requested: StoredValue::new(false),
        forced: RwSignal::new(forced_path),
        request: StoredValue::new(job),
        canvas: NodeRef::new(),
        failure,
    };
    // The user navigates away (or the settings change): stop the job.
    on_cleanup(move || panel.cancel());

    // A cached result first; else start if asked to.
    spawn_local(async move {
        let hit = match &cache_key {
            Some(key) => cache::load(key).await,
            None => None,
        };
        match hit {
            Some(found) => {
                panel.status.try_update(|s| {
                    if s.phase == Phase::Idle {
                        *s = Status {
                            phase: Phase::Cached,
                            path: Some(found.path),
                            ran_on: found.ran_on.clone(),
                            step: found.steps,
                            steps: found.steps,
                            objective_start: Some(found.objective_start),
                            objective_end: Some(found.objective_end),
                            elapsed_ms: found.elapsed_ms,
                            images: found.images.clone(),
                            ..Status::default()
                        };
                    }
                });
            }
            None if auto_start => panel.start(),
            None => {}
        }
    });

    // What a first render downloads, told before it starts.
    let renderer_bytes = RwSignal::new(None::<u64>);
    spawn_local(async move {
        if let Some(bytes) = download::renderer_bytes().await {
            renderer_bytes.try_set(Some(bytes));
        }
    });
    let weights = panel.request.with_value(|r| r.weights_bytes);
    let download_note = move || {
        download::first_render_text(renderer_bytes.get(), weights)
            .map(|text| view! { <p class="muted live-render-download">{text}</p> })
    };

    let settings = panel.request.with_value(|r| r.settings.clone());
    let file_stem = panel.request.with_value(|r| r.file_stem.clone());
    let status = panel.status;
    let phase = move || status.with(|s| s.phase);
    let number = |value: Option<f32>| value.map(|v| v.to_string()).unwrap_or_default();
    let showing_canvas = move || matches!(phase(), Phase::Running | Phase::Cancelled);
    let cost_note = format!(
        "{} px, {} steps, seed {}{} — set `size`, `steps` and `seed` in the URL for others.",
        settings.size_px,
        settings.steps,
        settings.seed,
        if settings.batch > 1 { format!(", {} images", settings.batch) } else { String::new() },
    );
    let objective = settings.objective.to_string();

    let body = move || {
        let s = status.get();
        match s.phase {
            Phase::Idle => view! {
                {placeholder.as_ref().map(|p| p.run())}
                <div class="actions">
                    <button type="button" id="live-render-start" on:click=move |_| panel.start()>
                        "Render in your browser"
                    </button>
                </div>
                <p class="muted live-render-cost">{cost_note.clone()}</p>
                {download_note}
            }
            .into_any(),
            Phase::Running => {
                let bar = (s.step > 0).then(|| view! {
                    <progress max=s.steps.to_string() value=s.step.to_string()></progress>
                });
                view! {
                    {bar}
                    <p class="live-render-progress" role="status" aria-live="polite">{s.progress_text()}</p>
                    {(!s.ran_on.is_empty()).then(|| view! { <p class="live-render-path">{format!("Running: {}", s.ran_on)}</p> })}
                    {s.slow.then(|| view! {
                        <p class="muted">"This is the slow path; a hardware GPU with WebGPU renders far faster."</p>
                    })}
                    <div class="actions">
                        <button type="button" id="live-render-cancel" on:click=move |_| panel.cancel()>"Cancel"</button>
                    </div>
                }
                .into_any()
            }
            Phase::Cancelled => view! {
                <p class="live-render-progress">{format!("Cancelled after {} of {} steps.", s.step, s.steps)}</p>
                <div class="actions">
                    <button type="button" id="live-render-start" on:click=move |_| panel.start()>"Render again"</button>
                </div>
            }
            .into_any(),
            Phase::Failed => {
                let offer_cpu = s.path == Some(ComputePath::Webgpu);
                view! {
                    {placeholder.as_ref().map(|p| p.run())}
                    <p class="live-render-error" role="alert">{s.message.clone()}</p>
                    <div class="actions">
                        <button type="button" id="live-render-retry" on:click=move |_| panel.start()>"Retry"</button>
                        {offer_cpu.then(|| view! {
                            <button type="button" id="live-render-retry-cpu" on:click=move |_| {
                                panel.forced.set(Some(ComputePath::Cpu));
                                panel.start();
                            }>"Retry on the CPU"</button>
                        })}
                    </div>
                }
                .into_any()
            }
            Phase::Done | Phase::Cached => {
                let many = s.images.len() > 1;
                let side = if many { display_px / 2 } else { display_px };
                let figures = s
                    .images
                    .iter()
                    .enumerate()
                    .map(|(i, url)| {
                        let name = if many { format!("{file_stem}-{i}.png") } else { format!("{file_stem}.png") };
                        view! {
                            <figure class="fv-figure">
                                <img class="fv live-render-image" src=url.clone() width=side height=side
                                    alt=format!("Rendered in this browser: {objective}")/>
                                <figcaption>
                                    <a class="button download-png" href=url.clone() download=name>"Download PNG"</a>
                                </figcaption>
                            </figure>
                        }
                    })
                    .collect_view();
                let rise = match (s.objective_start, s.objective_end) {
                    (Some(a), Some(b)) => format!(" Objective {a:.3} → {b:.3}."),
                    _ => String::new(),
                };
                let summary = if s.phase == Phase::Cached {
                    format!(
                        "From this browser's cache: {} steps on {} ({} then).{rise}",
                        s.step, s.ran_on, seconds(s.elapsed_ms / 1000.0)
                    )
                } else {
                    format!(
                        "Rendered in {}: {} steps on {}.{rise}",
                        seconds(s.elapsed_ms / 1000.0), s.step, s.ran_on
                    )
                };
                view! {
                    <div class="live-render-images">{figures}</div>
                    <p class="live-render-summary">{summary}</p>
                    <div class="actions">
                        <button type="button" id="live-render-start" on:click=move |_| {
                            panel.status.update(|s| s.phase = Phase::Idle);
                            panel.start();
                        }>"Render again"</button>
                    </div>
                }
                .into_any()
            }
        }
    };

    view! {
        <div class="live-render" id="live-render"
            data-state=move || phase().as_str()
            data-path=move || status.with(|s| s.path.map(ComputePath::as_str).unwrap_or_default())
            data-step=move || status.with(|s| s.step.to_string())
            data-objective-start=move || status.with(|s| number(s.objective_start))
            data-objective-end=move || status.with(|s| number(s.objective_end))>
            <canvas node_ref=panel.canvas class="render-canvas live-render-canvas"
                width=settings.size_px height=settings.size_px
                style=move || format!("width:{display_px}px;height:{display_px}px;{}",
                    if showing_canvas() { "" } else { "display:none" })
                aria-label="The image being rendered"></canvas>
            {body}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_then_minutes() {
        assert_eq!(seconds(0.4), "0 s");
        assert_eq!(seconds(-3.0), "0 s");
        assert_eq!(seconds(59.4), "59 s");
        assert_eq!(seconds(59.6), "1 min 0 s", "rounded to the nearest second");
        assert_eq!(seconds(185.0), "3 min 5 s");
    }

    #[test]
    fn failures_are_explained_by_what_a_visitor_can_do() {
        let missing = RenderFailure::Download {
            url: "atlas/w.safetensors".into(),
            status: Some(404),
            message: "not found".into(),
        };
        assert!(explain_failure(&missing).contains("does not ship this model's weights"));
        let page = RenderFailure::Download {
            url: "atlas/w.safetensors".into(),
            status: None,
            message: "the server sent a web page".into(),
        };
        assert!(explain_failure(&page).contains("could not be downloaded"));
        let crashed = RenderFailure::Crashed { message: "unreachable".into() };
        assert!(explain_failure(&crashed).contains("a new one starts"));
        let photo = RenderFailure::Photo {
            error: microscope_core::photo_query::PhotoError::Undecodable { message: "x".into() },
        };
        let words = explain_failure(&photo);
        assert!(words.starts_with("Your photo cannot be used: the file is not a PNG"), "{words}");
        assert!(words.ends_with("Choose another photo."), "{words}");
    }
}
