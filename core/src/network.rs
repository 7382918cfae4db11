//! What feature visualization, dataset examples and the renderer need from a model, whatever
//! it is (a built-in organism or an imported graph): its input, its layers by name, and a
//! forward pass that returns chosen layers.

use burn::prelude::*;

/// How a model wants its input, from an RGB image with values in `[0, 1]`.
///
/// Stored as `{height_px, width_px, channels, offset, scale}`; a square input also writes
/// `size_px` (its side), which is all that records written before non-square inputs hold.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "InputRecord", into = "InputRecord")]
pub struct InputSpec {
    /// Height of the input the model was trained at, in pixels.
    pub height_px: usize,
    /// Width of the input the model was trained at, in pixels.
    pub width_px: usize,
    /// Number of input channels (3 for RGB, 1 for grayscale).
    pub channels: usize,
    /// Per channel: the model sees `(x * 255 - offset) / scale`.
    pub offset: [f32; 3],
    /// See `offset`.
    pub scale: [f32; 3],
}

/// [`InputSpec`] as records store it: height and width, or (older records) one side.
#[derive(serde::Serialize, serde::Deserialize)]
struct InputRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size_px: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height_px: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width_px: Option<usize>,
    channels: usize,
    offset: [f32; 3],
    scale: [f32; 3],
}

impl TryFrom<InputRecord> for InputSpec {
    type Error = String;

    fn try_from(record: InputRecord) -> Result<Self, String> {
        let (height_px, width_px) = match (record.height_px, record.width_px, record.size_px) {
            (Some(h), Some(w), _) => (h, w),
            (None, None, Some(side)) => (side, side),
            _ => return Err("an input needs height_px and width_px (or size_px)".to_owned()),
        };
        let InputRecord { channels, offset, scale, .. } = record;
        Ok(Self { height_px, width_px, channels, offset, scale })
    }
}

impl From<InputSpec> for InputRecord {
    fn from(spec: InputSpec) -> Self {
        let square = spec.height_px == spec.width_px;
        Self {
            size_px: square.then_some(spec.height_px),
            height_px: Some(spec.height_px),
            width_px: Some(spec.width_px),
            channels: spec.channels,
            offset: spec.offset,
            scale: spec.scale,
        }
    }
}

impl InputSpec {
    /// A square input of `side_px` pixels.
    pub fn square(side_px: usize, channels: usize, offset: [f32; 3], scale: [f32; 3]) -> Self {
        Self { height_px: side_px, width_px: side_px, channels, offset, scale }
    }

    /// `[height, width]` in pixels.
    pub fn size_px(&self) -> [usize; 2] {
        [self.height_px, self.width_px]
    }

    /// The longer side in pixels: the side of the smallest square that covers the input.
    pub fn long_side_px(&self) -> usize {
        self.height_px.max(self.width_px)
    }

    /// Maps an image in `[0, 1]` to the model's input range.
    ///
    /// # Shapes
    /// - `image`: `[N, channels, H, W]`
    /// - returns: `[N, channels, H, W]`
    pub fn normalise(&self, image: Tensor<4>) -> Tensor<4> {
        let device = image.device();
        let channels = self.channels.min(3);
        let offset: Vec<f32> = self.offset.iter().take(channels).copied().collect();
        let inverse_scale: Vec<f32> = self.scale.iter().take(channels).map(|s| 255.0 / s).collect();
        let offset_scaled: Vec<f32> = offset.iter().zip(&self.scale).map(|(o, s)| o / s).collect();
        let multiply = Tensor::<1>::from_floats(inverse_scale.as_slice(), &device)
            .reshape([1, channels, 1, 1]);
        let subtract = Tensor::<1>::from_floats(offset_scaled.as_slice(), &device)
            .reshape([1, channels, 1, 1]);
        image * multiply - subtract
    }
}

/// A layer as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// Stable name, e.g. `blocks.8.expand`.
    pub name: String,
    /// Number of channels (units).
    pub channels: usize,
    /// Height and width of the layer at the model's input size.
    pub spatial: [usize; 2],
    /// Side of one position's receptive field in input pixels.
    pub receptive_field_px: usize,
}

/// Why a forward pass could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The network has no layer of that name.
    #[error("the model has no layer `{0}`")]
    UnknownLayer(String),
    /// The network rejected the input or failed.
    #[error("{0}")]
    Failed(String),
}

/// A model that can be looked inside.
pub trait Network {
    /// The model's id (e.g. `efficientnet-lite0`).
    fn id(&self) -> &str;
    /// How it wants its input.
    fn input_spec(&self) -> InputSpec;
    /// Its browsable layers in forward order.
    fn layers(&self) -> Vec<LayerSummary>;
    /// Runs the network on a normalised `input` and returns the activations of `layers`, in
    /// the order asked, computing no more of the network than needed.
    ///
    /// # Shapes
    /// - `input`: `[N, channels, H, W]`, already normalised ([`InputSpec::normalise`])
    /// - returns: one `[N, C, H', W']` per layer (class logits as `[N, classes, 1, 1]`)
    fn forward_layers(
        &self,
        input: Tensor<4>,
        layers: &[&str],
    ) -> Result<Vec<Tensor<4>>, NetworkError>;

    /// Whether the network takes only inputs of [`InputSpec::size_px`] (e.g. a flatten before
    /// a fully connected layer); feature visualization then resamples its images to exactly
    /// that height and width. Fully convolutional networks (the default) take any size.
    fn fixed_input_size(&self) -> bool {
        false
    }

    /// The summary of one layer.
    fn layer(&self, name: &str) -> Option<LayerSummary> {
        self.layers().into_iter().find(|layer| layer.name == name)
    }
}

impl Network for crate::model::Model {
    fn id(&self) -> &str {
        crate::model::Model::id(self)
    }

    fn input_spec(&self) -> InputSpec {
        crate::model::Model::input_spec(self)
    }

    fn layers(&self) -> Vec<LayerSummary> {
        crate::model::Model::layers(self)
            .iter()
            .map(|layer| LayerSummary {
                name: layer.name.clone(),
                channels: layer.channels,
                spatial: layer.spatial,
                receptive_field_px: layer.receptive_field.size().round() as usize,
            })
            .collect()
    }

    fn fixed_input_size(&self) -> bool {
        crate::model::Model::fixed_input_size(self)
    }

    fn forward_layers(
        &self,
        input: Tensor<4>,
        layers: &[&str],
    ) -> Result<Vec<Tensor<4>>, NetworkError> {
        self.forward(input, layers).map_err(|error| match error {
            crate::model::ModelError::UnknownLayer { layer, .. } => {
                NetworkError::UnknownLayer(layer)
            }
            other => NetworkError::Failed(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_maps_unit_range_to_the_model_range() {
        let device = Device::flex();
        let spec = InputSpec::square(4, 3, [127.0; 3], [128.0; 3]);
        let image =
            Tensor::<4>::from_data(TensorData::new(vec![0.0f32, 1.0, 0.5], [1, 3, 1, 1]), &device);
        let out: Vec<f32> = spec.normalise(image).into_data().try_to_vec::<f32>().unwrap();
        let want = [-127.0 / 128.0, 1.0, (127.5 - 127.0) / 128.0];
        for (got, want) in out.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
    }

    #[test]
    fn records_hold_height_and_width_and_older_ones_one_side() {
        let wide = InputSpec {
            height_px: 160,
            width_px: 224,
            ..InputSpec::square(1, 3, [0.0; 3], [1.0; 3])
        };
        let text = serde_json::to_string(&wide).unwrap();
        assert!(text.contains("\"height_px\":160") && !text.contains("size_px\""), "{text}");
        assert_eq!(serde_json::from_str::<InputSpec>(&text).unwrap(), wide);
        let older = r#"{"size_px":96,"channels":1,"offset":[0,0,0],"scale":[1,1,1]}"#;
        let older: InputSpec = serde_json::from_str(older).unwrap();
        assert_eq!((older.size_px(), older.channels), ([96, 96], 1));
        // A square input also writes its side, for readers of the older records.
        let square = serde_json::to_string(&older).unwrap();
        assert!(square.contains("\"size_px\":96"), "{square}");
        let neither = r#"{"height_px":96,"channels":1,"offset":[0,0,0],"scale":[1,1,1]}"#;
        assert!(serde_json::from_str::<InputSpec>(neither).is_err());
    }
}
