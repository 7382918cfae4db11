//! The model page's part: the model's five most probable classes for the visitor's photo.

use leptos::prelude::*;
use microscope_core::photo_query::PhotoQuery;
use microscope_core::protocol::{ComputePath, ModelRef};

use super::picker::PhotoPicker;
use super::run::PhotoRun;
use crate::number::percent;

/// "Try your own photo" on a model page; `names` are the model's class labels (none: the
/// classes show as numbers).
#[component]
pub fn PhotoClasses(
    model: ModelRef,
    names: Vec<String>,
    forced_path: Option<ComputePath>,
) -> impl IntoView {
    let query = PhotoQuery { classes: true, ..PhotoQuery::default() };
    let run = PhotoRun::follow(model, query, forced_path);
    let status = run.status;
    let result = move || {
        let (answer, photo) = status.with(|s| s.answer.clone().zip(s.photo.clone()))?;
        let classes = answer.classes.clone()?;
        let items = classes
            .iter()
            .map(|score| {
                let name = names
                    .get(score.class as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("class {}", score.class));
                let width = format!("width:{:.1}%", f64::from(score.probability) * 100.0);
                view! {
                    <li class="photo-class" data-class=score.class.to_string()
                        data-probability=score.probability.to_string()>
                        <span class="photo-class-name">{name}</span>
                        <span class="photo-class-bar"><span style=width></span></span>
                        <span class="photo-class-probability">{percent(f64::from(score.probability))}</span>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="photo-result">
                <img class="photo-thumb" src=photo.url.clone() alt="Your photo"/>
                <ol class="photo-classes" id="photo-classes">{items}</ol>
            </div>
        })
    };
    view! {
        <section class="your-photo" id="your-photo" aria-labelledby="your-photo-heading">
            <h2 id="your-photo-heading">"Try your own photo"</h2>
            <p class="explain">
                "What the model sees in a photo of yours: its five most probable classes, from \
                 the centre of the photo, as the model was evaluated."
            </p>
            <PhotoPicker/>
            {run.view()}
            {result}
        </section>
    }
}
