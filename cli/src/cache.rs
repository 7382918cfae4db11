//! Where the CLI keeps what it downloads and converts (outside any git checkout), and atomic
//! writes so an interrupted run never leaves half a file behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The cache root: `$MICROSCOPE_CACHE`, else `$HOME/.cache/microscope`.
pub fn root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MICROSCOPE_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("neither MICROSCOPE_CACHE nor HOME is set")?;
    Ok(Path::new(&home).join(".cache").join("microscope"))
}

/// A sub-folder of the cache, created if missing.
pub fn dir(name: &str) -> Result<PathBuf> {
    let dir = root()?.join(name);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Flushes a folder's entries (new names, renames) to disk, where the platform can.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match fs::File::open(dir) {
        Ok(handle) => handle.sync_all(),
        // Some platforms cannot open a folder as a file; there is nothing to flush then.
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        Err(error) => Err(error),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so the
/// file is either absent or complete (the file and then its folder are flushed to disk).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = fs::File::create(&temp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .with_context(|| format!("cannot write {}", path.display()))
        .and_then(|()| {
            fs::rename(&temp, path)
                .with_context(|| format!("cannot move {} to {}", temp.display(), path.display()))
        });
    if let Err(error) = written {
        // A full disk or a file size limit leaves no partial temporary file behind.
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    // The rename itself reaches the disk only with its folder.
    sync_dir(folder).with_context(|| format!("cannot flush {}", folder.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_whole_file() {
        let dir =
            std::env::temp_dir().join(format!("microscope-cache-test-{}", std::process::id()));
        let path = dir.join("a.bin");
        write_atomic(&path, b"first version").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(leftovers.len(), 1, "temporary files left behind");
        fs::remove_dir_all(dir).unwrap();
    }
}
