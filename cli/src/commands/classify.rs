//! `microscope classify --model ID [--json] IMAGE...`: top-5 ImageNet classes of photos.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use microscope_core::preprocess::{Framing, preprocess};
use serde::Serialize;

use crate::store;

/// Arguments of `microscope classify`.
#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Model id.
    #[arg(long)]
    model: String,
    /// Print JSON: `[{"image", "top5": [{"class", "label", "prob"}]}]`.
    #[arg(long)]
    json: bool,
    /// Photos (PNG, JPEG or WebP).
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Prediction {
    class: usize,
    label: String,
    prob: f32,
}

#[derive(Serialize)]
struct ImageResult {
    image: String,
    top5: Vec<Prediction>,
}

/// Classifies each image (centre crop, bicubic resize, as in the models' evaluation).
pub fn run(args: &ClassifyArgs) -> Result<()> {
    let organism = store::known(&args.model)?;
    let device = Device::flex();
    let model = store::load_model(organism.id, &device)?;
    let labels = store::labels()?;
    let mut results = Vec::with_capacity(args.images.len());
    for path in &args.images {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let input = preprocess(&bytes, organism.input_size_px, Framing::CentreCrop)
            .with_context(|| format!("cannot use {} as an image", path.display()))?;
        let logits = model.logits(input.to_tensor(&device))?; // [1, 1000]
        let probs: Vec<f32> = softmax(logits, 1)
            .into_data()
            .try_into_vec()
            .map_err(|e| anyhow::anyhow!("reading probabilities back: {e:?}"))?;
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let top5 = order
            .into_iter()
            .take(5)
            .map(|class| Prediction {
                class,
                label: labels.short(class).unwrap_or("?").to_owned(),
                prob: probs[class],
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
            println!("  {:>6.2}%  {:>3}  {}", p.prob * 100.0, p.class, p.label);
        }
    }
    Ok(())
}
