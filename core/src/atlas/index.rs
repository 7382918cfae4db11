//! `atlas.json`, the index: what the atlas is and which models it holds. The viewer reads it
//! first; everything else is found from the ids it lists through [`paths`].

use serde::{Deserialize, Serialize};

use super::asset_path::AssetPath;
use super::bounded;
use super::checker::Checker;
use super::error::AtlasError;
use super::limits::{MAX_MODELS, MAX_SHORT_TEXT, MAX_TEXT};
use super::manifest::{ListedAsset, Manifest, ManifestKind, run_checks};
use super::name::Name;
use super::paths;

/// The index of an atlas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtlasIndex {
    /// Title of the atlas.
    pub title: String,
    /// A paragraph on what it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tool and version that wrote it (`microscope 0.1.0`). No date: a rebuild of the
    /// same inputs gives the same bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// The models, in the order the home page lists them.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_MODELS>")]
    pub models: Vec<ModelEntry>,
    /// Whether the atlas has `photos/photos.json`.
    #[serde(default)]
    pub photos: bool,
    /// Whether the atlas has `annotations.json`.
    #[serde(default)]
    pub annotations: bool,
}

/// A model as the index lists it: enough for the home page; the rest is in its `model.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// The model's id (its folder under `models/`).
    pub id: Name,
    /// Human name.
    pub title: String,
    /// One sentence on what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Whether its build is still under way (or waits its turn): the atlas may not hold all
    /// of it yet, and a reload may show more. A build sets it when it starts and clears it
    /// when it finishes; absent (the default), the model is complete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub building: bool,
}

impl AtlasIndex {
    fn check(&self, c: &mut Checker) {
        c.required_text("title", &self.title, MAX_SHORT_TEXT);
        c.opt_text("description", self.description.as_ref(), MAX_TEXT);
        c.opt_text("generator", self.generator.as_ref(), MAX_SHORT_TEXT);
        c.count("models", self.models.len(), MAX_MODELS);
        c.each("models", &self.models, |c, model| {
            c.required_text("title", &model.title, MAX_SHORT_TEXT);
            c.opt_text("summary", model.summary.as_ref(), MAX_TEXT);
        });
        c.unique_names("models", "id", self.models.iter().map(|model| &model.id));
    }

    /// The entry of a model.
    pub fn model(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|model| model.id.as_str() == id)
    }

    /// The models whose build is still under way, in display order.
    pub fn building(&self) -> impl Iterator<Item = &ModelEntry> {
        self.models.iter().filter(|model| model.building)
    }
}

impl Manifest for AtlasIndex {
    const KIND: ManifestKind = ManifestKind::Index;

    fn path(&self) -> AssetPath {
        paths::index()
    }

    fn assets(&self) -> Vec<ListedAsset<'_>> {
        Vec::new()
    }

    fn validate(&self) -> Vec<AtlasError> {
        run_checks(&self.path(), |c| self.check(c))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{parse_index, to_json_pretty};

    const INDEX: &str = r#"{"kind": "index", "format_version": "1.1", "title": "T",
        "models": [{"id": "a", "title": "A"}, {"id": "b", "title": "B", "building": true}]}"#;

    #[test]
    fn building_is_read_defaults_to_false_and_is_written_only_when_set() {
        let index = parse_index("atlas.json", INDEX.as_bytes()).unwrap();
        let flags: Vec<bool> = index.models.iter().map(|m| m.building).collect();
        assert_eq!(flags, [false, true]);
        assert_eq!(index.building().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["b"]);
        let written = String::from_utf8(to_json_pretty(&index).unwrap()).unwrap();
        assert_eq!(written.matches("\"building\": true").count(), 1, "{written}");
        assert!(!written.contains("\"building\": false"), "an unset flag is left out: {written}");
        assert_eq!(parse_index("atlas.json", written.as_bytes()).unwrap(), index);
    }
}
