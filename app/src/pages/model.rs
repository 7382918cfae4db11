//! `/models/:model`: one model: its architecture as a picture (layers in order, channels and
//! resolution, stage boundaries; each layer a link), input, checkpoints and provenance.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::atlas::{Lookup, ModelCtx, load_layer, resolve_model};
use crate::components::architecture::Architecture;
use crate::components::live_render::model_ref;
use crate::components::load_error::LoadErrorBox;
use crate::components::your_photo::classes::PhotoClasses;
use crate::layout::{Loading, Page};
use crate::number::{grouped, percent};
use crate::pages::live_settings::UrlRenderSettings;
use crate::pages::name_param;
use crate::pages::not_found::NotFoundPage;

/// The model page.
#[component]
pub fn ModelPage() -> impl IntoView {
    let model = name_param("model");
    let lookup = LocalResource::new(move || {
        let model = model.get();
        async move {
            match model {
                Some(model) => Some(resolve_model(&model).await),
                None => None,
            }
        }
    });
    move || {
        match (model.get(), lookup.get()) {
        (None, _) | (_, Some(None)) => view! { <NotFoundPage/> }.into_any(),
        (_, None) => view! { <Loading/> }.into_any(),
        (Some(_), Some(Some(Lookup::NotFound { what, suggestions }))) => {
            view! { <NotFoundPage what=what suggestions=suggestions/> }.into_any()
        }
        (Some(model), state) => view! {
            <Page>
                <main data-page="model" data-model=model.clone() class="page">
                    {match state {
                        Some(Some(Lookup::Found(ctx))) => found(ctx).into_any(),
                        Some(Some(Lookup::Failed(error))) => view! {
                            <h1>{model.clone()}</h1>
                            <LoadErrorBox error=error what="This model"/>
                        }.into_any(),
                        _ => view! { <h1>{model.clone()}</h1><p class="loading">"Loading…"</p> }.into_any(),
                    }}
                </main>
            </Page>
        }
        .into_any(),
    }
    }
}

fn found(ctx: ModelCtx) -> impl IntoView {
    let model = ctx.model;
    let id = model.id.as_str().to_owned();
    let coverage = RwSignal::new(HashMap::<String, (u64, u32)>::new());
    {
        let model = model.clone();
        spawn_local(async move {
            let checkpoint = model.default_checkpoint.as_str();
            for info in &model.graph.layers {
                let built =
                    match load_layer(model.id.as_str(), checkpoint, info.name.as_str()).await {
                        Ok(layer) => layer.coverage.built.len(),
                        Err(_) => 0,
                    };
                coverage.update(|map| {
                    map.insert(info.name.as_str().to_owned(), (built, info.units));
                });
            }
        });
    }
    let checkpoints = model
        .checkpoints
        .iter()
        .map(|c| {
            let step = c.step.map(|s| format!("step {}", grouped(s))).unwrap_or_default();
            let accuracy = c
                .test_accuracy
                .map(|a| format!("{} test accuracy", percent(f64::from(a))))
                .unwrap_or_default();
            let default = if c.id == model.default_checkpoint { " (default)" } else { "" };
            view! { <li>{format!("{}{default} {step} {accuracy}", c.id)}</li> }
        })
        .collect_view();
    let weights = model.provenance.weights.clone();
    let names = model.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
    let photo = view! {
        <PhotoClasses model=model_ref(&model, model.default_checkpoint.as_str()) names=names
            forced_path=UrlRenderSettings::from_query().forced_path()/>
    };
    view! {
        <p class="breadcrumbs"><a href=crate::links::home()>"Models"</a></p>
        <h1>{model.title.clone()} " " <span class="model-id">{format!("({id})")}</span></h1>
        {model.summary.clone().map(|s| view! { <p class="lede">{s}</p> })}
        <h2>"Architecture"</h2>
        <p class="muted">
            "Layers in forward order; bar height is the number of channels (log scale); a new stage "
            "starts where the spatial resolution changes. Pick a layer to see all of its units."
        </p>
        <Architecture model=id.clone() layers=model.graph.layers.clone() coverage=coverage.into()/>
        {photo}
        <h2>"Input"</h2>
        <p>{format!(
            "{}×{} pixels, {} channels, {}.",
            model.input.width, model.input.height, model.input.channels,
            model.input.resize.clone().unwrap_or_else(|| "resized".to_owned())
        )}</p>
        <h2>"Checkpoints"</h2>
        <ul class="checkpoints">{checkpoints}</ul>
        <h2>"Provenance"</h2>
        <p>
            {format!("Weights: {} ({}).", weights.source, weights.license)}
            {weights.url.map(|url| view! { " " <a href=url.clone() rel="noopener">{url.clone()}</a> })}
        </p>
        <p>{format!("Atlas built by {}.", model.provenance.build.tool)}</p>
    }
}
