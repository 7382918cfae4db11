//! The Microscope viewer: a Leptos (CSR) app compiled to wasm. It holds views, routing, fetching
//! and the glue to the renderer worker; all tensor code lives in the worker.

mod gpu;
mod layout;
mod pages;
mod renderer_client;
mod routes;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(routes::App);
}
