//! `/models/:model`: one model, its layers in order.

use leptos::prelude::*;

use crate::layout::Page;
use crate::pages::name_param;
use crate::pages::not_found::NotFoundPage;

/// The model page.
#[component]
pub fn ModelPage() -> impl IntoView {
    let model = name_param("model");
    move || {
        match model.get() {
        None => view! { <NotFoundPage/> }.into_any(),
        Some(model) => view! {
            <Page>
                <main data-page="model" data-model=model.clone() class="page">
                    <h1>{model.clone()}</h1>
                    <p>"The layers of this model, in order, appear here once its atlas is loaded."</p>
                </main>
            </Page>
        }
        .into_any(),
    }
    }
}
