//! `/`: the model organisms of the atlas as cards: what each is, its input, parameters,
//! accuracy, weights' source and license, and how much of it the atlas covers, technique by
//! technique (a unit with dataset examples but no picture is not a pictured unit), and which
//! models are still being built (`atlas.json`'s `building` marks).

use leptos::prelude::*;
use microscope_core::atlas::{AtlasIndex, ModelEntry, TechniqueCounts};
use microscope_core::organisms::organism;

use crate::atlas::{load_index, load_layer, load_model};
use crate::components::load_error::LoadErrorBox;
use crate::layout::Page;
use crate::number::{grouped, percent};

/// The home page.
#[component]
pub fn HomePage() -> impl IntoView {
    let index = LocalResource::new(load_index);
    view! {
        <Page>
            <main data-page="home" class="page">
                <h1>"Microscope"</h1>
                <p class="lede">
                    "An atlas of every significant layer and unit of vision models: feature "
                    "visualizations, dataset examples and circuits, one link away. Units the atlas "
                    "lacks are rendered live on your own GPU."
                </p>
                <h2>"Model organisms"</h2>
                {move || match index.get() {
                    None => view! { <p class="loading">"Loading the atlas…"</p> }.into_any(),
                    Some(Err(error)) => view! { <LoadErrorBox error=error what="The atlas index"/> }.into_any(),
                    Some(Ok(index)) => cards(&index).into_any(),
                }}
            </main>
        </Page>
    }
}

fn cards(index: &AtlasIndex) -> impl IntoView + use<> {
    let cards =
        index.models.iter().cloned().map(|entry| view! { <ModelCard entry=entry/> }).collect_view();
    view! {
        {index.description.clone().map(|d| view! { <p class="atlas-description">{d}</p> })}
        {building_note(index)}
        <ul class="model-cards" id="model-cards">{cards}</ul>
    }
}

/// The models still being built, in a sentence (nothing when none is).
fn building_note(index: &AtlasIndex) -> Option<impl IntoView + use<>> {
    let titles: Vec<String> = index.building().map(|entry| entry.title.clone()).collect();
    (!titles.is_empty()).then(|| {
        let verb = if titles.len() == 1 { "is" } else { "are" };
        view! {
            <p class="building-note" id="building-note">
                {format!("{} {verb} still being built: ", titles.join(", "))}
                "what is missing shows as placeholders; reload this page later to see more."
            </p>
        }
    })
}

/// What the atlas holds of a model at its default checkpoint.
#[derive(Clone, Copy)]
struct Covered {
    /// Units with each technique, over all layers.
    counts: TechniqueCounts,
    /// Units of all layers.
    units: u64,
    /// Layers with at least one unit built.
    layers_built: usize,
    /// Layers.
    layers: usize,
}

/// The coverage of a model's layers at its default checkpoint.
async fn coverage(model: &str) -> Option<Covered> {
    let manifest = load_model(model).await.ok()?;
    let checkpoint = manifest.default_checkpoint.as_str();
    let mut covered = Covered {
        counts: TechniqueCounts::default(),
        units: 0,
        layers_built: 0,
        layers: manifest.graph.layers.len(),
    };
    for info in &manifest.graph.layers {
        covered.units += u64::from(info.units);
        if let Ok(layer) = load_layer(model, checkpoint, info.name.as_str()).await {
            covered.counts.add(&TechniqueCounts::from_coverage(&layer.coverage));
            covered.layers_built += usize::from(!layer.coverage.built.is_empty());
        }
    }
    Some(covered)
}

/// One line per technique (`channel: 2 of 7 (28.6 %)`), then the layers built.
fn coverage_lines(covered: Covered) -> impl IntoView {
    let units = covered.units;
    let lines = covered
        .counts
        .iter()
        .map(|(technique, count)| {
            let share = if units == 0 { 0.0 } else { count as f64 / units as f64 };
            let name = format!("{}: ", technique.as_str().replace('_', " "));
            let share = format!("{} of {} ({})", grouped(count), grouped(units), percent(share));
            view! {
                <li data-technique=technique.as_str()>{name}<span class="share">{share}</span></li>
            }
        })
        .collect_view();
    view! {
        <ul class="coverage-list">{lines}</ul>
        <span class="coverage-layers">
            {format!("{} of {} layers built", covered.layers_built, covered.layers)}
        </span>
    }
}

/// One model's card.
#[component]
fn ModelCard(entry: ModelEntry) -> impl IntoView {
    let id = entry.id.as_str().to_owned();
    let href = crate::links::model(&id);
    let (for_model, for_coverage) = (id.clone(), id.clone());
    let model = LocalResource::new(move || {
        let id = for_model.clone();
        async move { load_model(&id).await }
    });
    let covered = LocalResource::new(move || {
        let id = for_coverage.clone();
        async move { coverage(&id).await }
    });
    let known = organism(&id);
    let facts = move || match model.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(error)) => {
            view! { <LoadErrorBox error=error what="This model's manifest"/> }.into_any()
        }
        Some(Ok(model)) => {
            let parameters = model.graph.parameters.or(known.map(|o| o.parameters as u64));
            let default = model.checkpoint(model.default_checkpoint.as_str());
            let accuracy = match (default.and_then(|c| c.test_accuracy), known) {
                (Some(accuracy), _) => {
                    let set = default
                        .and_then(|c| c.test_set.clone())
                        .unwrap_or_else(|| "test set".to_owned());
                    format!("{} top-1 ({set})", percent(f64::from(accuracy)))
                }
                (None, Some(o)) => {
                    format!("{:.1} % ImageNet top-1 (reported)", o.reported_top1_percent)
                }
                (None, None) => "not recorded".to_owned(),
            };
            let weights = &model.provenance.weights;
            view! {
                <dl class="facts">
                    <dt>"Input"</dt>
                    <dd>{format!("{}×{} px, {} channels", model.input.width, model.input.height, model.input.channels)}</dd>
                    <dt>"Parameters"</dt>
                    <dd>{parameters.map_or_else(|| "unknown".to_owned(), grouped)}</dd>
                    <dt>"Accuracy"</dt>
                    <dd>{accuracy}</dd>
                    <dt>"Layers"</dt>
                    <dd>{model.graph.layers.len().to_string()}</dd>
                    <dt>"Weights"</dt>
                    <dd>{weights.source.clone()} " · " {weights.license.clone()}</dd>
                    <dt>"Atlas coverage"</dt>
                    <dd class="coverage">{move || match covered.get() {
                        None => "counting…".into_any(),
                        Some(None) => "unknown".into_any(),
                        Some(Some(covered)) => coverage_lines(covered).into_any(),
                    }}</dd>
                </dl>
            }
            .into_any()
        }
    };
    let summary = entry.summary.clone().or(known.map(|o| o.summary.to_owned()));
    let building = entry.building.then(|| {
        view! { <span class="badge building" data-building="true">"being built"</span> }
    });
    view! {
        <li class="model-card" data-model-card=id.clone()>
            <h3><a href=href>{entry.title.clone()}</a> {building}</h3>
            {summary.map(|s| view! { <p>{s}</p> })}
            {facts}
        </li>
    }
}
