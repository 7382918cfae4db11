//! `microscope import-onnx FILE --id NAME`: checks that an ONNX file is a CNN Microscope can
//! run and stores it in the cache as a model like the built-in ones (`models`, `layers`,
//! `classify` and everything that loads a network then know it).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use burn::prelude::*;
use microscope_core::graph::Dim;
use microscope_core::model::{Model, ModelSource};
use microscope_core::network::InputSpec;
use microscope_core::weights::{DownloadProblem, check_model_file, sha256_hex};

use crate::store::{self, ImportedModel};

/// ImageNet mean of the `[0, 1]` RGB values (torchvision's normalisation), the default.
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet standard deviation of the `[0, 1]` RGB values.
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Arguments of `microscope import-onnx`.
#[derive(clap::Args)]
pub struct ImportOnnxArgs {
    /// The `.onnx` file: an image classifier or feature extractor with one NCHW float input.
    file: PathBuf,
    /// The id to store it under (letters, digits, `.`, `_`, `-`; not a built-in model's).
    #[arg(long)]
    id: String,
    /// Side of the square input in pixels (default: the size the file declares).
    #[arg(long)]
    input_size: Option<usize>,
    /// Per-channel mean of `[0, 1]` pixel values, `r,g,b` or one value: the model sees
    /// `(x - mean) / std` (default, with --std: ImageNet's 0.485,0.456,0.406).
    #[arg(long, value_parser = parse_channels, requires = "std", conflicts_with_all = ["scale", "offset"])]
    mean: Option<[f32; 3]>,
    /// Per-channel standard deviation of `[0, 1]` pixel values (default 0.229,0.224,0.225).
    #[arg(long, value_parser = parse_channels, requires = "mean")]
    std: Option<[f32; 3]>,
    /// Per-channel divisor of `0..=255` pixel values: the model sees `(x - offset) / scale`.
    #[arg(long, value_parser = parse_channels, requires = "offset")]
    scale: Option<[f32; 3]>,
    /// Per-channel offset subtracted from `0..=255` pixel values.
    #[arg(long, value_parser = parse_channels, requires = "scale")]
    offset: Option<[f32; 3]>,
    /// Replace a model imported earlier under the same id.
    #[arg(long)]
    force: bool,
}

/// `r,g,b` or a single value for all three channels.
fn parse_channels(text: &str) -> Result<[f32; 3], String> {
    let values = text
        .split(',')
        .map(|v| v.trim().parse::<f32>().map_err(|e| format!("`{v}` is not a number: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let values: [f32; 3] = match values.as_slice() {
        [v] => [*v; 3],
        [r, g, b] => [*r, *g, *b],
        _ => return Err(format!("`{text}` is neither one value nor three (r,g,b)")),
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Err(format!("`{text}` is not finite"));
    }
    Ok(values)
}

/// `(offset, scale)` on 0..=255 values from the arguments.
fn normalisation(args: &ImportOnnxArgs) -> Result<([f32; 3], [f32; 3])> {
    let (offset, scale) = match (args.mean, args.std, args.offset, args.scale) {
        (_, _, Some(offset), Some(scale)) => (offset, scale),
        (mean, std, _, _) => {
            let (mean, std) = (mean.unwrap_or(IMAGENET_MEAN), std.unwrap_or(IMAGENET_STD));
            (mean.map(|m| m * 255.0), std.map(|s| s * 255.0))
        }
    };
    if scale.contains(&0.0) {
        anyhow::bail!("a standard deviation or scale of 0 would divide by zero");
    }
    Ok((offset, scale))
}

/// Imports, checks (catalogue at the input size and one forward pass on the CPU) and stores
/// the model.
pub fn run(args: &ImportOnnxArgs) -> Result<()> {
    store::check_new_id(&args.id, args.force)?;
    let file = args.file.display();
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {file}"))?;
    // A web page saved in place of the model (a download answered with a site's fallback
    // page) is named as such, as the browser's renderer names it, not as a protobuf error.
    if check_model_file(&bytes, None, None) == Err(DownloadProblem::WebPage) {
        anyhow::bail!("{file} is a web page (HTML), not an ONNX model: download it again");
    }
    let graph = microscope_core::onnx::import(&bytes)
        .with_context(|| format!("{file} cannot be imported"))?;
    let declared = graph.input();
    let channels = declared.channels().with_context(|| {
        format!("{file}: the input {} declares no channel count", declared.describe())
    })?;
    let size_px = match (args.input_size, &declared.shape[2], &declared.shape[3]) {
        (Some(size), _, _) => size,
        (None, Dim::Fixed(h), Dim::Fixed(w)) if h == w => *h,
        (None, Dim::Fixed(h), Dim::Fixed(w)) => {
            anyhow::bail!("{file}: the input is {h}x{w}, but Microscope needs a square input")
        }
        (None, _, _) => anyhow::bail!(
            "{file}: the input {} has no fixed size; pass --input-size",
            declared.describe()
        ),
    };
    let (offset, scale) = normalisation(args)?;
    let input = InputSpec { size_px, channels, offset, scale };
    let device = crate::device::current()?.device();
    let sha256 = sha256_hex(&bytes);
    let source = ModelSource::Onnx { sha256: sha256.clone() };
    let model = Model::from_graph(&args.id, &graph, input, source, &device)
        .with_context(|| format!("{file} cannot be used as a model"))?;
    let probe = Tensor::<4>::zeros([1, channels, size_px, size_px], &device);
    model.logits(probe).with_context(|| format!("{file}: a forward pass failed"))?;
    let meta = ImportedModel {
        id: args.id.clone(),
        format: "onnx".into(),
        file: "model.onnx".into(),
        source: std::fs::canonicalize(&args.file)
            .unwrap_or_else(|_| args.file.clone())
            .display()
            .to_string(),
        sha256,
        imported_unix_s: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        input,
        classes: model.classes(),
        parameters: model.parameters(),
        layers: model.layers().len(),
    };
    let dir = store::save_imported(&meta, &bytes)?;
    println!(
        "imported {} as `{}`: {channels}x{size_px}x{size_px} input, {} layers, {} outputs, {} parameters",
        file, meta.id, meta.layers, meta.classes, meta.parameters
    );
    println!("stored in {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_lists_parse() {
        assert_eq!(parse_channels("0.5"), Ok([0.5; 3]));
        assert_eq!(parse_channels("1, 2,3"), Ok([1.0, 2.0, 3.0]));
        assert!(parse_channels("1,2").is_err());
        assert!(parse_channels("a").is_err());
        assert!(parse_channels("inf").is_err());
    }
}
