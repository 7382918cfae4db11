//! The layer catalogue: every layer a user can browse, in forward order, with its stable name,
//! channel count, spatial size and receptive field.
//!
//! Names (the `layer` part of a unit name such as `blocks.8.expand:50`):
//!
//! | name | value tapped |
//! |---|---|
//! | `stem` | stem conv + batch norm, **before** ReLU6 |
//! | `blocks.N.expand` | 1x1 expansion conv + batch norm, **before** ReLU6 (blocks with expansion only) |
//! | `blocks.N.depthwise` | depthwise conv + batch norm, **before** ReLU6 |
//! | `blocks.N.project` | 1x1 projection conv + batch norm, before the skip is added (blocks with a skip only; elsewhere it equals `blocks.N`) |
//! | `blocks.N` | the block's output, after the skip is added (no activation follows) |
//! | `head` | head 1x1 conv + batch norm, **before** ReLU6 |
//! | `logits` | class logits, `[N, 1000, 1, 1]` |
//!
//! Layers followed by ReLU6 are tapped before it, as lucid does for its pre-ReLU layers: ReLU6
//! is flat outside `[0, 6]`, so an objective on its output would have zero gradient wherever
//! the unit is off or saturated.

use std::fmt;
use std::str::FromStr;

use super::padding::{same_output_size, same_padding};
use super::{
    Architecture, HEAD_CHANNELS, ModelError, NUM_CLASSES, ReceptiveField, STEM_CHANNELS,
    STEM_KERNEL, STEM_STRIDE,
};

/// One browsable layer of a model, identified by kind and block index.
///
/// Its text form (`Display`, `FromStr`) is the stable layer name: `stem`, `blocks.3.expand`,
/// `blocks.3.depthwise`, `blocks.3.project`, `blocks.3`, `head`, `logits`. Whether a model has
/// the layer is a separate question (see [`Architecture::layer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerId {
    /// The stem convolution, before ReLU6.
    Stem,
    /// The expansion convolution of a block, before ReLU6.
    Expand(usize),
    /// The depthwise convolution of a block, before ReLU6.
    Depthwise(usize),
    /// The projection of a residual block, before the skip is added.
    Project(usize),
    /// A block's output (after the skip is added, if any).
    Block(usize),
    /// The head convolution, before ReLU6.
    Head,
    /// The class logits.
    Logits,
}

impl LayerId {
    /// The block this layer belongs to, if any.
    pub fn block(self) -> Option<usize> {
        match self {
            LayerId::Expand(i)
            | LayerId::Depthwise(i)
            | LayerId::Project(i)
            | LayerId::Block(i) => Some(i),
            LayerId::Stem | LayerId::Head | LayerId::Logits => None,
        }
    }

    /// Whether the model applies ReLU6 after this layer (and the tapped value is the
    /// pre-activation).
    pub fn is_pre_relu6(self) -> bool {
        matches!(self, LayerId::Stem | LayerId::Expand(_) | LayerId::Depthwise(_) | LayerId::Head)
    }
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerId::Stem => f.write_str("stem"),
            LayerId::Expand(i) => write!(f, "blocks.{i}.expand"),
            LayerId::Depthwise(i) => write!(f, "blocks.{i}.depthwise"),
            LayerId::Project(i) => write!(f, "blocks.{i}.project"),
            LayerId::Block(i) => write!(f, "blocks.{i}"),
            LayerId::Head => f.write_str("head"),
            LayerId::Logits => f.write_str("logits"),
        }
    }
}

impl FromStr for LayerId {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || ModelError::InvalidLayerName(text.to_owned());
        match text {
            "stem" => return Ok(LayerId::Stem),
            "head" => return Ok(LayerId::Head),
            "logits" => return Ok(LayerId::Logits),
            _ => {}
        }
        let rest = text.strip_prefix("blocks.").ok_or_else(invalid)?;
        let (index, part) = rest.split_once('.').unwrap_or((rest, ""));
        // Plain decimal digits only, without leading zeros, so that names are canonical.
        let canonical = !index.is_empty()
            && index.bytes().all(|b| b.is_ascii_digit())
            && (index == "0" || !index.starts_with('0'));
        if !canonical {
            return Err(invalid());
        }
        let index: usize = index.parse().map_err(|_| invalid())?;
        match part {
            "" if !rest.ends_with('.') => Ok(LayerId::Block(index)),
            "expand" => Ok(LayerId::Expand(index)),
            "depthwise" => Ok(LayerId::Depthwise(index)),
            "project" => Ok(LayerId::Project(index)),
            _ => Err(invalid()),
        }
    }
}

/// One entry of the layer catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    /// The layer (its `Display` is the name).
    pub id: LayerId,
    /// Number of channels (units).
    pub channels: usize,
    /// Side of the layer's square feature map at the catalogue's input size (1 for logits).
    pub spatial: usize,
    /// Receptive field of one position, at the catalogue's input size. For `logits` it is that
    /// of the global average pool: the whole feature map of the head.
    pub receptive_field: ReceptiveField,
}

impl LayerInfo {
    /// The stable layer name, e.g. `blocks.3.expand`.
    pub fn name(&self) -> String {
        self.id.to_string()
    }

    /// Whether the model applies ReLU6 after this layer; if so the tapped value is the batch
    /// norm output before it.
    pub fn is_pre_relu6(&self) -> bool {
        self.id.is_pre_relu6()
    }
}

impl Architecture {
    /// The layer catalogue at the model's input size, in forward order.
    pub fn layers(&self) -> Vec<LayerInfo> {
        self.layers_at(self.input_size())
    }

    /// The layer catalogue for square inputs of `input_size` pixels, in forward order. The
    /// names and channels don't depend on the size; spatial sizes and receptive fields do
    /// (through SAME padding).
    pub fn layers_at(&self, input_size: usize) -> Vec<LayerInfo> {
        let mut out = Vec::with_capacity(4 * self.blocks().len() + 3);
        let mut push = |id, channels, spatial, receptive_field| {
            out.push(LayerInfo { id, channels, spatial, receptive_field });
        };
        let (pad, _) = same_padding(input_size, STEM_KERNEL, STEM_STRIDE);
        let mut rf = ReceptiveField::INPUT.conv(STEM_KERNEL, STEM_STRIDE, pad);
        let mut size = same_output_size(input_size, STEM_STRIDE);
        push(LayerId::Stem, STEM_CHANNELS, size, rf);
        for b in self.blocks() {
            if b.has_expand() {
                // A 1x1 convolution leaves the receptive field as it is.
                push(LayerId::Expand(b.index), b.mid_channels, size, rf);
            }
            let (pad, _) = same_padding(size, b.kernel, b.stride);
            rf = rf.conv(b.kernel, b.stride, pad);
            size = same_output_size(size, b.stride);
            push(LayerId::Depthwise(b.index), b.mid_channels, size, rf);
            if b.residual {
                push(LayerId::Project(b.index), b.out_channels, size, rf);
            }
            // The skip's field (the block input's) lies inside the projection's: stride 1 and
            // odd kernels with symmetric padding keep the centre.
            push(LayerId::Block(b.index), b.out_channels, size, rf);
        }
        push(LayerId::Head, HEAD_CHANNELS, size, rf);
        // The global average pool is a `size`-wide window with stride `size`.
        push(LayerId::Logits, NUM_CLASSES, 1, rf.conv(size, size, 0));
        out
    }

    /// The catalogue entry of `id` at the model's input size, or
    /// [`ModelError::UnknownLayer`] when this model has no such layer.
    pub fn layer(&self, id: LayerId) -> Result<LayerInfo, ModelError> {
        self.layers()
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(ModelError::UnknownLayer { model: self.model(), layer: id })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::ModelId;
    use crate::unit::is_valid_name;

    #[test]
    fn model_layer_names_round_trip() {
        for id in [
            LayerId::Stem,
            LayerId::Expand(3),
            LayerId::Depthwise(0),
            LayerId::Project(14),
            LayerId::Block(20),
            LayerId::Head,
            LayerId::Logits,
        ] {
            let name = id.to_string();
            assert!(is_valid_name(&name), "{name}");
            assert_eq!(name.parse::<LayerId>().unwrap(), id);
        }
        assert_eq!("blocks.8.expand".parse::<LayerId>().unwrap(), LayerId::Expand(8));
        for bad in [
            "",
            "blocks",
            "blocks.",
            "blocks.x",
            "blocks.1.",
            "blocks.01",
            "blocks.-1",
            "blocks.+1",
            "blocks.1.foo",
            "blocks.1.expand.x",
            "Stem",
            "blocks.99999999999999999999999",
        ] {
            assert_eq!(
                bad.parse::<LayerId>(),
                Err(ModelError::InvalidLayerName(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn model_catalogue_lite0() {
        let arch = ModelId::EfficientNetLite0.architecture();
        let layers = arch.layers();
        let names: Vec<String> = layers.iter().map(LayerInfo::name).collect();
        assert_eq!(
            names[..12],
            [
                "stem",
                "blocks.0.depthwise",
                "blocks.0",
                "blocks.1.expand",
                "blocks.1.depthwise",
                "blocks.1",
                "blocks.2.expand",
                "blocks.2.depthwise",
                "blocks.2.project",
                "blocks.2",
                "blocks.3.expand",
                "blocks.3.depthwise",
            ]
        );
        assert_eq!(names[names.len() - 3..], ["blocks.15", "head", "logits"]);
        // 1 stem + 16 blocks x (depthwise, output) + 15 expands + 9 projects + head + logits.
        assert_eq!(layers.len(), 1 + 32 + 15 + 9 + 2);
        let stem = &layers[0];
        assert_eq!((stem.channels, stem.spatial), (32, 112));
        assert_eq!((stem.receptive_field.size, stem.receptive_field.jump), (3, 2));
        assert!(stem.is_pre_relu6());
        let get = |id| arch.layer(id).unwrap();
        assert_eq!((get(LayerId::Expand(1)).channels, get(LayerId::Expand(1)).spatial), (96, 112));
        assert_eq!(get(LayerId::Depthwise(1)).spatial, 56);
        assert_eq!(get(LayerId::Block(1)).channels, 24);
        assert!(!get(LayerId::Block(1)).is_pre_relu6() && !get(LayerId::Project(2)).is_pre_relu6());
        assert_eq!(
            get(LayerId::Project(2)).receptive_field,
            get(LayerId::Block(2)).receptive_field
        );
        // Receptive fields: stem 3 (jump 2); block 0 dw 3x3: 3 + 2*2 = 7; block 1 dw 3x3 s2:
        // 7 + 2*2 = 11 (jump 4).
        assert_eq!(get(LayerId::Block(0)).receptive_field.size, 7);
        let b1 = get(LayerId::Block(1)).receptive_field;
        assert_eq!((b1.size, b1.jump), (11, 4));
        let head = get(LayerId::Head);
        assert_eq!((head.channels, head.spatial, head.receptive_field.jump), (1280, 7, 32));
        let logits = get(LayerId::Logits);
        assert_eq!((logits.channels, logits.spatial, logits.receptive_field.jump), (1000, 1, 224));
        assert_eq!(logits.receptive_field.size, head.receptive_field.size + 6 * 32);
        for (layer, spatial) in [
            (LayerId::Block(2), 56),
            (LayerId::Block(4), 28),
            (LayerId::Block(7), 14),
            (LayerId::Block(10), 14),
            (LayerId::Block(15), 7),
        ] {
            assert_eq!(get(layer).spatial, spatial, "{layer}");
        }
        for missing in
            [LayerId::Expand(0), LayerId::Project(1), LayerId::Project(8), LayerId::Block(16)]
        {
            assert_eq!(
                arch.layer(missing),
                Err(ModelError::UnknownLayer { model: arch.model(), layer: missing })
            );
        }
        // Receptive fields only grow, jumps never shrink, and everything is in forward order.
        for pair in layers.windows(2) {
            assert!(pair[1].receptive_field.size >= pair[0].receptive_field.size);
            assert!(pair[1].receptive_field.jump >= pair[0].receptive_field.jump);
        }
    }

    #[test]
    fn model_catalogue_lite1_lite2() {
        for (model, blocks, sizes, last) in [
            (ModelId::EfficientNetLite1, 21, [120, 60, 30, 15, 8], 320),
            (ModelId::EfficientNetLite2, 21, [130, 65, 33, 17, 9], 352),
        ] {
            let arch = model.architecture();
            let layers = arch.layers();
            let count = |f: fn(&LayerId) -> bool| layers.iter().filter(|l| f(&l.id)).count();
            assert_eq!(count(|id| matches!(id, LayerId::Block(_))), blocks);
            assert_eq!(count(|id| matches!(id, LayerId::Expand(_))), blocks - 1);
            assert_eq!(count(|id| matches!(id, LayerId::Project(_))), blocks - 7);
            let mut spatial: Vec<usize> =
                layers.iter().map(|l| l.spatial).filter(|&s| s > 1).collect();
            spatial.dedup();
            assert_eq!(spatial, sizes, "{model}");
            assert_eq!(arch.layer(LayerId::Block(blocks - 1)).unwrap().channels, last);
            assert_eq!(layers.last().unwrap().id, LayerId::Logits);
        }
    }

    #[test]
    fn model_catalogue_at_other_sizes() {
        let arch = ModelId::EfficientNetLite0.architecture();
        let small = arch.layers_at(128);
        assert_eq!(small.len(), arch.layers().len());
        assert_eq!(small[0].spatial, 64);
        assert_eq!(small.iter().find(|l| l.id == LayerId::Head).unwrap().spatial, 4);
        let odd = arch.layers_at(225);
        assert_eq!(odd[0].spatial, 113);
        // 225 with k3 s2 pads (1, 1): the first field is centred on pixel 0.
        assert_eq!(odd[0].receptive_field.centre, 0.0);
        assert_eq!(arch.layers()[0].receptive_field.centre, 1.0);
    }
}
