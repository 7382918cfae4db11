//! [`AssetPath`]: the only kind of path an atlas holds. Every file an atlas names is a relative
//! path from the atlas root, made of [`Name`]-like segments joined by `/`, so a
//! manifest can never point outside the atlas, at a URL, or at a hidden file, however it was
//! written.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::image_header::ImageFormat;
use super::limits::{MAX_PATH_BYTES, MAX_PATH_SEGMENTS, MAX_SEGMENT_BYTES};
use super::name::{Name, SegmentProblem, check_segment};
use super::quote::quote;

/// A safe path relative to the atlas root, such as
/// `models/efficientnet-lite0/checkpoints/final/layers/blocks.8/units/50/channel.webp`.
///
/// At most [`MAX_PATH_BYTES`] bytes and [`MAX_PATH_SEGMENTS`] segments; each segment follows
/// the rules of a [`Name`] (but may be up to [`MAX_SEGMENT_BYTES`] long, for an extension).
/// So there is no leading `/`, no `.` or `..` segment, no `\`, `:`, `%`, `?`, `#`, space, NUL
/// or non-ASCII character, and no URL scheme or drive letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetPath(String);

/// Why a text is not an [`AssetPath`]. Each variant carries the offending path, quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("an asset path cannot be empty")]
    Empty,
    /// Longer than [`MAX_PATH_BYTES`], deeper than [`MAX_PATH_SEGMENTS`], or with a segment
    /// longer than [`MAX_SEGMENT_BYTES`].
    #[error(
        "asset path {0} is too long (at most {MAX_PATH_BYTES} bytes in {MAX_PATH_SEGMENTS} segments of {MAX_SEGMENT_BYTES} bytes)"
    )]
    TooLong(String),
    /// Starts with `/`: absolute paths are not allowed.
    #[error("asset path {0} is absolute; paths are relative to the atlas root")]
    Absolute(String),
    /// Has a `\`.
    #[error("asset path {0} has a backslash; separate segments with '/'")]
    Backslash(String),
    /// Has a `:` (a URL scheme such as `https:` or a drive letter such as `C:`).
    #[error("asset path {0} has a ':' (URLs and drive letters are not allowed)")]
    Colon(String),
    /// Has a NUL or another control character.
    #[error("asset path {0} has a control character")]
    Control(String),
    /// Has a `.` or `..` segment.
    #[error("asset path {0} has a '.' or '..' segment")]
    DotSegment(String),
    /// Has an empty segment (`a//b`, or a trailing `/`).
    #[error("asset path {0} has an empty segment")]
    EmptySegment(String),
    /// A segment breaks the rules of a name (characters, ends, Windows device names).
    #[error(
        "asset path {path} has a bad segment {segment}: use ASCII letters, digits, '.', '_' and '-', starting with a letter or digit, not ending with '.', and no Windows device names"
    )]
    BadSegment {
        /// The whole path.
        path: String,
        /// The segment.
        segment: String,
    },
}

impl AssetPath {
    /// Validates `text` as an asset path.
    pub fn new(text: &str) -> Result<Self, PathError> {
        check(text)?;
        Ok(Self(text.to_owned()))
    }

    /// Joins validated names with `/`. Only for the path helpers, whose segments are names
    /// or fixed words and whose lengths stay within the limits (a test checks the longest).
    pub(crate) fn from_segments(segments: &[&str]) -> Self {
        Self(segments.join("/"))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Its segments, root first.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The text after the last `.` of the last segment, if any.
    pub fn extension(&self) -> Option<&str> {
        self.file_name().rsplit_once('.').map(|(_, ext)| ext)
    }

    /// The image format its extension names (`.png`, `.webp`, `.jpg`, `.jpeg`; lowercase).
    pub fn image_format(&self) -> Option<ImageFormat> {
        self.extension().and_then(ImageFormat::from_extension)
    }

    /// Whether the path lies inside the folder `dir` (a proper prefix ending at a segment).
    pub fn is_inside(&self, dir: &AssetPath) -> bool {
        self.0.strip_prefix(dir.as_str()).is_some_and(|rest| rest.starts_with('/'))
    }

    /// This folder joined with a name (one more segment).
    pub fn join(&self, name: &Name) -> Result<Self, PathError> {
        Self::new(&format!("{}/{}", self.0, name))
    }
}

/// The rules, most telling first: a path with `..` and `\` is reported for the backslash, a URL
/// for its colon.
fn check(text: &str) -> Result<(), PathError> {
    if text.is_empty() {
        return Err(PathError::Empty);
    }
    let quoted = || quote(text);
    if text.chars().any(char::is_control) {
        return Err(PathError::Control(quoted()));
    }
    if text.contains('\\') {
        return Err(PathError::Backslash(quoted()));
    }
    if text.contains(':') {
        return Err(PathError::Colon(quoted()));
    }
    if text.starts_with('/') {
        return Err(PathError::Absolute(quoted()));
    }
    if text.len() > MAX_PATH_BYTES || text.split('/').count() > MAX_PATH_SEGMENTS {
        return Err(PathError::TooLong(quoted()));
    }
    for segment in text.split('/') {
        match segment {
            "" => return Err(PathError::EmptySegment(quoted())),
            "." | ".." => return Err(PathError::DotSegment(quoted())),
            _ => {}
        }
        match check_segment(segment, MAX_SEGMENT_BYTES) {
            Ok(()) => {}
            Err(SegmentProblem::Empty) => return Err(PathError::EmptySegment(quoted())),
            Err(SegmentProblem::TooLong) => return Err(PathError::TooLong(quoted())),
            Err(_) => {
                return Err(PathError::BadSegment { path: quoted(), segment: quote(segment) });
            }
        }
    }
    Ok(())
}

impl fmt::Display for AssetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AssetPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AssetPath {
    type Err = PathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl Serialize for AssetPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AssetPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_atlas_paths() {
        for good in [
            "atlas.json",
            "photos/coffee.jpg",
            "models/efficientnet-lite0/checkpoints/final/layers/blocks.8/units/50/channel.webp",
        ] {
            assert_eq!(AssetPath::new(good).map(AssetPath::into_string).as_deref(), Ok(good));
        }
        let path = AssetPath::new("a/b.c/d.WEBP").unwrap();
        assert_eq!(path.file_name(), "d.WEBP");
        assert_eq!(path.extension(), Some("WEBP"));
        assert_eq!(path.image_format(), None, "extensions are lowercase");
        assert!(path.is_inside(&AssetPath::new("a/b.c").unwrap()));
        assert!(!path.is_inside(&AssetPath::new("a/b").unwrap()));
    }

    #[test]
    fn refuses_every_escape() {
        type Case = (&'static str, fn(&PathError) -> bool);
        let cases: [Case; 22] = [
            ("", |e| matches!(e, PathError::Empty)),
            ("/etc/passwd", |e| matches!(e, PathError::Absolute(_))),
            ("//host/share", |e| matches!(e, PathError::Absolute(_))),
            ("../secret", |e| matches!(e, PathError::DotSegment(_))),
            ("a/../../b", |e| matches!(e, PathError::DotSegment(_))),
            ("a/./b", |e| matches!(e, PathError::DotSegment(_))),
            ("a/..", |e| matches!(e, PathError::DotSegment(_))),
            ("..\\x", |e| matches!(e, PathError::Backslash(_))),
            ("a\\b", |e| matches!(e, PathError::Backslash(_))),
            ("C:/x", |e| matches!(e, PathError::Colon(_))),
            ("https://evil.example/x.png", |e| matches!(e, PathError::Colon(_))),
            ("file:///etc/passwd", |e| matches!(e, PathError::Colon(_))),
            ("data:image/png;base64,AAAA", |e| matches!(e, PathError::Colon(_))),
            ("a\0b", |e| matches!(e, PathError::Control(_))),
            ("a\nb", |e| matches!(e, PathError::Control(_))),
            ("a//b", |e| matches!(e, PathError::EmptySegment(_))),
            ("a/", |e| matches!(e, PathError::EmptySegment(_))),
            (".git/config", |e| matches!(e, PathError::BadSegment { .. })),
            ("%2e%2e/x", |e| matches!(e, PathError::BadSegment { .. })),
            ("a b", |e| matches!(e, PathError::BadSegment { .. })),
            ("x/\u{2215}etc", |e| matches!(e, PathError::BadSegment { .. })),
            ("x/aux.png", |e| matches!(e, PathError::BadSegment { .. })),
        ];
        for (text, expected) in cases {
            let error = AssetPath::new(text).expect_err(text);
            assert!(expected(&error), "{text}: {error:?}");
        }
        let deep = vec!["a"; MAX_PATH_SEGMENTS + 1].join("/");
        assert!(matches!(AssetPath::new(&deep), Err(PathError::TooLong(_))));
        let long = vec!["a".repeat(MAX_SEGMENT_BYTES); MAX_PATH_SEGMENTS].join("/");
        assert!(matches!(AssetPath::new(&long), Err(PathError::TooLong(_))));
        let long_segment = format!("a/{}", "b".repeat(MAX_SEGMENT_BYTES + 1));
        assert!(matches!(AssetPath::new(&long_segment), Err(PathError::TooLong(_))));
        assert!(AssetPath::new(&format!("a/{}", "b".repeat(MAX_SEGMENT_BYTES))).is_ok());
    }
}
