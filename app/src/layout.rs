//! Site chrome shared by the full pages (the embed card has none): header, navigation, footer.

use crate::components::search_box::SearchBox;
use crate::links;
use leptos::prelude::*;

/// The header with the site name and navigation.
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <a href=links::home() class="brand">"Microscope"</a>
            <nav aria-label="Site">
                <a href=links::home()>"Models"</a>
                <a href=links::compare()>"Compare"</a>
                <a href=links::lab("")>"Lab"</a>
                <a href=links::diagnostics()>"Diagnostics"</a>
            </nav>
            <SearchBox/>
        </header>
    }
}

/// A full page: header, the page's `<main>` content, footer.
#[component]
pub fn Page(children: Children) -> impl IntoView {
    view! {
        <SiteHeader/>
        {children()}
        <footer class="site-footer">
            "Feature visualizations and dataset examples of vision models, rendered with burn."
        </footer>
    }
}

/// A page whose atlas files are still on their way. Its `<main>` has no `data-page` yet: the
/// page names itself once it knows whether what the URL names exists.
#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <Page>
            <main class="page" aria-busy="true">
                <p class="loading">"Loading the atlas…"</p>
            </main>
        </Page>
    }
}
