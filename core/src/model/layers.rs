//! The layer names of the built-in models: every layer a user can browse, in forward order.
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
//!
//! Channels, spatial sizes and receptive fields come from the model's graph (see
//! [`crate::model::catalogue`]), like those of any imported model.

use std::fmt;
use std::str::FromStr;

use super::{Architecture, ModelError};

/// One browsable layer of a model, identified by kind and block index.
///
/// Its text form (`Display`, `FromStr`) is the stable layer name: `stem`, `blocks.3.expand`,
/// `blocks.3.depthwise`, `blocks.3.project`, `blocks.3`, `head`, `logits`. Whether a model has
/// the layer is a separate question (see [`Architecture::layer_ids`]).
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

impl Architecture {
    /// Every layer of the model, in forward order: `stem`, then per block `expand` (blocks
    /// with expansion), `depthwise`, `project` (blocks with a skip) and the block itself, then
    /// `head` and `logits`.
    pub fn layer_ids(&self) -> Vec<LayerId> {
        let mut out = Vec::with_capacity(4 * self.blocks().len() + 3);
        out.push(LayerId::Stem);
        for b in self.blocks() {
            if b.has_expand() {
                out.push(LayerId::Expand(b.index));
            }
            out.push(LayerId::Depthwise(b.index));
            if b.residual {
                out.push(LayerId::Project(b.index));
            }
            out.push(LayerId::Block(b.index));
        }
        out.extend([LayerId::Head, LayerId::Logits]);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::atlas::Name;
    use crate::model::ModelId;

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
            assert!(Name::new(name.as_str()).is_ok(), "{name}");
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
    fn model_layer_ids_in_forward_order() {
        let arch = ModelId::EfficientNetLite0.architecture();
        let names: Vec<String> = arch.layer_ids().iter().map(ToString::to_string).collect();
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
        assert_eq!(names.len(), 1 + 32 + 15 + 9 + 2);
        for model in [ModelId::EfficientNetLite1, ModelId::EfficientNetLite2] {
            let ids = model.architecture().layer_ids();
            let count = |f: fn(&LayerId) -> bool| ids.iter().filter(|id| f(id)).count();
            assert_eq!(count(|id| matches!(id, LayerId::Block(_))), 21);
            assert_eq!(count(|id| matches!(id, LayerId::Expand(_))), 20);
            assert_eq!(count(|id| matches!(id, LayerId::Project(_))), 14);
        }
    }
}
