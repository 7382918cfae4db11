//! What an ONNX import is asked and answers, as plain serde types (they cross the renderer
//! worker's boundary): the file and the settings in, a summary of the model (its layers with
//! their units) or a typed [`ImportError`] out. The error's text is what `microscope
//! import-onnx` prints after the file's name; the unsupported-operator report lists every
//! operator at once, in both.

use serde::{Deserialize, Serialize};

use crate::atlas::Sha256Hex;

/// ImageNet mean of the `[0, 1]` RGB values (torchvision's normalisation), the default.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet standard deviation of the `[0, 1]` RGB values, the default.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// An ONNX file as the visitor gave it; sent as a byte array (a `Uint8Array` in the browser).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxFile {
    /// The file's name (shown, and the model's name).
    pub name: String,
    /// Its bytes, within [`OnnxLimits`](super::OnnxLimits).
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for OnnxFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OnnxFile({}, {} bytes)", self.name, self.bytes.len())
    }
}

/// How the imported model takes its input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImportSettings {
    /// `[height, width]` in pixels; `None`: the size the file declares (a file that declares
    /// none needs one).
    #[serde(default)]
    pub input_size: Option<[u32; 2]>,
    /// Per channel: the model sees `(x * 255 - offset) / scale` for pixel values `x` in
    /// `[0, 1]`.
    pub offset: [f32; 3],
    /// See `offset`.
    pub scale: [f32; 3],
}

impl ImportSettings {
    /// ImageNet's normalisation (torchvision's, what PyTorch exports expect), at `input_size`.
    pub fn imagenet(input_size: Option<[u32; 2]>) -> Self {
        Self {
            input_size,
            offset: IMAGENET_MEAN.map(|m| m * 255.0),
            scale: IMAGENET_STD.map(|s| s * 255.0),
        }
    }
}

/// `N` (a square of side N) or `HxW` as `[height, width]`, each a positive number of pixels:
/// how `microscope import-onnx --input-size` and the viewer's size box read an input size.
pub fn parse_input_size(text: &str) -> Result<[u32; 2], String> {
    let side = |v: &str| v.trim().parse::<u32>().ok().filter(|&n| n > 0);
    let size = match text.trim().split_once(['x', 'X']) {
        None => side(text).map(|n| [n, n]),
        Some((h, w)) => side(h).zip(side(w)).map(|(h, w)| [h, w]),
    };
    size.ok_or_else(|| {
        format!("`{text}` is not an input size: give N (a square) or HxW in pixels, e.g. 160x224")
    })
}

/// What an import job does now, for its progress events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStage {
    /// Decoding the file and lowering its operators.
    Import,
    /// Folding batch norms, cataloguing the layers, putting the weights on the device and
    /// one forward pass at the input size.
    Build,
}

impl std::fmt::Display for ImportStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Import => "reading the operators",
            Self::Build => "building the layers and running it once",
        })
    }
}

/// One browsable layer of an imported model, as `microscope layers` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// The layer's name (what objectives name).
    pub name: String,
    /// The ONNX operator that produces it.
    pub op: String,
    /// Its units (channels).
    pub channels: u32,
    /// Height of its map, in positions (1 for a vector).
    pub height: u32,
    /// Width of its map.
    pub width: u32,
}

/// An imported model, as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The file's name.
    pub name: String,
    /// The file's sha256: the model's identity (what a render names it by).
    pub sha256: Sha256Hex,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The default domain's operator set the file declares.
    pub opset: i64,
    /// Input channels.
    pub channels: u32,
    /// Input height in pixels.
    pub height_px: u32,
    /// Input width in pixels.
    pub width_px: u32,
    /// Learned parameters.
    pub parameters: u64,
    /// Channels of the first output (classes, for a classifier).
    pub outputs: u32,
    /// The browsable layers in forward order.
    pub layers: Vec<LayerSummary>,
}

/// One operator Microscope does not implement, as used by a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedOp {
    /// The operator.
    pub op_type: String,
    /// Its domain (empty for the default ONNX domain).
    pub domain: String,
    /// How many nodes use it.
    pub count: usize,
    /// The first few of those nodes' names (or first outputs', if unnamed).
    pub nodes: Vec<String>,
}

/// Why an ONNX file cannot be imported as a model, typed so that the page can list the
/// unsupported operators or ask for an input size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ImportError {
    /// The file has nothing in it.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than [`OnnxLimits::max_bytes`](super::OnnxLimits).
    #[error("the file has {bytes} bytes; at most {max_bytes} are read")]
    TooManyBytes {
        /// Its size.
        bytes: u64,
        /// The limit.
        max_bytes: u64,
    },
    /// The graph has more nodes than [`OnnxLimits::max_nodes`](super::OnnxLimits).
    #[error("the graph has {nodes} nodes; at most {max_nodes} are imported")]
    TooManyNodes {
        /// Its nodes.
        nodes: usize,
        /// The limit.
        max_nodes: usize,
    },
    /// A web page (HTML) where the model belongs.
    #[error("the file is a web page (HTML), not an ONNX model")]
    WebPage,
    /// Operators Microscope does not implement: every one the outputs need.
    #[error("{}", unsupported_report(*.opset, .ops))]
    UnsupportedOps {
        /// The default domain's operator set version the file declares.
        opset: i64,
        /// Each unsupported operator, in order of first use.
        ops: Vec<UnsupportedOp>,
    },
    /// The file is not a model Microscope can import (malformed, a node it cannot lower, a
    /// shape that does not fit): the importer's message, naming the node or tensor.
    #[error("{message}")]
    Onnx {
        /// What is wrong, as `microscope import-onnx` says it.
        message: String,
    },
    /// The input declares no channel count.
    #[error("the input {input} declares no channel count")]
    NoChannels {
        /// The input as declared (`input [N, C, H, W]`).
        input: String,
    },
    /// The input declares no fixed size and none was given.
    #[error("the input {input} has no fixed size: give an input size (N or HxW)")]
    NoFixedSize {
        /// The input as declared.
        input: String,
    },
    /// The settings cannot be used (a scale of zero, a size of zero).
    #[error("{message}")]
    Settings {
        /// What is wrong.
        message: String,
    },
    /// The graph imported but cannot run as a model at the input size.
    #[error("it cannot be used as a model: {message}")]
    Model {
        /// Why.
        message: String,
    },
}

/// The report of unsupported operators: a count line, then one line per operator with its
/// node count and first nodes.
pub fn unsupported_report(opset: i64, ops: &[UnsupportedOp]) -> String {
    let total: usize = ops.iter().map(|o| o.count).sum();
    let mut out = format!(
        "{} unsupported operator{} ({total} node{}, opset {opset}):",
        ops.len(),
        if ops.len() == 1 { "" } else { "s" },
        if total == 1 { "" } else { "s" },
    );
    for op in ops {
        let more = op.count.saturating_sub(op.nodes.len());
        let nodes = op.nodes.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "\n  `{}`{} x{} at {nodes}{}",
            op.op_type,
            domain_note(&op.domain),
            op.count,
            if more > 0 { format!(" and {more} more") } else { String::new() },
        ));
    }
    out
}

/// ` (domain `d`)` for a non-default domain.
fn domain_note(domain: &str) -> String {
    if domain.is_empty() || domain == "ai.onnx" {
        String::new()
    } else {
        format!(" (domain `{domain}`)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_the_boundary_typed() {
        let error = ImportError::UnsupportedOps {
            opset: 17,
            ops: vec![
                UnsupportedOp {
                    op_type: "Foo".into(),
                    domain: String::new(),
                    count: 7,
                    nodes: (0..5).map(|i| format!("n{i}")).collect(),
                },
                UnsupportedOp {
                    op_type: "Bar".into(),
                    domain: "com.x".into(),
                    count: 1,
                    nodes: vec!["b".into()],
                },
            ],
        };
        assert_eq!(
            error.to_string(),
            "2 unsupported operators (8 nodes, opset 17):\n  `Foo` x7 at `n0`, `n1`, `n2`, `n3`, \
             `n4` and 2 more\n  `Bar` (domain `com.x`) x1 at `b`"
        );
        let text = serde_json::to_string(&error).unwrap();
        assert!(text.starts_with(r#"{"problem":"unsupported_ops","opset":17"#), "{text}");
        assert_eq!(serde_json::from_str::<ImportError>(&text).unwrap(), error);
        assert_eq!(parse_input_size("224"), Ok([224, 224]));
        assert_eq!(parse_input_size(" 160x224 "), Ok([160, 224]));
        assert_eq!(parse_input_size("160X224"), Ok([160, 224]));
        for bad in ["", "0", "160x0", "x224", "160x", "160x224x3", "-4", "1.5", "a"] {
            let err = parse_input_size(bad).unwrap_err();
            assert!(err.contains("N (a square) or HxW"), "{bad}: {err}");
        }
        let settings = ImportSettings::imagenet(None);
        assert!((settings.offset[0] - 123.675).abs() < 1e-3);
        let text = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<ImportSettings>(&text).unwrap(), settings);
    }
}
