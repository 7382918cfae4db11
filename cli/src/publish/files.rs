//! Writing the site's files: folder trees copied (hard links where the file system allows, so
//! publishing a large atlas costs no second copy) and generated files written.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// Files and bytes copied.
#[derive(Debug, Default, Clone, Copy)]
pub struct CopyCount {
    /// Files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl CopyCount {
    /// Adds another count.
    pub fn add(&mut self, other: Self) {
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

/// Copies the tree `from` into `to` (following symbolic links), leaving out the top-level
/// entries named in `skip`.
pub fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<CopyCount> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut count = CopyCount::default();
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry.with_context(|| format!("listing {}", from.display()))?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        let meta =
            fs::metadata(&source).with_context(|| format!("reading {}", source.display()))?;
        if meta.is_dir() {
            count.add(copy_tree(&source, &target, &[])?);
        } else {
            if fs::hard_link(&source, &target).is_err() {
                fs::copy(&source, &target).with_context(|| {
                    format!("copying {} to {}", source.display(), target.display())
                })?;
            }
            count.add(CopyCount { files: 1, bytes: meta.len() });
        }
    }
    Ok(count)
}

/// Writes `bytes` at the relative path `file` under `root`, creating folders. A file already
/// there is unlinked first: it may be a hard link to the viewer's own file (the site root's
/// `index.html`), which must not change.
pub fn write(root: &Path, file: &str, bytes: &[u8]) -> Result<()> {
    let path = root.join(file);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    match fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("replacing {}", path.display()));
        }
        _ => {}
    }
    fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}
