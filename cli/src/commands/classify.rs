//! `microscope classify --model ID [--json] IMAGE...`: the top-5 classes of photos, with
//! ImageNet labels for 1000-class models, a trained model's own class names (fashion-cnn:
//! Fashion-MNIST's), and bare class indices otherwise.

use std::path::PathBuf;

use anyhow::{Context, Result};
use microscope_core::photo_query::{
    TOP_CLASSES, class_probabilities, classify_framing, top_classes,
};
use microscope_core::preprocess::decode_rgb;
use serde::Serialize;

use crate::store;

/// Number of ImageNet-1k classes, for which the ImageNet labels are used.
const IMAGENET_CLASSES: usize = 1000;

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

/// Classifies each image (centre crop, bicubic resize, as in the organisms' evaluation).
pub fn run(args: &ClassifyArgs) -> Result<()> {
    let class_names = store::find(&args.model)?.class_names();
    let device = crate::device::current()?.device();
    let model = store::load_model(&args.model, &device)?;
    let framing = classify_framing(&args.model);
    let labels = if model.classes() == IMAGENET_CLASSES { Some(store::labels()?) } else { None };
    let mut results = Vec::with_capacity(args.images.len());
    for path in &args.images {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let photo = decode_rgb(&bytes)
            .with_context(|| format!("cannot use {} as an image", path.display()))?;
        let probs = pollster::block_on(class_probabilities(&model, &photo, framing, &device))
            .with_context(|| format!("classifying {}", path.display()))?;
        let top5 = top_classes(&probs, TOP_CLASSES)
            .into_iter()
            .map(|score| {
                let class = score.class as usize;
                Prediction {
                    class,
                    label: match (&class_names, &labels) {
                        (Some(names), _) => {
                            Some(names.get(class).map_or("?", String::as_str).into())
                        }
                        (None, Some(l)) => Some(l.short(class).unwrap_or("?").to_owned()),
                        (None, None) => None,
                    },
                    prob: score.probability,
                }
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
