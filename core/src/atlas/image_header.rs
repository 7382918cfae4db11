//! Image formats of an atlas and a header sniffer: `verify` checks that a `.webp` file is WebP
//! and has the width and height its manifest records, by reading a few header bytes; decoding
//! would need an image library the viewer build does not carry.

use serde::{Deserialize, Serialize};

/// An image format an atlas may hold. Generated images are WebP or PNG; photographs and crops
/// of them may also be JPEG ([`ImageContent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG (`.png`).
    Png,
    /// WebP, lossy or lossless (`.webp`).
    Webp,
    /// JPEG (`.jpg`, `.jpeg`), for photographic images only.
    Jpeg,
}

/// What an image shows, which decides the formats it may be stored in: the one rule behind
/// every image field of the format. The extension of an image's path names its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageContent {
    /// Generated pictures (feature visualizations and their sheets): PNG or WebP, so that
    /// their fine detail is kept.
    Generated,
    /// Photographs and crops of them (shipped photos, dataset-example sheets): PNG, WebP or
    /// JPEG. JPEG sheets of dataset examples are new in format 1.1.
    Photographic,
}

impl ImageContent {
    /// Whether an image of this content may be stored as `format`.
    pub fn allows(self, format: ImageFormat) -> bool {
        match format {
            ImageFormat::Png | ImageFormat::Webp => true,
            ImageFormat::Jpeg => self == Self::Photographic,
        }
    }

    /// The extensions allowed, in words (for messages).
    pub fn allowed_extensions(self) -> &'static str {
        match self {
            Self::Generated => ".png or .webp",
            Self::Photographic => ".png, .webp, .jpg or .jpeg",
        }
    }
}

impl ImageFormat {
    /// The format named by a lowercase file extension.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension {
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "jpg" | "jpeg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    /// The extension writers use.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
        }
    }

    /// The MIME type (what a host should serve it as).
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// What the first bytes of an image file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// The format its signature shows.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Reads the format and size from an image's header; `None` when the bytes are not a PNG, WebP
/// or baseline/progressive JPEG this sniffer understands.
pub fn sniff(bytes: &[u8]) -> Option<ImageHeader> {
    sniff_png(bytes).or_else(|| sniff_webp(bytes)).or_else(|| sniff_jpeg(bytes))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u32::from(u16::from_be_bytes(b.try_into().ok()?)))
}

fn le_bytes(bytes: &[u8], at: usize, len: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(len)?)?;
    Some(b.iter().rev().fold(0u32, |acc, &byte| (acc << 8) | u32::from(byte)))
}

/// PNG: the signature, then the IHDR chunk with big-endian width and height.
fn sniff_png(bytes: &[u8]) -> Option<ImageHeader> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    Some(ImageHeader {
        format: ImageFormat::Png,
        width: be32(bytes, 16)?,
        height: be32(bytes, 20)?,
    })
}

/// WebP: a RIFF container whose first chunk is `VP8 ` (lossy), `VP8L` (lossless) or `VP8X`
/// (extended), each with its own size fields.
fn sniff_webp(bytes: &[u8]) -> Option<ImageHeader> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WEBP" {
        return None;
    }
    let (width, height) = match bytes.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3 bytes) at 20, start code at 23, then 14-bit sizes with scale bits.
            if bytes.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            (le_bytes(bytes, 26, 2)? & 0x3fff, le_bytes(bytes, 28, 2)? & 0x3fff)
        }
        b"VP8L" => {
            // Signature byte 0x2f, then 14 bits of width - 1 and 14 bits of height - 1.
            if *bytes.get(20)? != 0x2f {
                return None;
            }
            let bits = le_bytes(bytes, 21, 4)?;
            ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
        }
        b"VP8X" => (le_bytes(bytes, 24, 3)? + 1, le_bytes(bytes, 27, 3)? + 1),
        _ => return None,
    };
    Some(ImageHeader { format: ImageFormat::Webp, width, height })
}

/// JPEG: walk the marker segments to the first start-of-frame, which holds the size.
fn sniff_jpeg(bytes: &[u8]) -> Option<ImageHeader> {
    if !bytes.starts_with(&[0xff, 0xd8]) {
        return None;
    }
    let mut at = 2usize;
    // Each step moves forward, so the loop ends at the end of the bytes at the latest.
    loop {
        if *bytes.get(at)? != 0xff {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Fill bytes, and markers without a length.
            0xff => at += 1,
            0x01 | 0xd0..=0xd7 => at += 2,
            0xd9 | 0xda => return None,
            0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => {
                let height = be16(bytes, at + 5)?;
                let width = be16(bytes, at + 7)?;
                return Some(ImageHeader { format: ImageFormat::Jpeg, width, height });
            }
            _ => {
                let length = usize::try_from(be16(bytes, at + 2)?).ok()?;
                at = at.checked_add(2 + length.max(2))?;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The first bytes of a PNG of the given size (enough for the sniffer, not a decoder).
    pub(crate) fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    /// The first bytes of a lossless WebP of the given size.
    pub(crate) fn webp_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits = (width - 1) | ((height - 1) << 14);
        bytes.extend(bits.to_le_bytes());
        bytes
    }

    #[test]
    fn sniffs_png_and_webp_sizes() {
        assert_eq!(
            sniff(&png_header(640, 480)),
            Some(ImageHeader { format: ImageFormat::Png, width: 640, height: 480 })
        );
        assert_eq!(
            sniff(&webp_header(2048, 96)),
            Some(ImageHeader { format: ImageFormat::Webp, width: 2048, height: 96 })
        );
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x10\0\0\0".to_vec();
        vp8x.extend([0xff, 0x03, 0x00, 0x0f, 0x00, 0x00]);
        assert_eq!(sniff(&vp8x).map(|h| (h.width, h.height)), Some((1024, 16)));
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        vp8.extend([0x40, 0x01, 0xf0, 0x00]);
        assert_eq!(sniff(&vp8).map(|h| (h.width, h.height)), Some((320, 240)));
    }

    #[test]
    fn sniffs_jpeg_size_past_other_segments() {
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00];
        jpeg.extend([0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03]);
        assert_eq!(
            sniff(&jpeg),
            Some(ImageHeader { format: ImageFormat::Jpeg, width: 640, height: 480 })
        );
    }

    #[test]
    fn rejects_other_and_truncated_bytes() {
        for bad in [
            &b""[..],
            b"GIF89a",
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\0\0\0\0WEBPVP8L",
            b"\xff\xd8\xff",
            b"\xff\xd8\xff\xe0\xff\xff",
        ] {
            assert_eq!(sniff(bad), None);
        }
        assert_eq!(ImageFormat::from_extension("jpeg"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_extension("gif"), None);
    }
}
