//! The render check of the diagnostics page: one real feature visualization in the renderer
//! worker (EfficientNet-Lite0 weights from the atlas), on WebGPU or the CPU, with live
//! progress, a preview, cancel, and the objective at every step exposed for tests, with the
//! worker's memory after each render (wasm linear memory, GPU pools) for leak checks.

use leptos::prelude::*;
use microscope_core::objective::Objective;
use microscope_core::protocol::{
    ComputePath, ModelFile, ModelRef, RenderFailure, RenderLimits, RenderSettings, RendererEvent,
    RendererRequest, WeightsFormat, WorkerMemory,
};

use crate::picture;
use crate::renderer_client;

/// The model the check renders, and where the atlas keeps its weights.
const MODEL: &str = "efficientnet-lite0";
const WEIGHTS_URL: &str = "atlas/models/efficientnet-lite0/checkpoints/final/weights.safetensors";

/// Where the render stands.
#[derive(Debug, Clone, PartialEq)]
enum Check {
    Idle,
    Running {
        job: u32,
        path: ComputePath,
        objectives: Vec<f32>,
        steps: u32,
        elapsed_ms: f64,
    },
    Done {
        path: ComputePath,
        objectives: Vec<f32>,
        elapsed_ms: f64,
        cancelled: bool,
        memory: Option<WorkerMemory>,
    },
    Failed {
        path: ComputePath,
        message: String,
    },
}

impl Check {
    fn state(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running { .. } => "running",
            Self::Done { cancelled: true, .. } => "cancelled",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
        }
    }

    fn path(&self) -> &'static str {
        match self {
            Self::Idle => "",
            Self::Running { path, .. } | Self::Done { path, .. } | Self::Failed { path, .. } => {
                path.as_str()
            }
        }
    }

    /// The worker's memory after the render, when it has ended and reported it.
    fn memory(&self) -> Option<WorkerMemory> {
        match self {
            Self::Done { memory, .. } => *memory,
            Self::Idle | Self::Running { .. } | Self::Failed { .. } => None,
        }
    }

    /// Wall time of the steps so far, in milliseconds (model loading excluded).
    fn elapsed_ms(&self) -> Option<f64> {
        match self {
            Self::Running { elapsed_ms, .. } | Self::Done { elapsed_ms, .. } => Some(*elapsed_ms),
            Self::Idle | Self::Failed { .. } => None,
        }
    }

    fn objectives(&self) -> &[f32] {
        match self {
            Self::Running { objectives, .. } | Self::Done { objectives, .. } => objectives,
            Self::Idle | Self::Failed { .. } => &[],
        }
    }
}

/// A real render of one objective, for checking the renderer on this browser.
#[component]
pub fn RenderCheck() -> impl IntoView {
    let check = RwSignal::new(Check::Idle);
    let objective = RwSignal::new("blocks.2:3".to_owned());
    let steps = RwSignal::new(8u32);
    let size = RwSignal::new(64u32);
    let seed = RwSignal::new(0u64);
    // Renders that have ended in this page (done, cancelled or failed).
    let ended = RwSignal::new(0u32);

    let start = move |path: ComputePath| {
        let objective = match objective.get_untracked().parse::<Objective>() {
            Ok(objective) => objective,
            Err(error) => {
                let failure = RenderFailure::ObjectiveSyntax { error };
                check.set(Check::Failed { path, message: failure.to_string() });
                ended.update(|n| *n += 1);
                return;
            }
        };
        let settings = RenderSettings {
            objective,
            size_px: size.get_untracked(),
            steps: steps.get_untracked(),
            seed: seed.get_untracked(),
            batch: 1,
            preview_every: 2,
        };
        let total = settings.steps;
        let model = ModelRef::Atlas(ModelFile {
            id: MODEL.to_owned(),
            url: WEIGHTS_URL.to_owned(),
            format: WeightsFormat::Safetensors,
            sha256: None,
        });
        let started = renderer_client::run_job(
            move |job| {
                check.set(Check::Running {
                    job,
                    path,
                    objectives: Vec::new(),
                    steps: total,
                    elapsed_ms: 0.0,
                });
                RendererRequest::Render { job, path, model, settings, photo: None }
            },
            move |event| match event {
                RendererEvent::RenderProgress { objective, elapsed_ms: ms, preview, .. } => {
                    check.update(|state| {
                        if let Check::Running { objectives, elapsed_ms, .. } = state {
                            objectives.push(objective);
                            *elapsed_ms = ms;
                        }
                    });
                    if let Some(picture) = preview {
                        picture::draw_on("render-canvas", &picture);
                    }
                }
                RendererEvent::RenderDone {
                    path,
                    images,
                    objectives,
                    elapsed_ms,
                    cancelled,
                    memory,
                    ..
                } => {
                    if let Some(picture) = images.first() {
                        picture::draw_on("render-canvas", picture);
                    }
                    check.set(Check::Done { path, objectives, elapsed_ms, cancelled, memory });
                    ended.update(|n| *n += 1);
                }
                RendererEvent::Failed { failure, .. } => {
                    check.set(Check::Failed { path, message: failure.to_string() });
                    ended.update(|n| *n += 1);
                }
                RendererEvent::Ready
                | RendererEvent::Progress { .. }
                | RendererEvent::SmokeDone { .. }
                | RendererEvent::PhotoProgress { .. }
                | RendererEvent::PhotoDone { .. }
                | RendererEvent::ImportProgress { .. }
                | RendererEvent::ImportDone { .. } => {}
            },
        );
        if let Err(failure) = started {
            check.set(Check::Failed { path, message: failure.to_string() });
            ended.update(|n| *n += 1);
        }
    };
    let cancel = move |_| {
        if let Check::Running { job, .. } = check.get_untracked() {
            renderer_client::cancel_job(job);
        }
    };
    let running = move || matches!(check.get(), Check::Running { .. });
    let limits = RenderLimits::BROWSER;

    view! {
        <p>
            "A real feature visualization: EfficientNet-Lite0 (weights from the atlas), Fourier "
            "parameterization, lucid's transforms, Adam; the objective should rise."
        </p>
        <div class="form-row">
            <label>"Objective "
                <input id="render-objective" type="text" prop:value=objective
                    on:input=move |ev| objective.set(event_target_value(&ev)) />
            </label>
            <label>"Steps "
                <input id="render-steps" type="number" min="1" max=limits.max_steps.to_string() prop:value=move || steps.get().to_string()
                    on:input=move |ev| if let Ok(value) = event_target_value(&ev).parse() { steps.set(value) } />
            </label>
            <label>"Size (px) "
                <input id="render-size" type="number" min=limits.min_size_px.to_string() max=limits.max_size_px.to_string() prop:value=move || size.get().to_string()
                    on:input=move |ev| if let Ok(value) = event_target_value(&ev).parse() { size.set(value) } />
            </label>
            <label>"Seed "
                <input id="render-seed" type="number" min="0" prop:value=move || seed.get().to_string()
                    on:input=move |ev| if let Ok(value) = event_target_value(&ev).parse() { seed.set(value) } />
            </label>
        </div>
        <div class="actions">
            <button id="render-webgpu" disabled=running on:click=move |_| start(ComputePath::Webgpu)>"Render on WebGPU"</button>
            <button id="render-cpu" disabled=running on:click=move |_| start(ComputePath::Cpu)>"Render on the CPU"</button>
            <button id="render-cancel" disabled=move || !running() on:click=cancel>"Cancel"</button>
        </div>
        <canvas id="render-canvas" class="render-canvas" width="64" height="64" aria-label="The image being rendered"></canvas>
        {move || status(check.get(), ended.get())}
    }
}

/// The render's status. Its data attributes are for tests: `data-state`, `data-path`,
/// `data-objectives` (comma-separated), `data-elapsed-ms` (the steps' wall time), `data-ended` (renders ended in this page) and, after a
/// render, the worker's memory: `data-wasm-bytes`, and on WebGPU `data-gpu-allocations`,
/// `data-gpu-bytes-in-use`, `data-gpu-bytes-reserved` (empty when not reported).
fn status(check: Check, ended: u32) -> impl IntoView {
    let objectives =
        check.objectives().iter().map(|value| value.to_string()).collect::<Vec<_>>().join(",");
    let summary = match &check {
        Check::Idle => "Not run yet.".to_owned(),
        Check::Running { path, objectives, steps, elapsed_ms, .. } => {
            let done = objectives.len() as f64;
            let rate = if *elapsed_ms > 0.0 { done * 1000.0 / elapsed_ms } else { 0.0 };
            let eta = if rate > 0.0 { (f64::from(*steps) - done) / rate } else { f64::NAN };
            let eta =
                if eta.is_finite() { format!(", about {eta:.0} s left") } else { String::new() };
            format!(
                "Rendering on {}: step {} of {steps} ({rate:.2} steps/s{eta})…",
                path.as_str(),
                objectives.len()
            )
        }
        Check::Done { path, objectives, elapsed_ms, cancelled, .. } => format!(
            "{} on {}: {} steps in {:.0} ms ({:.2} steps/s).",
            if *cancelled { "Cancelled" } else { "Done" },
            path.as_str(),
            objectives.len(),
            elapsed_ms,
            objectives.len() as f64 * 1000.0 / elapsed_ms.max(1.0)
        ),
        Check::Failed { path, message } => format!("Failed on {}: {message}", path.as_str()),
    };
    let (step, total) = match &check {
        Check::Running { objectives, steps, .. } => (objectives.len() as u32, *steps),
        _ => (0, 0),
    };
    let memory = check.memory();
    let gpu = memory.and_then(|memory| memory.gpu);
    let number = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
    let memory_note = memory.map(|memory| {
        let gpu = gpu
            .map(|gpu| {
                format!(
                    "; GPU pools: {} allocations, {:.1} MB in use, {:.1} MB reserved",
                    gpu.allocations,
                    gpu.bytes_in_use as f64 / 1e6,
                    gpu.bytes_reserved as f64 / 1e6
                )
            })
            .unwrap_or_default();
        format!("Worker memory: wasm {:.1} MB{gpu}.", memory.wasm_bytes as f64 / 1e6)
    });
    view! {
        <div id="render-result" role="status" aria-live="polite" data-state=check.state()
            data-path=check.path() data-objectives=objectives data-ended=ended.to_string()
            data-elapsed-ms=check.elapsed_ms().map(|ms| ms.to_string()).unwrap_or_default()
            data-wasm-bytes=number(memory.map(|m| m.wasm_bytes))
            data-gpu-allocations=number(gpu.map(|g| g.allocations))
            data-gpu-bytes-in-use=number(gpu.map(|g| g.bytes_in_use))
            data-gpu-bytes-reserved=number(gpu.map(|g| g.bytes_reserved))>
            {(total > 0).then(|| view! {
                <progress max=total.to_string() value=step.to_string()></progress>
            })}
            <p>{summary}</p>
            {memory_note.map(|note| view! { <p class="render-memory">{note}</p> })}
        </div>
    }
}
