//! A button that copies a text to the clipboard and says whether it worked.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

/// Copies `text`; `Err` with words when the browser refuses.
async fn copy(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().clipboard().write_text(text);
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|_| "the browser refused: select the text and copy it".to_owned())
}

/// A copy button for `text`, with a status next to it.
#[component]
pub fn CopyButton(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    text: Signal<String>,
) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let on_click = move |_| {
        let value = text.get_untracked();
        spawn_local(async move {
            match copy(&value).await {
                Ok(()) => status.set("Copied.".to_owned()),
                Err(message) => status.set(message),
            }
        });
    };
    view! {
        <button id=id type="button" on:click=on_click>{label}</button>
        <span class="copy-status" role="status" aria-live="polite">{move || status.get()}</span>
    }
}
