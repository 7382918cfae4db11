//! Checking a downloaded checkpoint against the sha256 prefix in its file name, as torchvision
//! names its weights: `name-<hex>.pth`, where `<hex>` starts the file's sha256.

use sha2::{Digest, Sha256};

use super::WeightsError;

/// Fewest hex digits accepted as a hash prefix (torchvision uses 8).
pub const MIN_HASH_PREFIX: usize = 8;

/// The file's sha256, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash prefix of a file name such as `efficientnet-lite0-57934424.pth` (`57934424`):
/// the text between the last `-` and the `.pth` extension, lowercased, if it is 8 to 64 hex
/// digits. Directories in `file_name` (with `/` or `\`) are ignored.
pub fn hash_prefix(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next()?;
    let stem = base.strip_suffix(".pth")?;
    let (_, hex) = stem.rsplit_once('-')?;
    let ok =
        (MIN_HASH_PREFIX..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| hex.to_ascii_lowercase())
}

/// Checks that the hex digits after the last `-` before `.pth` in `file_name` start the sha256
/// of `bytes`.
///
/// Fails with [`WeightsError::NoHashInName`] when the name carries no such hash (see
/// [`hash_prefix`]) and with [`WeightsError::HashMismatch`] when the file's hash differs.
pub fn verify_sha256_prefix(file_name: &str, bytes: &[u8]) -> Result<(), WeightsError> {
    let expected_prefix = hash_prefix(file_name)
        .ok_or_else(|| WeightsError::NoHashInName { file_name: file_name.to_owned() })?;
    let actual = sha256_hex(bytes);
    if actual.starts_with(&expected_prefix) {
        Ok(())
    } else {
        Err(WeightsError::HashMismatch { file_name: file_name.to_owned(), expected_prefix, actual })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn weights_hash_prefix_parsing() {
        assert_eq!(hash_prefix("efficientnet-lite0-57934424.pth").as_deref(), Some("57934424"));
        assert_eq!(hash_prefix("/a/b-c/resnet18-F37072FD.pth").as_deref(), Some("f37072fd"));
        assert_eq!(
            hash_prefix(r"C:\w\x-0123456789abcdef.pth").as_deref(),
            Some("0123456789abcdef")
        );
        for bad in [
            "model.pth",
            "model-1234567.pth",
            "model-1234567g.pth",
            "model-12345678.pt",
            "model-12345678.pth.tmp",
            "model-.pth",
            "-12345678",
            "dir-12345678/model.pth",
            "",
        ] {
            assert_eq!(hash_prefix(bad), None, "{bad}");
        }
        assert_eq!(hash_prefix("m-12345678.pth/"), None);
    }

    #[test]
    fn weights_hash_verification() {
        assert_eq!(sha256_hex(b"abc"), ABC);
        assert!(verify_sha256_prefix("m-ba7816bf.pth", b"abc").is_ok());
        assert!(verify_sha256_prefix(&format!("m-{ABC}.pth"), b"abc").is_ok());
        assert!(verify_sha256_prefix("m-BA7816BF8F.pth", b"abc").is_ok());
        match verify_sha256_prefix("m-ba7816bf.pth", b"abd") {
            Err(WeightsError::HashMismatch { expected_prefix, actual, .. }) => {
                assert_eq!(expected_prefix, "ba7816bf");
                assert_eq!(actual, sha256_hex(b"abd"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            verify_sha256_prefix("m.pth", b"abc"),
            Err(WeightsError::NoHashInName { .. })
        ));
    }
}
