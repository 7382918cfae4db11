//! The page for any URL the viewer does not know, or that names a model, layer or unit the
//! atlas lacks: it names what was asked for and offers the nearest things that exist.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::atlas::load_index;
use crate::layout::Page;
use crate::links;
use crate::suggest::{Suggestion, nearest};

/// Suggestions for an unknown path: the atlas's models nearest to its segments.
async fn path_suggestions(path: String) -> Vec<Suggestion> {
    let Ok(index) = load_index().await else { return Vec::new() };
    let word = path
        .split('/')
        .find(|segment| !segment.is_empty() && *segment != "models" && *segment != "embed")
        .unwrap_or_default()
        .to_owned();
    let models = index.models.iter().map(|m| (m.title.clone(), links::model(m.id.as_str())));
    nearest(&word, models, 5)
}

/// The not-found page. Without `suggestions` it looks for models near the requested path.
#[component]
pub fn NotFoundPage(
    #[prop(optional)] what: Option<String>,
    #[prop(optional)] suggestions: Option<Vec<Suggestion>>,
) -> impl IntoView {
    let location = use_location();
    let given = suggestions.is_some();
    let fetched = LocalResource::new(move || {
        let path = links::route_path(&location.pathname.get_untracked());
        async move { if given { Vec::new() } else { path_suggestions(path).await } }
    });
    let suggestions = StoredValue::new(suggestions.unwrap_or_default());
    let list = move || {
        let mut items = suggestions.get_value();
        if !given {
            items = fetched.get().unwrap_or_default();
        }
        (!items.is_empty()).then(|| {
            view! {
                <h2>"Did you mean"</h2>
                <ul class="suggestions" id="suggestions">
                    {items.into_iter().map(|s| view! { <li><a href=s.href>{s.label}</a></li> }).collect_view()}
                </ul>
            }
        })
    };
    view! {
        <Page>
            <main data-page="not-found" class="page">
                <h1>"Not found"</h1>
                <p>
                    "Nothing lives at "
                    <code class="requested-path">{move || location.pathname.get()}</code>
                    {what.map(|what| format!(": the atlas has no {what}"))}
                    "."
                </p>
                {list}
                <p>
                    "Unit pages look like "
                    <code>"/models/efficientnet-lite0/blocks.8/50"</code>
                    ": a model, a layer, then a unit number. "
                    <a href=links::home()>"Browse the models"</a>
                    " instead."
                </p>
            </main>
        </Page>
    }
}
