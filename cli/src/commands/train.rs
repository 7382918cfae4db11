//! `microscope train [--model fashion-cnn] [--seed 0] [--steps N] [--checkpoints 0,10,…]
//! [--batch 64] [--lr 0.001]`: trains the fashion-cnn on Fashion-MNIST on the CPU backend and
//! saves log-spaced checkpoints with their test accuracy in the cache
//! (`trained/<model>/manifest.json`). Re-running with the same settings reuses finished
//! checkpoints and resumes from the last one.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use microscope_core::dataset::{
    FASHION_MNIST_CLASSES, FASHION_MNIST_LICENSE, FASHION_MNIST_SOURCE, ImageSet,
};
use microscope_core::train::{
    CheckpointRecord, DatasetRecord, FASHION_CNN_ID, TrainManifest, TrainSettings, Trainer,
    checkpoint_file, checkpoint_name, init_fashion_cnn, log_spaced_checkpoints,
};
use microscope_core::weights::{TensorMap, read_safetensors, sha256_hex, write_safetensors};

use crate::{cache, dataset, store};

/// Test images saved as PNG beside the checkpoints, to try `classify` and `activation` on.
const EXAMPLES: usize = 10;

/// Arguments of `microscope train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// The model to train (only `fashion-cnn`).
    #[arg(long, default_value = FASHION_CNN_ID)]
    model: String,
    /// Seed of the initialisation and the data order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training steps.
    #[arg(long, default_value_t = 3000)]
    steps: usize,
    /// Steps to save checkpoints at (default: 0, 10, 30, 100, 300 … and the last).
    #[arg(long, value_delimiter = ',')]
    checkpoints: Option<Vec<usize>>,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Train on only the first N training images (quick experiments and tests).
    #[arg(long)]
    train_limit: Option<usize>,
    /// Measure accuracy on only the first N test images.
    #[arg(long)]
    test_limit: Option<usize>,
    /// Discard an earlier run of this model with other settings.
    #[arg(long)]
    fresh: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Trains, checkpoints and prints the accuracy of every checkpoint.
pub fn run(args: &TrainArgs) -> Result<()> {
    if args.model != FASHION_CNN_ID {
        anyhow::bail!("`microscope train` trains `{FASHION_CNN_ID}` only, not `{}`", args.model);
    }
    if args.batch == 0 || !(args.lr.is_finite() && args.lr > 0.0) {
        anyhow::bail!("--batch must be positive and --lr a positive number");
    }
    let mut wanted = args.checkpoints.clone().unwrap_or_else(|| log_spaced_checkpoints(args.steps));
    wanted.push(args.steps);
    wanted.sort_unstable();
    wanted.dedup();
    if let Some(&late) = wanted.iter().find(|&&s| s > args.steps) {
        anyhow::bail!("checkpoint {late} is past --steps {}", args.steps);
    }
    let (train, test) = dataset::fashion_mnist()?;
    let train = args.train_limit.map_or(train.clone(), |n| train.take(n));
    let test = args.test_limit.map_or(test.clone(), |n| test.take(n));
    if train.is_empty() || test.is_empty() {
        anyhow::bail!("no training or test images to use");
    }
    let settings = TrainSettings { seed: args.seed, batch: args.batch, learning_rate: args.lr };
    let dataset = DatasetRecord {
        source: FASHION_MNIST_SOURCE.to_owned(),
        license: FASHION_MNIST_LICENSE.to_owned(),
        train_images: train.len(),
        test_images: test.len(),
        classes: FASHION_MNIST_CLASSES.iter().map(|c| (*c).to_owned()).collect(),
    };
    let dir = store::trained_dir(&args.model)?;
    let fresh = TrainManifest {
        model: args.model.clone(),
        dataset: dataset.clone(),
        settings,
        checkpoints: Vec::new(),
    };
    let mut manifest = match store::trained_manifest(&args.model)? {
        Some(old) if old.settings == settings && old.dataset == dataset => old,
        Some(old) if !args.fresh => anyhow::bail!(
            "{} holds a run with other settings ({:?}, {} training images); pass --fresh to replace it",
            dir.display(),
            old.settings,
            old.dataset.train_images
        ),
        _ => fresh,
    };
    save_examples(&dir, &test)?;
    let device = crate::device::current()?.device();
    let last = *wanted.last().unwrap_or(&0);
    let (mut trainer, start, base_seconds) = match manifest.resume_point(&wanted).cloned() {
        Some(record) => {
            let weights = read_checked(&dir, &record.file, &record.sha256)?;
            let state = read_checked(&dir, &record.state_file, &record.state_sha256)?;
            let trainer =
                Trainer::resume(settings, &weights, &state, record.step, train.len(), &device)?;
            (trainer, record.step, record.train_seconds)
        }
        None => {
            (Trainer::new(settings, &init_fashion_cnn(args.seed), train.len(), &device)?, 0, 0.0)
        }
    };
    if start > 0 {
        eprintln!("resuming from {} (reusing finished checkpoints)", checkpoint_name(start));
    }
    let bar = if args.quiet || start >= last {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(last as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} step {pos}/{len}  {elapsed_precise} (eta {eta})  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(start as u64);
    let clock = Instant::now();
    let mut losses: Vec<f32> = Vec::new();
    let mut smoothed: Option<f32> = None;
    for step in start..=last {
        let done = manifest.checkpoints.iter().any(|c| c.step == step);
        if wanted.contains(&step) && !done {
            bar.set_message(format!("testing {}", checkpoint_name(step)));
            let seconds = base_seconds + clock.elapsed().as_secs_f64();
            let record = save_checkpoint(&dir, &trainer, &test, &losses, seconds)?;
            bar.suspend(|| {
                eprintln!(
                    "{:>10}  test accuracy {:.2}%  train loss {}",
                    record.name,
                    record.test_accuracy * 100.0,
                    record.train_loss.map_or("-".to_owned(), |l| format!("{l:.4}"))
                );
            });
            manifest.record(record);
            cache::write_atomic(
                &dir.join("manifest.json"),
                &serde_json::to_vec_pretty(&manifest)?,
            )?;
            losses.clear();
        }
        if step == last {
            break;
        }
        let loss = trainer.step(&train)?;
        losses.push(loss);
        let ema = smoothed.map_or(loss, |s| 0.95 * s + 0.05 * loss);
        smoothed = Some(ema);
        bar.set_message(format!("loss {ema:.4}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("{:<12} {:>8} {:>10} {:>10}", "checkpoint", "step", "test acc", "train s");
    for record in manifest.checkpoints.iter().filter(|c| wanted.contains(&c.step)) {
        println!(
            "{:<12} {:>8} {:>9.2}% {:>10.1}",
            record.name,
            record.step,
            record.test_accuracy * 100.0,
            record.train_seconds
        );
    }
    println!("saved in {} (load as `{}` or `{}@step-N`)", dir.display(), args.model, args.model);
    Ok(())
}

/// Writes the trainer's weights and optimizer state and measures test accuracy.
fn save_checkpoint(
    dir: &Path,
    trainer: &Trainer,
    test: &ImageSet,
    losses: &[f32],
    seconds: f64,
) -> Result<CheckpointRecord> {
    let step = trainer.step_count();
    let weights = write_safetensors(&trainer.weights()?);
    let state = write_safetensors(&trainer.optimizer_state()?);
    let file = checkpoint_file(step);
    let state_file = format!("{}.adam.safetensors", file.trim_end_matches(".safetensors"));
    cache::write_atomic(&dir.join(&file), &weights)?;
    cache::write_atomic(&dir.join(&state_file), &state)?;
    let train_loss = (!losses.is_empty()).then(|| losses.iter().sum::<f32>() / losses.len() as f32);
    Ok(CheckpointRecord {
        step,
        name: checkpoint_name(step),
        file,
        sha256: sha256_hex(&weights),
        state_file,
        state_sha256: sha256_hex(&state),
        test_accuracy: trainer.accuracy(test)?,
        train_loss,
        train_seconds: seconds,
    })
}

/// A checkpoint file, checked against its sha256.
fn read_checked(dir: &Path, file: &str, sha256: &str) -> Result<TensorMap> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if sha256_hex(&bytes) != sha256 {
        anyhow::bail!(
            "{} does not match the manifest; pass --fresh to train again",
            path.display()
        );
    }
    read_safetensors(&bytes).with_context(|| format!("reading {}", path.display()))
}

/// The first test images as PNG in `examples/` (`test-0003-Dress.png`), once.
fn save_examples(dir: &Path, test: &ImageSet) -> Result<()> {
    let folder = dir.join("examples");
    for index in 0..EXAMPLES.min(test.len()) {
        let (Some(pixels), Some(&label)) = (test.image(index), test.labels.get(index)) else {
            continue;
        };
        let class = FASHION_MNIST_CLASSES.get(usize::from(label)).copied().unwrap_or("unknown");
        let name = format!("test-{index:04}-{}.png", class.replace(['/', ' '], "-"));
        let path = folder.join(name);
        if path.exists() {
            continue;
        }
        let side = test.side as u32;
        let image = image::GrayImage::from_raw(side, side, pixels.to_vec())
            .context("an example image has the wrong size")?;
        let mut png = std::io::Cursor::new(Vec::new());
        image.write_to(&mut png, image::ImageFormat::Png)?;
        cache::write_atomic(&path, png.get_ref())?;
    }
    Ok(())
}
