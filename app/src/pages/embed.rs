//! `/embed/models/:model/:layer/:unit`: a compact card of one unit, made to live in an iframe.

use leptos::prelude::*;
use microscope_core::UnitId;

use crate::pages::not_found::NotFoundPage;
use crate::pages::unit_route;

/// The embeddable unit card: no site chrome, a link back to the full page.
#[component]
pub fn EmbedPage() -> impl IntoView {
    let route = unit_route();
    move || match route.get() {
        None => view! { <NotFoundPage/> }.into_any(),
        Some(route) => {
            let id = UnitId::new(route.layer.clone(), route.unit);
            let full_page = id.url_path(&route.model);
            view! {
                <main
                    data-page="embed"
                    data-model=route.model.clone()
                    data-layer=route.layer.clone()
                    data-unit=route.unit.to_string()
                    class="embed"
                >
                    <h1>{id.to_string()}</h1>
                    <p>{route.model.clone()}</p>
                    <a href=full_page target="_blank" rel="noopener">"Open in Microscope"</a>
                </main>
            }
            .into_any()
        }
    }
}
