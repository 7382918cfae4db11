//! A model's classes for a photo, as `microscope classify` computes them: the evaluation's
//! framing (a centre crop; the whole photo for a model trained here on whole items), Pillow's
//! bicubic resize, the model's own normalisation, then the softmax of the first output (unless
//! the model already outputs probabilities).

use burn::prelude::*;
use burn::tensor::activation::softmax;
use image::RgbImage;

use super::error::PhotoQueryError;
use super::messages::ClassScore;
use crate::fv::RenderError;
use crate::model::{FASHION_CNN_ID, Model};
use crate::network::InputSpec;
use crate::preprocess::{Framing, PIXEL_OFFSET, PIXEL_SCALE, Preprocessed, preprocess_rgb};

/// How many classes a photo's answer lists (as `microscope classify` prints).
pub const TOP_CLASSES: usize = 5;

/// How a photo is framed before the model classifies it. The one rule: a model trained here
/// (the fashion-cnn at any checkpoint, `fashion-cnn@step-N`) saw whole items (Fashion-MNIST),
/// not the centre of a photo; every other model is evaluated on the centre crop.
pub fn classify_framing(model_id: &str) -> Framing {
    let base = model_id.split_once('@').map_or(model_id, |(base, _)| base);
    if base == FASHION_CNN_ID { Framing::Stretch } else { Framing::CentreCrop }
}

/// The model's input from a preprocessed photo: the photo's `0..=255` values (recovered
/// exactly from the built-in normalisation) normalised as `spec` says; a one-channel model
/// gets the mean of R, G and B.
///
/// # Shapes
/// - returns: `[1, spec.channels, height, width]`
pub fn model_input(photo: &Preprocessed, spec: &InputSpec, device: &Device) -> Tensor<4> {
    let [height, width] = photo.size;
    let plane = height * width;
    let pixels: Vec<f32> = photo.data.iter().map(|v| v * PIXEL_SCALE + PIXEL_OFFSET).collect();
    let channel = |c: usize| pixels.get(c * plane..(c + 1) * plane).unwrap_or(&[]);
    let mut data = Vec::with_capacity(spec.channels * plane);
    let [offset, scale] = [spec.offset, spec.scale].map(|v| v.into_iter());
    if spec.channels == 1 {
        let (r, g, b) = (channel(0), channel(1), channel(2));
        let (o, s) = (spec.offset[0], spec.scale[0]);
        data.extend(r.iter().zip(g).zip(b).map(|((r, g), b)| ((r + g + b) / 3.0 - o) / s));
    } else {
        for (c, (o, s)) in offset.zip(scale).enumerate().take(spec.channels) {
            data.extend(channel(c).iter().map(|x| (x - o) / s));
        }
    }
    Tensor::from_data(TensorData::new(data, [1, spec.channels, height, width]), device)
}

/// The model's probability of every class for `photo`, framed by `framing`.
pub async fn class_probabilities(
    model: &Model,
    photo: &RgbImage,
    framing: Framing,
    device: &Device,
) -> Result<Vec<f32>, PhotoQueryError> {
    let spec = model.input_spec();
    let preprocessed = preprocess_rgb(photo, spec.size_px(), framing)?;
    let outputs = model.logits(model_input(&preprocessed, &spec, device))?; // [1, classes]
    let probabilities = if model.outputs_probabilities() { outputs } else { softmax(outputs, 1) };
    let data = probabilities.into_data_async().await.map_err(RenderError::from)?;
    Ok(data.try_to_vec::<f32>().map_err(|e| RenderError::Readback(format!("{e:?}")))?)
}

/// The `k` most probable classes, most probable first (ties: the lower index first).
pub fn top_classes(probabilities: &[f32], k: usize) -> Vec<ClassScore> {
    let probability = |class: usize| probabilities.get(class).copied().unwrap_or(f32::NAN);
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probability(b).total_cmp(&probability(a)));
    order
        .into_iter()
        .take(k)
        .map(|class| ClassScore {
            class: u32::try_from(class).unwrap_or(u32::MAX),
            probability: probability(class),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use image::Rgb;

    use super::*;
    use crate::train::{fashion_cnn_model, init_fashion_cnn};

    #[test]
    fn framing_follows_where_the_model_was_trained() {
        assert_eq!(classify_framing("efficientnet-lite0"), Framing::CentreCrop);
        assert_eq!(classify_framing("my-onnx"), Framing::CentreCrop);
        assert_eq!(classify_framing("fashion-cnn"), Framing::Stretch);
        assert_eq!(classify_framing("fashion-cnn@step-20"), Framing::Stretch);
    }

    #[test]
    fn top_classes_are_ordered_and_cut() {
        let top = top_classes(&[0.1, 0.5, 0.05, 0.3, 0.05], 3);
        let classes: Vec<u32> = top.iter().map(|c| c.class).collect();
        assert_eq!(classes, [1, 3, 0]);
        assert_eq!(top[0].probability, 0.5);
        assert_eq!(top_classes(&[0.2, 0.2], 5).len(), 2, "ties keep index order");
        assert_eq!(top_classes(&[0.2, 0.2], 5)[0].class, 0);
    }

    #[test]
    fn probabilities_are_the_softmax_of_the_models_logits_on_the_framed_photo() {
        let device = Device::flex();
        let model = fashion_cnn_model(None, &init_fashion_cnn(5), &device).unwrap();
        let photo = RgbImage::from_fn(50, 30, |x, y| Rgb([(x * 5) as u8, (y * 8) as u8, 40]));
        let framing = classify_framing(model.id());
        let probabilities =
            pollster::block_on(class_probabilities(&model, &photo, framing, &device)).unwrap();
        assert_eq!(probabilities.len(), model.classes());
        let sum: f32 = probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
        // By hand: the stretched photo, grey, normalised as the model's spec says.
        let preprocessed = preprocess_rgb(&photo, [28; 2], Framing::Stretch).unwrap();
        let input = model_input(&preprocessed, &model.input_spec(), &device);
        let logits: Vec<f32> = model.logits(input).unwrap().into_data().try_to_vec().unwrap();
        let peak = logits.iter().copied().fold(f32::MIN, f32::max);
        let total: f32 = logits.iter().map(|l| (l - peak).exp()).sum();
        for (p, l) in probabilities.iter().zip(&logits) {
            assert!((p - (l - peak).exp() / total).abs() < 1e-5);
        }
    }
}
