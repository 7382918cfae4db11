//! A compact card of one unit (its channel visualization, label, top classes, a link to its
//! page), used by the embed route and the compare page.

use leptos::prelude::*;
use microscope_core::atlas::Technique;

use crate::atlas::{Lookup, UnitCtx, asset_url, resolve_unit};
use crate::components::load_error::LoadErrorBox;
use crate::components::placeholder::Placeholder;

/// The card's image size in pixels.
const IMAGE: u32 = 224;

/// The card body for a resolved unit.
pub fn card_body(ctx: &UnitCtx, page_href: String) -> AnyView {
    let layer = ctx.layer.info().name.as_str().to_owned();
    let model = &ctx.layer.model.model;
    let title = format!("{layer}:{}", ctx.unit);
    let names = model.labels.as_ref().map(|labels| labels.names.clone()).unwrap_or_default();
    let (image, label, classes) = match &ctx.manifest {
        Ok(unit) => {
            let image = match &unit.feature_visualizations.channel {
                Some(rendering) => view! {
                    <img class="fv" src=asset_url(&rendering.image.path) width=IMAGE height=IMAGE
                        alt=format!("Channel feature visualization of {title}")/>
                }
                .into_any(),
                None => view! { <Placeholder technique=Technique::Channel.as_str() size=IMAGE/> }
                    .into_any(),
            };
            let classes = unit
                .top_classes
                .iter()
                .flatten()
                .take(3)
                .map(|c| {
                    names
                        .get(c.class as usize)
                        .cloned()
                        .unwrap_or_else(|| format!("class {}", c.class))
                })
                .collect::<Vec<_>>();
            (image, unit.label.clone(), classes)
        }
        Err(_) => (
            view! { <Placeholder technique=Technique::Channel.as_str() size=IMAGE/> }.into_any(),
            None,
            Vec::new(),
        ),
    };
    let card_id = title.clone();
    view! {
        <div class="unit-card" data-unit-card=card_id>
            {image}
            <div class="unit-card-text">
                <h2>{title}</h2>
                <p class="muted">{model.title.clone()}</p>
                {label.map(|label| view! { <p class="unit-label">{label}</p> })}
                {(!classes.is_empty()).then(|| view! { <p class="card-classes">"Drives: " {classes.join(", ")}</p> })}
                <a class="full-page" href=page_href target="_top">"Open in Microscope →"</a>
            </div>
        </div>
    }
    .into_any()
}

/// A card that loads its unit itself.
#[component]
pub fn UnitCard(model: String, layer: String, unit: usize) -> impl IntoView {
    let href = crate::links::unit(&model, &layer, unit);
    let (m, l) = (model.clone(), layer.clone());
    let lookup = LocalResource::new(move || {
        let (m, l) = (m.clone(), l.clone());
        async move { resolve_unit(&m, &l, unit, None).await }
    });
    move || {
        match lookup.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Lookup::Found(ctx)) => card_body(&ctx, href.clone()),
        Some(Lookup::NotFound { what, suggestions }) => view! {
            <div class="unit-card missing" data-unit-card="missing">
                <p>{format!("The atlas has no {what}.")}</p>
                <ul>{suggestions.into_iter().map(|s| view! { <li><a href=s.href>{s.label}</a></li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
        Some(Lookup::Failed(error)) => view! { <LoadErrorBox error=error what="This unit"/> }.into_any(),
    }
    }
}
