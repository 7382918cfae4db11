//! How a manifest records a file it ships: [`ImageAsset`] (path, size, sha256, pixel size), so
//! `verify` can check every asset without trusting the host, and a resumed build can tell a
//! complete file from a torn one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::asset_path::AssetPath;
use super::checker::Checker;
use super::error::Problem;
use super::image_header::{ImageContent, ImageFormat, sniff};
use super::limits::{MAX_ASSET_BYTES, MAX_IMAGE_SIDE};
use super::quote::quote;

/// A sha256 digest as 64 lowercase hex digits (one spelling, so equal files give equal JSON).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut hex = String::with_capacity(64);
        for byte in Sha256::digest(bytes) {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self(hex)
    }

    /// Reads 64 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 64
            && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(text.to_owned()))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const HEX: [u8; 16] = *b"0123456789abcdef";

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Sha256Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sha256Hex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{} is not a sha256 (64 lowercase hex digits)",
                quote(&text)
            ))
        })
    }
}

/// An image file of the atlas, as a manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAsset {
    /// Where it is, from the atlas root. The extension gives the format.
    pub path: AssetPath,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// sha256 of the file.
    pub sha256: Sha256Hex,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl ImageAsset {
    /// Describes an image about to be written at `path`: its size, hash and pixel size, read
    /// from `content`. Fails when the content is not an image of the format the extension names.
    pub fn describe(path: AssetPath, content: &[u8]) -> Result<Self, Problem> {
        let header = header_matching(&path, content)?;
        Ok(Self {
            path,
            bytes: content.len() as u64,
            sha256: Sha256Hex::of(content),
            width: header.width,
            height: header.height,
        })
    }

    /// The format its extension names.
    pub fn format(&self) -> Option<ImageFormat> {
        self.path.image_format()
    }

    /// Checks `content` (the file found at [`path`](Self::path)) against the record: size,
    /// then (when `check_hash`) sha256, format and pixel size. The first difference is the
    /// answer. A resumed build uses this to trust a file it finds.
    pub fn check_content(&self, content: &[u8], check_hash: bool) -> Result<(), Problem> {
        check_size_and_hash(&self.path, self.bytes, &self.sha256, content, check_hash)?;
        if !check_hash {
            return Ok(());
        }
        let header = header_matching(&self.path, content)?;
        if (header.width, header.height) != (self.width, self.height) {
            return Err(Problem::Image(format!(
                "{} is {}x{} pixels, the manifest says {}x{}",
                self.path, header.width, header.height, self.width, self.height
            )));
        }
        Ok(())
    }

    /// The rules of the record itself (no file access): an extension naming a format allowed
    /// for `content`, a size within the limits.
    pub(crate) fn check(&self, c: &mut Checker, content: ImageContent) {
        if !self.format().is_some_and(|format| content.allows(format)) {
            c.invalid(
                "path",
                format!(
                    "{} must end in {}",
                    quote(self.path.as_str()),
                    content.allowed_extensions()
                ),
            );
        }
        c.within("bytes", self.bytes, 1..=MAX_ASSET_BYTES);
        c.within("width", u64::from(self.width), 1..=u64::from(MAX_IMAGE_SIDE));
        c.within("height", u64::from(self.height), 1..=u64::from(MAX_IMAGE_SIDE));
    }
}

/// A file of the atlas that is not an image (the weights the in-browser renderer downloads),
/// as a manifest records it: path, size and sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAsset {
    /// Where it is, from the atlas root.
    pub path: AssetPath,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// sha256 of the file.
    pub sha256: Sha256Hex,
}

impl FileAsset {
    /// Describes the file `content` about to be written at `path`.
    pub fn describe(path: AssetPath, content: &[u8]) -> Self {
        Self { path, bytes: content.len() as u64, sha256: Sha256Hex::of(content) }
    }

    /// Checks `content` (the file found at [`path`](Self::path)) against the record: size,
    /// then (when `check_hash`) sha256.
    pub fn check_content(&self, content: &[u8], check_hash: bool) -> Result<(), Problem> {
        check_size_and_hash(&self.path, self.bytes, &self.sha256, content, check_hash)
    }

    /// The rules of the record itself: a size within the limit.
    pub(crate) fn check(&self, c: &mut Checker) {
        c.within("bytes", self.bytes, 1..=MAX_ASSET_BYTES);
    }
}

/// The header of `content`, which must be an image of the format `path`'s extension names.
/// Checks `content` against a recorded size, then (when `check_hash`) sha256: the first
/// difference is the answer.
fn check_size_and_hash(
    path: &AssetPath,
    bytes: u64,
    sha256: &Sha256Hex,
    content: &[u8],
    check_hash: bool,
) -> Result<(), Problem> {
    let found = content.len() as u64;
    if found != bytes {
        return Err(Problem::SizeMismatch { path: path.to_string(), expected: bytes, found });
    }
    if !check_hash {
        return Ok(());
    }
    let actual = Sha256Hex::of(content);
    if actual != *sha256 {
        return Err(Problem::HashMismatch {
            path: path.to_string(),
            expected: sha256.to_string(),
            found: actual.to_string(),
        });
    }
    Ok(())
}

fn header_matching(
    path: &AssetPath,
    content: &[u8],
) -> Result<super::image_header::ImageHeader, Problem> {
    let expected = path.image_format();
    match sniff(content) {
        Some(header) if Some(header.format) == expected => Ok(header),
        Some(header) => Err(Problem::Image(format!(
            "{path} holds a {} image, which its extension does not name",
            header.format.extension()
        ))),
        None => Err(Problem::Image(format!("{path} is not a PNG, WebP or JPEG image"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::image_header::tests::{png_header, webp_header};

    #[test]
    fn sha256_is_lowercase_hex() {
        let abc = Sha256Hex::of(b"abc");
        assert_eq!(
            abc.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Hex::parse(abc.as_str()), Some(abc.clone()));
        assert_eq!(Sha256Hex::parse(&abc.as_str().to_uppercase()), None);
        assert_eq!(Sha256Hex::parse("abc"), None);
    }

    #[test]
    fn describe_then_check_round_trips_and_catches_changes() {
        let content = webp_header(64, 32);
        let path = AssetPath::new("u/channel.webp").unwrap();
        let asset = ImageAsset::describe(path.clone(), &content).unwrap();
        assert_eq!((asset.bytes, asset.width, asset.height), (content.len() as u64, 64, 32));
        assert_eq!(asset.check_content(&content, true), Ok(()));

        let mut longer = content.clone();
        longer.push(0);
        assert!(matches!(asset.check_content(&longer, true), Err(Problem::SizeMismatch { .. })));
        let mut flipped = content.clone();
        flipped[5] ^= 1;
        assert!(matches!(asset.check_content(&flipped, true), Err(Problem::HashMismatch { .. })));
        assert_eq!(asset.check_content(&flipped, false), Ok(()), "sizes only");

        let png = png_header(64, 32);
        assert!(matches!(ImageAsset::describe(path, &png), Err(Problem::Image(_))));
    }
}
