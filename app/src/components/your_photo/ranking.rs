//! The layer page's part: the layer's units that fire most on the visitor's photo, as a
//! ranked grid whose cells link to the units' pages (the photo stays chosen there).

use std::sync::Arc;

use leptos::prelude::*;
use microscope_core::atlas::{LayerManifest, Technique};
use microscope_core::photo_query::PhotoQuery;
use microscope_core::protocol::{ComputePath, ModelRef};

use super::picker::PhotoPicker;
use super::run::PhotoRun;
use crate::components::sprite::SpriteTile;
use crate::links;

/// Cells in the grid.
const SHOWN: usize = 24;
/// Side of a cell's thumbnail, in pixels.
const THUMB: u32 = 80;

/// "Fires most on your photo" on a layer page. `query` is appended to each unit's link (the
/// checkpoint, a forced path); `manifest` gives the thumbnails, where the atlas has them.
#[component]
pub fn PhotoRanking(
    model: ModelRef,
    layer: String,
    manifest: Option<Arc<LayerManifest>>,
    query: String,
    forced_path: Option<ComputePath>,
) -> impl IntoView {
    let model_id = model.id().to_owned();
    let photo_query = PhotoQuery { layer: Some(layer.clone()), ..PhotoQuery::default() };
    let run = PhotoRun::follow(model, photo_query, forced_path);
    let status = run.status;
    let result = move || {
        let (answer, photo) = status.with(|s| s.answer.clone().zip(s.photo.clone()))?;
        let ranking = answer.ranking.clone()?;
        let cells = ranking
            .units
            .iter()
            .take(SHOWN)
            .enumerate()
            .map(|(rank, entry)| {
                let href = format!("{}{query}", links::unit(&model_id, &layer, entry.unit as usize));
                let name = format!("{layer}:{}", entry.unit);
                let thumbnail = manifest.as_ref().and_then(|m| {
                    [Technique::Channel, Technique::DatasetExamples]
                        .into_iter()
                        .find_map(|t| m.thumbnail(t, entry.unit))
                        .map(|(sheet, tile)| (sheet.clone(), tile))
                });
                let image = match thumbnail {
                    Some((sheet, tile)) => {
                        view! { <SpriteTile sheet=sheet tile=tile size=THUMB label=name.clone()/> }.into_any()
                    }
                    None => view! {
                        <div class="placeholder photo-rank-blank" style=format!("width:{THUMB}px;height:{THUMB}px")>
                            <span>{entry.unit.to_string()}</span>
                        </div>
                    }
                    .into_any(),
                };
                view! {
                    <li>
                        <a class="photo-rank-cell" href=href data-unit=entry.unit.to_string()
                            data-value=entry.value.to_string()>
                            {image}
                            <span class="photo-rank-name">{format!("{}. {name}", rank + 1)}</span>
                            <span class="photo-rank-value">{format!("{:.3}", entry.value)}</span>
                        </a>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="photo-result">
                <img class="photo-thumb" src=photo.url.clone() alt="Your photo"/>
                <ol class="photo-ranking" id="photo-ranking">{cells}</ol>
            </div>
        })
    };
    view! {
        <section class="your-photo" id="your-photo" aria-labelledby="your-photo-heading">
            <h2 id="your-photo-heading">"Fires most on your photo"</h2>
            <p class="explain">
                "The units of this layer ranked by their mean activation over a photo of yours \
                 (the whole photo, stretched to the model's input, as `microscope activation` \
                 measures it). Open one to see where in the photo it fires."
            </p>
            <PhotoPicker/>
            {run.view()}
            {result}
        </section>
    }
}
