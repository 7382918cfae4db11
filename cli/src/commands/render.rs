//! `microscope render`: feature visualizations of any objective, written as PNG (a grid when
//! the batch has several images), and contact sheets of many units of one layer rendered as
//! one batch.
//!
//! ```text
//! microscope render --model efficientnet-lite0 --objective "blocks.8:50 - tv(0.1)" --out unit.png
//! microscope render --model efficientnet-lite0 --layer blocks.8 --units 0..16 --out sheet.png
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use microscope_core::fv::image::RenderedImage;
use microscope_core::fv::sheet::contact_sheet;
use microscope_core::fv::{
    Augmentation, Objective, Parameterization, RenderOptions, Transform, render,
};
use microscope_core::photo_query::{PhotoLimits, render_picture};

use crate::store;

/// Side of rendered images unless `--size` says otherwise (lucid's 128 px).
const DEFAULT_SIZE_PX: usize = 128;

/// Arguments of `microscope render`.
#[derive(clap::Args)]
pub struct RenderArgs {
    /// Model id.
    #[arg(long)]
    model: String,
    /// What to maximise, e.g. `blocks.8:50`, `neuron(blocks.8:50)`, `dream(blocks.8)`,
    /// `class(967)`, `blocks.8:50 - tv(0.1)`; `@i` targets image `i` of the batch.
    #[arg(long, conflicts_with = "layer", required_unless_present = "layer")]
    objective: Option<String>,
    /// With `--units`: render these units of this layer as one batch (a contact sheet).
    #[arg(long, requires = "units")]
    layer: Option<String>,
    /// Units of `--layer`: `0..16`, `3,7,9` or a mix such as `0..4,10`.
    #[arg(long)]
    units: Option<String>,
    /// Side of the images in pixels [default: 128, or a fixed-size model's own input size when
    /// smaller: 28 for the fashion-cnn, whose renders activate their units more at 28 px than
    /// rendered at 128 and downsampled (BENCHMARKS.md)].
    #[arg(long)]
    size: Option<usize>,
    /// Optimisation steps.
    #[arg(long, default_value_t = 512)]
    steps: usize,
    /// Seed of the initial image and of the transforms.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Images optimised together (set by `--units`).
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Adam's step size.
    #[arg(long, default_value_t = 0.05)]
    lr: f32,
    /// Optimise pixels instead of a decorrelated Fourier spectrum.
    #[arg(long)]
    pixel: bool,
    /// Do not decorrelate colours.
    #[arg(long)]
    no_decorrelate: bool,
    /// Apply no random transforms (only the upsampling to the model's input).
    #[arg(long)]
    no_transforms: bool,
    /// Reference photo for `caricature(...)` and `invert(...)` (PNG, JPEG or WebP; photos are
    /// read within the browser's limits: 64 MiB, 16,384 px a side, 50 megapixels).
    #[arg(long)]
    photo: Option<PathBuf>,
    /// Start from this photo instead of noise.
    #[arg(long)]
    start: Option<PathBuf>,
    /// Also save the images at these steps, as `OUT-<step>.png` (e.g. `32,128`).
    #[arg(long, value_delimiter = ',')]
    thresholds: Vec<usize>,
    /// Also write each image of the batch as `DIR/<i>.png` (`DIR/<unit>.png` with `--units`).
    #[arg(long)]
    tiles: Option<PathBuf>,
    /// Columns of the grid (about square by default).
    #[arg(long)]
    columns: Option<usize>,
    /// Forward and backward passes on at most this many images at a time when the objective
    /// allows it (the same steps); 0 for the whole batch at once [default: 1 on the CPU,
    /// faster there; the whole batch on a GPU].
    #[arg(long)]
    micro_batch: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Output PNG.
    #[arg(long)]
    out: PathBuf,
}

/// Parses `0..16`, `3,7,9` or `0..4,10`.
pub fn parse_units(text: &str) -> Result<Vec<usize>> {
    let mut units = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((start, end)) = part.split_once("..") {
            let start: usize =
                start.trim().parse().with_context(|| format!("bad range start in `{part}`"))?;
            let end: usize =
                end.trim().parse().with_context(|| format!("bad range end in `{part}`"))?;
            if end <= start {
                bail!("the range `{part}` is empty");
            }
            units.extend(start..end);
        } else {
            units.push(part.parse().with_context(|| format!("`{part}` is not a unit number"))?);
        }
    }
    if units.is_empty() {
        bail!("no units in `{text}`");
    }
    Ok(units)
}

/// A photo as a `size` square image with values in `[0, 1]`: core's [`render_picture`], what
/// the browser's renderer does with a visitor's photo (the same limits, the whole photo
/// stretched, bicubic).
fn load_picture(path: &Path, size: usize, channels: usize) -> Result<RenderedImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    render_picture(&bytes, PhotoLimits::BROWSER, size, channels)
        .with_context(|| format!("cannot use {}", path.display()))
}

fn save(
    images: &[RenderedImage],
    labels: &[String],
    columns: Option<usize>,
    path: &Path,
) -> Result<()> {
    let picture = match images {
        [one] => one.to_rgb_image(),
        many => contact_sheet(many, labels, columns),
    };
    picture.save(path).with_context(|| format!("cannot write {}", path.display()))
}

/// `OUT-<step>.png` beside `out`.
fn threshold_path(out: &Path, step: usize) -> PathBuf {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{stem}-{step}.png"))
}

/// Renders and writes the PNG(s).
pub fn run(args: &RenderArgs) -> Result<()> {
    let chosen = crate::device::current()?;
    let device = chosen.device();
    let network = store::load_network(&args.model, &device)?;
    let (objective, batch, labels) = match (&args.objective, &args.layer, &args.units) {
        (Some(text), _, _) => {
            let objective: Objective =
                text.parse().with_context(|| format!("in the objective {}", quoted(text)))?;
            let labels: Vec<String> = (0..args.batch).map(|i| i.to_string()).collect();
            (objective, args.batch, labels)
        }
        (None, Some(layer), Some(units)) => {
            let units = parse_units(units)?;
            let objective = Objective::units(layer, &units).context("no units")?;
            let labels: Vec<String> = units.iter().map(ToString::to_string).collect();
            (objective, units.len(), labels)
        }
        _ => bail!("give --objective, or --layer with --units"),
    };
    let spec = network.input_spec();
    let channels = spec.channels;
    let size = args.size.unwrap_or(if network.fixed_input_size() {
        spec.long_side_px().min(DEFAULT_SIZE_PX)
    } else {
        DEFAULT_SIZE_PX
    });
    let options = RenderOptions {
        size_px: size,
        steps: args.steps,
        learning_rate: args.lr,
        seed: args.seed,
        batch,
        parameterization: if args.pixel {
            Parameterization::Pixel
        } else {
            Parameterization::default()
        },
        decorrelate: !args.no_decorrelate,
        augmentation: if args.no_transforms {
            Augmentation::Custom(Vec::<Transform>::new())
        } else {
            Augmentation::Standard
        },
        thresholds: args.thresholds.clone(),
        start: args
            .start
            .as_deref()
            .map(|p| load_picture(p, size, channels))
            .transpose()?
            .map(|i| vec![i]),
        reference: args.photo.as_deref().map(|p| load_picture(p, size, channels)).transpose()?,
        micro_batch: args.micro_batch.map_or(chosen.micro_batch(), |m| (m > 0).then_some(m)),
        readback_every: chosen.readback_every(),
        ..RenderOptions::default()
    };
    // Checked before any work, in the model's terms.
    objective.validate(network.as_ref(), batch, options.reference.is_some())?;
    eprintln!("{}: {}", args.model, objective.describe());

    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.steps as u64) };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} steps  {elapsed_precise} (eta {eta})  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let rendering =
        pollster::block_on(render(network.as_ref(), &objective, &options, &device, |progress| {
            bar.set_position(progress.step as u64);
            bar.set_message(format!("objective {:.4}", progress.value));
            ControlFlow::Continue(())
        }))?;
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let last = rendering.values.last().copied().unwrap_or(f32::NAN);
    eprintln!(
        "{} steps in {elapsed:.1} s ({:.0} ms/step, {:.0} ms/step per image); final objective {last:.4}",
        rendering.values.len(),
        elapsed * 1e3 / rendering.values.len().max(1) as f64,
        elapsed * 1e3 / (rendering.values.len().max(1) * batch) as f64,
    );

    save(&rendering.images, &labels, args.columns, &args.out)?;
    println!("{}", args.out.display());
    for snapshot in &rendering.snapshots {
        let path = threshold_path(&args.out, snapshot.step);
        save(&snapshot.images, &labels, args.columns, &path)?;
        println!("{}", path.display());
    }
    if let Some(dir) = &args.tiles {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (image, label) in rendering.images.iter().zip(&labels) {
            let path = dir.join(format!("{label}.png"));
            image
                .to_rgb_image()
                .save(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

/// Characters of an objective quoted in full in an error; a longer one is cut (the error's
/// character position still locates the problem).
const QUOTED_CHARS: usize = 120;

/// `text` in backquotes, cut after [`QUOTED_CHARS`] characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => {
            format!("`{}…` ({} characters)", &text[..end], text.chars().count())
        }
        None => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_ranges_and_lists() {
        assert_eq!(parse_units("0..4,10").unwrap(), vec![0, 1, 2, 3, 10]);
        assert_eq!(parse_units("7").unwrap(), vec![7]);
        assert!(parse_units("4..4").is_err());
        assert!(parse_units("x").is_err());
    }
}
