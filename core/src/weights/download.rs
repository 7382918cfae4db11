//! Checks on a downloaded model file before it is used or cached: a static host answers a
//! missing file with its web page and status 200 (an SPA fallback), a broken server or proxy
//! sends a few bytes, and a rebuilt atlas may ship new weights at the same URL. Each is caught
//! here, so that the browser's cache never keeps a web page or stale weights as the model.

use super::hash::sha256_hex;

/// Fewer bytes than this cannot be a model file (a safetensors header alone is 8 bytes plus a
/// JSON object; the smallest ONNX graph with one operator is larger still).
pub const MIN_MODEL_BYTES: usize = 64;

/// Why downloaded bytes are not the model file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadProblem {
    /// The server answered with a web page (its content type, or the bytes themselves, say
    /// HTML): usually the site's page for a file it does not have.
    #[error("the server sent a web page instead of the model file (the atlas may not ship it)")]
    WebPage,
    /// Too few bytes to be a model.
    #[error("the file is {bytes} bytes, too short to be a model (at least {MIN_MODEL_BYTES})")]
    TooShort {
        /// Bytes received.
        bytes: usize,
    },
    /// The sha256 differs from the one the atlas records.
    #[error("its sha256 is {found}, not {expected} as the atlas records")]
    WrongHash {
        /// The atlas's.
        expected: String,
        /// The file's.
        found: String,
    },
}

/// Checks `bytes`, downloaded with `content_type` (when the server sent one), against what a
/// model file is and, when the atlas records one, its `sha256` (64 hex digits, any case).
pub fn check_model_file(
    bytes: &[u8],
    content_type: Option<&str>,
    sha256: Option<&str>,
) -> Result<(), DownloadProblem> {
    let html_type = content_type.is_some_and(|t| {
        let essence = t.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("text/html")
            || essence.eq_ignore_ascii_case("application/xhtml+xml")
    });
    if html_type || looks_like_html(bytes) {
        return Err(DownloadProblem::WebPage);
    }
    if bytes.len() < MIN_MODEL_BYTES {
        return Err(DownloadProblem::TooShort { bytes: bytes.len() });
    }
    if let Some(expected) = sha256 {
        let found = sha256_hex(bytes);
        if !found.eq_ignore_ascii_case(expected) {
            return Err(DownloadProblem::WrongHash { expected: expected.to_owned(), found });
        }
    }
    Ok(())
}

/// Whether `bytes` start like an HTML document (after a byte order mark and white space).
/// Neither safetensors (a little-endian length) nor ONNX (a protobuf field tag) starts so.
fn looks_like_html(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    let head: Vec<u8> = text[start..].iter().take(16).map(u8::to_ascii_lowercase).collect();
    [b"<!doctype html".as_slice(), b"<html", b"<head", b"<!--"]
        .iter()
        .any(|prefix| head.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_that_are_web_pages_short_or_stale_are_refused() {
        let model = {
            let mut bytes = 200u64.to_le_bytes().to_vec();
            bytes.extend(std::iter::repeat_n(b' ', 200));
            bytes
        };
        assert_eq!(check_model_file(&model, Some("application/octet-stream"), None), Ok(()));
        assert_eq!(check_model_file(&model, None, Some(&sha256_hex(&model))), Ok(()));
        assert_eq!(
            check_model_file(&model, None, Some(&sha256_hex(&model).to_uppercase())),
            Ok(())
        );

        let page =
            b"\n  <!DOCTYPE html><html><head><title>Microscope</title></head></html>".repeat(4);
        assert_eq!(check_model_file(&page, None, None), Err(DownloadProblem::WebPage));
        assert_eq!(
            check_model_file(&model, Some("text/html; charset=utf-8"), None),
            Err(DownloadProblem::WebPage)
        );
        assert_eq!(
            check_model_file(&model[..10], None, None),
            Err(DownloadProblem::TooShort { bytes: 10 })
        );
        let stale = "0".repeat(64);
        let Err(DownloadProblem::WrongHash { expected, found }) =
            check_model_file(&model, None, Some(&stale))
        else {
            panic!("a different hash must be refused")
        };
        assert_eq!((expected, found), (stale, sha256_hex(&model)));
    }
}
