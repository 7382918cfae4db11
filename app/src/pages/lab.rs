//! `/lab`: render any objective of any atlas model in the browser. Every setting lives in the
//! URL (`?model=…&objective=…&size=…&steps=…&seed=…&batch=…&path=…&start=photo&render=1`),
//! so a link reproduces the render; the result is cached under that link like the unit page's
//! renders.
//!
//! The visitor's photo, chosen here or on any page before, is the reference of a caricature or
//! an inversion, and with `start=photo` the image a render (a DeepDream) starts from. A link
//! never carries the photo: opened without one, the page asks for it and renders nothing. Such
//! renders are not cached.
//!
//! The page parses the objective itself (core's grammar, bounded in length and nesting): a
//! mistake is shown under the box at once and no renderer is started or downloaded for it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use microscope_core::objective::{Objective, ParseError};
use microscope_core::photo_query::PhotoFile;
use microscope_core::protocol::{ComputePath, PhotoRole, RenderFailure, RenderLimits, RenderPhoto};

use crate::atlas::{load_index, load_model};
use crate::components::live_render::{LiveRender, Look, RenderJob, model_ref, weights_bytes};
use crate::components::load_error::LoadErrorBox;
use crate::components::your_photo::photo_slot;
use crate::components::your_photo::picker::PhotoPicker;
use crate::gpu::PathChoice;
use crate::layout::Page;
use crate::pages::live_settings::{
    PhotoTechnique, RENDER_SIZE_PX, RENDER_STEPS, START_FROM_PHOTO, link_number, photo_role,
};
use crate::pages::query_param;

const DEFAULT_OBJECTIVE: &str = "blocks.8:50";
/// The layer of the photo techniques when the objective box names none.
const DEFAULT_LAYER: &str = "blocks.8";

/// The lab link that renders `technique` of the visitor's photo at `layer` of `model` at once
/// (the link names the technique; the photo comes from the session).
pub fn photo_technique_link(
    model: &str,
    layer: &str,
    technique: PhotoTechnique,
    checkpoint: Option<&str>,
    path: Option<ComputePath>,
) -> String {
    let mut query = vec![
        format!("model={}", encode(model)),
        format!("objective={}", encode(&technique.objective(layer).to_string())),
    ];
    if let Some(checkpoint) = checkpoint {
        query.push(format!("checkpoint={}", encode(checkpoint)));
    }
    if let Some(path) = path {
        query.push(format!("path={}", path.as_str()));
    }
    if technique.starts_from_photo() {
        query.push(format!("start={START_FROM_PHOTO}"));
    }
    query.push("render=1".to_owned());
    crate::links::lab(&query.join("&"))
}

/// Why nothing is rendered yet: the link's render needs the visitor's photo.
fn needs_photo_text(role: PhotoRole) -> &'static str {
    if role.is_reference() {
        "This objective compares with a photo (a caricature or an inversion): choose yours \
         above to render it. Your photo stays on this computer, so links never carry it."
    } else {
        "This render starts from a photo (start=photo): choose yours above to render it. Your \
         photo stays on this computer, so links never carry it."
    }
}

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// A parse error as a sentence (`At character 13: expected …`).
fn syntax_message(error: &ParseError) -> String {
    let capitalised = error.to_string();
    let mut chars = capitalised.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
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
    let start_q = query_param("start");
    let slot = photo_slot();

    let limits = RenderLimits::BROWSER;
    let size_of = move |text| limits.clamp_size_px(link_number(text, RENDER_SIZE_PX));
    let steps_of = move |text| limits.clamp_steps(link_number(text, RENDER_STEPS));
    let batch_of = move |text| limits.clamp_batch(link_number(text, 1));

    let index = LocalResource::new(load_index);
    // The form, filled from the URL; "Render" writes it back to the URL.
    let objective =
        RwSignal::new(objective_q.get_untracked().unwrap_or_else(|| DEFAULT_OBJECTIVE.to_owned()));
    let model = RwSignal::new(model_q.get_untracked().unwrap_or_default());
    let size = RwSignal::new(size_of(size_q.get_untracked()).to_string());
    let steps = RwSignal::new(steps_of(steps_q.get_untracked()).to_string());
    let seed = RwSignal::new(seed_q.get_untracked().unwrap_or_else(|| "0".to_owned()));
    let batch = RwSignal::new(batch_of(batch_q.get_untracked()).to_string());
    let path = RwSignal::new(path_q.get_untracked().unwrap_or_default());
    let start_photo =
        RwSignal::new(start_q.get_untracked().is_some_and(|start| start == START_FROM_PHOTO));
    // The worker's failure of the last render (an objective that does not fit the model is
    // shown under the box).
    let failure = RwSignal::new(None::<RenderFailure>);
    // The URL's objective, parsed here: the renderer only ever sees a valid one.
    let parsed = Memo::new(move |_| {
        objective_q.get().unwrap_or_else(|| DEFAULT_OBJECTIVE.to_owned()).parse::<Objective>()
    });

    let navigate = use_navigate();
    // The form's settings into the URL, which the panel follows.
    let go = move || {
        let mut query = vec![
            format!("model={}", encode(&model.get_untracked())),
            format!("objective={}", encode(objective.get_untracked().trim())),
            format!("size={}", size_of(Some(size.get_untracked()))),
            format!("steps={}", steps_of(Some(steps.get_untracked()))),
            format!("seed={}", seed.get_untracked().trim().parse::<u64>().unwrap_or(0)),
            format!("batch={}", batch_of(Some(batch.get_untracked()))),
        ];
        if let Some(checkpoint) = checkpoint_q.get_untracked() {
            query.push(format!("checkpoint={}", encode(&checkpoint)));
        }
        if let Some(path) = PathChoice::parse_path(&path.get_untracked()) {
            query.push(format!("path={}", path.as_str()));
        }
        if start_photo.get_untracked() {
            query.push(format!("start={START_FROM_PHOTO}"));
        }
        query.push("render=1".to_owned());
        failure.set(None);
        navigate(&crate::links::lab(&query.join("&")), crate::links::navigate());
    };
    let submit = {
        let go = go.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            go();
        }
    };
    // A photo technique at the layer of the objective in the box, rendered at once.
    let preset = move |technique: PhotoTechnique| {
        let layer = objective
            .get_untracked()
            .parse::<Objective>()
            .ok()
            .and_then(|o| o.layers().into_iter().next())
            .unwrap_or_else(|| DEFAULT_LAYER.to_owned());
        objective.set(technique.objective(&layer).to_string());
        start_photo.set(technique.starts_from_photo());
        go();
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
        // A mistake in the objective: shown under the box; nothing starts.
        let Ok(objective) = parsed.get() else {
            return view! {
                <p class="muted" id="lab-not-rendered">"Nothing is rendered until the objective is fixed."</p>
            }
            .into_any();
        };
        let look = Look {
            size_px: size_of(size_q.get()),
            steps: steps_of(steps_q.get()),
            seed: seed_q.get().and_then(|s| s.trim().parse().ok()).unwrap_or(0),
        };
        let batch = batch_of(batch_q.get());
        let forced = path_q.get().and_then(|p| PathChoice::parse_path(&p));
        let auto_start = render_q.get().is_some_and(|r| r == "1" || r == "true");
        let role = photo_role(&objective, start_q.get().as_deref());
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
            let job = RenderJob::new(
                model_ref(&manifest, &checkpoint),
                objective.clone(),
                batch,
                look,
                &format!("lab/{}/{checkpoint}/{}", manifest.id, encode(&objective.to_string())),
                &format!("{}-lab", manifest.id),
            )
            .downloading(weights_bytes(&manifest, &checkpoint));
            // The photo, when the render uses it: from the session, never from the link.
            let job = match (role, slot.get()) {
                (None, _) => job,
                (Some(role), Some(photo)) => job.with_photo(RenderPhoto {
                    file: PhotoFile { bytes: photo.bytes.to_vec() },
                    role,
                }),
                (Some(role), None) => {
                    return view! {
                        <p class="notice" id="lab-needs-photo" role="status">{needs_photo_text(role)}</p>
                    }
                    .into_any();
                }
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
    // The parse error of the URL's objective, else an objective the model refused.
    let objective_error = move || {
        let (message, position) = match (parsed.get(), failure.get()) {
            (Err(error), _) => (syntax_message(&error), Some(error.position)),
            (Ok(_), Some(RenderFailure::Objective { message })) => (message, None),
            _ => return None,
        };
        Some(view! {
            <p class="form-error" id="lab-objective-error" role="alert"
                data-position=position.map(|p| p.to_string())>{message}</p>
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
                            <input id="lab-size" type="number" min=limits.min_size_px.to_string()
                                max=limits.max_size_px.to_string() prop:value=size
                                on:input=move |ev| size.set(event_target_value(&ev))/>
                        </label>
                        <label>"Steps "
                            <input id="lab-steps" type="number" min="1"
                                max=limits.max_steps.to_string() prop:value=steps
                                on:input=move |ev| steps.set(event_target_value(&ev))/>
                        </label>
                        <label>"Seed "
                            <input id="lab-seed" type="number" min="0" prop:value=seed
                                on:input=move |ev| seed.set(event_target_value(&ev))/>
                        </label>
                        <label>"Batch "
                            <input id="lab-batch" type="number" min="1"
                                max=limits.max_batch.to_string() prop:value=batch
                                on:input=move |ev| batch.set(event_target_value(&ev))/>
                        </label>
                        <label class="lab-start-photo">
                            <input id="lab-start-photo" type="checkbox" prop:checked=start_photo
                                on:change=move |ev| start_photo.set(event_target_checked(&ev))/>
                            " Start from your photo"
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
                <p class="lab-your-model">
                    "Your own model: "
                    <a href=crate::links::your_model() id="lab-your-model">"drop an ONNX file"</a>
                    " to list its layers and render any unit, in this browser."
                </p>
                <p class="muted lab-note">
                    "Caricatures (" <code>"caricature(blocks.8)"</code> ") and inversions ("
                    <code>"invert(blocks.8)"</code> ") compare with your photo, and “Start from "
                    "your photo” begins a render, such as a DeepDream (" <code>"dream(blocks.8)"</code>
                    "), from it instead of noise: choose a photo below. A link carries the "
                    "objective and " <code>"start=photo"</code> ", never the photo, so whoever "
                    "opens it is asked for their own. Not supported here: models whose weights the "
                    "atlas does not ship. The objective is checked here when you press Render, "
                    "before the renderer is downloaded; a mistake is shown under the box, as is a "
                    "layer or unit the model does not have."
                </p>
                <section class="lab-photo" id="your-photo" aria-labelledby="lab-photo-heading">
                    <h2 id="lab-photo-heading">"Your photo"</h2>
                    <PhotoPicker/>
                    {move || slot.with(Option::is_some).then(|| {
                        let preset = preset.clone();
                        let buttons = PhotoTechnique::ALL
                            .into_iter()
                            .map(|technique| {
                                let preset = preset.clone();
                                view! {
                                    <button type="button" id=format!("lab-{}", technique.id())
                                        on:click=move |_| preset(technique)>{technique.label()}</button>
                                }
                            })
                            .collect_view();
                        view! {
                            <p class="muted">
                                "Rendered at the layer of the objective above ("
                                {DEFAULT_LAYER} " when it names none), with the settings of the form."
                            </p>
                            <div class="actions">{buttons}</div>
                        }
                    })}
                </section>
                {panel}
            </main>
        </Page>
    }
}
