//! An atlas on disk: [`FolderSource`] (what `verify` reads) and the writes a build makes:
//! whole files through a temporary name, whole unit folders through a temporary folder and a
//! rename, so a build killed at any moment leaves complete files or none.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use microscope_core::atlas::{AssetPath, AtlasSource, Manifest, SourceError, to_json_pretty};

use crate::cache::write_atomic;

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
    fn read(&self, path: &AssetPath) -> Result<Option<Vec<u8>>, SourceError> {
        match fs::read(self.file(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
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
    fs::create_dir_all(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    for file in kept {
        let (from, to) = (dir.join(file), temp.join(file));
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to)
                .with_context(|| format!("cannot keep {} (link or copy)", from.display()))?;
        }
    }
    for (file, bytes) in files {
        let path = temp.join(file);
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
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
    Ok(())
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
