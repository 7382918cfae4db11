//! The route table: every URL the viewer answers, each mapped to a page of its own file.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::{
    compare::ComparePage, diagnostics::DiagnosticsPage, embed::EmbedPage, home::HomePage,
    lab::LabPage, layer::LayerPage, model::ModelPage, not_found::NotFoundPage, search::SearchPage,
    unit::UnitPage, your_model::YourModelPage,
};

/// The whole app: a router over the product's pages, with a not-found page for anything else.
#[component]
pub fn App() -> impl IntoView {
    crate::components::your_photo::provide_photo_slot();
    view! {
        <Router base=crate::links::router_base().unwrap_or_default()>
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/") view=HomePage/>
                <Route path=path!("/models/:model") view=ModelPage/>
                <Route path=path!("/models/:model/:layer") view=LayerPage/>
                <Route path=path!("/models/:model/:layer/:unit") view=UnitPage/>
                <Route path=path!("/embed/models/:model/:layer/:unit") view=EmbedPage/>
                <Route path=path!("/compare") view=ComparePage/>
                <Route path=path!("/search") view=SearchPage/>
                <Route path=path!("/diagnostics") view=DiagnosticsPage/>
                <Route path=path!("/lab") view=LabPage/>
                <Route path=path!("/your-model") view=YourModelPage/>
            </Routes>
        </Router>
    }
}
