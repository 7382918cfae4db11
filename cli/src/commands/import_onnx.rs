//! `microscope import-onnx FILE --id NAME`: checks that an ONNX file is a CNN Microscope can
//! run and stores it in the cache as a model like the built-in ones (`models`, `layers`,
//! `classify` and everything that loads a network then know it).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use microscope_core::model_import::{
    IMAGENET_MEAN, IMAGENET_STD, ImportError, ImportSettings, OnnxLimits, import_onnx,
    parse_input_size,
};
use microscope_core::network::InputSpec;

use crate::store::{self, ImportedModel};

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
    input_size: Option<[u32; 2]>,
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
fn normalisation(args: &ImportOnnxArgs) -> ([f32; 3], [f32; 3]) {
    let (offset, scale) = match (args.mean, args.std, args.offset, args.scale) {
        (_, _, Some(offset), Some(scale)) => (offset, scale),
        (mean, std, _, _) => {
            let (mean, std) = (mean.unwrap_or(IMAGENET_MEAN), std.unwrap_or(IMAGENET_STD));
            (mean.map(|m| m * 255.0), std.map(|s| s * 255.0))
        }
    };
    // A zero scale is refused by core's import (`ImportError::Settings`).
    (offset, scale)
}

/// Imports, checks (catalogue at the input size and one forward pass) and stores the model,
/// with core's `model_import` (what the browser's renderer runs on a dropped file).
pub fn run(args: &ImportOnnxArgs) -> Result<()> {
    store::check_new_id(&args.id, args.force)?;
    let file = args.file.display();
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {file}"))?;
    let (offset, scale) = normalisation(args);
    let settings = ImportSettings { input_size: args.input_size, offset, scale };
    let device = crate::device::current()?.device();
    let imported = import_onnx(&bytes, &settings, OnnxLimits::FILE)
        .and_then(|imported| imported.model(&args.id, &device).map(|model| (imported, model)));
    let (imported, model) = imported.map_err(|error| match error {
        ImportError::WebPage => {
            anyhow::anyhow!("{file} is a web page (HTML), not an ONNX model: download it again")
        }
        ImportError::NoFixedSize { input } => anyhow::anyhow!(
            "{file}: the input {input} has no fixed size; pass --input-size (N or HxW)"
        ),
        ImportError::NoChannels { input } => {
            anyhow::anyhow!("{file}: the input {input} declares no channel count")
        }
        other => anyhow::anyhow!("{file} cannot be imported: {other}"),
    })?;
    let input = imported.input;
    let InputSpec { channels, height_px, width_px, .. } = input;
    let sha256 = imported.sha256.as_str().to_owned();
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
}
