//! `/lab`: render any objective of any atlas model in the browser. Every setting lives in the
//! URL (`?model=…&objective=…&size=…&steps=…&seed=…&batch=…&path=…&render=1`), so a link
//! reproduces the render; the result is cached under that link like the unit page's renders.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use microscope_core::protocol::RenderSettings;

use crate::atlas::{load_index, load_model};
use crate::components::live_render::{LiveRender, RenderJob, model_ref};
use crate::components::load_error::LoadErrorBox;
use crate::gpu::PathChoice;
use crate::layout::Page;
use crate::pages::query_param;

/// Defaults: small enough to finish in about a minute on a CPU in wasm.
const SIZE_PX: u32 = 64;
const STEPS: u32 = 64;
const DEFAULT_OBJECTIVE: &str = "blocks.8:50";

fn number(text: Option<String>, default: u32, min: u32, max: u32) -> u32 {
    text.and_then(|t| t.trim().parse::<u32>().ok()).map_or(default, |n| n.clamp(min, max))
}

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// The lab page.
#[component]
pub fn LabPage() -> impl IntoView {
    let (model_q, objective_q, checkpoint_q) =
        (query_param("model"), query_param("objective"), query_param("checkpoint"));
    let (size_q, steps_q, seed_q) =
        (query_param("size"), query_param("steps"), query_param("seed"));
    let (batch_q, path_q, render_q) =
        (query_param("batch"), query_param("path"), query_param("render"));

    let index = LocalResource::new(load_index);
    // The form, filled from the URL; "Render" writes it back to the URL.
    let objective =
        RwSignal::new(objective_q.get_untracked().unwrap_or_else(|| DEFAULT_OBJECTIVE.to_owned()));
    let model = RwSignal::new(model_q.get_untracked().unwrap_or_default());
    let size = RwSignal::new(number(size_q.get_untracked(), SIZE_PX, 16, 512).to_string());
    let steps = RwSignal::new(number(steps_q.get_untracked(), STEPS, 1, 8192).to_string());
    let seed = RwSignal::new(seed_q.get_untracked().unwrap_or_else(|| "0".to_owned()));
    let batch = RwSignal::new(number(batch_q.get_untracked(), 1, 1, 16).to_string());
    let path = RwSignal::new(path_q.get_untracked().unwrap_or_default());
    let failure = RwSignal::new(None::<String>);

    let navigate = use_navigate();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let mut query = vec![
            format!("model={}", encode(&model.get_untracked())),
            format!("objective={}", encode(objective.get_untracked().trim())),
            format!("size={}", number(Some(size.get_untracked()), SIZE_PX, 16, 512)),
            format!("steps={}", number(Some(steps.get_untracked()), STEPS, 1, 8192)),
            format!("seed={}", seed.get_untracked().trim().parse::<u64>().unwrap_or(0)),
            format!("batch={}", number(Some(batch.get_untracked()), 1, 1, 16)),
        ];
        if let Some(checkpoint) = checkpoint_q.get_untracked() {
            query.push(format!("checkpoint={}", encode(&checkpoint)));
        }
        if let Some(path) = PathChoice::parse_path(&path.get_untracked()) {
            query.push(format!("path={}", path.as_str()));
        }
        query.push("render=1".to_owned());
        failure.set(None);
        navigate(&crate::links::lab(&query.join("&")), crate::links::navigate());
    };

    // The panel follows the URL, not the form: what is rendered is what a link reproduces.
    let panel = move || {
        let Some(index) = index.get() else {
            return view! { <p class="loading">"Loading the atlas…"</p> }.into_any();
        };
        let index = match index {
            Ok(index) => index,
            Err(error) => return view! { <LoadErrorBox error=error what="The atlas"/> }.into_any(),
        };
        let wanted =
            model_q.get().or_else(|| index.models.first().map(|m| m.id.as_str().to_owned()));
        let Some(wanted) = wanted else {
            return view! { <p class="muted">"The atlas has no models."</p> }.into_any();
        };
        if model.get_untracked().is_empty() {
            model.set(wanted.clone());
        }
        let settings = RenderSettings {
            objective: objective_q.get().unwrap_or_else(|| DEFAULT_OBJECTIVE.to_owned()),
            size_px: number(size_q.get(), SIZE_PX, 16, 512),
            steps: number(steps_q.get(), STEPS, 1, 8192),
            seed: seed_q.get().and_then(|s| s.trim().parse().ok()).unwrap_or(0),
            batch: number(batch_q.get(), 1, 1, 16),
            preview_every: 0,
        };
        let forced = path_q.get().and_then(|p| PathChoice::parse_path(&p));
        let auto_start = render_q.get().is_some_and(|r| r == "1" || r == "true");
        let checkpoint = checkpoint_q.get();
        let loaded = LocalResource::new(move || {
            let wanted = wanted.clone();
            async move { load_model(&wanted).await }
        });
        let render = move || {
            let manifest = match loaded.get() {
                None => return view! { <p class="loading">"Loading the model…"</p> }.into_any(),
                Some(Err(error)) => {
                    return view! { <LoadErrorBox error=error what="The model"/> }.into_any();
                }
                Some(Ok(manifest)) => manifest,
            };
            let checkpoint = checkpoint
                .clone()
                .filter(|c| manifest.checkpoint(c).is_some())
                .unwrap_or_else(|| manifest.default_checkpoint.as_str().to_owned());
            let mut settings = settings.clone();
            settings.preview_every = (settings.steps / 16).clamp(1, 8);
            let key = format!(
                "lab/{}/{checkpoint}?objective={}&seed={}&size={}&steps={}&batch={}",
                manifest.id,
                encode(&settings.objective),
                settings.seed,
                settings.size_px,
                settings.steps,
                settings.batch
            );
            let job = RenderJob {
                model: model_ref(&manifest, &checkpoint),
                file_stem: format!(
                    "{}-lab-seed{}-{}px",
                    manifest.id, settings.seed, settings.size_px
                ),
                settings,
                cache_key: Some(key),
            };
            match forced {
                Some(path) => view! {
                    <LiveRender job=job forced_path=path auto_start=auto_start display_px=320 failure=failure/>
                }
                .into_any(),
                None => view! {
                    <LiveRender job=job auto_start=auto_start display_px=320 failure=failure/>
                }
                .into_any(),
            }
        };
        render.into_any()
    };

    let models = move || {
        index.get().and_then(Result::ok).map(|index| {
            index
                .models
                .iter()
                .map(|m| {
                    let id = m.id.as_str().to_owned();
                    let label = format!("{} ({id})", m.title);
                    let selected = {
                        let id = id.clone();
                        move || model.get() == id
                    };
                    view! { <option value=id selected=selected>{label}</option> }
                })
                .collect_view()
        })
    };
    let objective_error = move || {
        failure.get().and_then(|message| {
            message
                .strip_prefix("objective: ")
                .map(|error| view! { <p class="form-error" id="lab-objective-error" role="alert">{error.to_owned()}</p> })
        })
    };

    view! {
        <Page>
            <main data-page="lab" class="page lab-page">
                <h1>"Lab"</h1>
                <p>
                    "Render any objective in your browser. Examples: "
                    <code>"blocks.8:50 + 0.5 * blocks.8:12"</code>", "
                    <code>"neuron(blocks.8:50, 3, 4)"</code>", "
                    <code>"blocks.8:50 + diversity(blocks.8)"</code>" (with a batch of 4), "
                    <code>"-blocks.8:50 - tv(0.1)"</code>", "<code>"class(967)"</code>". "
                    "Every setting is in the link, so sharing it reproduces the picture."
                </p>
                <form class="lab-form" id="lab-form" on:submit=submit>
                    <label class="lab-objective">"Objective "
                        <input id="lab-objective" type="text" size="48" spellcheck="false"
                            prop:value=objective on:input=move |ev| objective.set(event_target_value(&ev))/>
                    </label>
                    {objective_error}
                    <div class="form-row">
                        <label>"Model "
                            <select id="lab-model" on:change=move |ev| model.set(event_target_value(&ev))>{models}</select>
                        </label>
                        <label>"Size (px) "
                            <input id="lab-size" type="number" min="16" max="512" prop:value=size
                                on:input=move |ev| size.set(event_target_value(&ev))/>
                        </label>
                        <label>"Steps "
                            <input id="lab-steps" type="number" min="1" max="8192" prop:value=steps
                                on:input=move |ev| steps.set(event_target_value(&ev))/>
                        </label>
                        <label>"Seed "
                            <input id="lab-seed" type="number" min="0" prop:value=seed
                                on:input=move |ev| seed.set(event_target_value(&ev))/>
                        </label>
                        <label>"Batch "
                            <input id="lab-batch" type="number" min="1" max="16" prop:value=batch
                                on:input=move |ev| batch.set(event_target_value(&ev))/>
                        </label>
                        <label>"Compute "
                            <select id="lab-path" on:change=move |ev| path.set(event_target_value(&ev))>
                                <option value="" selected=move || path.get().is_empty()>"automatic"</option>
                                <option value="webgpu" selected=move || path.get() == "webgpu">"WebGPU"</option>
                                <option value="cpu" selected=move || path.get() == "cpu">"CPU (wasm)"</option>
                            </select>
                        </label>
                    </div>
                    <div class="actions"><button type="submit" id="lab-render">"Render"</button></div>
                </form>
                <p class="muted lab-note">
                    "Not supported here yet: uploading a photo for a caricature or an inversion "
                    "(those objectives need a reference image), DeepDream on a photo, and models "
                    "whose weights the atlas does not ship. The objective is checked by the "
                    "renderer when you press Render; a mistake is shown under the box."
                </p>
                {panel}
            </main>
        </Page>
    }
}
