//! The photo picker: a file input inside a drop zone. A file over core's
//! [`PhotoLimits::BROWSER`] is refused before it is read; the chosen photo goes into the
//! session's slot (replacing, and releasing, the previous one).

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::photo_query::PhotoLimits;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement, Url};

use super::{ChosenPhoto, PRIVACY_NOTE, photo_slot};

/// Reads `file` into the session's slot, or says why not in `error`.
fn choose(file: File, slot: RwSignal<Option<ChosenPhoto>>, error: RwSignal<String>) {
    if let Err(problem) = PhotoLimits::BROWSER.check_bytes(file.size() as u64) {
        error.set(format!("{}: {problem}", file.name()));
        return;
    }
    error.set(String::new());
    spawn_local(async move {
        let bytes = match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(_) => {
                error.try_set(format!("{} could not be read.", file.name()));
                return;
            }
        };
        let Ok(url) = Url::create_object_url_with_blob(&file) else {
            error.try_set(format!("{} could not be shown.", file.name()));
            return;
        };
        slot.try_update(|slot| {
            let serial = slot.as_ref().map_or(1, |old| old.serial + 1);
            if let Some(old) = slot.take() {
                let _ = Url::revoke_object_url(&old.url);
            }
            *slot = Some(ChosenPhoto { name: file.name(), bytes: Arc::new(bytes), url, serial });
        });
    });
}

/// The picker, with the privacy note and the chosen photo's name.
#[component]
pub fn PhotoPicker() -> impl IntoView {
    let slot = photo_slot();
    let error = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);
    let on_change = move |event: leptos::ev::Event| {
        let input = event.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok());
        if let Some(file) = input.as_ref().and_then(HtmlInputElement::files).and_then(|f| f.get(0))
        {
            choose(file, slot, error);
        }
    };
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(file) = event.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            choose(file, slot, error);
        }
    };
    let forget = move |_| {
        slot.update(|slot| {
            if let Some(old) = slot.take() {
                let _ = Url::revoke_object_url(&old.url);
            }
        });
    };
    view! {
        <div class="photo-picker" class:dragging=move || dragging.get()
            on:dragover=move |event: leptos::ev::DragEvent| {
                event.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <label class="photo-drop">
                <span>"Drop a photo here, or choose one: "</span>
                <input id="photo-input" type="file" accept="image/png,image/jpeg,image/webp"
                    on:change=on_change/>
            </label>
            <p class="muted photo-privacy">{PRIVACY_NOTE}</p>
            {move || slot.get().map(|photo| view! {
                <p class="photo-chosen">
                    "Your photo: " <strong id="photo-name">{photo.name.clone()}</strong> " "
                    <button type="button" id="photo-forget" on:click=forget>"Forget it"</button>
                </p>
            })}
            {move || {
                let text = error.get();
                (!text.is_empty()).then(|| view! { <p class="photo-error" role="alert">{text}</p> })
            }}
        </div>
    }
}
