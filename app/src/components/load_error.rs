//! A clear message, in place, for an atlas file that could not be read; the rest of the page
//! keeps working around it.

use leptos::prelude::*;

use crate::atlas::LoadError;

/// The message box for a failed load. `what` says what the file would have shown.
#[component]
pub fn LoadErrorBox(error: LoadError, #[prop(into)] what: String) -> impl IntoView {
    let hint = match &error {
        LoadError::Missing { .. } => "The atlas may not be built or published yet.",
        LoadError::Corrupt { .. } => {
            "Rebuild this part of the atlas, or check it with `microscope verify`."
        }
        LoadError::Network { .. } => "Check the connection and reload the page.",
    };
    view! {
        <div class="load-error" role="alert" data-error=error.kind() data-file=error.file().to_owned()>
            <strong>{format!("{what} could not be loaded.")}</strong>
            " "
            <span class="load-error-message">{error.to_string()}</span>
            " "
            <span class="muted">{hint}</span>
        </div>
    }
}
