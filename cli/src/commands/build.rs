//! `microscope build`: fills an atlas folder (format 1.0) for one model: feature
//! visualizations, dataset examples with histograms, top classes with labels, and circuits,
//! for chosen layers, units and techniques, optionally one shard of them. Each unit folder is
//! written as a whole, so a killed build loses nothing and a rerun resumes; per-layer files
//! are derived from the unit files at the end.
//!
//! ```text
//! microscope build --model efficientnet-lite0 --layers blocks.8,head --units 0-15 --out atlas
//! microscope build --model efficientnet-lite0 --shard 1/4 --out shard-1
//! microscope build --model fashion-cnn --checkpoints all --out atlas
//! ```
//!
//! A model trained here (`microscope train`) is built at several checkpoints into one atlas
//! (`--checkpoints all`, the default, or `step-0,step-30`): every checkpoint gets its own unit
//! files, dataset examples from the labelled Fashion-MNIST test set and its weights for the
//! in-browser renderer; `model.json` lists them in training order with step and test accuracy,
//! the last one the default.

use std::path::PathBuf;

use anyhow::Result;

use crate::build::execute::execute;
use crate::build::plan::BuildPlan;

/// Arguments of `microscope build`, as given; [`BuildPlan::new`] decides what they mean.
#[derive(clap::Args)]
pub struct BuildArgs {
    /// Model id.
    #[arg(long)]
    pub model: String,
    /// Layers (comma-separated names) or `all`.
    #[arg(long, default_value = "all")]
    pub layers: String,
    /// Units of every chosen layer: `0-15,40` or `all`.
    #[arg(long, default_value = "all")]
    pub units: String,
    /// Units that also get feature visualizations (default: the same as --units).
    #[arg(long)]
    pub fv_units: Option<String>,
    /// Techniques: channel, neuron, negative, diversity, examples, classes, circuits, or all.
    #[arg(long, default_value = "all")]
    pub techniques: String,
    /// Optimisation steps of feature visualizations.
    #[arg(long, default_value_t = 256)]
    pub steps: usize,
    /// Side of feature visualizations in pixels [default: 128, or a fixed-size model's own
    /// input size when smaller, as `microscope render` does: 28 for the fashion-cnn].
    #[arg(long)]
    pub size: Option<usize>,
    /// Checkpoints of a model trained here: `all`, or names (`step-0,step-30`) [default: all].
    #[arg(long)]
    pub checkpoints: Option<String>,
    /// Base seed of every render.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Units rendered together in one batch.
    #[arg(long, default_value_t = 8)]
    pub fv_batch: usize,
    /// Build only shard K of N (`K/N`): units u with u mod N = K; `auto` reads K and N from a
    /// Kubernetes Indexed Job (JOB_COMPLETION_INDEX, MICROSCOPE_SHARD_COUNT) or a Slurm job
    /// array (SLURM_ARRAY_TASK_ID, _MIN, _COUNT); see docs/cluster.md.
    #[arg(long)]
    pub shard: Option<String>,
    /// Photo corpus: `bundled` (scikit-image and scikit-learn photos), `full` (plus Debian
    /// wallpaper photographs) or `fashion-mnist` (the labelled test set) [default: full, or
    /// fashion-mnist for a model trained here].
    #[arg(long)]
    pub corpus: Option<String>,
    /// Test images of the `fashion-mnist` corpus (the first N).
    #[arg(long, default_value_t = 10_000)]
    pub corpus_limit: usize,
    /// Also use every image in this folder as a corpus photo.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Crop sides as fractions of each photo's short side.
    #[arg(long, value_delimiter = ',', default_value = "1,0.5")]
    pub crop_scales: Vec<f32>,
    /// Top and bottom dataset examples per unit.
    #[arg(long, default_value_t = 8)]
    pub top_k: usize,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// The atlas folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// Builds (or resumes) the atlas: decides the whole build, then executes it.
pub fn run(args: &BuildArgs) -> Result<()> {
    let chosen = crate::device::current()?;
    let plan = BuildPlan::new(args, chosen.device(), chosen.info().clone())?;
    execute(&plan)
}
