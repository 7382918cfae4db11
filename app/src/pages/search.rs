//! `/search?q=…`: finds units by lucid's `layer:unit` text (optionally `model/layer:unit`),
//! layers and models by name, units by community label, and ImageNet classes by name (with the
//! units of every layer whose strongest class it is, through each layer's `unit_classes`).

use std::sync::Arc;

use leptos::prelude::*;
use microscope_core::UnitId;
use microscope_core::atlas::{AtlasIndex, ModelManifest};

use crate::atlas::{LoadError, class_units, load_annotations, load_index, load_model};
use crate::components::load_error::LoadErrorBox;
use crate::layout::Page;
use crate::links;
use crate::pages::query_param;
use crate::suggest::Suggestion;

/// Most results of one kind.
const LIMIT: usize = 50;
/// Results, grouped.
#[derive(Debug, Clone, Default)]
struct Results {
    units: Vec<Suggestion>,
    layers: Vec<Suggestion>,
    labels: Vec<Suggestion>,
    classes: Vec<Suggestion>,
}

async fn models(index: &AtlasIndex) -> Vec<Arc<ModelManifest>> {
    let mut out = Vec::new();
    for entry in &index.models {
        if let Ok(model) = load_model(entry.id.as_str()).await {
            out.push(model);
        }
    }
    out
}

/// Most units listed for one class.
const CLASS_UNITS: usize = 8;

/// The units of every layer of `model` whose strongest class is `class`, as links.
async fn class_links(model: &ModelManifest, class: u32) -> Vec<Suggestion> {
    class_units(model, class, CLASS_UNITS)
        .await
        .into_iter()
        .map(|found| Suggestion {
            label: format!("{}:{} (score {:.3})", found.layer, found.unit, found.score),
            href: links::unit(model.id.as_str(), &found.layer, found.unit as usize),
        })
        .collect()
}

async fn search(query: String) -> Result<Results, LoadError> {
    let index = load_index().await?;
    let models = models(&index).await;
    let q = query.trim().to_owned();
    let lower = q.to_lowercase();
    let mut results = Results::default();
    // `model/layer:unit` or `layer:unit`.
    let (model_part, unit_part) = match q.split_once('/') {
        Some((m, rest)) if rest.contains(':') => (Some(m.to_owned()), rest.to_owned()),
        _ => (None, q.clone()),
    };
    if let Ok(id) = unit_part.parse::<UnitId>() {
        for model in
            models.iter().filter(|m| model_part.as_deref().is_none_or(|p| p == m.id.as_str()))
        {
            if let Some(info) = model.layer(&id.layer)
                && (id.unit as u64) < u64::from(info.units)
            {
                results.units.push(Suggestion {
                    label: format!("{} · {id}", model.title),
                    href: links::unit(model.id.as_str(), &id.layer, id.unit),
                });
            }
        }
    }
    for model in &models {
        if model.id.as_str().to_lowercase().contains(&lower)
            || model.title.to_lowercase().contains(&lower)
        {
            results.layers.push(Suggestion {
                label: model.title.clone(),
                href: links::model(model.id.as_str()),
            });
        }
        for info in model
            .graph
            .layers
            .iter()
            .filter(|l| l.name.as_str().to_lowercase().contains(&lower))
            .take(LIMIT)
        {
            results.layers.push(Suggestion {
                label: format!("{} · {} ({} units)", model.title, info.name, info.units),
                href: links::layer(model.id.as_str(), info.name.as_str()),
            });
        }
    }
    if index.annotations
        && let Ok(annotations) = load_annotations().await
    {
        for a in annotations
            .annotations
            .iter()
            .filter(|a| a.text.to_lowercase().contains(&lower))
            .take(LIMIT)
        {
            let (label, href) = match a.unit {
                Some(unit) => (
                    format!("{}:{unit}", a.layer),
                    links::unit(a.model.as_str(), a.layer.as_str(), unit as usize),
                ),
                None => {
                    (a.layer.as_str().to_owned(), links::layer(a.model.as_str(), a.layer.as_str()))
                }
            };
            results
                .labels
                .push(Suggestion {
                    label: format!("“{}” — {} {label}", a.text, a.model), href
                });
        }
    }
    if lower.len() >= 3 {
        for model in &models {
            let Some(labels) = &model.labels else { continue };
            for (class, name) in labels
                .names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.to_lowercase().contains(&lower))
                .take(3)
            {
                let units = class_links(model, class as u32).await;
                results.classes.push(Suggestion {
                    label: format!(
                        "{} · class {class}: {name} (compare across models)",
                        model.title
                    ),
                    href: links::compare_class(name),
                });
                results.classes.extend(units);
            }
        }
    }
    Ok(results)
}

fn group(id: &'static str, heading: &'static str, items: Vec<Suggestion>) -> impl IntoView {
    (!items.is_empty()).then(|| view! {
        <h2>{heading}</h2>
        <ul class="results" id=id>
            {items.into_iter().map(|s| view! { <li><a href=s.href>{s.label}</a></li> }).collect_view()}
        </ul>
    })
}

/// The search page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let q = query_param("q");
    let results = LocalResource::new(move || {
        let q = q.get().unwrap_or_default();
        async move { if q.trim().is_empty() { None } else { Some(search(q).await) } }
    });
    view! {
        <Page>
            <main data-page="search" class="page">
                <h1>"Search"</h1>
                <p>{move || q.get().map(|q| format!("Results for “{q}”")).unwrap_or_else(|| "Type a unit (blocks.8:50), a layer, a label or a class in the box above.".to_owned())}</p>
                {move || match results.get() {
                    None => view! { <p class="loading">"Searching…"</p> }.into_any(),
                    Some(None) => ().into_any(),
                    Some(Some(Err(error))) => view! { <LoadErrorBox error=error what="The atlas"/> }.into_any(),
                    Some(Some(Ok(r))) => {
                        let empty = r.units.is_empty() && r.layers.is_empty() && r.labels.is_empty() && r.classes.is_empty();
                        view! {
                            {group("results-units", "Units", r.units)}
                            {group("results-layers", "Models and layers", r.layers)}
                            {group("results-labels", "Labels and notes", r.labels)}
                            {group("results-classes", "Classes", r.classes)}
                            {empty.then(|| view! { <p id="no-results">"Nothing matches."</p> })}
                        }.into_any()
                    }
                }}
            </main>
        </Page>
    }
}
