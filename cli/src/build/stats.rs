//! The corpus pass: every crop of every photo (in corpus order, in fixed batches) through the
//! model once, reading the tracked layers and the class logits, streamed into per-unit
//! top/bottom examples (at most two crops of a photo in a row), histograms, class
//! correlations and, per unit, the strongest crops with the model's class for each (the
//! evidence of the label rule) (`microscope_core::examples`). Memory is bounded by the
//! tracked units, not by the corpus.

use anyhow::{Context, Result};
use burn::prelude::*;
use indicatif::ProgressBar;
use microscope_core::atlas::{LabelEvidence, PixelBox, ReceptiveField};
use microscope_core::examples::label_rule::{self, LABEL_POOL, PoolCrop};
use microscope_core::examples::{
    Correlation, Extremes, GrowingHistogram, MAX_CROPS_PER_PHOTO, SquareCrop, crops_of, field_box,
    summarise,
};
use microscope_core::fv::image::RenderedImage;
use microscope_core::model::Model;
use microscope_core::preprocess::{CropBox, resize_bicubic};

use super::corpus::Corpus;

/// Settings of the corpus pass (recorded in the build settings).
#[derive(Debug, Clone)]
pub struct StatsOptions {
    /// Crop sides as fractions of each photo's short side.
    pub scales: Vec<f32>,
    /// Top and bottom examples kept per unit.
    pub top_k: usize,
    /// Histogram bins.
    pub bins: usize,
    /// Crops per forward pass.
    pub batch: usize,
}

/// Where an example is: a crop and a position of the layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExampleRef {
    /// Index into [`CorpusStats::crops`].
    pub crop: u32,
    /// Position `(y, x)` in the layer.
    pub position: [u16; 2],
}

/// What the pass gathered for one unit.
#[derive(Debug, Clone)]
pub struct UnitStats {
    /// Ranked by the unit's largest activation in a crop.
    pub by_max: Extremes<ExampleRef>,
    /// Ranked by its smallest activation in a crop.
    pub by_min: Extremes<ExampleRef>,
    /// Spatial maxima, one per crop.
    pub histogram: GrowingHistogram,
    /// The strongest crops by spatial mean (indices into [`CorpusStats::crops`]), when the
    /// pass reads the classes: the pool of the label rule.
    pub pool: Option<Extremes<u32>>,
}

/// A tracked layer: its catalogue index, the units tracked, their stats.
pub struct TrackedLayer {
    /// Index in the model's catalogue.
    pub layer: usize,
    /// Units tracked, ascending.
    pub units: Vec<u32>,
    /// Stats per tracked unit.
    pub stats: Vec<UnitStats>,
    /// Row of the first tracked unit in the correlation.
    first_row: usize,
    /// Receptive field of the layer's positions.
    field: ReceptiveField,
}

/// Everything the pass gathered.
pub struct CorpusStats {
    /// Every crop: photo index and square in working pixels.
    pub crops: Vec<(usize, SquareCrop)>,
    /// Tracked layers.
    pub layers: Vec<TrackedLayer>,
    /// Correlation of tracked units (rows, in layer order) with the classes, if the model
    /// has a class output in its catalogue.
    pub correlation: Option<Correlation>,
    /// The model's top-1 class of each crop (with the correlation; else empty).
    pub crop_classes: Vec<u32>,
    /// The model's input, `[height, width]` pixels (square crops are stretched to it).
    pub input: [u32; 2],
}

/// Reads a tensor back as floats.
fn floats(tensor: Tensor<4>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_into_vec()
        .map_err(|e| anyhow::anyhow!("reading activations back: {e:?}"))
}

/// Runs the pass. `tracked` lists catalogue layer indices with their units; `classes` is the
/// catalogue index of the class logits (for top classes), if wanted.
pub fn run(
    model: &Model,
    corpus: &Corpus,
    tracked: &[(usize, Vec<u32>)],
    classes: Option<usize>,
    options: &StatsOptions,
    device: &Device,
    bar: &ProgressBar,
) -> Result<CorpusStats> {
    let spec = model.input_spec();
    let input = [u32::try_from(spec.height_px)?, u32::try_from(spec.width_px)?];
    let catalogue = model.layers();
    let crops: Vec<(usize, SquareCrop)> = corpus
        .photos
        .iter()
        .enumerate()
        .flat_map(|(i, photo)| {
            crops_of(photo.image.width(), photo.image.height(), &options.scales)
                .into_iter()
                .map(move |crop| (i, crop))
        })
        .collect();
    let mut rows = 0;
    let mut layers = Vec::new();
    let class_count = classes.and_then(|c| catalogue.get(c)).map(|l| l.channels);
    for (layer, units) in tracked {
        let info = catalogue.get(*layer).context("tracked layer outside the catalogue")?;
        let stats = units
            .iter()
            .map(|_| UnitStats {
                by_max: Extremes::new(options.top_k, MAX_CROPS_PER_PHOTO),
                by_min: Extremes::new(options.top_k, MAX_CROPS_PER_PHOTO),
                histogram: GrowingHistogram::new(options.bins),
                pool: class_count.map(|_| Extremes::new(LABEL_POOL, usize::MAX)),
            })
            .collect();
        layers.push(TrackedLayer {
            layer: *layer,
            units: units.clone(),
            stats,
            first_row: rows,
            field: super::model_files::atlas_field(&info.receptive_field),
        });
        rows += units.len();
    }
    let mut correlation = class_count.map(|n| Correlation::new(rows, n));
    let mut crop_classes = Vec::new();
    let mut names: Vec<&str> = layers.iter().map(|l| catalogue[l.layer].name.as_str()).collect();
    let class_slot = classes.map(|c| {
        names.push(catalogue[c].name.as_str());
        names.len() - 1
    });
    bar.set_length(crops.len() as u64);
    let [height, width] = spec.size_px();
    for (batch_index, batch) in crops.chunks(options.batch.max(1)).enumerate() {
        let first_crop = batch_index * options.batch.max(1);
        let mut data = Vec::with_capacity(batch.len() * spec.channels * height * width);
        for (photo, crop) in batch {
            let image = &corpus.photos[*photo].image;
            let region =
                CropBox { left: crop.left, top: crop.top, width: crop.side, height: crop.side };
            let resized = resize_bicubic(image, region, input[1], input[0]);
            data.extend(RenderedImage::from_rgb_image(&resized, spec.channels).data);
        }
        let tensor = Tensor::<4>::from_data(
            TensorData::new(data, [batch.len(), spec.channels, height, width]),
            device,
        );
        let outputs = model.forward(spec.normalise(tensor), &names)?;
        let mut values: Vec<Vec<f32>> = Vec::with_capacity(outputs.len());
        let mut dims = Vec::with_capacity(outputs.len());
        for output in outputs {
            dims.push(output.dims());
            values.push(floats(output)?);
        }
        let mut means = vec![0.0f32; batch.len() * rows];
        for tracked in &mut layers {
            let slot = names.iter().position(|n| *n == catalogue[tracked.layer].name).unwrap_or(0);
            let [n, c, h, w] = dims[slot];
            let plane = h * w;
            for b in 0..n {
                for (k, &unit) in tracked.units.iter().enumerate() {
                    let start = (b * c + unit as usize) * plane;
                    let Some(summary) =
                        values[slot].get(start..start + plane).and_then(|p| summarise(p, w))
                    else {
                        continue;
                    };
                    let crop = (first_crop + b) as u32;
                    let photo = batch.get(b).map_or(0, |(photo, _)| *photo as u32);
                    let stats = &mut tracked.stats[k];
                    let at =
                        |p: [usize; 2]| ExampleRef { crop, position: [p[0] as u16, p[1] as u16] };
                    stats.by_max.offer(summary.max, photo, || at(summary.argmax));
                    stats.by_min.offer(summary.min, photo, || at(summary.argmin));
                    stats.histogram.add(summary.max);
                    if let Some(pool) = &mut stats.pool {
                        pool.offer(summary.mean, photo, || crop);
                    }
                    means[b * rows + tracked.first_row + k] = summary.mean;
                }
            }
        }
        if let (Some(correlation), Some(slot), Some(count)) =
            (&mut correlation, class_slot, class_count)
        {
            correlation.add_batch(&means, &values[slot]);
            crop_classes.extend(values[slot].chunks(count.max(1)).take(batch.len()).map(top_1));
        }
        bar.inc(batch.len() as u64);
    }
    Ok(CorpusStats { crops, layers, correlation, crop_classes, input })
}

/// The index of the largest of `logits` (the first on ties).
fn top_1(logits: &[f32]) -> u32 {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in logits.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0 as u32
}

impl CorpusStats {
    /// The box in the photo's own pixels of an example of a tracked layer.
    pub fn example_box(
        &self,
        corpus: &Corpus,
        layer: &TrackedLayer,
        example: ExampleRef,
    ) -> Option<(usize, PixelBox)> {
        let (photo, crop) = *self.crops.get(example.crop as usize)?;
        let position = [usize::from(example.position[0]), usize::from(example.position[1])];
        let working = field_box(&layer.field, self.input, crop, position);
        Some((photo, corpus.photos.get(photo)?.to_original(working)))
    }

    /// The working-copy box of an example (for cutting its crop).
    pub fn working_box(
        &self,
        layer: &TrackedLayer,
        example: ExampleRef,
    ) -> Option<(usize, PixelBox)> {
        let (photo, crop) = *self.crops.get(example.crop as usize)?;
        let position = [usize::from(example.position[0]), usize::from(example.position[1])];
        Some((photo, field_box(&layer.field, self.input, crop, position)))
    }

    /// The `k` classes most correlated with unit `k_index` of tracked layer `layer`.
    pub fn top_classes(
        &self,
        layer: &TrackedLayer,
        k_index: usize,
        k: usize,
    ) -> Option<Vec<(u32, f32)>> {
        self.correlation.as_ref().map(|c| c.top(layer.first_row + k_index, k))
    }

    /// The evidence for labelling unit `k_index` of tracked layer `layer` with its most
    /// correlated class (`None` without classes or a positively correlated class).
    pub fn label_evidence(&self, layer: &TrackedLayer, k_index: usize) -> Option<LabelEvidence> {
        let (class, correlation) = *self.top_classes(layer, k_index, 1)?.first()?;
        let pool = layer.stats.get(k_index)?.pool.as_ref()?;
        let crops: Vec<PoolCrop> = pool
            .top()
            .filter_map(|(_, photo, crop)| {
                let class = *self.crop_classes.get(*crop as usize)?;
                Some(PoolCrop { photo, class })
            })
            .collect();
        Some(label_rule::evidence(class, correlation, &crops))
    }
}
