//! What stands where the atlas has no image: never a broken image, always words saying the
//! in-browser renderer will fill it.

use leptos::prelude::*;

/// A placeholder of `size` pixels (square) for a technique the atlas lacks.
#[component]
pub fn Placeholder(
    #[prop(into)] technique: String,
    size: u32,
    #[prop(optional, into)] note: String,
) -> impl IntoView {
    let style = format!("width:{size}px;height:{size}px");
    let text = if note.is_empty() {
        format!("No {technique} image in the atlas yet: the in-browser renderer will fill it.")
    } else {
        note
    };
    let label = text.clone();
    view! {
        <div class="placeholder" role="img" aria-label=label data-technique=technique style=style>
            <span>{text}</span>
        </div>
    }
}
