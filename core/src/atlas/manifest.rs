//! Reading manifests: the [`Manifest`] trait every manifest type implements, and [`parse`],
//! which takes a file's bytes through the same steps for every kind: size limit, nesting
//! limit, `kind` and `format_version` header, typed parse (naming the failing field), then the
//! format's rules ([`Manifest::validate`]).

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::asset_path::AssetPath;
use super::checker::Checker;
use super::depth::too_deep_at;
use super::error::{AtlasError, Problem, quote};
use super::file::ImageAsset;
use super::limits::{
    MAX_ANNOTATIONS_BYTES, MAX_ASSET_BYTES, MAX_DEPTH, MAX_INDEX_BYTES, MAX_LAYER_BYTES,
    MAX_MODEL_BYTES, MAX_PHOTOS_BYTES, MAX_UNIT_BYTES,
};
use super::version::{FormatVersion, Readability};

/// The kinds of manifest, as their `kind` field names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// `atlas.json`: the models of the atlas.
    Index,
    /// `model.json`: one model, its layers, checkpoints and provenance.
    Model,
    /// `layer.json`: one layer at one checkpoint: coverage and sprite sheets.
    Layer,
    /// `unit.json`: one unit at one checkpoint: everything the atlas has for it.
    Unit,
    /// `photos/photos.json`: the photo corpus and its provenance.
    Photos,
    /// `annotations.json`: community labels and notes.
    Annotations,
}

impl ManifestKind {
    /// Every kind.
    pub const ALL: [Self; 6] =
        [Self::Index, Self::Model, Self::Layer, Self::Unit, Self::Photos, Self::Annotations];

    /// The `kind` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::Model => "model",
            Self::Layer => "layer",
            Self::Unit => "unit",
            Self::Photos => "photos",
            Self::Annotations => "annotations",
        }
    }

    /// The kind a `kind` value names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The kind of manifest a file of this name holds (`layer.json` a layer), `None` for an
    /// asset.
    pub fn of_file(path: &AssetPath) -> Option<Self> {
        Some(match path.file_name() {
            "atlas.json" => Self::Index,
            "model.json" => Self::Model,
            "layer.json" => Self::Layer,
            "unit.json" => Self::Unit,
            "photos.json" => Self::Photos,
            "annotations.json" => Self::Annotations,
            _ => return None,
        })
    }

    /// Largest file at `path`: its manifest kind's limit, or an asset's.
    pub fn max_bytes_at(path: &AssetPath) -> u64 {
        Self::of_file(path).map_or(MAX_ASSET_BYTES, Self::max_bytes)
    }

    /// Largest file of this kind.
    pub fn max_bytes(self) -> u64 {
        match self {
            Self::Index => MAX_INDEX_BYTES,
            Self::Model => MAX_MODEL_BYTES,
            Self::Layer => MAX_LAYER_BYTES,
            Self::Unit => MAX_UNIT_BYTES,
            Self::Photos => MAX_PHOTOS_BYTES,
            Self::Annotations => MAX_ANNOTATIONS_BYTES,
        }
    }
}

impl fmt::Display for ManifestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An asset a manifest lists, with the field that lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedAsset<'a> {
    /// The field, `feature_visualizations.diversity[2].image`.
    pub field: String,
    /// The record.
    pub asset: &'a ImageAsset,
}

/// A manifest type: how it is read, checked, located and written.
pub trait Manifest: Serialize + DeserializeOwned {
    /// Its `kind`.
    const KIND: ManifestKind;

    /// Where it lives in the atlas, computed from its own ids (see [`paths`](super::paths)).
    fn path(&self) -> AssetPath;

    /// The asset files it lists, each with its field.
    fn assets(&self) -> Vec<ListedAsset<'_>>;

    /// The format's rules beyond the types; the problems found (empty when it is valid),
    /// reported against [`path`](Self::path). [`parse`] and the writers call it.
    fn validate(&self) -> Vec<AtlasError>;
}

/// Runs a manifest's checks and reports them against its path: the body of every
/// [`Manifest::validate`].
pub(crate) fn run_checks(file: &AssetPath, check: impl FnOnce(&mut Checker)) -> Vec<AtlasError> {
    let mut checker = Checker::default();
    check(&mut checker);
    checker.into_errors(file.as_str())
}

/// A parsed manifest with the version it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<M> {
    /// The manifest.
    pub manifest: M,
    /// The file's `format_version`.
    pub version: FormatVersion,
    /// Whether fields of a newer minor version may have been ignored.
    pub readability: Readability,
}

/// The fields every manifest starts with; the rest of the file is skipped at this step.
#[derive(serde::Deserialize)]
struct Header {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    format_version: Option<String>,
}

/// Reads a manifest of kind `M` from `bytes`; `file` names it in errors.
///
/// Fails, with the file and field named, when the file is too large or too deeply nested, is
/// not JSON, is another kind of manifest, was written by a newer major version, does not have
/// the fields and types of `M`, or breaks a rule of the format. Unknown fields are ignored.
pub fn parse<M: Manifest>(file: &str, bytes: &[u8]) -> Result<M, AtlasError> {
    parse_versioned(file, bytes).map(|parsed| parsed.manifest)
}

/// [`parse`], also returning the file's format version.
pub fn parse_versioned<M: Manifest>(file: &str, bytes: &[u8]) -> Result<Parsed<M>, AtlasError> {
    let (kind, version, readability) = header(file, bytes, M::KIND.max_bytes())?;
    if kind != Some(M::KIND) {
        return Err(AtlasError::field(
            file,
            "kind",
            Problem::WrongKind { expected: M::KIND, found: kind_text(kind, bytes) },
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let manifest: M = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| json_error(file, &error.path().to_string(), error.inner()))?;
    if let Some(first) = manifest.validate().into_iter().next() {
        return Err(first.with_file(file));
    }
    Ok(Parsed { manifest, version, readability })
}

/// The kind and version of any manifest, without reading the rest: for tools that are handed
/// a file and must say what it is (`microscope inspect`).
pub fn peek(file: &str, bytes: &[u8]) -> Result<(ManifestKind, FormatVersion), AtlasError> {
    let largest = ManifestKind::ALL.iter().map(|kind| kind.max_bytes()).max().unwrap_or(0);
    let (kind, version, _) = header(file, bytes, largest)?;
    let kind = kind.ok_or_else(|| {
        AtlasError::field(
            file,
            "kind",
            Problem::Invalid(format!("unknown manifest kind {}", kind_text(None, bytes))),
        )
    })?;
    Ok((kind, version))
}

/// The size, nesting and header steps shared by [`parse_versioned`] and [`peek`].
fn header(
    file: &str,
    bytes: &[u8],
    max_bytes: u64,
) -> Result<(Option<ManifestKind>, FormatVersion, Readability), AtlasError> {
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(AtlasError::file(file, Problem::TooLarge { bytes: size, limit: max_bytes }));
    }
    if let Some(line) = too_deep_at(bytes, MAX_DEPTH) {
        return Err(AtlasError::file(file, Problem::TooDeep { limit: MAX_DEPTH, line }));
    }
    // serde would also read a struct from an array of its fields in order; a manifest is an
    // object, so that its fields have names and unknown ones can be skipped.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AtlasError::file(file, Problem::Invalid("a manifest is a JSON object".into())));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let header: Header = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| json_error(file, &error.path().to_string(), error.inner()))?;
    deserializer.end().map_err(|error| json_error(file, "", &error))?;
    let Some(version_text) = header.format_version else {
        return Err(AtlasError::field(
            file,
            "format_version",
            Problem::Invalid("missing; every manifest states its format version".into()),
        ));
    };
    let version = FormatVersion::parse(&version_text).ok_or_else(|| {
        AtlasError::field(file, "format_version", Problem::BadVersion(quote(&version_text)))
    })?;
    // The version decides how to read the rest, so it is checked before the kind: a 2.0 file
    // of a kind this reader has never heard of still gets the "update Microscope" message.
    let readability = version
        .readability()
        .map_err(|problem| AtlasError::field(file, "format_version", problem))?;
    let kind = header.kind.as_deref().and_then(ManifestKind::from_name);
    Ok((kind, version, readability))
}

/// The declared kind for a message: the known name, or the raw value quoted.
fn kind_text(kind: Option<ManifestKind>, bytes: &[u8]) -> String {
    if let Some(kind) = kind {
        return format!("a {kind} manifest");
    }
    let raw = serde_json::from_slice::<Header>(bytes).ok().and_then(|header| header.kind);
    match raw {
        Some(text) => format!("kind {}", quote(&text)),
        None => "a file without a `kind`".to_owned(),
    }
}

/// A serde_json error as an [`AtlasError`]: syntax errors are [`Problem::Syntax`], the rest
/// (types, missing fields, refused values) [`Problem::Schema`] at `path`.
fn json_error(file: &str, path: &str, error: &serde_json::Error) -> AtlasError {
    let (line, column) = (error.line(), error.column());
    // serde_json appends " at line L column C" to its messages; the position is kept apart.
    let text = error.to_string();
    let message =
        text.rsplit_once(" at line ").map_or(text.as_str(), |(message, _)| message).to_owned();
    let problem = match error.classify() {
        serde_json::error::Category::Data => Problem::Schema { message, line, column },
        _ => Problem::Syntax { message, line, column },
    };
    let field = if path == "." { "" } else { path };
    AtlasError::field(file, field, problem)
}
