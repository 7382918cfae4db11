//! `/compare?class=<label>`: one class across every model whose labels hold it (the ImageNet
//! organisms share theirs): side by side, each model's units whose strongest class it is,
//! strongest first, from the layers' `unit_classes`, each linking to its page.

use std::sync::Arc;

use leptos::prelude::*;
use microscope_core::atlas::ModelManifest;

use crate::atlas::{ClassUnit, LoadError, class_units, load_index, load_model};
use crate::components::load_error::LoadErrorBox;
use crate::components::sprite::SpriteTile;
use crate::links;

/// Units listed per model.
const UNITS_PER_MODEL: usize = 12;
/// Side of a unit's thumbnail, in CSS pixels.
const THUMB: u32 = 48;

/// One model's column: the class's index in its labels and the units found.
#[derive(Debug, Clone)]
struct Column {
    model: Arc<ModelManifest>,
    class: u32,
    units: Vec<ClassUnit>,
}

/// What the page shows: every class name of the atlas (for the picker), the columns of the
/// models that have the chosen class, and the titles of those that do not.
#[derive(Debug, Clone, Default)]
struct Comparison {
    names: Vec<String>,
    columns: Vec<Column>,
    without: Vec<String>,
}

/// The models of the atlas, in display order (those whose manifest loads).
async fn models() -> Result<Vec<Arc<ModelManifest>>, LoadError> {
    let index = load_index().await?;
    let mut out = Vec::new();
    for entry in &index.models {
        if let Ok(model) = load_model(entry.id.as_str()).await {
            out.push(model);
        }
    }
    Ok(out)
}

/// The class's index in a model's labels (exact name).
fn class_of(model: &ModelManifest, name: &str) -> Option<u32> {
    let labels = model.labels.as_ref()?;
    labels.names.iter().position(|n| n == name).and_then(|i| u32::try_from(i).ok())
}

async fn compare(name: Option<String>) -> Result<Comparison, LoadError> {
    let models = models().await?;
    let mut comparison = Comparison::default();
    for model in &models {
        for label in model.labels.iter().flat_map(|labels| &labels.names) {
            if !comparison.names.contains(label) {
                comparison.names.push(label.clone());
            }
        }
    }
    let Some(name) = name else { return Ok(comparison) };
    for model in models {
        match class_of(&model, &name) {
            Some(class) => {
                let units = class_units(&model, class, UNITS_PER_MODEL).await;
                comparison.columns.push(Column { model, class, units });
            }
            None => comparison.without.push(model.title.clone()),
        }
    }
    Ok(comparison)
}

/// The class picker: a text field with every class name as a suggestion.
fn picker(names: &[String], chosen: Option<&str>) -> impl IntoView + use<> {
    let options =
        names.iter().map(|name| view! { <option value=name.clone()></option> }).collect_view();
    view! {
        <form class="class-picker" method="get" action=links::compare()>
            <label for="compare-class">"A class: "</label>
            <input id="compare-class" name="class" list="compare-class-names" size="32"
                value=chosen.unwrap_or_default().to_owned()
                placeholder="e.g. coffee mug"/>
            <datalist id="compare-class-names">{options}</datalist>
            <button type="submit">"Compare"</button>
        </form>
    }
}

/// One model's units for the class.
fn column(column: Column, name: &str) -> impl IntoView + use<> {
    let id = column.model.id.as_str().to_owned();
    let units = if column.units.is_empty() {
        view! {
            <p class="muted">{format!("No unit of {} has “{name}” as its strongest class.", column.model.title)}</p>
        }
        .into_any()
    } else {
        let items = column
            .units
            .into_iter()
            .map(|found| {
                let text = format!("{}:{}", found.layer, found.unit);
                let href = links::unit(&id, &found.layer, found.unit as usize);
                let thumb = found.thumbnail.map(|(sheet, tile)| {
                    view! { <SpriteTile sheet=sheet tile=tile size=THUMB label=format!("top dataset example of {text}")/> }
                });
                view! {
                    <li class="class-unit" data-unit=text.clone()>
                        <a href=href>{thumb}<span class="unit-name">{text.clone()}</span></a>
                        <span class="score" title="its score for the class (correlation over the corpus crops)">
                            {format!("{:.3}", found.score)}
                        </span>
                    </li>
                }
            })
            .collect_view();
        view! { <ol class="class-units">{items}</ol> }.into_any()
    };
    view! {
        <section class="compare-model" data-model=id.clone()>
            <h2><a href=links::model(&id)>{column.model.title.clone()}</a></h2>
            <p class="muted">{format!("class {}", column.class)}</p>
            {units}
        </section>
    }
}

/// The class comparison (`name` the class asked for, if any).
#[component]
pub fn ClassCompare(name: Option<String>) -> impl IntoView {
    let asked = name.clone();
    let comparison = LocalResource::new(move || compare(asked.clone()));
    view! {
        {move || match comparison.get() {
            None => view! { <p class="loading">"Reading the atlas…"</p> }.into_any(),
            Some(Err(error)) => view! { <LoadErrorBox error=error what="The atlas"/> }.into_any(),
            Some(Ok(found)) => {
                let chosen = name.clone();
                let body = match &chosen {
                    None => view! {
                        <p>"Pick a class to see, for every model trained on it, the units whose strongest class it is."</p>
                    }.into_any(),
                    Some(class) if found.columns.is_empty() => view! {
                        <p id="compare-class-none">{format!("No model of this atlas has a class named “{class}”.")}</p>
                    }.into_any(),
                    Some(class) => {
                        let without = (!found.without.is_empty()).then(|| view! {
                            <p class="muted">{format!("Without this class: {}.", found.without.join(", "))}</p>
                        });
                        let columns = found.columns.iter().cloned().map(|c| column(c, class)).collect_view();
                        view! {
                            <p>
                                {format!("The units whose strongest class is “{class}”, in each model that has it, strongest first. ")}
                                "A unit's classes are the correlations, over the corpus crops, of its mean activation with each class logit."
                            </p>
                            <div class="compare-models" id="compare-models">{columns}</div>
                            {without}
                        }.into_any()
                    }
                };
                view! { {picker(&found.names, chosen.as_deref())} {body} }.into_any()
            }
        }}
    }
}
