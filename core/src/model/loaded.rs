//! The one model type: a graph executable on a device, its curated layer catalogue, how it
//! wants its input, and where it came from. Built-in organisms and imported ONNX files are
//! both a [`Model`]; the rest of the system sees it through [`Network`](crate::network::Network).

use burn::prelude::*;

use super::catalogue::{builtin_layer_names, catalogue};
use super::{ModelError, ModelId, efficientnet_graph};
use crate::graph::{Executable, Graph, LayerInfo, Op, ValueId};
use crate::network::InputSpec;
use crate::weights::TensorMap;

/// Where a model came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A built-in organism, built from its checkpoint.
    BuiltIn(ModelId),
    /// A graph imported from an ONNX file with this sha256 (lowercase hex).
    Onnx {
        /// sha256 of the file's bytes.
        sha256: String,
    },
    /// A graph built in code (tests, tools).
    Graph,
}

/// A model ready to run on one device: the executable of its graph (batch norms folded), its
/// layer catalogue at its input size, its input spec and its source.
///
/// Cloning is cheap (tensors are shared).
#[derive(Clone)]
pub struct Model {
    id: String,
    source: ModelSource,
    input: InputSpec,
    layers: Vec<LayerInfo>,
    parameters: usize,
    output: ValueId,
    classes: usize,
    /// Whether the first output is one score per channel (no spatial map).
    scores: bool,
    probabilities: bool,
    fixed_size: bool,
    executable: Executable,
    /// The folded graph on the host (weights for circuits and other analyses).
    graph: Graph,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &self.id)
            .field("source", &self.source)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl Model {
    /// The built-in `model` from checkpoint tensors (lukemelas names, see
    /// [`Architecture::expected_tensors`](super::Architecture::expected_tensors)) on
    /// `device`, with every batch norm folded into its convolution and the built-in layer
    /// names as its catalogue.
    ///
    /// Fails when a tensor is missing or has the wrong shape (naming it), or when folding
    /// gives non-finite weights. Extra tensors are ignored.
    pub fn from_tensor_map(
        model: ModelId,
        tensors: &TensorMap,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let graph = efficientnet_graph(model, tensors)?;
        let names = builtin_layer_names(&model.architecture());
        Self::assemble(
            model.name().to_owned(),
            &graph,
            model.input_spec(),
            ModelSource::BuiltIn(model),
            Some(&names),
            device,
        )
    }

    /// Any graph as a model called `id` that takes inputs as `input` says, on `device`, with
    /// batch norms folded and every browsable value in its catalogue (see
    /// [`Graph::layers`]).
    ///
    /// Fails when the graph's declared channel count or fixed size disagrees with `input`, when
    /// it cannot take inputs of `input`'s height and width, or when folding gives non-finite weights.
    pub fn from_graph(
        id: impl Into<String>,
        graph: &Graph,
        input: InputSpec,
        source: ModelSource,
        device: &Device,
    ) -> Result<Self, ModelError> {
        Self::assemble(id.into(), graph, input, source, None, device)
    }

    /// The ONNX model in `bytes` (see [`crate::onnx::import_at`]: symbolic input sizes are
    /// `input`'s) as a model called `id`, as [`Model::from_graph`] does with the imported
    /// graph.
    ///
    /// Fails with [`ModelError::Onnx`] naming what the file does wrong (an unsupported
    /// operator, a malformed message) and otherwise as [`Model::from_graph`].
    pub fn from_onnx(
        id: impl Into<String>,
        bytes: &[u8],
        input: InputSpec,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let graph = crate::onnx::import_at(bytes, input.size_px())?;
        let source = ModelSource::Onnx { sha256: crate::weights::sha256_hex(bytes) };
        Self::from_graph(id, &graph, input, source, device)
    }

    /// Folds, catalogues and uploads `graph`.
    fn assemble(
        id: String,
        graph: &Graph,
        input: InputSpec,
        source: ModelSource,
        curated: Option<&[String]>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        check_spec(graph, &input)?;
        let parameters = graph.parameter_count();
        let graph = graph.fold_batch_norms()?;
        let [height, width] = input.size_px();
        let layers = catalogue(&graph, [height, width], curated)?;
        let &output = graph.outputs().first().ok_or(crate::graph::GraphError::NoOutput)?;
        let shapes = graph.infer_shapes([1, input.channels, height, width])?;
        let output_shape = shapes.get(output.index()).map_or(&[][..], Vec::as_slice);
        let classes = output_shape.get(1).copied().unwrap_or(1);
        // A segmenter's or detector's map has positions; a classifier's scores have none.
        let scores = output_shape.iter().skip(2).all(|&d| d == 1);
        let probabilities =
            graph.producer(output).is_some_and(|node| matches!(node.op, Op::Softmax { .. }));
        // A graph that cannot take a slightly larger input (a flatten before a fully
        // connected layer) takes only its own size.
        let fixed_size = graph.infer_shapes([1, input.channels, height + 4, width + 4]).is_err();
        let executable = graph.to_device(device);
        Ok(Self {
            id,
            source,
            input,
            layers,
            parameters,
            output,
            classes,
            scores,
            probabilities,
            fixed_size,
            executable,
            graph,
        })
    }

    /// The model's id (`efficientnet-lite0`, or the name an import was given).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where it came from.
    pub fn source(&self) -> &ModelSource {
        &self.source
    }

    /// The built-in organism this is, if it is one.
    pub fn builtin(&self) -> Option<ModelId> {
        match self.source {
            ModelSource::BuiltIn(model) => Some(model),
            _ => None,
        }
    }

    /// How it wants its input.
    pub fn input_spec(&self) -> InputSpec {
        self.input
    }

    /// The layer catalogue at the input size, in forward order.
    pub fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    /// The catalogue entry called `name`.
    pub fn layer(&self, name: &str) -> Option<&LayerInfo> {
        self.layers.iter().find(|layer| layer.name == name)
    }

    /// The number of learned parameters of the graph before folding (convolution and fully
    /// connected weights and biases, batch-norm scales and shifts, constants; not running
    /// statistics).
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    /// The channel count of the first output (1000 for the ImageNet organisms).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The number of classes when the model is a classifier: its first output is one score
    /// per channel. `None` when that output is a map (a segmenter, a detector, a feature
    /// extractor's feature map): such a model has no classes to name or rank.
    pub fn class_count(&self) -> Option<usize> {
        self.scores.then_some(self.classes)
    }

    /// Whether the first output is already a softmax (probabilities rather than logits).
    pub fn outputs_probabilities(&self) -> bool {
        self.probabilities
    }

    /// Whether the model takes only inputs of its [`InputSpec::size_px`] (its graph cannot
    /// take a larger one, e.g. a flatten before a fully connected layer).
    pub fn fixed_input_size(&self) -> bool {
        self.fixed_size
    }

    /// The graph with batch norms folded, weights on the host: what the catalogue's
    /// [`LayerInfo::value`]s index.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The executable graph.
    pub fn executable(&self) -> &Executable {
        &self.executable
    }

    /// Runs the model on a normalised `input` and returns the activations of the catalogue
    /// layers `layers`, in the order asked (duplicates allowed), computing only what they
    /// need. An empty `layers` computes nothing.
    ///
    /// Works on any device, with or without autodiff: gradients flow from any returned
    /// activation back to `input`.
    ///
    /// # Shapes
    /// - `input`: `[N, channels, H, W]`, normalised ([`InputSpec::normalise`]); any `H, W`
    ///   the graph can take (the catalogue describes [`InputSpec::size_px`])
    /// - returns: one `[N, C, H', W']` per layer; `[N, C]` values as `[N, C, 1, 1]`
    pub fn forward(&self, input: Tensor<4>, layers: &[&str]) -> Result<Vec<Tensor<4>>, ModelError> {
        let ids = layers
            .iter()
            .map(|name| {
                self.layer(name).map(|layer| layer.value).ok_or_else(|| ModelError::UnknownLayer {
                    model: self.id.clone(),
                    layer: (*name).to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let found = self.executable.forward(input, &ids)?;
        ids.iter()
            .zip(layers)
            .map(|(id, name)| {
                found.get(*id).cloned().ok_or_else(|| ModelError::UnknownLayer {
                    model: self.id.clone(),
                    layer: (*name).to_owned(),
                })
            })
            .collect()
    }

    /// The first output (the class logits of a classifier), flattened.
    ///
    /// # Shapes
    /// - `input`: `[N, channels, H, W]`, normalised
    /// - returns: `[N, classes * h * w]` (`[N, 1000]` for the organisms)
    pub fn logits(&self, input: Tensor<4>) -> Result<Tensor<2>, ModelError> {
        let mut found = self.executable.forward(input, &[self.output])?;
        let output = found.remove(self.output).ok_or(crate::graph::GraphError::NoOutput)?;
        let [n, c, h, w] = output.dims();
        Ok(output.reshape([n, c * h * w]))
    }
}

impl ModelId {
    /// How the organism wants its input: RGB at [`ModelId::input_size`], `(x - 127) / 128` on
    /// 0..=255 values (see [`crate::preprocess`]).
    pub fn input_spec(self) -> InputSpec {
        use crate::preprocess::{PIXEL_OFFSET, PIXEL_SCALE};
        InputSpec::square(
            self.input_size(),
            super::INPUT_CHANNELS,
            [PIXEL_OFFSET; 3],
            [PIXEL_SCALE; 3],
        )
    }
}

/// Checks that `input` fits `graph`'s declared input.
fn check_spec(graph: &Graph, input: &InputSpec) -> Result<(), ModelError> {
    let declared = graph.input();
    let mismatch = |reason: String| ModelError::InputSpec { declared: declared.describe(), reason };
    let [height, width] = input.size_px();
    if height == 0 || width == 0 || !(1..=3).contains(&input.channels) {
        return Err(mismatch(format!(
            "{} channels of {height}x{width} px is not an image input",
            input.channels
        )));
    }
    if let Some(c) = declared.channels()
        && c != input.channels
    {
        return Err(mismatch(format!("the spec says {} channels", input.channels)));
    }
    if let Some([h, w]) = declared.spatial()
        && [h, w] != [height, width]
    {
        return Err(mismatch(format!("the spec says {height}x{width} px")));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::graph::{Dim, HostTensor, Linear};
    use crate::model::architecture::tests::synthetic_weights;
    use crate::model::catalogue::builtin_catalogue;
    use crate::model::{LayerId, NUM_CLASSES};
    use crate::network::Network;

    /// Deterministic values in [-1, 1).
    fn noise(len: usize, seed: u64) -> Vec<f32> {
        crate::rng::SplitMix64::new(seed).signed_noise(len)
    }

    fn input(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(noise(shape.iter().product(), seed), shape), device)
    }

    fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
        t.to_data().try_to_vec::<f32>().unwrap()
    }

    fn lite0(device: &Device) -> Model {
        let model = ModelId::EfficientNetLite0;
        Model::from_tensor_map(model, &synthetic_weights(model, 7), device).unwrap()
    }

    #[test]
    fn model_builtin_is_a_graph_model_with_the_stable_names() {
        let device = Device::flex();
        let model = lite0(&device);
        assert_eq!(model.id(), "efficientnet-lite0");
        assert_eq!(model.builtin(), Some(ModelId::EfficientNetLite0));
        assert_eq!(model.classes(), NUM_CLASSES);
        assert_eq!(model.parameters(), 4_652_008);
        assert_eq!(model.input_spec(), ModelId::EfficientNetLite0.input_spec());
        assert_eq!(model.layers(), builtin_catalogue(ModelId::EfficientNetLite0, 224).unwrap());
        let summary = Network::layer(&model, "blocks.8.expand").unwrap();
        assert_eq!((summary.channels, summary.spatial), (480, [14, 14]));
        assert_eq!(Network::layers(&model).len(), model.layers().len());
    }

    #[test]
    fn model_forward_shapes_follow_the_catalogue() {
        let device = Device::flex();
        let model = lite0(&device);
        let names: Vec<&str> = model.layers().iter().map(|l| l.name.as_str()).collect();
        // Any size works, square or not; the catalogue at that size predicts the shapes.
        for (h, w) in [(64usize, 64usize), (37, 50)] {
            let acts = model.forward(input([2, 3, h, w], 1, &device), &names).unwrap();
            assert_eq!(acts.len(), names.len());
            let rows = builtin_catalogue(ModelId::EfficientNetLite0, h).unwrap();
            let cols = builtin_catalogue(ModelId::EfficientNetLite0, w).unwrap();
            for ((t, r), c) in acts.iter().zip(&rows).zip(&cols) {
                assert_eq!(
                    t.dims(),
                    [2, r.channels, r.spatial[0], c.spatial[1]],
                    "{} at {h}x{w}",
                    r.name
                );
            }
        }
        let logits = model.logits(input([3, 3, 32, 32], 2, &device)).unwrap();
        assert_eq!(logits.dims(), [3, NUM_CLASSES]);
        assert!(values(&logits).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn model_early_stop_gives_the_same_activations() {
        let device = Device::flex();
        let model = lite0(&device);
        let x = input([1, 3, 48, 48], 3, &device);
        let taps = ["blocks.5.depthwise", "stem", "blocks.4.project", "stem"];
        let early = model.forward(x.clone(), &taps).unwrap();
        // In the order asked, duplicates kept.
        assert_eq!(early.len(), 4);
        assert_eq!(values(&early[1]), values(&early[3]));
        let full = model
            .forward(x.clone(), &["logits", "stem", "blocks.4.project", "blocks.5.depthwise"])
            .unwrap();
        assert_eq!(values(&early[0]), values(&full[3]));
        assert_eq!(values(&early[1]), values(&full[1]));
        assert_eq!(values(&early[2]), values(&full[2]));
        // Logits agree with the logits method.
        let logits = full[0].clone().reshape([1, NUM_CLASSES]);
        assert_eq!(values(&logits), values(&model.logits(x.clone()).unwrap()));
        // Pre-ReLU6 taps: the stem and a depthwise layer have values outside [0, 6].
        assert!(values(&early[1]).iter().any(|&v| v < 0.0));
        assert!(values(&early[0]).iter().any(|&v| v < 0.0));
        // Nothing asked, nothing computed.
        assert!(model.forward(x, &[]).unwrap().is_empty());
    }

    #[test]
    fn model_gradient_reaches_the_input() {
        let device = Device::flex();
        let model = lite0(&device);
        for layer in ["blocks.5.depthwise", "logits"] {
            let x = input([1, 3, 40, 40], 4, &device).autodiff().require_grad();
            let act = model.forward(x.clone(), &[layer]).unwrap().remove(0);
            let objective = act.narrow(1, 3, 1).mean();
            let grads = objective.backward();
            let grad = x.grad(&grads).expect("no gradient for the input");
            assert_eq!(grad.dims(), [1, 3, 40, 40]);
            let g = values(&grad);
            assert!(g.iter().all(|v| v.is_finite()));
            assert!(g.iter().any(|&v| v != 0.0), "zero gradient from {layer}");
        }
    }

    #[test]
    fn model_rejects_bad_inputs_layers_and_weights() {
        let device = Device::flex();
        let model = lite0(&device);
        let err = model.forward(input([1, 4, 8, 8], 1, &device), &["stem"]).unwrap_err();
        assert!(
            matches!(err, ModelError::Graph(crate::graph::GraphError::InvalidInput { .. })),
            "{err}"
        );
        for bad in ["blocks.0.expand", "blocks.16", "stem.relu6", "nonsense"] {
            let err = model.forward(input([1, 3, 8, 8], 1, &device), &[bad]).unwrap_err();
            assert_eq!(
                err,
                ModelError::UnknownLayer { model: "efficientnet-lite0".into(), layer: bad.into() }
            );
        }
        let err = Network::forward_layers(&model, input([1, 3, 8, 8], 1, &device), &["blocks.16"]);
        assert_eq!(
            err.unwrap_err(),
            crate::network::NetworkError::UnknownLayer("blocks.16".into())
        );

        let mut weights = synthetic_weights(ModelId::EfficientNetLite0, 1);
        assert!(Model::from_tensor_map(ModelId::EfficientNetLite1, &weights, &device).is_err());
        weights.remove("_fc.bias");
        let err =
            Model::from_tensor_map(ModelId::EfficientNetLite0, &weights, &device).unwrap_err();
        assert_eq!(
            err,
            ModelError::MissingTensor {
                model: ModelId::EfficientNetLite0,
                name: "_fc.bias".into()
            }
        );
        assert!(err.to_string().contains("_fc.bias"), "{err}");
        // A negative running variance cannot be folded.
        let mut weights = synthetic_weights(ModelId::EfficientNetLite0, 1);
        weights.get_mut("_blocks.3._bn1.running_var").unwrap().data_mut()[0] = -1.0;
        let err =
            Model::from_tensor_map(ModelId::EfficientNetLite0, &weights, &device).unwrap_err();
        assert!(err.to_string().contains("blocks.3.depthwise"), "{err}");
    }

    /// `[N, 2, H, W]` -> global average -> linear to 3 classes.
    fn tiny_graph(declared: [Dim; 4]) -> Graph {
        let mut g = Graph::new("x", declared);
        let pool = g.add_node("pool", Op::GlobalAveragePool, &[ValueId::INPUT]).unwrap();
        let flat = g.add_node("flat", Op::Flatten { axis: 1 }, &[pool]).unwrap();
        let weight = HostTensor::new(vec![2, 3], vec![1.0, 0.0, -1.0, 0.0, 2.0, 1.0]).unwrap();
        let linear = Op::Linear(Linear { weight, bias: Some(HostTensor::vector(vec![0.5; 3])) });
        let out = g.add_node("out", linear, &[flat]).unwrap();
        g.set_outputs(&[out]).unwrap();
        g
    }

    #[test]
    fn a_model_whose_output_is_a_map_has_no_classes() {
        let mut g = Graph::new("x", [Dim::Fixed(1), Dim::Fixed(2), Dim::Fixed(4), Dim::Fixed(4)]);
        let map = g.add_node("map", Op::Relu, &[ValueId::INPUT]).unwrap();
        let pooled = g.add_node("pooled", Op::GlobalAveragePool, &[map]).unwrap();
        g.set_outputs(&[map, pooled]).unwrap();
        let spec = InputSpec::square(4, 2, [0.0; 3], [255.0; 3]);
        let model =
            Model::from_graph("seg", &g, spec, ModelSource::Graph, &Device::flex()).unwrap();
        assert_eq!((model.classes(), model.class_count()), (2, None));
        // The same graph with the pooled vector first is a classifier.
        g.set_outputs(&[pooled, map]).unwrap();
        let model =
            Model::from_graph("cls", &g, spec, ModelSource::Graph, &Device::flex()).unwrap();
        assert_eq!(model.class_count(), Some(2));
    }

    #[test]
    fn model_from_any_graph() {
        let device = Device::flex();
        let spec = InputSpec::square(4, 2, [0.0; 3], [255.0; 3]);
        let fixed = [Dim::Fixed(1), Dim::Fixed(2), Dim::Fixed(4), Dim::Fixed(4)];
        let model = Model::from_graph(
            "tiny",
            &tiny_graph(fixed.clone()),
            spec,
            ModelSource::Graph,
            &device,
        )
        .unwrap();
        let names: Vec<&str> = model.layers().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["pool", "out"]);
        assert_eq!((model.classes(), model.parameters(), model.builtin()), (3, 9, None));
        assert_eq!(model.class_count(), Some(3));
        // Channel means 1 and 2: out = [1 + 0.5, 4 + 0.5, -1 + 2 + 0.5].
        let x = Tensor::<4>::from_data(
            TensorData::new([vec![1.0f32; 16], vec![2.0; 16]].concat(), [1, 2, 4, 4]),
            &device,
        );
        assert_eq!(values(&model.logits(x).unwrap()), [1.5, 4.5, 1.5]);
        // Specs that do not fit the declared input.
        for spec in [
            InputSpec { channels: 3, ..spec },
            InputSpec { width_px: 8, ..spec },
            InputSpec { height_px: 0, ..spec },
        ] {
            let err = Model::from_graph(
                "tiny",
                &tiny_graph(fixed.clone()),
                spec,
                ModelSource::Graph,
                &device,
            )
            .unwrap_err();
            assert!(matches!(err, ModelError::InputSpec { .. }), "{err}");
        }
    }

    #[test]
    fn model_layer_ids_name_catalogue_entries() {
        let device = Device::flex();
        let model = lite0(&device);
        for id in ModelId::EfficientNetLite0.architecture().layer_ids() {
            assert!(model.layer(&id.to_string()).is_some(), "{id}");
        }
        assert!(model.layer(&LayerId::Expand(0).to_string()).is_none());
    }
}
