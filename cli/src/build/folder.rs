//! An atlas on disk: [`FolderSource`] (what `verify` reads) and the writes a build makes:
//! whole files through a temporary name, whole unit folders through a temporary folder and a
//! rename, so a build killed at any moment leaves complete files or none.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use microscope_core::atlas::{
    AssetPath, AtlasSource, Manifest, ManifestKind, SourceError, to_json_pretty,
};

use crate::cache::{sync_dir, write_atomic};

/// An atlas folder.
pub struct FolderSource {
    root: PathBuf,
}

impl FolderSource {
    /// The atlas rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where `path` lies on disk.
    pub fn file(&self, path: &AssetPath) -> PathBuf {
        self.root.join(path.as_str())
    }
}

impl AtlasSource for FolderSource {
    /// Reads at most the limit of the file's kind ([`ManifestKind::max_bytes_at`]): a larger
    /// file is an error, refused unread.
    fn read(&self, path: &AssetPath) -> Result<Option<Vec<u8>>, SourceError> {
        match read_at_most(&self.file(path), ManifestKind::max_bytes_at(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(SourceError(error.to_string())),
        }
    }

    fn size(&self, path: &AssetPath) -> Result<Option<u64>, SourceError> {
        match fs::metadata(self.file(path)) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(SourceError(error.to_string())),
        }
    }
}

/// The bytes of the file at `path` if it holds at most `limit` bytes. A larger file is an
/// [`io::ErrorKind::FileTooLarge`] error naming the file and the limit: refused from its
/// metadata before reading, and, should it grow meanwhile, after reading at most `limit + 1`
/// bytes. Anything but a regular file (a folder, a device) is refused too.
pub fn read_at_most(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let too_large = |size: String| {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("{} holds {size} bytes, more than the limit of {limit}", path.display()),
        )
    };
    let file = fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    if meta.len() > limit {
        return Err(too_large(meta.len().to_string()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large("more than that".into()));
    }
    Ok(bytes)
}

/// Writes a manifest at its own path under `root` (pretty, deterministic, atomic).
pub fn write_manifest<M: Manifest>(root: &Path, manifest: &M) -> Result<()> {
    let bytes = to_json_pretty(manifest)?;
    write_atomic(&root.join(manifest.path().as_str()), &bytes)
}

/// Writes `files` (names inside the folder, bytes) and `kept` (names of files of the folder as
/// it is, hard-linked, or copied where links are not possible) as the folder `dir`: into a
/// temporary sibling folder whose name starts with `.` (never an atlas path), then swapped into
/// place, replacing whatever was there. `files` should end with the manifest.
pub fn write_folder_atomic(dir: &Path, files: &[(String, Vec<u8>)], kept: &[String]) -> Result<()> {
    let parent = dir.parent().context("a unit folder has a parent")?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let temp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    if temp.exists() {
        fs::remove_dir_all(&temp).with_context(|| format!("cannot remove {}", temp.display()))?;
    }
    if let Err(error) = fill_folder(&temp, dir, files, kept) {
        // A full disk or a file size limit leaves no partial temporary folder behind.
        let _ = fs::remove_dir_all(&temp);
        return Err(error);
    }
    // The old folder moves aside before the new one moves in, and is removed last, so a
    // kill leaves the old unit or the new one (or both under `.` names, which the next
    // run removes).
    let old = parent.join(format!(".{name}.{}.old", std::process::id()));
    if dir.exists() {
        fs::rename(dir, &old)
            .with_context(|| format!("cannot move {} to {}", dir.display(), old.display()))?;
    }
    fs::rename(&temp, dir)
        .with_context(|| format!("cannot move {} to {}", temp.display(), dir.display()))?;
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    sync_dir(parent).with_context(|| format!("cannot flush {}", parent.display()))
}

/// Fills the temporary folder `temp` of `dir` with `files` and `kept` (see
/// [`write_folder_atomic`]), and flushes it.
fn fill_folder(
    temp: &Path,
    dir: &Path,
    files: &[(String, Vec<u8>)],
    kept: &[String],
) -> Result<()> {
    fs::create_dir_all(temp).with_context(|| format!("cannot create {}", temp.display()))?;
    for file in kept {
        let (from, to) = (dir.join(file), temp.join(file));
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to)
                .with_context(|| format!("cannot keep {} (link or copy)", from.display()))?;
        }
    }
    // Every file and the folder reach the disk before the rename publishes them, so a crash
    // after it cannot leave a unit folder of empty or short files.
    for (file, bytes) in files {
        let path = temp.join(file);
        fs::File::create(&path)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
            .with_context(|| format!("cannot write {}", dir.join(file).display()))?;
    }
    sync_dir(temp).with_context(|| format!("cannot flush {}", temp.display()))
}

/// Removes what killed runs left: folders and files whose names start with `.` directly
/// inside `dir` (temporary unit folders and files). Returns how many.
pub fn remove_leftovers(dir: &Path) -> Result<usize> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(0) };
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !file_name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // A unit moved aside by a write killed before the new folder moved in: put it back.
        if let Some(unit) = file_name
            .strip_suffix(".old")
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.rsplit_once('.'))
            .map(|(unit, _pid)| dir.join(unit))
            && !unit.exists()
        {
            fs::rename(&path, &unit)
                .with_context(|| format!("cannot move {} back", path.display()))?;
            continue;
        }
        if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) }
            .with_context(|| format!("cannot remove {}", path.display()))?;
        removed += 1;
    }
    Ok(removed)
}

/// Unit numbers with a folder under `units_dir` (any state), sorted.
pub fn unit_folders(units_dir: &Path) -> Vec<u32> {
    let Ok(entries) = fs::read_dir(units_dir) else { return Vec::new() };
    let mut units: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let unit: u32 = name.parse().ok()?;
            (unit.to_string() == name && entry.path().is_dir()).then_some(unit)
        })
        .collect();
    units.sort_unstable();
    units
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use microscope_core::atlas::limits::{MAX_ASSET_BYTES, MAX_LAYER_BYTES};

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("microscope-folder-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_are_bounded_by_the_limit() {
        let dir = scratch("bounded");
        let path = dir.join("f.bin");
        fs::write(&path, [7u8; 100]).unwrap();
        assert_eq!(read_at_most(&path, 100).unwrap().len(), 100);
        let err = read_at_most(&path, 99).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("f.bin") && err.to_string().contains("99"), "{err}");
        // A 1 TiB (sparse) file is refused from its metadata, without reading.
        let huge = fs::File::create(dir.join("huge.bin")).unwrap();
        huge.set_len(1 << 40).unwrap();
        let err = read_at_most(&dir.join("huge.bin"), 1 << 20).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(read_at_most(&dir, 1 << 20).is_err(), "a folder is not a file");
        assert_eq!(read_at_most(&dir.join("none"), 1).unwrap_err().kind(), io::ErrorKind::NotFound);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn atlas_files_are_refused_past_their_kind_limit() {
        let dir = scratch("source");
        let layer = "models/m/checkpoints/final/layers/l/layer.json";
        let image = "models/m/checkpoints/final/layers/l/units/0/channel.png";
        for (path, limit) in [(layer, MAX_LAYER_BYTES), (image, MAX_ASSET_BYTES)] {
            let file = dir.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::File::create(&file).unwrap().set_len(limit + 1).unwrap();
        }
        let source = FolderSource::new(&dir);
        for (path, limit) in [(layer, MAX_LAYER_BYTES), (image, MAX_ASSET_BYTES)] {
            let err = source.read(&AssetPath::new(path).unwrap()).unwrap_err();
            assert!(err.0.contains(path) && err.0.contains(&limit.to_string()), "{err}");
        }
        let missing = AssetPath::new("models/m/model.json").unwrap();
        assert_eq!(source.read(&missing).unwrap(), None);
        fs::remove_dir_all(dir).unwrap();
    }
}
