//! (ml) The import itself: the file checked within [`OnnxLimits`] (size before decoding,
//! nodes after), imported with core's ONNX importer at the settings' input size, and made a
//! [`Model`] on a device with one forward pass as a check — what `microscope import-onnx`
//! and the renderer worker both run.

use burn::prelude::*;

use super::{ImportError, ImportSettings, LayerSummary, ModelSummary, OnnxLimits};
use crate::atlas::Sha256Hex;
use crate::graph::{Dim, Graph};
use crate::model::{Model, ModelSource};
use crate::network::InputSpec;
use crate::onnx::{self, OnnxError};
use crate::weights::{DownloadProblem, check_model_file};

/// An ONNX file imported as a graph, with how the model takes its input: everything needed
/// to make it a [`Model`] on any device.
#[derive(Debug, Clone)]
pub struct ImportedOnnx {
    /// The graph (batch norms not yet folded).
    pub graph: Graph,
    /// Its input: channels, the input size, the normalisation.
    pub input: InputSpec,
    /// sha256 of the file.
    pub sha256: Sha256Hex,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The default domain's operator set the file declares.
    pub opset: i64,
}

impl From<OnnxError> for ImportError {
    fn from(error: OnnxError) -> Self {
        match error {
            OnnxError::UnsupportedOps { opset, ops } => Self::UnsupportedOps { opset, ops },
            other => Self::Onnx { message: other.to_string() },
        }
    }
}

/// Imports the ONNX file in `bytes` within `limits`: a web page, an empty or oversized file,
/// a graph of too many nodes, unsupported operators (all listed), a malformed file and an
/// input of unknown channels or size (when `settings` gives none) are typed errors.
pub fn import_onnx(
    bytes: &[u8],
    settings: &ImportSettings,
    limits: OnnxLimits,
) -> Result<ImportedOnnx, ImportError> {
    limits.check_bytes(bytes.len() as u64)?;
    // A web page saved in place of the model (a download answered with a site's fallback
    // page) is named as such, not as a protobuf error.
    if check_model_file(bytes, None, None) == Err(DownloadProblem::WebPage) {
        return Err(ImportError::WebPage);
    }
    check_settings(settings)?;
    let model = onnx::decode_model(bytes)?;
    limits.check_nodes(model.graph.as_ref().map_or(0, |graph| graph.node.len()))?;
    // A size given here also fixes the file's symbolic height and width while importing, so
    // that sizes it computes from its input's shape fold to constants.
    let size = settings.input_size.map(|[h, w]| [h as usize, w as usize]);
    let graph = onnx::import_model(&model, size)?;
    let opset = onnx::opset(&model);
    drop(model);
    let declared = graph.input();
    let channels = declared
        .channels()
        .ok_or_else(|| ImportError::NoChannels { input: declared.describe() })?;
    let [height_px, width_px] = match (size, &declared.shape[2], &declared.shape[3]) {
        (Some(size), _, _) => size,
        (None, Dim::Fixed(h), Dim::Fixed(w)) => [*h, *w],
        (None, _, _) => return Err(ImportError::NoFixedSize { input: declared.describe() }),
    };
    let input =
        InputSpec { height_px, width_px, channels, offset: settings.offset, scale: settings.scale };
    Ok(ImportedOnnx {
        graph,
        input,
        sha256: Sha256Hex::of(bytes),
        bytes: bytes.len() as u64,
        opset,
    })
}

fn check_settings(settings: &ImportSettings) -> Result<(), ImportError> {
    let problem = |message: &str| Err(ImportError::Settings { message: message.to_owned() });
    if settings.scale.contains(&0.0) {
        return problem("a standard deviation or scale of 0 would divide by zero");
    }
    if settings.scale.iter().chain(&settings.offset).any(|v| !v.is_finite()) {
        return problem("the normalisation is not finite");
    }
    if settings.input_size.is_some_and(|size| size.contains(&0)) {
        return problem("an input size must be at least 1 pixel a side");
    }
    Ok(())
}

impl ImportedOnnx {
    /// The model called `id` on `device`, checked with one forward pass of a blank input.
    pub fn model(&self, id: &str, device: &Device) -> Result<Model, ImportError> {
        let source = ModelSource::Onnx { sha256: self.sha256.as_str().to_owned() };
        let failed = |message: String| ImportError::Model { message };
        let model = Model::from_graph(id, &self.graph, self.input, source, device)
            .map_err(|error| failed(error.to_string()))?;
        let InputSpec { channels, height_px, width_px, .. } = self.input;
        let probe = Tensor::<4>::zeros([1, channels, height_px, width_px], device);
        model.logits(probe).map_err(|error| failed(format!("a forward pass failed: {error}")))?;
        Ok(model)
    }

    /// What the page lists of `model` (made by [`ImportedOnnx::model`]) from the file `name`.
    pub fn summary(&self, name: &str, model: &Model) -> ModelSummary {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ModelSummary {
            name: name.to_owned(),
            sha256: self.sha256.clone(),
            bytes: self.bytes,
            opset: self.opset,
            channels: narrow(self.input.channels),
            height_px: narrow(self.input.height_px),
            width_px: narrow(self.input.width_px),
            parameters: model.parameters() as u64,
            outputs: narrow(model.classes()),
            layers: model
                .layers()
                .iter()
                .map(|layer| LayerSummary {
                    name: layer.name.clone(),
                    op: layer.op.to_owned(),
                    channels: narrow(layer.channels),
                    height: narrow(layer.spatial[0]),
                    width: narrow(layer.spatial[1]),
                })
                .collect(),
        }
    }
}
