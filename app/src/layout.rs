//! Site chrome shared by the full pages (the embed card has none): header, navigation, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::search_box::SearchBox;

/// The header with the site name and navigation.
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Microscope"</A>
            <nav aria-label="Site">
                <A href="/">"Models"</A>
                <A href="/compare">"Compare"</A>
                <A href="/lab">"Lab"</A>
                <A href="/diagnostics">"Diagnostics"</A>
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
