//! `annotations.json`: labels and notes that people give units (or layers), with author and
//! date. It is edited by people, not written by builds, so it is one file; a merge keeps the
//! union, sorted.

use serde::{Deserialize, Serialize};

use super::asset_path::AssetPath;
use super::bounded;
use super::checker::Checker;
use super::error::AtlasError;
use super::limits::{MAX_ANNOTATIONS, MAX_SHORT_TEXT, MAX_TEXT, MAX_UNITS};
use super::manifest::{ListedAsset, Manifest, ManifestKind, run_checks};
use super::name::Name;
use super::paths;
use super::quote::quote;

/// The annotations file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotationsManifest {
    /// The annotations, sorted by model, checkpoint, layer, unit, date.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_ANNOTATIONS>")]
    pub annotations: Vec<Annotation>,
}

/// One label or note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// The model.
    pub model: Name,
    /// The checkpoint; absent means the model's default checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Name>,
    /// The layer.
    pub layer: Name,
    /// The unit; absent means the annotation is about the whole layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<u32>,
    /// A label (a few words naming what the unit detects) or a note (anything longer).
    pub kind: AnnotationKind,
    /// The text.
    pub text: String,
    /// Who wrote it (a name or handle).
    pub author: String,
    /// When, as `YYYY-MM-DD`.
    pub date: String,
}

/// What an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "String")]
pub enum AnnotationKind {
    /// A short label, shown with the unit.
    Label,
    /// A longer note.
    Note,
    /// A kind added by a newer format version.
    Other,
}

impl AnnotationsManifest {
    /// The annotations of one unit (or of the layer itself, with `unit` `None`) at a
    /// checkpoint; annotations without a checkpoint apply to `default_checkpoint`.
    pub fn for_unit<'a>(
        &'a self,
        model: &'a str,
        checkpoint: &'a str,
        default_checkpoint: &'a str,
        layer: &'a str,
        unit: Option<u32>,
    ) -> impl Iterator<Item = &'a Annotation> + 'a {
        self.annotations.iter().filter(move |a| {
            let at = a.checkpoint.as_ref().map_or(default_checkpoint, Name::as_str);
            a.model.as_str() == model
                && at == checkpoint
                && a.layer.as_str() == layer
                && a.unit == unit
        })
    }

    /// The union of several annotation files (shards, or contributions), sorted by model,
    /// checkpoint, layer, unit, date, author, kind and text, without exact repeats: the same
    /// set of annotations always gives the same file.
    pub fn merge(parts: impl IntoIterator<Item = AnnotationsManifest>) -> Self {
        let mut annotations: Vec<Annotation> =
            parts.into_iter().flat_map(|part| part.annotations).collect();
        annotations.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        annotations.dedup();
        Self { annotations }
    }

    fn check(&self, c: &mut Checker) {
        c.count("annotations", self.annotations.len(), MAX_ANNOTATIONS);
        c.each("annotations", &self.annotations, |c, annotation| {
            if annotation.unit.is_some_and(|unit| unit >= MAX_UNITS) {
                c.invalid("unit", "past the largest layer");
            }
            let limit =
                if annotation.kind == AnnotationKind::Label { MAX_SHORT_TEXT } else { MAX_TEXT };
            c.required_text("text", &annotation.text, limit);
            c.required_text("author", &annotation.author, MAX_SHORT_TEXT);
            if !is_date(&annotation.date) {
                c.invalid(
                    "date",
                    format!("{} is not a date of the form YYYY-MM-DD", quote(&annotation.date)),
                );
            }
        });
    }
}

/// The order of [`AnnotationsManifest::merge`].
#[allow(clippy::type_complexity)]
fn sort_key(
    a: &Annotation,
) -> (&Name, Option<&Name>, &Name, Option<u32>, &str, &str, AnnotationKind, &str) {
    (&a.model, a.checkpoint.as_ref(), &a.layer, a.unit, &a.date, &a.author, a.kind, &a.text)
}

/// `YYYY-MM-DD` with a month from 01 to 12 and a day from 01 to 31.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .filter(|part| part.iter().all(u8::is_ascii_digit))
            .map(|part| part.iter().fold(0u32, |acc, &digit| acc * 10 + u32::from(digit - b'0')))
    };
    bytes.len() == 10
        && bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && digits(0..4).is_some()
        && digits(5..7).is_some_and(|month| (1..=12).contains(&month))
        && digits(8..10).is_some_and(|day| (1..=31).contains(&day))
}

impl Manifest for AnnotationsManifest {
    const KIND: ManifestKind = ManifestKind::Annotations;

    fn path(&self) -> AssetPath {
        paths::annotations()
    }

    fn assets(&self) -> Vec<ListedAsset<'_>> {
        Vec::new()
    }

    fn validate(&self) -> Vec<AtlasError> {
        run_checks(&self.path(), |c| self.check(c))
    }
}

/// Reads any string: unknown values (from newer format versions) become `Other`, and a
/// non-string is a type error at the field.
impl From<String> for AnnotationKind {
    fn from(text: String) -> Self {
        match text.as_str() {
            "label" => Self::Label,
            "note" => Self::Note,
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_date;

    #[test]
    fn merging_sorts_and_drops_repeats() {
        use super::*;
        let note = |layer: &str, date: &str| Annotation {
            model: Name::new("m").unwrap(),
            checkpoint: None,
            layer: Name::new(layer).unwrap(),
            unit: Some(1),
            kind: AnnotationKind::Note,
            text: "t".into(),
            author: "a".into(),
            date: date.into(),
        };
        let a = AnnotationsManifest {
            annotations: vec![note("b", "2026-01-02"), note("a", "2026-01-01")],
        };
        let b = AnnotationsManifest {
            annotations: vec![note("a", "2026-01-01"), note("a", "2025-12-31")],
        };
        let merged = AnnotationsManifest::merge([a.clone(), b.clone()]);
        assert_eq!(merged, AnnotationsManifest::merge([b, a]));
        let order: Vec<(&str, &str)> =
            merged.annotations.iter().map(|n| (n.layer.as_str(), n.date.as_str())).collect();
        assert_eq!(order, [("a", "2025-12-31"), ("a", "2026-01-01"), ("b", "2026-01-02")]);
    }

    #[test]
    fn dates_are_iso_days() {
        assert!(is_date("2026-03-21"));
        for bad in [
            "2026-3-21",
            "2026-13-01",
            "2026-00-10",
            "2026-01-32",
            "26-01-01",
            "2026/01/01",
            "2026-01-01T00",
            "２０２６-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }
}
