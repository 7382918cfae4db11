//! Format versions: the `"MAJOR.MINOR"` text every manifest carries, and the rule for reading
//! it. A reader of version `N.M` reads every `1.0 ..= N.x` file; minor versions only add
//! optional fields (which older readers ignore), a new major version is a breaking change that
//! older readers refuse with a clear message, and newer readers keep converting older majors.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::quote::quote;

/// A version of the atlas format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FormatVersion {
    /// Bumped for changes that old readers cannot read.
    pub major: u32,
    /// Bumped for additions that old readers may ignore.
    pub minor: u32,
}

/// The version this code writes, and the newest it reads fully. 1.1 added JPEG dataset-example
/// sheets and the `weights` record of a checkpoint.
pub const FORMAT_VERSION: FormatVersion = FormatVersion { major: 1, minor: 1 };

/// The oldest major version this code reads. Raising it would break old atlases: don't.
pub const OLDEST_MAJOR: u32 = 1;

/// Why this reader cannot read a file's version at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// A newer major version: only a newer reader can read it.
    NewerMajor,
    /// A version that never existed (`0.x`).
    NeverExisted,
}

/// How a file's version relates to this reader's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readability {
    /// Written by this version or an older one of a major this reader knows: read in full.
    Full,
    /// Written by a newer minor version: readable, but fields added since are ignored.
    NewerMinor,
}

impl FormatVersion {
    /// Parses `"MAJOR.MINOR"`: two runs of at most 9 decimal digits, no sign, no space, no
    /// leading zero (so each version has exactly one spelling).
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        Some(Self { major: number(major)?, minor: number(minor)? })
    }

    /// Whether this reader can read a file of this version, and how fully.
    ///
    /// Fails for a newer major version and for versions that never existed (`0.x`).
    pub fn readability(self) -> Result<Readability, Unreadable> {
        if self.major > FORMAT_VERSION.major {
            Err(Unreadable::NewerMajor)
        } else if self.major < OLDEST_MAJOR {
            Err(Unreadable::NeverExisted)
        } else if self.major == FORMAT_VERSION.major && self.minor > FORMAT_VERSION.minor {
            Ok(Readability::NewerMinor)
        } else {
            Ok(Readability::Full)
        }
    }
}

/// A version number: 1 to 9 digits, no leading zero unless it is `0`.
fn number(text: &str) -> Option<u32> {
    let digits_only =
        !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit());
    let canonical = text == "0" || !text.starts_with('0');
    if digits_only && canonical { text.parse().ok() } else { None }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for FormatVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "format version {} is not of the form MAJOR.MINOR",
                quote(&text)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_canonical_text() {
        assert_eq!(FormatVersion::parse("1.0"), Some(FormatVersion { major: 1, minor: 0 }));
        assert_eq!(FormatVersion::parse("12.345"), Some(FormatVersion { major: 12, minor: 345 }));
        for bad in [
            "",
            "1",
            "1.",
            ".0",
            "01.0",
            "1.00",
            "1.0.0",
            "+1.0",
            " 1.0",
            "1.0 ",
            "1e3.0",
            "9999999999.0",
        ] {
            assert_eq!(FormatVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(FORMAT_VERSION.to_string(), "1.1");
    }

    #[test]
    fn readers_read_older_and_newer_minor_but_not_newer_major() {
        let v = |major, minor| FormatVersion { major, minor };
        assert_eq!(v(1, 0).readability(), Ok(Readability::Full));
        assert_eq!(v(1, 7).readability(), Ok(Readability::NewerMinor));
        assert_eq!(v(2, 0).readability(), Err(Unreadable::NewerMajor));
        assert_eq!(v(0, 9).readability(), Err(Unreadable::NeverExisted));
    }
}
