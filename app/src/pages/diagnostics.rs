//! `/diagnostics`: what this browser offers (the WebGPU probe) and a smoke computation that
//! proves the renderer works here, on WebGPU or on the CPU.

use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::protocol::{ComputePath, RendererEvent, RendererRequest};

use crate::gpu::{self, GpuReport};
use crate::layout::Page;
use crate::renderer_client;

mod render_check;

/// Gradient steps of the smoke computation.
const SMOKE_STEPS: u32 = 8;

/// Where the smoke computation stands.
#[derive(Debug, Clone, PartialEq)]
enum Smoke {
    Idle,
    Running { path: ComputePath, objectives: Vec<f32> },
    Done { path: ComputePath, objectives: Vec<f32>, elapsed_ms: f64 },
    Failed { path: ComputePath, message: String },
}

impl Smoke {
    fn state(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running { .. } => "running",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
        }
    }

    fn path(&self) -> Option<ComputePath> {
        match self {
            Self::Idle => None,
            Self::Running { path, .. } | Self::Done { path, .. } | Self::Failed { path, .. } => {
                Some(*path)
            }
        }
    }

    fn objectives(&self) -> &[f32] {
        match self {
            Self::Running { objectives, .. } | Self::Done { objectives, .. } => objectives,
            Self::Idle | Self::Failed { .. } => &[],
        }
    }
}

/// The diagnostics page.
#[component]
pub fn DiagnosticsPage() -> impl IntoView {
    let report = RwSignal::new(None::<GpuReport>);
    spawn_local(async move { report.set(Some(gpu::probe().await)) });
    let smoke = RwSignal::new(Smoke::Idle);

    let start = move |path: ComputePath| {
        smoke.set(Smoke::Running { path, objectives: Vec::new() });
        let started = renderer_client::run_job(
            |job| RendererRequest::Smoke { job, path, steps: SMOKE_STEPS },
            move |event| match event {
                RendererEvent::Progress { objective, .. } => smoke.update(|state| {
                    if let Smoke::Running { objectives, .. } = state {
                        objectives.push(objective);
                    }
                }),
                RendererEvent::SmokeDone { path, objectives, elapsed_ms, .. } => {
                    smoke.set(Smoke::Done { path, objectives, elapsed_ms })
                }
                RendererEvent::Failed { failure, .. } => {
                    smoke.set(Smoke::Failed { path, message: failure.to_string() })
                }
                // Events of other kinds of jobs never reach a smoke job.
                RendererEvent::Ready
                | RendererEvent::RenderProgress { .. }
                | RendererEvent::RenderDone { .. }
                | RendererEvent::PhotoProgress { .. }
                | RendererEvent::PhotoDone { .. }
                | RendererEvent::ImportProgress { .. }
                | RendererEvent::ImportDone { .. } => {}
            },
        );
        if let Err(failure) = started {
            smoke.set(Smoke::Failed { path, message: failure.to_string() });
        }
    };
    let running = move || matches!(smoke.get(), Smoke::Running { .. });

    view! {
        <Page>
            <main data-page="diagnostics" class="page">
                <h1>"Diagnostics"</h1>
                <section aria-labelledby="probe-heading">
                    <h2 id="probe-heading">"WebGPU"</h2>
                    {move || probe_view(report.get())}
                </section>
                <section aria-labelledby="smoke-heading">
                    <h2 id="smoke-heading">"Smoke computation"</h2>
                    <p>
                        "A few gradient-ascent steps of a tiny conv net with burn, in the renderer "
                        "worker (downloaded only now). The objective must rise at every step."
                    </p>
                    <div class="actions">
                        <button id="smoke-webgpu" disabled=running on:click=move |_| start(ComputePath::Webgpu)>
                            "Run on WebGPU"
                        </button>
                        <button id="smoke-cpu" disabled=running on:click=move |_| start(ComputePath::Cpu)>
                            "Run on the CPU"
                        </button>
                    </div>
                    {move || smoke_view(smoke.get())}
                </section>
                <section aria-labelledby="render-heading">
                    <h2 id="render-heading">"Render check"</h2>
                    <render_check::RenderCheck />
                </section>
            </main>
        </Page>
    }
}

fn probe_view(report: Option<GpuReport>) -> impl IntoView {
    let Some(report) = report else {
        return view! { <p id="gpu-probe" data-state="probing">"Asking the browser for a WebGPU adapter…"</p> }
            .into_any();
    };
    let webgpu = if report.tier.has_webgpu() { "available" } else { "unavailable" };
    let kind = match report.tier {
        gpu::GpuTier::None => "No WebGPU adapter: the renderer will use its CPU backend.",
        gpu::GpuTier::Software => "Software (fallback) adapter: WebGPU works but slowly.",
        gpu::GpuTier::Hardware => "Hardware adapter.",
    };
    view! {
        <div
            id="gpu-probe"
            data-state="done"
            data-webgpu=webgpu
            data-fallback=report.tier.is_fallback().to_string()
        >
            <p><strong>{kind}</strong></p>
            <p class="adapter">{report.summary}</p>
            <table class="limits">
                <caption>"Adapter limits"</caption>
                <tbody>
                    {report
                        .limits
                        .into_iter()
                        .map(|(name, value)| view! { <tr><th scope="row">{name}</th><td>{value.to_string()}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
            <p class="features">
                "Features: "
                {if report.features.is_empty() { "none".to_owned() } else { report.features.join(", ") }}
            </p>
        </div>
    }
    .into_any()
}

fn smoke_view(smoke: Smoke) -> impl IntoView {
    let objectives =
        smoke.objectives().iter().map(|value| value.to_string()).collect::<Vec<_>>().join(",");
    let summary = match &smoke {
        Smoke::Idle => "Not run yet.".to_owned(),
        Smoke::Running { path, objectives } => {
            format!("Running on {}: step {} of {SMOKE_STEPS}…", path.as_str(), objectives.len())
        }
        Smoke::Done { path, objectives, elapsed_ms } => format!(
            "Done on {}: {} steps in {:.0} ms ({:.1} ms per step).",
            path.as_str(),
            objectives.len(),
            elapsed_ms,
            elapsed_ms / objectives.len().max(1) as f64
        ),
        Smoke::Failed { path, message } => format!("Failed on {}: {message}", path.as_str()),
    };
    let rows = smoke
        .objectives()
        .iter()
        .enumerate()
        .map(|(step, value)| view! { <li>{format!("step {}: {value:.6}", step + 1)}</li> })
        .collect_view();
    view! {
        <div
            id="smoke-result"
            role="status"
            aria-live="polite"
            data-state=smoke.state()
            data-path=smoke.path().map(ComputePath::as_str).unwrap_or("")
            data-objectives=objectives
        >
            <p>{summary}</p>
            <ol class="objectives">{rows}</ol>
        </div>
    }
}
