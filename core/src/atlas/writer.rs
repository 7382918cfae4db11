//! Writing manifests: validated, stamped with `kind` and the current `format_version`, and
//! serialised deterministically (fields in declaration order, maps sorted by key, shortest
//! round-trip floats), so the same content always gives the same bytes. That is what makes an
//! interrupted-and-resumed build, or shards merged, byte-identical to one uninterrupted build.

use serde::Serialize;

use super::error::{AtlasError, Problem};
use super::manifest::Manifest;
use super::version::FORMAT_VERSION;

/// A manifest as written: the header fields, then the manifest's own.
#[derive(Serialize)]
struct Envelope<'a, M> {
    kind: &'static str,
    format_version: super::version::FormatVersion,
    #[serde(flatten)]
    body: &'a M,
}

/// Serialises `manifest` as indented JSON (two spaces, arrays of numbers on one line) ending
/// in a newline: for files people read and diff.
///
/// Fails when the manifest breaks a rule of the format (the first problem, against its
/// [`path`](Manifest::path)), or when the result would be too large to read back.
pub fn to_json_pretty<M: Manifest>(manifest: &M) -> Result<Vec<u8>, AtlasError> {
    write(manifest, true)
}

/// Serialises `manifest` as JSON without whitespace: for the many unit manifests.
///
/// Fails as [`to_json_pretty`] does.
pub fn to_json_compact<M: Manifest>(manifest: &M) -> Result<Vec<u8>, AtlasError> {
    write(manifest, false)
}

fn write<M: Manifest>(manifest: &M, pretty: bool) -> Result<Vec<u8>, AtlasError> {
    if let Some(first) = manifest.validate().into_iter().next() {
        return Err(first);
    }
    let envelope =
        Envelope { kind: M::KIND.as_str(), format_version: FORMAT_VERSION, body: manifest };
    let file = manifest.path();
    let result =
        if pretty { super::json_layout::to_vec(&envelope) } else { serde_json::to_vec(&envelope) };
    let mut bytes = result
        .map_err(|error| AtlasError::file(file.as_str(), Problem::Invalid(error.to_string())))?;
    if pretty {
        bytes.push(b'\n');
    }
    let limit = M::KIND.max_bytes();
    if bytes.len() as u64 > limit {
        return Err(AtlasError::file(
            file.as_str(),
            Problem::TooLarge { bytes: bytes.len() as u64, limit },
        ));
    }
    Ok(bytes)
}
