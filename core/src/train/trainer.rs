//! The training loop: mini-batch cross-entropy, gradients by burn's autodiff, Adam; the
//! weights and optimizer state as host tensors for checkpoints; test-set accuracy.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::adam::{Adam, AdamConfig};
use super::fashion_cnn::{
    FASHION_CNN_PARAMETERS, fashion_cnn_forward, normalise_pixels, ordered_parameters,
};
use super::rng::BatchOrder;
use super::{TrainError, TrainSettings};
use crate::dataset::ImageSet;
use crate::weights::{NamedTensor, TensorMap};

/// Images per forward pass when measuring accuracy.
const EVAL_BATCH: usize = 500;

/// A fashion-cnn being trained on one device.
#[derive(Debug)]
pub struct Trainer {
    settings: TrainSettings,
    device: Device,
    params: Vec<Tensor<1>>,
    adam: Adam,
    order: BatchOrder,
}

impl Trainer {
    /// A run starting from `weights` (e.g. [`super::init_fashion_cnn`]) at step 0, on
    /// `train_len` training items.
    pub fn new(
        settings: TrainSettings,
        weights: &TensorMap,
        train_len: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let params = upload(weights, "", device)?;
        let lengths: Vec<usize> = params.iter().map(|p| p.dims()[0]).collect();
        let adam = Adam::new(AdamConfig::new(settings.learning_rate), &lengths, device);
        Ok(Self {
            settings,
            device: device.clone(),
            params,
            adam,
            order: BatchOrder::new(settings.seed, train_len),
        })
    }

    /// A run resumed from a checkpoint: its `weights` and the optimizer `state` saved with it
    /// ([`Trainer::optimizer_state`]) after `step` steps.
    pub fn resume(
        settings: TrainSettings,
        weights: &TensorMap,
        state: &TensorMap,
        step: usize,
        train_len: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let mut trainer = Self::new(settings, weights, train_len, device)?;
        let first = upload(state, "adam.m.", device)?;
        let second = upload(state, "adam.v.", device)?;
        trainer.adam =
            Adam::from_moments(AdamConfig::new(settings.learning_rate), first, second, step);
        Ok(trainer)
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> usize {
        self.adam.updates()
    }

    /// The settings.
    pub fn settings(&self) -> TrainSettings {
        self.settings
    }

    /// One step on the next batch of `train`; returns the batch's mean cross-entropy before
    /// the update.
    ///
    /// Fails when the set is empty, when a gradient is missing or when the loss is not
    /// finite.
    pub fn step(&mut self, train: &ImageSet) -> Result<f32, TrainError> {
        let indices = self.order.batch(self.step_count(), self.settings.batch);
        if indices.is_empty() || train.is_empty() {
            return Err(TrainError::NoData("the training set is empty".to_owned()));
        }
        let (images, labels) = batch(train, &indices, &self.device);
        let params: Vec<Tensor<1>> =
            self.params.iter().map(|p| p.clone().autodiff().require_grad()).collect();
        let logits = fashion_cnn_forward(&params, images.autodiff());
        let one_hot = labels.autodiff();
        let loss = (log_softmax(logits, 1) * one_hot).sum().neg().div_scalar(indices.len() as f32);
        let grads = loss.backward();
        let gradients = params
            .iter()
            .zip(FASHION_CNN_PARAMETERS)
            .map(|(p, (name, _))| p.grad(&grads).ok_or_else(|| TrainError::NoGradient(name.into())))
            .collect::<Result<Vec<_>, _>>()?;
        let value: f32 = loss
            .without_autodiff()
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Readback(format!("{e:?}")))?
            .first()
            .copied()
            .unwrap_or(f32::NAN);
        if !value.is_finite() {
            return Err(TrainError::Diverged(value, self.step_count()));
        }
        self.params = self.adam.step(std::mem::take(&mut self.params), gradients);
        Ok(value)
    }

    /// The current weights, named as [`FASHION_CNN_PARAMETERS`].
    pub fn weights(&self) -> Result<TensorMap, TrainError> {
        download(&self.params, "")
    }

    /// Adam's moments (`adam.m.<name>`, `adam.v.<name>`), to save beside a checkpoint.
    pub fn optimizer_state(&self) -> Result<TensorMap, TrainError> {
        let (first, second) = self.adam.moments();
        let mut map = download(first, "adam.m.")?;
        for (name, tensor) in download(second, "adam.v.")?.iter() {
            map.insert(name, tensor.clone());
        }
        Ok(map)
    }

    /// Accuracy of the current weights on `set` (see [`accuracy`]).
    pub fn accuracy(&self, set: &ImageSet) -> Result<f32, TrainError> {
        accuracy_of(&self.params, set, &self.device)
    }
}

/// The fraction of `set` that `weights` classify correctly (0 for an empty set).
pub fn accuracy(weights: &TensorMap, set: &ImageSet, device: &Device) -> Result<f32, TrainError> {
    accuracy_of(&upload(weights, "", device)?, set, device)
}

fn accuracy_of(params: &[Tensor<1>], set: &ImageSet, device: &Device) -> Result<f32, TrainError> {
    if set.is_empty() {
        return Ok(0.0);
    }
    let mut correct = 0usize;
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(EVAL_BATCH) {
        let (images, _) = batch(set, chunk, device);
        let predicted = fashion_cnn_forward(params, images).argmax(1);
        let predicted: Vec<i64> = predicted
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .map_err(|e| TrainError::Readback(format!("{e:?}")))?;
        correct += chunk
            .iter()
            .zip(&predicted)
            .filter(|(i, p)| set.labels.get(**i).map(|&l| i64::from(l)) == Some(**p))
            .count();
    }
    Ok(correct as f32 / set.len() as f32)
}

/// The normalised images and one-hot labels of `indices`.
///
/// # Shapes
/// - returns: `[B, 1, 28, 28]` and `[B, 10]`
fn batch(set: &ImageSet, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<2>) {
    let side = set.side;
    let mut pixels = Vec::with_capacity(indices.len() * side * side);
    let mut one_hot = vec![0.0f32; indices.len() * 10];
    for (k, &i) in indices.iter().enumerate() {
        match set.image(i) {
            Some(image) => pixels.extend(normalise_pixels(image)),
            None => pixels.extend(std::iter::repeat_n(0.0, side * side)),
        }
        if let Some(slot) =
            set.labels.get(i).and_then(|&l| one_hot.get_mut(k * 10 + usize::from(l)))
        {
            *slot = 1.0;
        }
    }
    let images =
        Tensor::<4>::from_data(TensorData::new(pixels, [indices.len(), 1, side, side]), device);
    let labels = Tensor::<2>::from_data(TensorData::new(one_hot, [indices.len(), 10]), device);
    (images, labels)
}

/// `prefix + name` of `map` for every parameter, flat on `device`.
fn upload(map: &TensorMap, prefix: &str, device: &Device) -> Result<Vec<Tensor<1>>, TrainError> {
    if prefix.is_empty() {
        return Ok(ordered_parameters(map)?
            .into_iter()
            .map(|p| Tensor::<1>::from_floats(p, device))
            .collect());
    }
    let mut renamed = TensorMap::new();
    for (name, _) in FASHION_CNN_PARAMETERS {
        if let Some(tensor) = map.get(&format!("{prefix}{name}")) {
            renamed.insert(name, tensor.clone());
        }
    }
    upload(&renamed, "", device).map_err(|error| match error {
        TrainError::Tensor { name, reason } => {
            TrainError::Tensor { name: format!("{prefix}{name}"), reason }
        }
        other => other,
    })
}

/// Flat tensors as `prefix + name` with the parameters' shapes.
fn download(tensors: &[Tensor<1>], prefix: &str) -> Result<TensorMap, TrainError> {
    let mut map = TensorMap::new();
    for (tensor, (name, shape)) in tensors.iter().zip(FASHION_CNN_PARAMETERS) {
        let data = tensor
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Readback(format!("{e:?}")))?;
        let named = NamedTensor::new(shape.to_vec(), data)
            .map_err(|e| TrainError::Tensor { name: name.to_owned(), reason: e.to_string() })?;
        map.insert(format!("{prefix}{name}"), named);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{SplitMix64, init_fashion_cnn};

    /// `n` noisy images whose class is written in their brightness pattern: class `c` lights
    /// row band `c` of ten.
    fn synthetic(n: usize, seed: u64) -> ImageSet {
        let mut rng = SplitMix64::new(seed);
        let mut pixels = Vec::with_capacity(n * 784);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let class = crate::train::rng::index_below(&mut rng, 10);
            labels.push(class as u8);
            for row in 0..28 {
                for _ in 0..28 {
                    let lit = row * 10 / 28 == class;
                    let base = if lit { 200.0 } else { 30.0 };
                    pixels.push(
                        (base + crate::train::rng::normal_f32(&mut rng) * 20.0).clamp(0.0, 255.0)
                            as u8,
                    );
                }
            }
        }
        ImageSet { side: 28, pixels, labels }
    }

    fn settings() -> TrainSettings {
        TrainSettings { seed: 4, batch: 16, learning_rate: 2e-3 }
    }

    fn run(set: &ImageSet, steps: usize) -> (Vec<f32>, TensorMap) {
        let device = Device::flex();
        let mut trainer =
            Trainer::new(settings(), &init_fashion_cnn(4), set.len(), &device).unwrap();
        let losses = (0..steps).map(|_| trainer.step(set).unwrap()).collect();
        (losses, trainer.weights().unwrap())
    }

    #[test]
    fn training_is_deterministic_and_lowers_the_loss() {
        let set = synthetic(96, 1);
        let (losses, weights) = run(&set, 12);
        let (again, weights_again) = run(&set, 12);
        assert_eq!(losses, again, "same seed, same losses");
        assert_eq!(weights, weights_again, "same seed, same weights");
        let early: f32 = losses[..3].iter().sum();
        let late: f32 = losses[9..].iter().sum();
        assert!(late < early * 0.7, "loss did not fall: {losses:?}");
        let device = Device::flex();
        let trained = accuracy(&weights, &set, &device).unwrap();
        assert!(trained > 0.5, "accuracy {trained}");
    }

    #[test]
    fn resuming_from_a_checkpoint_continues_the_same_run() {
        let set = synthetic(64, 2);
        let device = Device::flex();
        let (_, straight) = run(&set, 6);
        let mut first = Trainer::new(settings(), &init_fashion_cnn(4), set.len(), &device).unwrap();
        for _ in 0..3 {
            first.step(&set).unwrap();
        }
        // Through the checkpoint files' format and back.
        let weights = crate::weights::read_safetensors(&crate::weights::write_safetensors(
            &first.weights().unwrap(),
        ))
        .unwrap();
        let state = first.optimizer_state().unwrap();
        let mut resumed =
            Trainer::resume(settings(), &weights, &state, 3, set.len(), &device).unwrap();
        assert_eq!(resumed.step_count(), 3);
        for _ in 0..3 {
            resumed.step(&set).unwrap();
        }
        assert_eq!(resumed.weights().unwrap(), straight);
        let missing = Trainer::resume(settings(), &weights, &TensorMap::new(), 3, 64, &device);
        assert!(matches!(missing, Err(TrainError::Tensor { .. })));
    }
}
