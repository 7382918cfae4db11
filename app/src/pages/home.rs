//! `/`: the model organisms.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::layout::Page;

/// The home page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Page>
            <main data-page="home" class="page">
                <h1>"Microscope"</h1>
                <p class="lede">
                    "An atlas of every significant layer and unit of vision models: feature "
                    "visualizations, dataset examples and circuits, one link away. Units the atlas "
                    "lacks are rendered live on your own GPU."
                </p>
                <h2>"Model organisms"</h2>
                <ul class="model-list">
                    <li><A href="/models/efficientnet-lite0">"EfficientNet-Lite0"</A></li>
                    <li><A href="/models/efficientnet-lite1">"EfficientNet-Lite1"</A></li>
                    <li><A href="/models/efficientnet-lite2">"EfficientNet-Lite2"</A></li>
                </ul>
            </main>
        </Page>
    }
}
