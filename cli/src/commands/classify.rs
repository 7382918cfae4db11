//! `microscope classify --model ID [--json] IMAGE...`: the top-5 classes of photos, with
//! ImageNet labels for 1000-class models, a trained model's own class names (fashion-cnn:
//! Fashion-MNIST's), and bare class indices otherwise.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use microscope_core::network::InputSpec;
use microscope_core::preprocess::{Framing, PIXEL_OFFSET, PIXEL_SCALE, Preprocessed, preprocess};
use serde::Serialize;

use crate::store;

/// Number of ImageNet-1k classes, for which the ImageNet labels are used.
const IMAGENET_CLASSES: usize = 1000;
/// How many classes are printed per image.
const TOP: usize = 5;

/// Arguments of `microscope classify`.
#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Model id (built-in or imported).
    #[arg(long)]
    model: String,
    /// Print JSON: `[{"image", "top5": [{"class", "label", "prob"}]}]` (`label` only for
    /// 1000-class models).
    #[arg(long)]
    json: bool,
    /// Photos (PNG, JPEG or WebP).
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Prediction {
    class: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    prob: f32,
}

#[derive(Serialize)]
struct ImageResult {
    image: String,
    top5: Vec<Prediction>,
}

/// The model's input from a preprocessed photo: the photo's `0..=255` values (recovered
/// exactly from the built-in normalisation) normalised as `spec` says; a one-channel model
/// gets the mean of R, G and B.
///
/// # Shapes
/// - returns: `[1, spec.channels, height, width]`
fn model_input(photo: &Preprocessed, spec: &InputSpec, device: &Device) -> Tensor<4> {
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

/// Classifies each image (centre crop, bicubic resize, as in the organisms' evaluation).
pub fn run(args: &ClassifyArgs) -> Result<()> {
    let class_names = store::find(&args.model)?.class_names();
    let device = crate::device::current()?.device();
    let model = store::load_model(&args.model, &device)?;
    let spec = model.input_spec();
    // A model trained here saw whole items (Fashion-MNIST), not the centre of a photo.
    let framing = if class_names.is_some() { Framing::Stretch } else { Framing::CentreCrop };
    let labels = if model.classes() == IMAGENET_CLASSES { Some(store::labels()?) } else { None };
    let mut results = Vec::with_capacity(args.images.len());
    for path in &args.images {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let photo = preprocess(&bytes, spec.size_px(), framing)
            .with_context(|| format!("cannot use {} as an image", path.display()))?;
        let outputs = model.logits(model_input(&photo, &spec, &device))?; // [1, classes]
        let probs = if model.outputs_probabilities() { outputs } else { softmax(outputs, 1) };
        let probs: Vec<f32> = probs
            .into_data()
            .try_into_vec()
            .map_err(|e| anyhow::anyhow!("reading probabilities back: {e:?}"))?;
        let prob = |class: usize| probs.get(class).copied().unwrap_or(f32::NAN);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| prob(b).total_cmp(&prob(a)));
        let top5 = order
            .into_iter()
            .take(TOP)
            .map(|class| Prediction {
                class,
                label: match (&class_names, &labels) {
                    (Some(names), _) => Some(names.get(class).map_or("?", String::as_str).into()),
                    (None, Some(l)) => Some(l.short(class).unwrap_or("?").to_owned()),
                    (None, None) => None,
                },
                prob: prob(class),
            })
            .collect();
        results.push(ImageResult { image: path.display().to_string(), top5 });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    for result in results {
        println!("{}", result.image);
        for p in result.top5 {
            let label = p.label.as_deref().unwrap_or("");
            println!("  {:>6.2}%  {:>3}  {label}", p.prob * 100.0, p.class);
        }
    }
    Ok(())
}
