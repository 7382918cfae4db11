//! Where everything lives in an atlas: the one place that turns ids into paths, used by the
//! builder to write, by the viewer to fetch (atlas base URL + `/` + path) and by `verify`.
//!
//! ```text
//! atlas.json
//! annotations.json
//! photos/photos.json
//! photos/<photo>.<jpg|png|webp>
//! models/<model>/model.json
//! models/<model>/checkpoints/<checkpoint>/layers/<layer>/layer.json
//! models/<model>/checkpoints/<checkpoint>/layers/<layer>/sheets/<technique>-<first>.<webp|png>
//! models/<model>/checkpoints/<checkpoint>/layers/<layer>/units/<unit>/unit.json
//! models/<model>/checkpoints/<checkpoint>/layers/<layer>/units/<unit>/<image>.<webp|png>
//! ```
//!
//! Every per-layer and per-unit path lies under a checkpoint: a model without training history
//! has the single checkpoint [`DEFAULT_CHECKPOINT`].

use super::asset_path::AssetPath;
use super::image_header::ImageFormat;
use super::name::Name;
use super::technique::Technique;

/// The checkpoint name of a model without training history.
pub const DEFAULT_CHECKPOINT: &str = "final";

/// `atlas.json`, the index.
pub fn index() -> AssetPath {
    AssetPath::from_segments(&["atlas.json"])
}

/// `annotations.json`.
pub fn annotations() -> AssetPath {
    AssetPath::from_segments(&["annotations.json"])
}

/// `photos`, the folder of the photos manifest and of shipped photos.
pub fn photos_dir() -> AssetPath {
    AssetPath::from_segments(&["photos"])
}

/// `photos/photos.json`.
pub fn photos_manifest() -> AssetPath {
    AssetPath::from_segments(&["photos", "photos.json"])
}

/// `photos/<photo>.<ext>`: a shipped photograph.
pub fn photo(photo: &Name, format: ImageFormat) -> AssetPath {
    AssetPath::from_segments(&["photos", &format!("{photo}.{}", format.extension())])
}

/// `models/<model>`.
pub fn model_dir(model: &Name) -> AssetPath {
    AssetPath::from_segments(&["models", model.as_str()])
}

/// `models/<model>/model.json`.
pub fn model_manifest(model: &Name) -> AssetPath {
    AssetPath::from_segments(&["models", model.as_str(), "model.json"])
}

/// `models/<model>/checkpoints/<checkpoint>`.
pub fn checkpoint_dir(model: &Name, checkpoint: &Name) -> AssetPath {
    AssetPath::from_segments(&["models", model.as_str(), "checkpoints", checkpoint.as_str()])
}

/// `models/<model>/checkpoints/<checkpoint>/weights.safetensors`: the weights of a built-in
/// organism or of a model trained here, for the in-browser renderer (docs/atlas-format.md,
/// "Model weights").
pub fn checkpoint_weights(model: &Name, checkpoint: &Name) -> AssetPath {
    let dir = checkpoint_dir(model, checkpoint);
    AssetPath::from_segments(&[dir.as_str(), "weights.safetensors"])
}

/// `models/<model>/checkpoints/<checkpoint>/layers/<layer>`.
pub fn layer_dir(model: &Name, checkpoint: &Name, layer: &Name) -> AssetPath {
    AssetPath::from_segments(&[
        "models",
        model.as_str(),
        "checkpoints",
        checkpoint.as_str(),
        "layers",
        layer.as_str(),
    ])
}

/// `.../layers/<layer>/layer.json`.
pub fn layer_manifest(model: &Name, checkpoint: &Name, layer: &Name) -> AssetPath {
    let dir = layer_dir(model, checkpoint, layer);
    AssetPath::from_segments(&[dir.as_str(), "layer.json"])
}

/// `.../layers/<layer>/sheets/<technique>-<first>.<ext>`: the sprite sheet of `technique`
/// whose first tile is unit `first`.
pub fn layer_sheet(
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    technique: Technique,
    first: u32,
    format: ImageFormat,
) -> AssetPath {
    let dir = layer_dir(model, checkpoint, layer);
    let file = format!("{technique}-{first}.{}", format.extension());
    AssetPath::from_segments(&[dir.as_str(), "sheets", &file])
}

/// `.../layers/<layer>/units/<unit>`: the folder of one unit, which a builder writes as a whole
/// (assets first, `unit.json` last).
pub fn unit_dir(model: &Name, checkpoint: &Name, layer: &Name, unit: u32) -> AssetPath {
    let dir = layer_dir(model, checkpoint, layer);
    AssetPath::from_segments(&[dir.as_str(), "units", &unit.to_string()])
}

/// `.../units/<unit>/unit.json`.
pub fn unit_manifest(model: &Name, checkpoint: &Name, layer: &Name, unit: u32) -> AssetPath {
    let dir = unit_dir(model, checkpoint, layer, unit);
    AssetPath::from_segments(&[dir.as_str(), "unit.json"])
}

/// The images of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitImage {
    /// `channel`.
    Channel,
    /// `neuron`.
    Neuron,
    /// `negative`.
    Negative,
    /// `diversity-<i>`.
    Diversity(u8),
    /// `top`: the sprite sheet of the top dataset examples' crops.
    TopExamples,
    /// `bottom`: the sprite sheet of the bottom dataset examples' crops.
    BottomExamples,
}

impl UnitImage {
    /// The file name without extension.
    pub fn stem(self) -> String {
        match self {
            Self::Channel => "channel".into(),
            Self::Neuron => "neuron".into(),
            Self::Negative => "negative".into(),
            Self::Diversity(i) => format!("diversity-{i}"),
            Self::TopExamples => "top".into(),
            Self::BottomExamples => "bottom".into(),
        }
    }
}

/// `.../units/<unit>/<image>.<ext>`.
pub fn unit_image(
    model: &Name,
    checkpoint: &Name,
    layer: &Name,
    unit: u32,
    image: UnitImage,
    format: ImageFormat,
) -> AssetPath {
    let dir = unit_dir(model, checkpoint, layer, unit);
    let file = format!("{}.{}", image.stem(), format.extension());
    AssetPath::from_segments(&[dir.as_str(), &file])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::limits::MAX_NAME_BYTES;

    #[test]
    fn paths_are_the_documented_ones() {
        let m = Name::new("efficientnet-lite0").unwrap();
        let c = Name::new(DEFAULT_CHECKPOINT).unwrap();
        let l = Name::new("blocks.8").unwrap();
        assert_eq!(index().as_str(), "atlas.json");
        assert_eq!(photos_manifest().as_str(), "photos/photos.json");
        assert_eq!(
            photo(&Name::new("coffee").unwrap(), ImageFormat::Jpeg).as_str(),
            "photos/coffee.jpg"
        );
        assert_eq!(model_manifest(&m).as_str(), "models/efficientnet-lite0/model.json");
        assert_eq!(
            layer_manifest(&m, &c, &l).as_str(),
            "models/efficientnet-lite0/checkpoints/final/layers/blocks.8/layer.json"
        );
        assert_eq!(
            layer_sheet(&m, &c, &l, Technique::DatasetExamples, 256, ImageFormat::Webp).as_str(),
            "models/efficientnet-lite0/checkpoints/final/layers/blocks.8/sheets/dataset_examples-256.webp"
        );
        assert_eq!(
            unit_manifest(&m, &c, &l, 50).as_str(),
            "models/efficientnet-lite0/checkpoints/final/layers/blocks.8/units/50/unit.json"
        );
        assert_eq!(
            unit_image(&m, &c, &l, 50, UnitImage::Diversity(3), ImageFormat::Png).as_str(),
            "models/efficientnet-lite0/checkpoints/final/layers/blocks.8/units/50/diversity-3.png"
        );
        assert!(unit_manifest(&m, &c, &l, 50).is_inside(&unit_dir(&m, &c, &l, 50)));
    }

    #[test]
    fn the_longest_paths_are_valid_asset_paths() {
        // The helpers skip validation; this proves they need none, even for the longest names.
        let long = Name::new(format!("a{}", "9".repeat(MAX_NAME_BYTES - 1))).unwrap();
        let longest = [
            unit_image(
                &long,
                &long,
                &long,
                u32::MAX,
                UnitImage::Diversity(u8::MAX),
                ImageFormat::Webp,
            ),
            unit_manifest(&long, &long, &long, u32::MAX),
            layer_sheet(
                &long,
                &long,
                &long,
                Technique::DatasetExamples,
                u32::MAX,
                ImageFormat::Webp,
            ),
            layer_manifest(&long, &long, &long),
            photo(&long, ImageFormat::Webp),
            model_manifest(&long),
        ];
        for path in longest {
            assert_eq!(AssetPath::new(path.as_str()).as_ref(), Ok(&path));
        }
    }
}
