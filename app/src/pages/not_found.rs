//! The page for any URL the viewer does not know, naming what was asked for.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::layout::Page;

/// The not-found page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let location = use_location();
    view! {
        <Page>
            <main data-page="not-found" class="page">
                <h1>"Not found"</h1>
                <p>
                    "Nothing lives at "
                    <code class="requested-path">{move || location.pathname.get()}</code>
                    "."
                </p>
                <p>
                    "Unit pages look like "
                    <code>"/models/efficientnet-lite0/blocks.8/50"</code>
                    ": a model, a layer, then a unit number. "
                    <A href="/">"Browse the models"</A>
                    " instead."
                </p>
            </main>
        </Page>
    }
}
