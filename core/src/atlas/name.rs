//! [`Name`]: the id of a model, checkpoint, layer or photo. Names become folder and file names
//! of the atlas and parts of viewer URLs, so they are restricted to what every file system, web
//! host and URL keeps unchanged.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::limits::MAX_NAME_BYTES;
use super::quote::quote;

/// A validated id: 1 to [`MAX_NAME_BYTES`] ASCII letters, digits, `.`, `_` and `-`, starting
/// with a letter or digit and not ending with `.`, and not a Windows device name.
///
/// Why each rule: `/`, `\`, `:` and `%` would let a name escape its folder or change a URL; a
/// leading `.` hides files (and `..` climbs); a leading `_` makes GitHub Pages' Jekyll drop the
/// folder; a leading `-` reads as an option to command-line tools; Windows strips a trailing
/// `.` and reserves `CON`, `NUL`, `COM1` and the like.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

/// Why a text is not a [`Name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("a name cannot be empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_BYTES`].
    #[error("name {0} is longer than {MAX_NAME_BYTES} bytes")]
    TooLong(String),
    /// The name has a character other than ASCII letters, digits, `.`, `_`, `-`.
    #[error("name {0} has a character other than ASCII letters, digits, '.', '_' and '-'")]
    BadChar(String),
    /// The name starts with `.`, `_` or `-`, or ends with `.`.
    #[error("name {0} must start with a letter or digit and must not end with '.'")]
    BadEnds(String),
    /// The name is a device name that Windows reserves (`CON`, `NUL`, `COM1` ...).
    #[error("name {0} is reserved on Windows")]
    Reserved(String),
}

impl Name {
    /// Validates `text` as a name.
    pub fn new(text: impl Into<String>) -> Result<Self, NameError> {
        let text = text.into();
        check_segment(&text, MAX_NAME_BYTES).map_err(|problem| problem.into_name_error(&text))?;
        Ok(Self(text))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name lowercased: two names equal under this collide on case-insensitive file
    /// systems (macOS, Windows), so a manifest may not hold both.
    pub fn folded(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// Why a path segment or name was refused; shared with [`AssetPath`](super::AssetPath).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegmentProblem {
    Empty,
    TooLong,
    BadChar,
    BadEnds,
    Reserved,
}

impl SegmentProblem {
    fn into_name_error(self, text: &str) -> NameError {
        let quoted = quote(text);
        match self {
            Self::Empty => NameError::Empty,
            Self::TooLong => NameError::TooLong(quoted),
            Self::BadChar => NameError::BadChar(quoted),
            Self::BadEnds => NameError::BadEnds(quoted),
            Self::Reserved => NameError::Reserved(quoted),
        }
    }
}

/// The rules of a name, which are also those of every segment of an asset path.
pub(crate) fn check_segment(text: &str, max_bytes: usize) -> Result<(), SegmentProblem> {
    let bytes = text.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return Err(SegmentProblem::Empty);
    };
    if bytes.len() > max_bytes {
        return Err(SegmentProblem::TooLong);
    }
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(SegmentProblem::BadChar);
    }
    if !first.is_ascii_alphanumeric() || *last == b'.' {
        return Err(SegmentProblem::BadEnds);
    }
    if is_windows_device(text) {
        return Err(SegmentProblem::Reserved);
    }
    Ok(())
}

/// Whether Windows treats the name as a device (`nul`, `COM1.txt` ...): the part before the
/// first `.`, in any case, is one of the reserved words.
fn is_windows_device(text: &str) -> bool {
    let stem = text.split('.').next().unwrap_or(text).to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" => true,
        _ => {
            let numbered = stem.strip_prefix("COM").or_else(|| stem.strip_prefix("LPT"));
            numbered
                .is_some_and(|digit| digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_layer_and_model_names() {
        for good in [
            "blocks.8",
            "blocks.8.expand",
            "efficientnet-lite0",
            "final",
            "step_1000",
            "0",
            "a..b",
            "conv1_",
        ] {
            assert_eq!(Name::new(good).map(|n| n.to_string()).as_deref(), Ok(good));
        }
    }

    #[test]
    fn refuses_what_escapes_folders_or_breaks_hosts() {
        type Case = (&'static str, fn(&NameError) -> bool);
        let cases: [Case; 14] = [
            ("", |e| matches!(e, NameError::Empty)),
            ("..", |e| matches!(e, NameError::BadEnds(_))),
            (".", |e| matches!(e, NameError::BadEnds(_))),
            (".hidden", |e| matches!(e, NameError::BadEnds(_))),
            ("_site", |e| matches!(e, NameError::BadEnds(_))),
            ("-rf", |e| matches!(e, NameError::BadEnds(_))),
            ("trailing.", |e| matches!(e, NameError::BadEnds(_))),
            ("a/b", |e| matches!(e, NameError::BadChar(_))),
            ("a\\b", |e| matches!(e, NameError::BadChar(_))),
            ("a:b", |e| matches!(e, NameError::BadChar(_))),
            ("a\0", |e| matches!(e, NameError::BadChar(_))),
            ("caf\u{e9}", |e| matches!(e, NameError::BadChar(_))),
            ("nul", |e| matches!(e, NameError::Reserved(_))),
            ("COM1.txt", |e| matches!(e, NameError::Reserved(_))),
        ];
        for (text, expected) in cases {
            let error = Name::new(text).expect_err(text);
            assert!(expected(&error), "{text}: {error:?}");
        }
        assert!(Name::new("COM10").is_ok());
        assert!(Name::new("console").is_ok());
        assert!(matches!(Name::new("x".repeat(MAX_NAME_BYTES + 1)), Err(NameError::TooLong(_))));
        assert!(Name::new("x".repeat(MAX_NAME_BYTES)).is_ok());
    }
}
