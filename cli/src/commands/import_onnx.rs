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
    /// Input size in pixels: `N` (a square) or `HxW`, e.g. `224` or `160x224` (default: the
    /// size the file declares; needed where it declares none).
    #[arg(long, value_parser = parse_input_size)]
    input_size: Option<[usize; 2]>,
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

/// `N` (a square of side N) or `HxW` as `[height, width]`, each a positive number of pixels.
fn parse_input_size(text: &str) -> Result<[usize; 2], String> {
    let side = |v: &str| v.trim().parse::<usize>().ok().filter(|&n| n > 0);
    let size = match text.split_once(['x', 'X']) {
        None => side(text).map(|n| [n, n]),
        Some((h, w)) => side(h).zip(side(w)).map(|(h, w)| [h, w]),
    };
    size.ok_or_else(|| {
        format!("`{text}` is not an input size: give N (a square) or HxW in pixels, e.g. 160x224")
    })
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
    // A size given here also fixes the file's symbolic height and width while importing, so
    // that sizes it computes from its input's shape fold to constants.
    let graph = match args.input_size {
        Some(size) => microscope_core::onnx::import_at(&bytes, size),
        None => microscope_core::onnx::import(&bytes),
    }
    .with_context(|| format!("{file} cannot be imported"))?;
    let declared = graph.input();
    let channels = declared.channels().with_context(|| {
        format!("{file}: the input {} declares no channel count", declared.describe())
    })?;
    let [height_px, width_px] = match (args.input_size, &declared.shape[2], &declared.shape[3]) {
        (Some(size), _, _) => size,
        (None, Dim::Fixed(h), Dim::Fixed(w)) => [*h, *w],
        (None, _, _) => anyhow::bail!(
            "{file}: the input {} has no fixed size; pass --input-size (N or HxW)",
            declared.describe()
        ),
    };
    let (offset, scale) = normalisation(args)?;
    let input = InputSpec { height_px, width_px, channels, offset, scale };
    let device = crate::device::current()?.device();
    let sha256 = sha256_hex(&bytes);
    let source = ModelSource::Onnx { sha256: sha256.clone() };
    let model = Model::from_graph(&args.id, &graph, input, source, &device)
        .with_context(|| format!("{file} cannot be used as a model"))?;
    let probe = Tensor::<4>::zeros([1, channels, height_px, width_px], &device);
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
        "imported {} as `{}`: {channels}x{height_px}x{width_px} input, {} layers, {} outputs, {} parameters",
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

    #[test]
    fn input_sizes_parse() {
        assert_eq!(parse_input_size("224"), Ok([224, 224]));
        assert_eq!(parse_input_size("160x224"), Ok([160, 224]));
        assert_eq!(parse_input_size("160X224"), Ok([160, 224]));
        for bad in ["", "0", "160x0", "x224", "160x", "160x224x3", "-4", "1.5", "a"] {
            let err = parse_input_size(bad).unwrap_err();
            assert!(err.contains("N (a square) or HxW"), "{bad}: {err}");
        }
    }
}
