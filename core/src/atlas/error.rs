//! What went wrong with an atlas file: [`AtlasError`] names the file, the JSON field (in the form
//! `dataset_examples.top.examples[3].box`) and the [`Problem`]. Parsing, validation, writing and
//! `verify` all report through it, so the CLI, the viewer and the tests print one kind of message.

use std::fmt;

use super::asset_path::PathError;
use super::kind::ManifestKind;
use super::name::NameError;
use super::version::FormatVersion;

/// A problem in one atlas file, at one field.
#[derive(Debug, Clone, PartialEq)]
pub struct AtlasError {
    /// The file, as the caller named it (an atlas path such as `models/m/model.json`, or a
    /// local file path).
    pub file: String,
    /// The JSON field, `a.b[3].c`; empty when the problem is the whole file.
    pub field: String,
    /// What is wrong.
    pub problem: Problem,
}

impl AtlasError {
    /// A problem with a whole file.
    pub fn file(file: impl Into<String>, problem: Problem) -> Self {
        Self { file: file.into(), field: String::new(), problem }
    }

    /// A problem at one field of a file.
    pub fn field(file: impl Into<String>, field: impl Into<String>, problem: Problem) -> Self {
        Self { file: file.into(), field: field.into(), problem }
    }

    /// The same problem reported against another file name (for callers that read a manifest
    /// under a local path rather than its atlas path).
    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = file.into();
        self
    }
}

impl fmt::Display for AtlasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.problem)
        } else {
            write!(f, "{}, field `{}`: {}", self.file, self.field, self.problem)
        }
    }
}

impl std::error::Error for AtlasError {}

/// What is wrong with a file or a field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The file is larger than its kind allows (checked before parsing).
    #[error("the file is {bytes} bytes, more than the {limit} allowed for it")]
    TooLarge {
        /// Size of the file.
        bytes: u64,
        /// Largest size allowed.
        limit: u64,
    },
    /// Arrays and objects are nested deeper than allowed (checked before parsing).
    #[error("JSON nested more than {limit} levels deep (line {line})")]
    TooDeep {
        /// Deepest nesting allowed.
        limit: usize,
        /// Line where the limit was passed.
        line: usize,
    },
    /// The bytes are not JSON.
    #[error("not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        /// serde_json's description.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Valid JSON of the wrong shape: a wrong type, a missing field, a bad name or path, too
    /// many items.
    #[error("{message} (line {line}, column {column})")]
    Schema {
        /// What the field should have been.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The file is a manifest of another kind (a layer manifest where a unit one belongs).
    #[error("this is {found:?}, not a {expected} manifest")]
    WrongKind {
        /// The kind the reader wanted.
        expected: ManifestKind,
        /// The `kind` the file declares (quoted, shortened).
        found: String,
    },
    /// The file was written by a newer, incompatible version of the format.
    #[error(
        "format version {found} is newer than this Microscope reads (format {supported}.x): \
         update Microscope to open this atlas"
    )]
    NewerMajor {
        /// The file's version.
        found: FormatVersion,
        /// The newest major version this reader knows.
        supported: u32,
    },
    /// (verify, a warning) The file was written by a newer minor version: it was read, but
    /// fields added since were ignored.
    #[error(
        "written by format {found}, newer than this Microscope (format {}): fields added since are ignored",
        super::version::FORMAT_VERSION
    )]
    NewerMinor {
        /// The file's version.
        found: FormatVersion,
    },
    /// The version text is not `MAJOR.MINOR`, or names a version that never existed.
    #[error("format version {0} is not a version of the atlas format (expected \"1.0\" or later)")]
    BadVersion(String),
    /// A list or a declared count is larger than the format allows.
    #[error("{count} items, more than the {limit} allowed")]
    TooMany {
        /// Items found (or declared).
        count: u64,
        /// Most allowed.
        limit: u64,
    },
    /// Text longer than allowed.
    #[error("text of {bytes} bytes, more than the {limit} allowed")]
    TooLong {
        /// Length of the text.
        bytes: usize,
        /// Longest allowed.
        limit: usize,
    },
    /// A name (model, checkpoint, layer, photo) is not allowed.
    #[error(transparent)]
    Name(#[from] NameError),
    /// An asset path is not a safe relative path.
    #[error(transparent)]
    Path(#[from] PathError),
    /// Any other value the format does not allow.
    #[error("{0}")]
    Invalid(String),
    /// (verify) A file that a manifest lists is not in the atlas.
    #[error("{0} is missing")]
    Missing(String),
    /// (verify) An asset's size differs from the one its manifest records.
    #[error("{path} is {found} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// The asset.
        path: String,
        /// Size the manifest records.
        expected: u64,
        /// Size of the file.
        found: u64,
    },
    /// (verify) An asset's sha256 differs from the one its manifest records.
    #[error("{path} has sha256 {found}, the manifest says {expected}")]
    HashMismatch {
        /// The asset.
        path: String,
        /// Hash the manifest records.
        expected: String,
        /// Hash of the file.
        found: String,
    },
    /// (verify) An image whose bytes do not match its name or recorded size.
    #[error("{0}")]
    Image(String),
    /// (verify) Two files of the atlas disagree (a unit listed but absent, coverage that does
    /// not match the unit files, a manifest at the wrong path).
    #[error("{0}")]
    Inconsistent(String),
    /// (verify) Data that is absent: not an error, reported as a warning.
    #[error("{0}")]
    NotBuilt(String),
    /// (verify) The file could not be read (I/O or network).
    #[error("cannot read the file: {0}")]
    Read(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_and_field() {
        let e = AtlasError::field(
            "a/unit.json",
            "histogram.counts",
            Problem::TooMany { count: 9, limit: 4 },
        );
        assert_eq!(
            e.to_string(),
            "a/unit.json, field `histogram.counts`: 9 items, more than the 4 allowed"
        );
        let e = AtlasError::file("atlas.json", Problem::Missing("atlas.json".into()));
        assert_eq!(e.to_string(), "atlas.json: atlas.json is missing");
    }
}
