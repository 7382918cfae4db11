//! A unit across training: a slider over the model's checkpoints (keyboard usable, labelled
//! with step and test accuracy) and a strip of the unit's channel visualization at every
//! checkpoint, the current one marked. Moving the slider or choosing a thumbnail opens the
//! same unit at that checkpoint (`?checkpoint=ID`, so the deep link names it). Thumbnails are
//! plain links (the router still handles them): its `A` would mark every checkpoint's link as
//! current, since they differ only in the query.

use std::cell::Cell;

use leptos::html::Input;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use microscope_core::atlas::Checkpoint;

use crate::atlas::{asset_url, load_layer, load_unit};
use crate::components::placeholder::Placeholder;
use crate::number::percent;

/// Thumbnail side in pixels.
const THUMB: u32 = 72;

thread_local! {
    /// Set when the slider navigated, so the slider of the next page takes the focus back
    /// and arrow keys keep stepping through checkpoints.
    static REFOCUS: Cell<bool> = const { Cell::new(false) };
}

/// The words for a checkpoint: `step 300, test accuracy 80.6 %`.
fn describe(checkpoint: &Checkpoint) -> String {
    let mut parts = Vec::new();
    if let Some(step) = checkpoint.step {
        parts.push(format!("step {step}"));
    }
    if let Some(accuracy) = checkpoint.test_accuracy {
        parts.push(format!("test accuracy {}", percent(f64::from(accuracy))));
    }
    if parts.is_empty() { checkpoint.id.as_str().to_owned() } else { parts.join(", ") }
}

/// The timeline of unit `unit` of `layer` across `checkpoints` (training order); `current` is
/// the checkpoint shown; `path` is the unit page's path without a query.
#[component]
pub fn Timeline(
    model: String,
    layer: String,
    unit: u32,
    checkpoints: Vec<Checkpoint>,
    current: String,
    path: String,
) -> impl IntoView {
    let position = checkpoints.iter().position(|c| c.id.as_str() == current).unwrap_or(0);
    let last = checkpoints.len().saturating_sub(1);
    let hrefs: Vec<String> =
        checkpoints.iter().map(|c| format!("{path}?checkpoint={}", c.id)).collect();
    let now = checkpoints.get(position).map(describe).unwrap_or_default();
    let label = format!("Checkpoint {current}: {now}");

    let slider = NodeRef::<Input>::new();
    Effect::new(move |_| {
        if let Some(input) = slider.get()
            && REFOCUS.with(|r| r.replace(false))
        {
            let _ = input.focus();
        }
    });
    let navigate = use_navigate();
    let on_change = {
        let hrefs = hrefs.clone();
        move |event| {
            let Ok(index) = event_target_value(&event).parse::<usize>() else { return };
            if index == position {
                return;
            }
            if let Some(href) = hrefs.get(index) {
                REFOCUS.with(|r| r.set(true));
                navigate(href, crate::links::navigate());
            }
        }
    };

    let thumbs = checkpoints
        .iter()
        .zip(hrefs)
        .enumerate()
        .map(|(i, (checkpoint, href))| {
            let id = checkpoint.id.as_str().to_owned();
            let words = describe(checkpoint);
            let step = checkpoint.step.map(|s| format!("step {s}")).unwrap_or_else(|| id.clone());
            let accuracy = checkpoint.test_accuracy.map(|a| percent(f64::from(a)));
            let image = LocalResource::new({
                let (model, layer, id) = (model.clone(), layer.clone(), id.clone());
                move || {
                    let (model, layer, id) = (model.clone(), layer.clone(), id.clone());
                    async move {
                        // The layer says whether the unit has a channel image there, so an
                        // unbuilt unit costs no failed request.
                        let built = load_layer(&model, &id, &layer).await.ok()?;
                        if !built.coverage.channel.contains(unit) {
                            return None;
                        }
                        let manifest = load_unit(&model, &id, &layer, unit).await.ok()?;
                        manifest.feature_visualizations.channel.as_ref().map(|r| r.image.path.clone())
                    }
                }
            });
            let alt = format!("channel visualization at {id} ({words})");
            let note = format!("no channel image at {id}");
            let current = (i == position).then_some("page");
            view! {
                <li class="timeline-item" data-checkpoint=id.clone() data-current=(i == position).to_string()
                    style=(i == position).then_some("outline:3px solid #c60;outline-offset:2px")>
                    <a href=href class="timeline-thumb" aria-current=current title=words.clone()
                        data-checkpoint=id.clone()>
                        {move || match image.get() {
                            Some(Some(path)) => view! {
                                <img src=asset_url(&path) alt=alt.clone() width=THUMB height=THUMB
                                    style="image-rendering:pixelated;display:block"/>
                            }.into_any(),
                            Some(None) => view! { <Placeholder technique="channel" size=THUMB note=note.clone()/> }.into_any(),
                            None => view! { <div class="loading" style=format!("width:{THUMB}px;height:{THUMB}px")></div> }.into_any(),
                        }}
                        <span class="timeline-step" style="display:block">{step}</span>
                        {accuracy.map(|a| view! { <span class="timeline-accuracy muted" style="display:block">{a}</span> })}
                    </a>
                </li>
            }
        })
        .collect_view();

    view! {
        <section class="timeline" id="timeline" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Across training"</h2>
            <label for="timeline-slider" id="timeline-label">{label}</label>
            <input type="range" id="timeline-slider" node_ref=slider min="0" max=last.to_string()
                step="1" value=position.to_string() aria-valuetext=now.clone()
                style="display:block;width:100%;max-width:40rem" on:change=on_change/>
            <ol class="timeline-strip" id="timeline-strip"
                style="display:flex;gap:0.75rem;list-style:none;padding:6px;margin:0.5rem 0;overflow-x:auto">
                {thumbs}
            </ol>
        </section>
    }
}
