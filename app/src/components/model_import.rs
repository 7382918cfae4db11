//! An ONNX import job in the renderer worker, as a page follows it: the stage it is at, the
//! model it answered (its layers), or why the file cannot be imported (every unsupported
//! operator listed, as `microscope import-onnx` lists them); cancelled when the page goes
//! away. `data-state` (idle, running, done, failed, cancelled), `data-stage` and
//! `data-serial` (which import of the page) are in the DOM for tests.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::model_import::{
    ImportError, ImportSettings, ImportStage, ModelSummary, OnnxFile,
};
use microscope_core::protocol::{ComputePath, RenderFailure, RendererEvent, RendererRequest};

use crate::gpu::PathChoice;
use crate::renderer_client;

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportPhase {
    /// Nothing imported yet.
    #[default]
    Idle,
    /// Reading the file in the worker.
    Running,
    /// The model is imported: its layers can be rendered.
    Done,
    /// The file cannot be imported.
    Failed,
    /// Stopped by the visitor.
    Cancelled,
}

impl ImportPhase {
    /// The name in `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What the page shows of an import.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportStatus {
    /// Where it stands.
    pub phase: ImportPhase,
    /// The file's name.
    pub name: String,
    /// The stage, its number and the number of stages, while running.
    pub stage: Option<(ImportStage, u32, u32)>,
    /// The compute path, in words.
    pub ran_on: String,
    /// The path it was built on (renders use the same).
    pub path: Option<ComputePath>,
    /// The imported model.
    pub model: Option<Arc<ModelSummary>>,
    /// Why it failed.
    pub failure: Option<RenderFailure>,
    /// Which import this is on the page (a new file, a new number).
    pub serial: u32,
}

/// A page's import job (`Copy`, so callbacks can hold it).
#[derive(Debug, Clone, Copy)]
pub struct ImportRun {
    /// What the page shows.
    pub status: RwSignal<ImportStatus>,
    job: StoredValue<Option<u32>>,
}

impl ImportRun {
    /// A run that cancels its job when the page goes away.
    pub fn new() -> Self {
        let run =
            Self { status: RwSignal::new(ImportStatus::default()), job: StoredValue::new(None) };
        on_cleanup(move || run.cancel());
        run
    }

    fn is_current(self, job: u32) -> bool {
        self.job.try_get_value().flatten() == Some(job)
    }

    /// Imports `file` on the path `forced` names, or the one this browser suits (the same
    /// choice a render makes), replacing any import in flight.
    pub fn start(self, file: OnnxFile, settings: ImportSettings, forced: Option<ComputePath>) {
        self.cancel();
        let serial = self.status.with_untracked(|s| s.serial) + 1;
        self.status.set(ImportStatus {
            phase: ImportPhase::Running,
            name: file.name.clone(),
            serial,
            ..ImportStatus::default()
        });
        spawn_local(async move {
            let choice = PathChoice::detect(forced).await;
            let current = self
                .status
                .try_with_untracked(|s| s.serial == serial && s.phase == ImportPhase::Running);
            if current != Some(true) {
                return;
            }
            self.status.try_update(|s| {
                s.path = Some(choice.path);
                s.ran_on = choice.describe();
            });
            let path = choice.path;
            let started = renderer_client::run_job(
                move |job| {
                    self.job.set_value(Some(job));
                    RendererRequest::ImportOnnx { job, path, file, settings }
                },
                move |event| self.on_event(event),
            );
            if let Err(failure) = started {
                self.job.set_value(None);
                self.fail(failure);
            }
        });
    }

    /// Stops the job in flight, if any.
    pub fn cancel(self) {
        let Some(Some(job)) = self.job.try_get_value() else { return };
        self.job.set_value(None);
        renderer_client::cancel_job(job);
        self.status.try_update(|s| {
            if s.phase == ImportPhase::Running {
                s.phase = ImportPhase::Cancelled;
            }
        });
    }

    /// Shows a failure found before any job started (a file over the limit).
    pub fn refuse(self, name: String, error: ImportError) {
        self.cancel();
        self.status.update(|s| {
            *s = ImportStatus {
                phase: ImportPhase::Failed,
                name,
                failure: Some(RenderFailure::Import { error }),
                serial: s.serial + 1,
                ..ImportStatus::default()
            }
        });
    }

    fn fail(self, failure: RenderFailure) {
        self.status.try_update(|s| {
            s.phase = ImportPhase::Failed;
            s.failure = Some(failure);
        });
    }

    fn on_event(self, event: RendererEvent) {
        match event {
            RendererEvent::ImportProgress { job, stage, step, steps } if self.is_current(job) => {
                self.status.try_update(|s| s.stage = Some((stage, step, steps)));
            }
            RendererEvent::ImportDone { job, path, model, .. } if self.is_current(job) => {
                self.job.set_value(None);
                self.status.try_update(|s| {
                    s.phase = ImportPhase::Done;
                    s.path = Some(path);
                    s.model = Some(Arc::new(model));
                });
            }
            RendererEvent::Failed { job, failure } if self.is_current(job) => {
                self.job.set_value(None);
                match failure {
                    RenderFailure::Cancelled => {
                        self.status.try_update(|s| s.phase = ImportPhase::Cancelled);
                    }
                    failure => self.fail(failure),
                }
            }
            _ => {}
        }
    }

    /// The job as the page shows it: progress with Cancel, or the report of a file that
    /// cannot be imported.
    pub fn view(self) -> impl IntoView {
        let status = self.status;
        let body = move || {
            let s = status.get();
            match s.phase {
                ImportPhase::Idle | ImportPhase::Done => ().into_any(),
                ImportPhase::Running => {
                    let stage = s.stage.map_or_else(
                        || "Starting the renderer…".to_owned(),
                        |(stage, step, steps)| format!("{stage}… (step {step} of {steps})"),
                    );
                    view! {
                        <p role="status" aria-live="polite">{format!("Importing {}: {stage}", s.name)}</p>
                        {(!s.ran_on.is_empty()).then(|| view! { <p class="muted">{format!("Running: {}", s.ran_on)}</p> })}
                        <div class="actions">
                            <button type="button" id="your-model-cancel" on:click=move |_| self.cancel()>"Cancel"</button>
                        </div>
                    }
                    .into_any()
                }
                ImportPhase::Cancelled => {
                    view! { <p class="muted">{format!("The import of {} was cancelled.", s.name)}</p> }
                        .into_any()
                }
                ImportPhase::Failed => {
                    let report = s.failure.as_ref().map(explain).unwrap_or_default();
                    view! {
                        <div class="your-model-error" id="your-model-error" role="alert">
                            <p>{format!("{} cannot be imported:", s.name)}</p>
                            <pre>{report}</pre>
                        </div>
                    }
                    .into_any()
                }
            }
        };
        view! {
            <div id="your-model-import"
                data-state=move || status.with(|s| s.phase.as_str())
                data-serial=move || status.with(|s| s.serial)
                data-stage=move || status.with(|s| s.stage.map(|(stage, ..)| format!("{stage:?}").to_lowercase()))>
                {body}
            </div>
        }
    }
}

/// A failure in the words `microscope import-onnx` uses (the whole unsupported-operator
/// report), or what went wrong in the renderer.
fn explain(failure: &RenderFailure) -> String {
    match failure {
        RenderFailure::Import { error: ImportError::NoFixedSize { input } } => format!(
            "the input {input} has no fixed size: give an input size (N or HxW) and choose the file again"
        ),
        RenderFailure::Import { error } => error.to_string(),
        other => format!("the renderer failed: {other}"),
    }
}
