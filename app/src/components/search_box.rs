//! The search box in the site header: a unit as lucid writes it (`blocks.8:50`), a layer, a
//! label or an ImageNet class; it opens the search page.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::links;

/// The search form.
#[component]
pub fn SearchBox() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let navigate = use_navigate();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let text = query.get_untracked();
        let text = text.trim();
        if !text.is_empty() {
            navigate(&links::search(text), links::navigate());
        }
    };
    view! {
        <form class="search" role="search" on:submit=on_submit>
            <label for="search-input" class="visually-hidden">"Search units, layers, labels, classes"</label>
            <input id="search-input" type="search" placeholder="blocks.8:50, label or class"
                prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
            <button type="submit">"Search"</button>
        </form>
    }
}
