//! Pictures from the renderer worker (RGBA bytes) on the page: drawn on a canvas, or turned
//! into a PNG `data:` URL for an `<img>` and its download link.

use leptos::prelude::document;
use microscope_core::protocol::Picture;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// Draws `picture` on `canvas`, resizing the canvas to fit.
pub fn draw(canvas: &HtmlCanvasElement, picture: &Picture) {
    if canvas.width() != picture.width || canvas.height() != picture.height {
        canvas.set_width(picture.width);
        canvas.set_height(picture.height);
    }
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|context| context.dyn_into::<CanvasRenderingContext2d>().ok());
    let data = ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&picture.rgba),
        picture.width,
        picture.height,
    );
    if let (Some(context), Ok(data)) = (context, data) {
        let _ = context.put_image_data(&data, 0.0, 0.0);
    }
}

/// Draws `picture` on the canvas with id `canvas_id`, if the page has it.
pub fn draw_on(canvas_id: &str, picture: &Picture) {
    if let Some(canvas) = document()
        .get_element_by_id(canvas_id)
        .and_then(|element| element.dyn_into::<HtmlCanvasElement>().ok())
    {
        draw(&canvas, picture);
    }
}

/// `picture` as a PNG `data:` URL, through a detached canvas (small images: a few ms).
pub fn png_data_url(picture: &Picture) -> Option<String> {
    let canvas: HtmlCanvasElement = document().create_element("canvas").ok()?.dyn_into().ok()?;
    draw(&canvas, picture);
    canvas.to_data_url_with_type("image/png").ok()
}
