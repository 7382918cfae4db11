//! Measuring a unit on a picture the way `microscope activation` does: the whole picture
//! resized (bicubic, no crop) to the model's input and normalised, then the channel objective.
//! Renders saved as PNG and photographs go through the same path, so they compare fairly.

use burn::prelude::*;
use image::RgbImage;

use crate::network::{InputSpec, Network};
use crate::preprocess::{CropBox, resize_bicubic};

use super::evaluate::Evaluation;
use super::image::RenderedImage;
use super::render::RenderError;
use crate::objective::Objective;

/// `image` stretched to the model's input size (Pillow-exact bicubic) and normalised.
///
/// # Shapes
/// - returns: `[1, spec.channels, spec.height_px, spec.width_px]`
pub fn picture_input(image: &RgbImage, spec: &InputSpec, device: &Device) -> Tensor<4> {
    let px = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let whole = CropBox::full(image.width(), image.height());
    let resized = resize_bicubic(image, whole, px(spec.width_px), px(spec.height_px));
    let planes = RenderedImage::from_rgb_image(&resized, spec.channels);
    let dims = [1, planes.channels, spec.height_px, spec.width_px];
    spec.normalise(Tensor::from_data(TensorData::new(planes.data, dims), device))
}

/// The value of `objective` (no image penalties apply: they read the render, not the input)
/// on a normalised `input`, one value per batch element.
///
/// # Shapes
/// - `input`: `[N, channels, S, S]`, normalised
pub async fn objective_values(
    network: &dyn Network,
    objective: &Objective,
    input: Tensor<4>,
) -> Result<Vec<f32>, RenderError> {
    objective.validate(network, 1, false)?;
    let layers = objective.layers();
    let names: Vec<&str> = layers.iter().map(String::as_str).collect();
    let activations = network.forward_layers(input.clone(), &names)?;
    values_on(objective, &layers, &activations, &input).await
}

/// The value of `objective` on activations already computed from `input`: `activations`
/// holds the layers `layers` (those of [`Objective::layers`]), one value per batch element.
/// [`objective_values`] is this after its forward pass; a photo query runs the pass once
/// for several measurements.
///
/// # Shapes
/// - `activations`: one `[N, C, H, W]` per layer
/// - `input`: `[N, channels, S, S]`, normalised
pub async fn values_on(
    objective: &Objective,
    layers: &[String],
    activations: &[Tensor<4>],
    input: &Tensor<4>,
) -> Result<Vec<f32>, RenderError> {
    let [n, ..] = input.dims();
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        let one: Vec<Tensor<4>> = activations.iter().map(|a| a.clone().narrow(0, i, 1)).collect();
        let image = input.clone().narrow(0, i, 1);
        let value = objective.evaluate(&Evaluation {
            layers,
            activations: &one,
            image: &image,
            batch: 1,
            reference: false,
        })?;
        values.push(value.into_scalar_async().await?);
    }
    Ok(values)
}
