//! `/models/:model/:layer`: the grid of a layer's units.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::layout::Page;
use crate::pages::name_param;
use crate::pages::not_found::NotFoundPage;

/// The layer page.
#[component]
pub fn LayerPage() -> impl IntoView {
    let model = name_param("model");
    let layer = name_param("layer");
    move || match (model.get(), layer.get()) {
        (Some(model), Some(layer)) => {
            let model_href = format!("/models/{model}");
            let model_name = model.clone();
            view! {
            <Page>
                <main data-page="layer" data-model=model.clone() data-layer=layer.clone() class="page">
                    <p class="breadcrumbs">
                        <A href=model_href>{model_name}</A>
                    </p>
                    <h1>{layer.clone()}</h1>
                    <p>"Every unit of this layer appears here as a grid once its atlas is loaded."</p>
                </main>
            </Page>
            }
            .into_any()
        }
        _ => view! { <NotFoundPage/> }.into_any(),
    }
}
