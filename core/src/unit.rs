//! Unit names: lucid's `"layer:unit"` text form, and the viewer's URL shapes
//! (`/models/<model>/<layer>/<unit>` and the model, layer and embed pages around it), shared by
//! the viewer's links and the static entries `microscope publish` writes.
//!
//! Every path here is relative to the site's base and starts with `/`: the viewer prefixes
//! its base path (`/` at the root of a host, `/repo/` under a sub-path), a published site its
//! URL. [`site_path`] joins the two. Layer and model names follow the atlas's one rule,
//! [`Name`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::atlas::{Name, NameError};

/// One unit (a channel) of one layer, named as lucid names it: `"blocks.8:50"`.
///
/// Layer names are [`Name`]s (dots, underscores and dashes, but no `:` or `/`), so both the
/// text form and the URL form parse back to the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitId {
    /// Name of the layer, e.g. `blocks.8` or `blocks.8.expand`.
    pub layer: String,
    /// Index of the channel within the layer.
    pub unit: usize,
}

/// Why a `"layer:unit"` text did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitIdError {
    /// The text has no `:` separating layer and unit.
    #[error("`{0}` is not of the form layer:unit (for example blocks.8:50)")]
    MissingColon(String),
    /// The layer part is not a [`Name`].
    #[error("not a valid layer name: {0}")]
    BadLayer(NameError),
    /// The unit part is not a non-negative integer.
    #[error("`{0}` is not a unit index (a non-negative integer)")]
    BadUnit(String),
}

impl UnitId {
    /// A unit of a layer.
    pub fn new(layer: impl Into<String>, unit: usize) -> Self {
        Self { layer: layer.into(), unit }
    }

    /// The path of this unit's page in the viewer for `model`.
    pub fn url_path(&self, model: &str) -> String {
        format!("{}/{}", layer_url_path(model, &self.layer), self.unit)
    }

    /// The path of this unit's embeddable card (`/embed` + [`Self::url_path`]).
    pub fn embed_url_path(&self, model: &str) -> String {
        format!("{EMBED_PREFIX}{}", self.url_path(model))
    }
}

/// What an embed card's path puts before the unit page's path.
pub const EMBED_PREFIX: &str = "/embed";

/// The width of the iframe that embed code suggests, in CSS pixels.
pub const EMBED_WIDTH_PX: u32 = 360;
/// The height of the iframe that embed code suggests, in CSS pixels.
pub const EMBED_HEIGHT_PX: u32 = 440;

/// The embed code of a card: an iframe of `embed_url` (absolute, from [`site_path`] and
/// [`UnitId::embed_url_path`]) titled "Microscope: `<model> <unit>`". Model ids and unit
/// names need no HTML escaping (they follow [`Name`]).
pub fn embed_code(embed_url: &str, model: &str, id: &UnitId) -> String {
    format!(
        "<iframe src=\"{embed_url}\" title=\"Microscope: {model} {id}\" \
         width=\"{EMBED_WIDTH_PX}\" height=\"{EMBED_HEIGHT_PX}\" style=\"border:0\" \
         loading=\"lazy\"></iframe>"
    )
}

/// The path of a model's page: `/models/<model>`.
pub fn model_url_path(model: &str) -> String {
    format!("/models/{model}")
}

/// The path of a layer's page: `/models/<model>/<layer>`.
pub fn layer_url_path(model: &str, layer: &str) -> String {
    format!("{}/{layer}", model_url_path(model))
}

/// A site path (as the functions above give) under a base that ends in `/` (a base path such
/// as `/repo/`, or a whole site URL such as `https://host/repo/`): the base, then the path
/// without its leading `/`.
pub fn site_path(base: &str, path: &str) -> String {
    format!("{base}{}", path.trim_start_matches('/'))
}

/// Parses a unit index, accepting only plain decimal digits (no sign, no spaces).
pub fn parse_unit_index(text: &str) -> Result<usize, UnitIdError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UnitIdError::BadUnit(text.to_owned()));
    }
    text.parse().map_err(|_| UnitIdError::BadUnit(text.to_owned()))
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.layer, self.unit)
    }
}

impl FromStr for UnitId {
    type Err = UnitIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let Some((layer, unit)) = text.rsplit_once(':') else {
            return Err(UnitIdError::MissingColon(text.to_owned()));
        };
        Name::new(layer).map_err(UnitIdError::BadLayer)?;
        Ok(Self { layer: layer.to_owned(), unit: parse_unit_index(unit)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let id: UnitId = "blocks.8:50".parse().unwrap();
        assert_eq!(id, UnitId::new("blocks.8", 50));
        assert_eq!(id.to_string(), "blocks.8:50");
        assert_eq!(id.url_path("efficientnet-lite0"), "/models/efficientnet-lite0/blocks.8/50");
    }

    #[test]
    fn page_paths_nest_and_join_any_base() {
        let id = UnitId::new("blocks.8", 50);
        assert_eq!(model_url_path("m"), "/models/m");
        assert_eq!(layer_url_path("m", "blocks.8"), "/models/m/blocks.8");
        assert_eq!(id.embed_url_path("m"), "/embed/models/m/blocks.8/50");
        assert_eq!(site_path("/", &id.url_path("m")), "/models/m/blocks.8/50");
        assert_eq!(site_path("/repo/sub/", "/models/m"), "/repo/sub/models/m");
        assert_eq!(site_path("https://h.example/r/", "/"), "https://h.example/r/");
    }

    #[test]
    fn embed_code_is_an_iframe_of_the_card() {
        let id = UnitId::new("blocks.8", 50);
        let url = site_path("https://h.example/r/", &id.embed_url_path("m"));
        assert_eq!(
            embed_code(&url, "m", &id),
            "<iframe src=\"https://h.example/r/embed/models/m/blocks.8/50\" \
             title=\"Microscope: m blocks.8:50\" width=\"360\" height=\"440\" \
             style=\"border:0\" loading=\"lazy\"></iframe>"
        );
    }

    #[test]
    fn surrounding_space_is_ignored() {
        assert_eq!(" stem:3 ".parse::<UnitId>().unwrap(), UnitId::new("stem", 3));
    }

    #[test]
    fn bad_text_is_rejected_with_the_reason() {
        assert!(matches!("blocks.8".parse::<UnitId>(), Err(UnitIdError::MissingColon(_))));
        assert!(matches!(":3".parse::<UnitId>(), Err(UnitIdError::BadLayer(_))));
        assert!(matches!("a/b:3".parse::<UnitId>(), Err(UnitIdError::BadLayer(_))));
        assert!(matches!("..:3".parse::<UnitId>(), Err(UnitIdError::BadLayer(_))));
        // The atlas's rule: no leading dot, underscore or dash.
        assert!(matches!("_x:3".parse::<UnitId>(), Err(UnitIdError::BadLayer(_))));
        assert!(matches!("-x:3".parse::<UnitId>(), Err(UnitIdError::BadLayer(_))));
        assert!(matches!("stem:".parse::<UnitId>(), Err(UnitIdError::BadUnit(_))));
        assert!(matches!("stem:-1".parse::<UnitId>(), Err(UnitIdError::BadUnit(_))));
        assert!(matches!("stem:+1".parse::<UnitId>(), Err(UnitIdError::BadUnit(_))));
        assert!(matches!(
            "stem:99999999999999999999999".parse::<UnitId>(),
            Err(UnitIdError::BadUnit(_))
        ));
    }
}
