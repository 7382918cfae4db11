//! The render loop: optimise image parameters so that an objective grows, through random
//! transforms, with Adam; snapshots, progress, cancellation.
//!
//! [`render_unit`] is the easy call; [`render`] takes every option; [`RenderSession`] is the
//! loop itself, one step at a time, for callers that interleave other work (the browser's
//! worker). Everything reads back asynchronously, as WebGPU requires; natively, drive it with
//! `pollster::block_on`.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::prelude::*;

use crate::network::{Network, NetworkError};

use super::adam::Adam;
use super::evaluate::Evaluation;
use super::image::RenderedImage;
use super::param::{INIT_SD, ImageParam, Parameterization};
use super::resample::resample;
use super::transform::{Transform, Warp, standard_transforms_for};
use super::validate::ObjectiveError;
use crate::objective::Objective;
use crate::rng::SplitMix64;

/// Grey: the value of padding outside the image.
const FILL: f32 = 0.5;

/// Which random transforms are applied before each step.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Augmentation {
    /// lucid's standard set, pixel amounts scaled to the render size
    /// ([`standard_transforms_for`]).
    #[default]
    Standard,
    /// These transforms, in order (none: the image is only upsampled to the model's input).
    Custom(Vec<Transform>),
}

/// A flag that stops a render at the next step when set (from another task or thread).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag, not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the render to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Everything a render can be told. `RenderOptions::default()` is lucid's `render_vis`: 128 px,
/// 512 steps of Adam at 0.05, Fourier parameterization with decorrelated colour, standard
/// transforms, seed 0, one image.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Side of the square images in pixels (default 128). Smaller than the model's input,
    /// they are upsampled (bilinear) to it after the transforms.
    pub size_px: usize,
    /// Optimisation steps (default 512).
    pub steps: usize,
    /// Adam's step size (default 0.05).
    pub learning_rate: f32,
    /// Seed of the initial parameters and of the transforms (default 0).
    pub seed: u64,
    /// Images optimised together (default 1).
    pub batch: usize,
    /// How the images are parameterized (default Fourier, decay 1).
    pub parameterization: Parameterization,
    /// Decorrelate colours (default true; ignored for 1-channel models).
    pub decorrelate: bool,
    /// Random transforms (default [`Augmentation::Standard`]).
    pub augmentation: Augmentation,
    /// Steps after which to keep a snapshot of the images (default none).
    pub thresholds: Vec<usize>,
    /// Pass a preview to the progress callback every this many steps (default 0: never).
    pub preview_every: usize,
    /// Start from these images (`size_px` square, one per batch element or one for all)
    /// instead of noise (default none).
    pub start: Option<Vec<RenderedImage>>,
    /// The reference photo that caricature and inversion compare with (`size_px` square).
    pub reference: Option<RenderedImage>,
    /// Stops the render when set.
    pub cancel: Option<CancelFlag>,
    /// Run the forward and backward passes on at most this many images at a time, when the
    /// objective allows it ([`Objective::is_separable`]); the steps are the same. `None`
    /// (the default) passes the whole batch at once, best on a GPU; on the CPU backend small
    /// micro-batches are faster (see BENCHMARKS.md).
    pub micro_batch: Option<usize>,
    /// One seed per batch element for its initial parameters (default none: the whole batch
    /// is drawn from `seed`). With per-image seeds and a separable objective, an image does
    /// not depend on which other images share its batch: what lets an atlas build batch units
    /// freely and still give every unit the same image in any shard or resumed run.
    pub image_seeds: Vec<u64>,
    /// Read the objective's value back every this many steps (default 1: every step). A
    /// readback waits for the device to finish the step; on a GPU, reading every few steps
    /// lets steps queue behind each other instead. Every step's value is still reported, in
    /// bursts: the progress callback sees the steps of a burst one after another, and a stop
    /// it asks for takes effect at the end of the burst. Steps with a snapshot or a preview
    /// are always read at once.
    pub readback_every: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            size_px: 128,
            steps: 512,
            learning_rate: 0.05,
            seed: 0,
            batch: 1,
            parameterization: Parameterization::default(),
            decorrelate: true,
            augmentation: Augmentation::Standard,
            thresholds: Vec::new(),
            preview_every: 0,
            start: None,
            reference: None,
            cancel: None,
            micro_batch: None,
            image_seeds: Vec::new(),
            readback_every: 1,
        }
    }
}

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The objective does not fit the model or the options.
    #[error(transparent)]
    Objective(#[from] ObjectiveError),
    /// The forward pass failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// Options that cannot work (a zero size, a start image of the wrong size...).
    #[error("invalid render options: {0}")]
    Options(String),
    /// Reading values back from the device failed.
    #[error("reading back from the device failed: {0}")]
    Readback(String),
    /// The device is lost or poisoned: every later operation on it fails too, so retrying on
    /// it is pointless (another device may work).
    #[error("the device was lost: {0}")]
    DeviceLost(String),
    /// The backward pass gave no gradient for the image parameters.
    #[error("the backward pass produced no gradient for the image")]
    NoGradient,
}

impl From<burn::tensor::ExecutionError> for RenderError {
    fn from(error: burn::tensor::ExecutionError) -> Self {
        match error {
            burn::tensor::ExecutionError::DevicePoisoned { reason } => Self::DeviceLost(reason),
            other => Self::Readback(other.to_string()),
        }
    }
}

/// What the progress callback sees after each step.
#[derive(Debug)]
pub struct Progress<'a> {
    /// Steps done (1-based).
    pub step: usize,
    /// Steps asked for.
    pub steps: usize,
    /// The objective's value at this step (before its update).
    pub value: f32,
    /// The images after this step, every [`RenderOptions::preview_every`] steps.
    pub preview: Option<&'a [RenderedImage]>,
}

/// Images kept after a threshold step.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Steps done when it was taken.
    pub step: usize,
    /// One image per batch element.
    pub images: Vec<RenderedImage>,
}

/// The result of a render.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendering {
    /// The final images, one per batch element.
    pub images: Vec<RenderedImage>,
    /// Snapshots at the thresholds reached.
    pub snapshots: Vec<Snapshot>,
    /// The objective's value at each step done.
    pub values: Vec<f32>,
    /// Whether it stopped before all steps.
    pub cancelled: bool,
}

/// A render in progress: the parameters, the optimiser and the random streams.
pub struct RenderSession<'n> {
    network: &'n dyn Network,
    param: ImageParam,
    raw: Tensor<3>,
    adam: Adam,
    transforms: Vec<Transform>,
    transform_rng: SplitMix64,
    reference: Option<Tensor<4>>,
    size_px: usize,
    /// Each micro-batch: first image, number of images, and the objective on them with the
    /// layers it reads (so that a part about an early layer stops the network early).
    parts: Vec<MicroBatch>,
    step: usize,
}

/// A micro-batch of a session: first image, number of images, and the objective on them with
/// the layers it reads (`None` when no part of the objective touches these images).
type MicroBatch = (usize, usize, Option<(Objective, Vec<String>)>);

impl<'n> RenderSession<'n> {
    /// Checks the objective against the model and sets up the parameters.
    pub fn new(
        network: &'n dyn Network,
        objective: &Objective,
        options: &RenderOptions,
        device: &Device,
    ) -> Result<Self, RenderError> {
        let size = options.size_px;
        if size < 2 || options.batch == 0 {
            return Err(RenderError::Options(format!(
                "size {size} px and batch {} must be at least 2 and 1",
                options.batch
            )));
        }
        objective.validate(network, options.batch, options.reference.is_some())?;
        let spec = network.input_spec();
        let channels = spec.channels;
        let param = ImageParam::new(
            options.parameterization,
            options.decorrelate,
            options.batch,
            channels,
            [size, size],
            device,
        );
        let seed = SplitMix64::new(options.seed);
        let raw = match &options.start {
            Some(images) => {
                let planes = images_data(images, options.batch, channels, size, "start")?;
                param.from_images(&planes, device)
            }
            None if !options.image_seeds.is_empty() => {
                if options.image_seeds.len() != options.batch {
                    return Err(RenderError::Options(format!(
                        "{} image seeds for a batch of {}",
                        options.image_seeds.len(),
                        options.batch
                    )));
                }
                let one = ImageParam::new(
                    options.parameterization,
                    options.decorrelate,
                    1,
                    channels,
                    [size, size],
                    device,
                );
                let parts: Vec<Tensor<3>> = options
                    .image_seeds
                    .iter()
                    .map(|&image_seed| {
                        one.random(&mut SplitMix64::new(image_seed).fork(1), INIT_SD, device)
                    })
                    .collect();
                Tensor::cat(parts, 0)
            }
            None => param.random(&mut seed.fork(1), INIT_SD, device),
        };
        let reference = match &options.reference {
            Some(image) => {
                let data =
                    images_data(std::slice::from_ref(image), 1, channels, size, "reference")?;
                Some(Tensor::<4>::from_data(
                    TensorData::new(data, [1, channels, size, size]),
                    device,
                ))
            }
            None => None,
        };
        let transforms = match &options.augmentation {
            Augmentation::Standard => standard_transforms_for(size),
            Augmentation::Custom(transforms) => transforms.clone(),
        };
        let batch = options.batch;
        let part_len = match options.micro_batch {
            Some(len)
                if len > 0 && len < batch && objective.is_separable() && reference.is_none() =>
            {
                len
            }
            _ => batch,
        };
        let parts = (0..batch)
            .step_by(part_len)
            .map(|start| {
                let len = part_len.min(batch - start);
                let part = objective.restrict(start, len, batch).map(|o| {
                    let layers = o.layers();
                    (o, layers)
                });
                (start, len, part)
            })
            .collect();
        Ok(Self {
            network,
            param,
            raw,
            adam: Adam::new(options.learning_rate),
            transforms,
            transform_rng: seed.fork(2),
            reference,
            size_px: size,
            parts,
            step: 0,
        })
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// One step of gradient ascent; returns the objective's value before the step.
    pub async fn step(&mut self) -> Result<f32, RenderError> {
        let value = self.advance()?;
        let values = read_values(vec![value]).await?;
        values.first().copied().ok_or(RenderError::NoGradient)
    }

    /// One step of gradient ascent that reads nothing back: the objective's value before the
    /// step stays on the device (`[1]`), so that a GPU can run the next steps without waiting
    /// for the host. Read the values with [`read_values`], a burst at a time.
    pub fn advance(&mut self) -> Result<Tensor<1>, RenderError> {
        let value = self.ascend()?;
        self.step += 1;
        Ok(value)
    }

    fn ascend(&mut self) -> Result<Tensor<1>, RenderError> {
        let spec = self.network.input_spec();
        // One warp per step, shared by every micro-batch, so that splitting changes nothing.
        // A model that takes only its own input size gets exactly that (renders at a larger
        // size are downsampled, and square ones stretched to a non-square input); others get
        // at least the square that covers it.
        let source = [self.size_px, self.size_px];
        let warp = if self.network.fixed_input_size() {
            Warp::sample_exact(&self.transforms, source, spec.size_px(), &mut self.transform_rng)
        } else {
            Warp::sample(&self.transforms, source, spec.long_side_px(), &mut self.transform_rng)
        };
        let channels = self.param.image_dims()[1];
        let [planes, rows, columns] = self.param.raw_dims();
        let device = self.raw.device();
        let mut gradients = Vec::with_capacity(self.parts.len());
        let mut total: Option<Tensor<1>> = None;
        for (start, len, objective) in &self.parts {
            let raw = self.raw.clone().narrow(0, start * channels, len * channels);
            let Some((objective, layers)) = objective else {
                // No term concerns these images: they do not move.
                gradients.push(Tensor::zeros([len * channels, rows, columns], &device));
                continue;
            };
            let (value, gradient) = self.value_and_gradient(raw, objective, layers, *len, &warp)?;
            total = Some(match total {
                Some(sum) => sum + value,
                None => value,
            });
            gradients.push(gradient);
        }
        let gradient = if gradients.len() == 1 {
            gradients.pop().ok_or(RenderError::NoGradient)?
        } else {
            Tensor::cat(gradients, 0)
        };
        debug_assert_eq!(gradient.dims(), [planes, rows, columns]);
        self.raw = self.adam.ascend(self.raw.clone(), gradient);
        Ok(total.unwrap_or_else(|| Tensor::zeros([1], &device)))
    }

    /// The objective on `len` images with parameters `raw` (`[1]`, not read back), and its
    /// gradient.
    fn value_and_gradient(
        &self,
        raw: Tensor<3>,
        objective: &Objective,
        layers: &[String],
        len: usize,
        warp: &Warp,
    ) -> Result<(Tensor<1>, Tensor<3>), RenderError> {
        let raw = raw.autodiff().require_grad();
        let image = self.param.image(raw.clone()); // [len, C, S, S]
        let batch = match &self.reference {
            // The photo rides along as one more batch element, so that it sees the same
            // transforms and its activations line up with the image's.
            Some(photo) => Tensor::cat(vec![image.clone(), photo.clone()], 0),
            None => image.clone(),
        };
        let input = self.network.input_spec().normalise(resample(batch, warp, FILL));
        let names: Vec<&str> = layers.iter().map(String::as_str).collect();
        let activations = self.network.forward_layers(input, &names)?;
        let value = objective.evaluate(&Evaluation {
            layers,
            activations: &activations,
            image: &image,
            batch: len,
            reference: self.reference.is_some(),
        })?;
        let grads = value.backward();
        let gradient = raw.grad(&grads).ok_or(RenderError::NoGradient)?;
        Ok((value.without_autodiff().reshape([1]), gradient))
    }

    /// The current images, read back.
    pub async fn images(&self) -> Result<Vec<RenderedImage>, RenderError> {
        let image = self.param.image(self.raw.clone());
        let dims = image.dims();
        let data = image.into_data_async().await?;
        let values: Vec<f32> =
            data.try_to_vec::<f32>().map_err(|e| RenderError::Readback(format!("{e:?}")))?;
        Ok(RenderedImage::from_batch(&values, dims))
    }
}

/// Reads back the values [`RenderSession::advance`] returned, in one transfer.
pub async fn read_values(values: Vec<Tensor<1>>) -> Result<Vec<f32>, RenderError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let data = Tensor::cat(values, 0)
        .into_data_async()
        .await
        .map_err(|e| RenderError::Readback(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| RenderError::Readback(format!("{e:?}")))
}

/// Flattens `images` (one per element, or one for all) to `[batch, channels, size, size]`.
fn images_data(
    images: &[RenderedImage],
    batch: usize,
    channels: usize,
    size: usize,
    what: &str,
) -> Result<Vec<f32>, RenderError> {
    if images.is_empty() || (images.len() != 1 && images.len() != batch) {
        return Err(RenderError::Options(format!(
            "give one {what} image, or one per batch element"
        )));
    }
    let mut data = Vec::with_capacity(batch * channels * size * size);
    for i in 0..batch {
        let image = images
            .get(i)
            .or(images.first())
            .ok_or_else(|| RenderError::Options(what.to_owned()))?;
        if image.width != size || image.height != size {
            return Err(RenderError::Options(format!(
                "the {what} image is {}x{}, not {size}x{size}",
                image.width, image.height
            )));
        }
        let plane = size * size;
        for c in 0..channels {
            // Grey images feed all channels; colour images feed grey models their mean.
            let values: Vec<f32> = match (image.channels, channels) {
                (1, _) => image.data.get(..plane).unwrap_or(&[]).to_vec(),
                (_, 1) => (0..plane)
                    .map(|p| {
                        (0..3).filter_map(|k| image.data.get(k * plane + p)).sum::<f32>() / 3.0
                    })
                    .collect(),
                _ => image.data.get(c * plane..(c + 1) * plane).unwrap_or(&[]).to_vec(),
            };
            if values.len() != plane {
                return Err(RenderError::Options(format!("the {what} image has too few values")));
            }
            data.extend(values);
        }
    }
    Ok(data)
}

/// Renders `objective` on `network` with every option, calling `on_progress` after each
/// step; the callback (or [`RenderOptions::cancel`]) can stop it, and the images so far are
/// returned.
pub async fn render(
    network: &dyn Network,
    objective: &Objective,
    options: &RenderOptions,
    device: &Device,
    mut on_progress: impl FnMut(&Progress<'_>) -> ControlFlow<()>,
) -> Result<Rendering, RenderError> {
    let mut session = RenderSession::new(network, objective, options, device)?;
    let mut values = Vec::with_capacity(options.steps);
    let mut snapshots = Vec::new();
    let mut cancelled = false;
    let mut pending = Vec::new();
    let every = options.readback_every.max(1);
    for step in 1..=options.steps {
        if options.cancel.as_ref().is_some_and(CancelFlag::is_cancelled) {
            cancelled = true;
            break;
        }
        pending.push(session.advance()?);
        let keep = options.thresholds.contains(&step);
        let preview = options.preview_every > 0 && step % options.preview_every == 0;
        if !(keep || preview || step == options.steps || pending.len() >= every) {
            continue;
        }
        let burst = read_values(std::mem::take(&mut pending)).await?;
        let images = if keep || preview { Some(session.images().await?) } else { None };
        if let (true, Some(images)) = (keep, &images) {
            snapshots.push(Snapshot { step, images: images.clone() });
        }
        let first = step + 1 - burst.len();
        let mut stop = false;
        for (at, value) in (first..).zip(burst) {
            values.push(value);
            if stop {
                continue; // a stop was asked earlier in the burst: the values are still kept
            }
            let progress = Progress {
                step: at,
                steps: options.steps,
                value,
                preview: images.as_deref().filter(|_| preview && at == step),
            };
            stop = on_progress(&progress).is_break();
        }
        if stop {
            cancelled = step < options.steps;
            break;
        }
    }
    // Steps taken before a cancellation but not read yet.
    values.extend(read_values(pending).await?);
    Ok(Rendering { images: session.images().await?, snapshots, values, cancelled })
}

/// Renders one unit (channel `unit` of `layer`) with the defaults: 128 px, 512 steps, Adam at
/// 0.05, Fourier parameterization with decorrelated colour, lucid's standard transforms,
/// seed 0.
pub async fn render_unit(
    network: &dyn Network,
    layer: &str,
    unit: usize,
    device: &Device,
) -> Result<RenderedImage, RenderError> {
    let objective = Objective::channel(layer, unit);
    let rendering = render(network, &objective, &RenderOptions::default(), device, |_| {
        ControlFlow::Continue(())
    })
    .await?;
    rendering.images.into_iter().next().ok_or(RenderError::NoGradient)
}

/// Renders many units of one layer as one batch (element `i` maximises `units[i]`), the fast
/// way to fill an atlas. `options.batch` is set to `units.len()`.
pub async fn render_units(
    network: &dyn Network,
    layer: &str,
    units: &[usize],
    options: &RenderOptions,
    device: &Device,
    on_progress: impl FnMut(&Progress<'_>) -> ControlFlow<()>,
) -> Result<Rendering, RenderError> {
    let objective = Objective::units(layer, units)
        .ok_or_else(|| RenderError::Options("no units to render".to_owned()))?;
    let options = RenderOptions { batch: units.len(), ..options.clone() };
    render(network, &objective, &options, device, on_progress).await
}
