//! Saving an atlas image as a PNG file: the image is drawn on a canvas and saved from there,
//! so WebP atlases download as PNG too.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlAnchorElement, HtmlCanvasElement, HtmlImageElement};

/// Downloads the image at `url` as `file_name` (PNG).
pub async fn download_png(url: &str, file_name: &str) -> Result<(), String> {
    let fail = |what: &str| format!("could not save the image ({what})");
    let document =
        web_sys::window().and_then(|w| w.document()).ok_or_else(|| fail("no document"))?;
    let image = HtmlImageElement::new().map_err(|_| fail("image"))?;
    image.set_src(url);
    JsFuture::from(image.decode()).await.map_err(|_| fail("the image did not load"))?;
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|_| fail("canvas"))?
        .dyn_into()
        .map_err(|_| fail("canvas"))?;
    canvas.set_width(image.natural_width());
    canvas.set_height(image.natural_height());
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| fail("2d context"))?;
    context.draw_image_with_html_image_element(&image, 0.0, 0.0).map_err(|_| fail("drawing"))?;
    let data = canvas.to_data_url_with_type("image/png").map_err(|_| fail("encoding"))?;
    let link: HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("link"))?
        .dyn_into()
        .map_err(|_| fail("link"))?;
    link.set_href(&data);
    link.set_download(file_name);
    link.click();
    Ok(())
}
