//! A photo job in the renderer worker for one page: started whenever the session's photo
//! changes (the previous job cancelled), cancelled when the page goes away or on the Cancel
//! button, with its stage and the compute path that ran shown as it goes. Its state is in the
//! DOM for tests and tools: `data-state` (idle, running, done, cancelled, failed) and
//! `data-path` on `#photo-run`.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::photo_query::{PhotoAnswer, PhotoFile, PhotoQuery, PhotoStage};
use microscope_core::protocol::{
    ComputePath, ModelRef, RenderFailure, RendererEvent, RendererRequest,
};

use super::{ChosenPhoto, photo_slot};
use crate::components::live_render::Phase;
use crate::gpu::PathChoice;
use crate::renderer_client;

/// Where a photo job stands.
#[derive(Debug, Clone, Default)]
pub struct RunStatus {
    /// Idle (no photo), running, done, cancelled or failed.
    pub phase: Phase,
    /// The path taken.
    pub path: Option<ComputePath>,
    /// The path, in words.
    pub ran_on: String,
    /// The stage running, and how many of how many have begun.
    pub stage: Option<(PhotoStage, u32, u32)>,
    /// The answer, once done.
    pub answer: Option<Arc<PhotoAnswer>>,
    /// The photo the answer is about.
    pub photo: Option<ChosenPhoto>,
    /// Wall time of the job, in milliseconds.
    pub elapsed_ms: f64,
    /// Why it failed, in words.
    pub message: String,
}

/// One page's photo job (all handles `Copy`).
#[derive(Clone, Copy)]
pub struct PhotoRun {
    /// What the page shows.
    pub status: RwSignal<RunStatus>,
    job: StoredValue<Option<u32>>,
}

/// A stage in words.
fn stage_words(stage: PhotoStage) -> &'static str {
    match stage {
        PhotoStage::Model => "Starting the renderer and loading the model (once per visit)",
        PhotoStage::Decode => "Reading the photo",
        PhotoStage::Classes => "Classifying the photo",
        PhotoStage::Layer => "Running the model to this layer",
        PhotoStage::Unit => "Measuring the unit",
    }
}

/// A failure in words a visitor can act on.
fn explain(failure: &RenderFailure) -> String {
    match failure {
        RenderFailure::Photo { error } => format!("This photo cannot be used: {error}."),
        RenderFailure::Download { status: Some(404), .. } => format!(
            "This atlas does not ship this model's weights, so the browser cannot run it ({failure})."
        ),
        other => format!("The photo could not be measured: {other}"),
    }
}

impl PhotoRun {
    /// A run that measures the session's photo with `query` on `model` whenever the photo
    /// changes, on the path `forced` (the URL's `?path=`) or the one the browser suits.
    pub fn follow(model: ModelRef, query: PhotoQuery, forced: Option<ComputePath>) -> Self {
        let run = Self { status: RwSignal::new(RunStatus::default()), job: StoredValue::new(None) };
        let slot = photo_slot();
        Effect::new(move |_| {
            let photo = slot.get();
            run.cancel();
            match photo {
                Some(photo) => run.start(photo, model.clone(), query.clone(), forced),
                None => run.status.set(RunStatus::default()),
            }
        });
        on_cleanup(move || run.cancel());
        run
    }

    fn is_current(self, job: u32) -> bool {
        self.job.try_get_value().flatten() == Some(job)
    }

    fn start(
        self,
        photo: ChosenPhoto,
        model: ModelRef,
        query: PhotoQuery,
        forced: Option<ComputePath>,
    ) {
        self.status.set(RunStatus {
            phase: Phase::Running,
            photo: Some(photo.clone()),
            ..RunStatus::default()
        });
        let serial = photo.serial;
        spawn_local(async move {
            let choice = PathChoice::detect(forced).await;
            // Another photo (or none) since, or the page is gone: start nothing.
            let same = self.status.try_with_untracked(|s| {
                s.phase == Phase::Running && s.photo.as_ref().map(|p| p.serial) == Some(serial)
            });
            if same != Some(true) {
                return;
            }
            self.status.try_update(|s| {
                s.path = Some(choice.path);
                s.ran_on = choice.describe();
            });
            let path = choice.path;
            let file = PhotoFile { bytes: photo.bytes.as_ref().clone() };
            let started = renderer_client::run_job(
                move |job| {
                    self.job.set_value(Some(job));
                    RendererRequest::Photo { job, path, model, photo: file, query }
                },
                move |event| self.on_event(event),
            );
            if let Err(failure) = started {
                self.job.set_value(None);
                self.fail(&failure);
            }
        });
    }

    /// Stops the job in flight, if any.
    pub fn cancel(self) {
        let Some(Some(job)) = self.job.try_get_value() else { return };
        self.job.set_value(None);
        renderer_client::cancel_job(job);
        self.status.try_update(|s| {
            if s.phase == Phase::Running {
                s.phase = Phase::Cancelled;
            }
        });
    }

    fn fail(self, failure: &RenderFailure) {
        self.status.try_update(|s| {
            s.phase = Phase::Failed;
            s.message = explain(failure);
        });
    }

    fn on_event(self, event: RendererEvent) {
        match event {
            RendererEvent::PhotoProgress { job, stage, step, steps } if self.is_current(job) => {
                self.status.try_update(|s| s.stage = Some((stage, step, steps)));
            }
            RendererEvent::PhotoDone { job, path, answer, elapsed_ms } if self.is_current(job) => {
                self.job.set_value(None);
                self.status.try_update(|s| {
                    s.phase = Phase::Done;
                    s.path = Some(path);
                    s.answer = Some(Arc::new(answer));
                    s.elapsed_ms = elapsed_ms;
                });
            }
            RendererEvent::Failed { job, failure } if self.is_current(job) => {
                self.job.set_value(None);
                match failure {
                    RenderFailure::Cancelled => {
                        self.status.try_update(|s| s.phase = Phase::Cancelled);
                    }
                    failure => self.fail(&failure),
                }
            }
            _ => {}
        }
    }

    /// The run's state as a page shows it: progress with a Cancel button, the error, or what
    /// ran once done; `data-state` and `data-path` for tests.
    pub fn view(self) -> impl IntoView {
        let status = self.status;
        let body = move || {
            let s = status.get();
            match s.phase {
                Phase::Idle | Phase::Cached => ().into_any(),
                Phase::Running => {
                    let stage = s.stage.map_or_else(
                        || "Choosing where to run…".to_owned(),
                        |(stage, step, steps)| {
                            format!("{}… (step {step} of {steps})", stage_words(stage))
                        },
                    );
                    view! {
                        <p class="photo-progress" role="status" aria-live="polite">{stage}</p>
                        {(!s.ran_on.is_empty()).then(|| view! { <p class="muted">{format!("Running: {}", s.ran_on)}</p> })}
                        <div class="actions">
                            <button type="button" id="photo-cancel" on:click=move |_| self.cancel()>"Cancel"</button>
                        </div>
                    }
                    .into_any()
                }
                Phase::Cancelled => view! { <p class="photo-progress">"Cancelled."</p> }.into_any(),
                Phase::Failed => {
                    view! { <p class="photo-error" role="alert">{s.message.clone()}</p> }.into_any()
                }
                Phase::Done => view! {
                    <p class="muted photo-summary">
                        {format!("Measured in {:.1} s on {}.", s.elapsed_ms / 1000.0, s.ran_on)}
                    </p>
                }
                .into_any(),
            }
        };
        view! {
            <div id="photo-run" class="photo-run"
                data-state=move || status.with(|s| s.phase.as_str())
                data-path=move || status.with(|s| s.path.map(ComputePath::as_str).unwrap_or_default())>
                {body}
            </div>
        }
    }
}
