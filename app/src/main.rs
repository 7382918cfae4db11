//! The Microscope viewer: a Leptos (CSR) app compiled to wasm. It holds views, routing, fetching
//! and the glue to the renderer worker; all tensor code lives in the worker.

mod atlas;
mod components;
mod download;
mod gpu;
mod layout;
mod links;
mod number;
mod pages;
mod picture;
mod renderer_client;
mod routes;
mod suggest;
mod your_models;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(routes::App);
    remove_boot_shell();
}

/// Removes the static header and footer `index.html` shows while the wasm downloads (in the
/// same task as the mount, so no frame shows both).
fn remove_boot_shell() {
    if let Some(shell) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("boot"))
    {
        shell.remove();
    }
}
