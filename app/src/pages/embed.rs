//! `/embed/models/:model/:layer/:unit`: a compact card of one unit, made to live in an iframe:
//! no site chrome, sized to its container, light or dark (following the system, or
//! `?theme=light|dark`), with a link back to the full page.

use leptos::prelude::*;
use microscope_core::UnitId;

use crate::atlas::{Lookup, resolve_unit};
use crate::components::load_error::LoadErrorBox;
use crate::components::unit_card::card_body;
use crate::pages::not_found::NotFoundPage;
use crate::pages::{query_param, unit_route};
use crate::site;

/// The embeddable unit card.
#[component]
pub fn EmbedPage() -> impl IntoView {
    let route = unit_route();
    let theme = query_param("theme");
    let lookup = LocalResource::new(move || {
        let route = route.get();
        async move {
            match route {
                Some(r) => Some(resolve_unit(&r.model, &r.layer, r.unit, None).await),
                None => None,
            }
        }
    });
    move || match route.get() {
        None => view! { <NotFoundPage/> }.into_any(),
        Some(_) if lookup.get().is_none() => {
            view! { <main class="embed" aria-busy="true"><p class="loading">"Loading…"</p></main> }
                .into_any()
        }
        Some(route) => {
            let id = UnitId::new(route.layer.clone(), route.unit);
            let full_page = site::absolute(&id.url_path(&route.model));
            let theme = theme
                .get()
                .filter(|t| t == "light" || t == "dark")
                .unwrap_or_else(|| "system".to_owned());
            let body = match lookup.get() {
                Some(Some(Lookup::Found(ctx))) => card_body(&ctx, full_page.clone()),
                Some(None) | None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Some(Lookup::NotFound { what, .. })) => view! {
                    <p>{format!("The atlas has no {what}.")}</p>
                    <a href=full_page.clone() target="_top">"Open in Microscope"</a>
                }
                .into_any(),
                Some(Some(Lookup::Failed(error))) => view! {
                    <h1>{id.to_string()}</h1>
                    <LoadErrorBox error=error what="This unit"/>
                    <a href=full_page.clone() target="_top">"Open in Microscope"</a>
                }
                .into_any(),
            };
            view! {
                <main data-page="embed" data-model=route.model.clone() data-layer=route.layer.clone()
                    data-unit=route.unit.to_string() data-theme=theme class="embed">
                    {body}
                </main>
            }
            .into_any()
        }
    }
}
