//! The screenshot folder: created on first use, announced once per run on stderr.
//!
//! The announcement bypasses the test harness's output capture, so it appears in CI logs
//! whether or not the tests pass.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::paths;

/// The screenshot folder ([`paths::screenshots_dir`]), created if needed and printed once.
pub fn dir() -> Result<PathBuf> {
    static ANNOUNCED: OnceLock<PathBuf> = OnceLock::new();
    let dir = paths::screenshots_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating the screenshot folder {}", dir.display()), e))?;
    ANNOUNCED.get_or_init(|| {
        let shown = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        // Written to the process's stderr directly: `eprintln!` would be captured by libtest.
        let _ = writeln!(std::io::stderr(), "microscope-e2e: screenshots in {}", shown.display());
        shown
    });
    Ok(dir)
}

/// The path of the screenshot called `name` (any text: characters that do not belong in a file
/// name become `_`, and `.png` is appended).
pub fn path(name: &str) -> Result<PathBuf> {
    Ok(dir()?.join(format!("{}.png", file_stem(name))))
}

/// `name` reduced to `[A-Za-z0-9._-]`, with runs of anything else collapsed into one `_`.
pub fn file_stem(name: &str) -> String {
    let mut stem = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            stem.push(c);
        } else if !stem.ends_with('_') {
            stem.push('_');
        }
    }
    let stem = stem.trim_matches('_');
    if stem.is_empty() { "screenshot".to_owned() } else { stem.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn names_become_file_stems() {
        assert_eq!(file_stem("spa /models/x/y/3"), "spa_models_x_y_3");
        assert_eq!(file_stem("github-pages: /"), "github-pages");
        assert_eq!(file_stem("///"), "screenshot");
    }
}
