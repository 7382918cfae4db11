//! `/models/:model/:layer/:unit`: everything known about one unit.

use leptos::prelude::*;
use leptos_router::components::A;
use microscope_core::UnitId;

use crate::layout::Page;
use crate::pages::not_found::NotFoundPage;
use crate::pages::unit_route;

/// The unit page.
#[component]
pub fn UnitPage() -> impl IntoView {
    let route = unit_route();
    move || match route.get() {
        None => view! { <NotFoundPage/> }.into_any(),
        Some(route) => {
            let id = UnitId::new(route.layer.clone(), route.unit).to_string();
            let model_href = format!("/models/{}", route.model);
            let layer_href = format!("/models/{}/{}", route.model, route.layer);
            let (model_name, layer_name) = (route.model.clone(), route.layer.clone());
            view! {
                <Page>
                    <main
                        data-page="unit"
                        data-model=route.model.clone()
                        data-layer=route.layer.clone()
                        data-unit=route.unit.to_string()
                        class="page"
                    >
                        <p class="breadcrumbs">
                            <A href=model_href>{model_name}</A>
                            " / "
                            <A href=layer_href>{layer_name}</A>
                        </p>
                        <h1>{id}</h1>
                        <p>"Feature visualizations, dataset examples and circuits of this unit appear here."</p>
                    </main>
                </Page>
            }
            .into_any()
        }
    }
}
