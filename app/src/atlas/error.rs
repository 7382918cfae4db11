//! [`LoadError`]: why an atlas file could not be shown, in words a visitor understands.

use std::fmt;

/// Why an atlas file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The host has no such file (404, or a web page where a data file belongs).
    Missing {
        /// The file's path in the atlas.
        file: String,
    },
    /// The file is there but is not a valid atlas file of its kind.
    Corrupt {
        /// The file's path in the atlas.
        file: String,
        /// What is wrong with it (from the core parser: file, field and problem).
        message: String,
    },
    /// The request failed (offline, refused, or an HTTP error other than 404).
    Network {
        /// The file's path in the atlas.
        file: String,
        /// What went wrong.
        message: String,
    },
}

impl LoadError {
    /// The file's path in the atlas.
    pub fn file(&self) -> &str {
        match self {
            Self::Missing { file } | Self::Corrupt { file, .. } | Self::Network { file, .. } => {
                file
            }
        }
    }

    /// A short machine-readable kind for `data-error` attributes: `missing`, `corrupt`,
    /// `network`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing",
            Self::Corrupt { .. } => "corrupt",
            Self::Network { .. } => "network",
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { file } => write!(f, "The atlas has no file {file}."),
            Self::Corrupt { message, .. } => write!(f, "This atlas file is damaged: {message}"),
            Self::Network { file, message } => write!(f, "Could not download {file}: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_names_its_file_and_kind() {
        let missing = LoadError::Missing { file: "atlas.json".into() };
        let corrupt = LoadError::Corrupt { file: "a/unit.json".into(), message: "bad".into() };
        let network = LoadError::Network { file: "a/layer.json".into(), message: "offline".into() };
        assert_eq!(
            [missing.kind(), corrupt.kind(), network.kind()],
            ["missing", "corrupt", "network"]
        );
        assert_eq!([missing.file(), corrupt.file()], ["atlas.json", "a/unit.json"]);
        assert_eq!(missing.to_string(), "The atlas has no file atlas.json.");
        assert_eq!(network.to_string(), "Could not download a/layer.json: offline");
    }
}
