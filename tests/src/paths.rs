//! Where things are: the workspace, the built site, and the folder that receives screenshots.
//!
//! Every location has an environment override so CI (or a developer) can point the tests
//! elsewhere without editing code.

use std::path::{Path, PathBuf};

/// Environment variable naming the built site to test (default `<workspace>/dist`).
pub const DIST_ENV: &str = "MICROSCOPE_DIST";
/// Environment variable naming the screenshot folder
/// (default `<CARGO_TARGET_DIR or workspace/target>/e2e-screenshots`).
pub const SCREENSHOTS_ENV: &str = "MICROSCOPE_SCREENSHOTS";

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// The built site: `$MICROSCOPE_DIST` if set, else `<workspace>/dist` (Trunk's output).
pub fn dist_dir() -> PathBuf {
    env_path(DIST_ENV).unwrap_or_else(|| workspace_root().join("dist"))
}

/// Environment variable naming the site built for a sub-path (default
/// `<target>/dist-sub-path`).
pub const SUB_PATH_DIST_ENV: &str = "MICROSCOPE_SUB_PATH_DIST";
/// The sub-path that site is built for, as a GitHub Pages project site would live.
pub const SUB_PATH: &str = "/microscope/sub/";

/// The site built for [`SUB_PATH`]: `$MICROSCOPE_SUB_PATH_DIST` if set, else
/// `<target>/dist-sub-path`, where `scripts/test.sh` builds it with
/// `trunk build --release --public-url /microscope/sub/ --dist <that folder>`.
pub fn sub_path_dist_dir() -> PathBuf {
    env_path(SUB_PATH_DIST_ENV).unwrap_or_else(|| target_dir().join("dist-sub-path"))
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    env_path("CARGO_TARGET_DIR").map_or_else(
        || workspace_root().join("target"),
        |dir| {
            if dir.is_absolute() { dir } else { workspace_root().join(dir) }
        },
    )
}

/// The screenshot folder: `$MICROSCOPE_SCREENSHOTS` if set, else `<target>/e2e-screenshots`.
pub fn screenshots_dir() -> PathBuf {
    env_path(SCREENSHOTS_ENV).unwrap_or_else(|| target_dir().join("e2e-screenshots"))
}

/// A non-empty environment variable as a path.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from)
}
