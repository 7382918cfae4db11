//! Where `verify` (and any reader) gets atlas files from: the [`AtlasSource`] trait. The CLI
//! implements it over a folder, the viewer could over HTTP, tests use [`MemorySource`]; core
//! itself does no I/O.

use std::collections::BTreeMap;

use super::asset_path::AssetPath;
use super::error::AtlasError;
use super::manifest::Manifest;
use super::writer::to_json_pretty;

/// Why a file could not be read (not that it is absent: that is `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Read access to the files of one atlas.
pub trait AtlasSource {
    /// The bytes of the file at `path`; `Ok(None)` when there is no such file.
    fn read(&self, path: &AssetPath) -> Result<Option<Vec<u8>>, SourceError>;

    /// The size of the file at `path`, without reading it where the source can (a folder's
    /// metadata). `verify` asks this before reading, so an oversized file is refused unread.
    fn size(&self, path: &AssetPath) -> Result<Option<u64>, SourceError> {
        Ok(self.read(path)?.map(|bytes| bytes.len() as u64))
    }
}

impl<T: AtlasSource + ?Sized> AtlasSource for &T {
    fn read(&self, path: &AssetPath) -> Result<Option<Vec<u8>>, SourceError> {
        (**self).read(path)
    }

    fn size(&self, path: &AssetPath) -> Result<Option<u64>, SourceError> {
        (**self).size(path)
    }
}

/// An atlas held in memory, by path: for tests, and for a builder that assembles small atlases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemorySource {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemorySource {
    /// An empty atlas.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a file (the path is not validated, so tests can plant bad ones).
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Writes a manifest at its own path, as [`to_json_pretty`] serialises it.
    pub fn put<M: Manifest>(&mut self, manifest: &M) -> Result<(), AtlasError> {
        let bytes = to_json_pretty(manifest)?;
        self.files.insert(manifest.path().into_string(), bytes);
        Ok(())
    }

    /// Removes a file, returning its bytes.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        self.files.remove(path)
    }

    /// The bytes of a file, to change in place.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Vec<u8>> {
        self.files.get_mut(path)
    }

    /// The bytes of a file.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Every path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl AtlasSource for MemorySource {
    fn read(&self, path: &AssetPath) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(self.files.get(path.as_str()).cloned())
    }

    fn size(&self, path: &AssetPath) -> Result<Option<u64>, SourceError> {
        Ok(self.files.get(path.as_str()).map(|bytes| bytes.len() as u64))
    }
}
