//! The unit page's part: the unit's activation map laid over the visitor's photo, and its
//! value on the photo marked on the atlas's histogram of the unit.

use leptos::prelude::*;
use microscope_core::UnitId;
use microscope_core::atlas::{Histogram, Statistic};
use microscope_core::photo_query::{PhotoQuery, UnitOnPhoto};
use microscope_core::protocol::{ComputePath, ModelRef};

use super::picker::PhotoPicker;
use super::run::PhotoRun;
use crate::components::histogram::HistogramChart;
use crate::picture::png_data_url;

/// The photo's value to mark on `histogram`: the statistic its samples are.
fn marked_value(unit: &UnitOnPhoto, statistic: &Statistic) -> (f32, &'static str) {
    match statistic {
        Statistic::SpatialMax | Statistic::Positions => {
            (unit.max, "its largest activation over the photo")
        }
        Statistic::SpatialMean | Statistic::Other => (unit.value, "its mean activation"),
    }
}

/// "Try your own photo" on a unit page.
#[component]
pub fn PhotoUnitMap(
    model: ModelRef,
    unit: UnitId,
    histogram: Option<Histogram>,
    forced_path: Option<ComputePath>,
) -> impl IntoView {
    let query = PhotoQuery { unit: Some(unit.clone()), ..PhotoQuery::default() };
    let run = PhotoRun::follow(model, query, forced_path);
    let status = run.status;
    let name = unit.to_string();
    let result = move || {
        let (answer, photo) = status.with(|s| s.answer.clone().zip(s.photo.clone()))?;
        let on_photo = answer.unit.clone()?;
        let overlay = png_data_url(&on_photo.overlay).unwrap_or_default();
        let aspect = format!("aspect-ratio:{} / {}", answer.width.max(1), answer.height.max(1));
        let chart = histogram.clone().map(|h| {
            let (mark, words) = marked_value(&on_photo, &h.statistic);
            view! {
                <p class="muted">{format!(
                    "Marked: {words} ({mark:.3}). The atlas's samples are square crops of its \
                     photographs; yours is the whole photo."
                )}</p>
                <HistogramChart histogram=h mark=mark id="photo-histogram"/>
            }
        });
        Some(view! {
            <div class="photo-result">
                <figure class="photo-map">
                    <div class="photo-stack" style=aspect>
                        <img class="photo-under" src=photo.url.clone() alt="Your photo"/>
                        <img class="photo-overlay" id="photo-overlay" src=overlay
                            alt=format!("Where {name} fires on your photo")/>
                    </div>
                    <figcaption class="muted">
                        {format!(
                            "{name} over your photo: warm where it fires, blue where it is \
                             negative ({}×{} positions).",
                            on_photo.map.width, on_photo.map.height
                        )}
                    </figcaption>
                </figure>
                <div class="photo-numbers">
                    <p id="photo-unit-value" data-value=on_photo.value.to_string()
                        data-max=on_photo.max.to_string() data-min=on_photo.min.to_string()>
                        "Value on your photo: " <strong>{format!("{:.4}", on_photo.value)}</strong>
                        {format!(" (mean over positions; largest {:.3}, smallest {:.3})", on_photo.max, on_photo.min)}
                    </p>
                    {chart}
                </div>
            </div>
        })
    };
    view! {
        <section class="your-photo" id="your-photo" aria-labelledby="your-photo-heading">
            <h2 id="your-photo-heading">"Try your own photo"</h2>
            <p class="explain">
                "Where this unit fires on a photo of yours, and how strongly: its value is its \
                 mean activation over the whole photo stretched to the model's input, as \
                 `microscope activation` measures it."
            </p>
            <PhotoPicker/>
            {run.view()}
            {result}
        </section>
    }
}
