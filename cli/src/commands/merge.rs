//! `microscope merge OUT SHARD_DIR...`: joins shards of one build (each built with
//! `--shard K/N`) into one atlas. Unit folders are copied whole (a unit in two shards must be
//! byte-identical, else it is a conflict); shared files (`atlas.json`, `model.json`,
//! `photos/`) must agree; then every `layer.json` and sprite sheet is derived from the unit
//! files, exactly as a single build finishes, so the merge equals that build byte for byte.
//! The merged folder is locked (`.build.lock`) while the merge writes, as a build locks it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::build::finish::finish;
use crate::build::folder::write_folder_atomic;
use crate::build::lock::{FolderLock, live_holder};
use crate::cache::write_atomic;

/// Arguments of `microscope merge`.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// The merged atlas folder.
    out: PathBuf,
    /// Shard folders.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
}

/// The files of a folder (not recursive, no dot-files), by name.
fn files_of(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for entry in
        fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?.flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        let bytes = fs::read(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        out.insert(name, bytes);
    }
    Ok(out)
}

/// Copies `shard/rel` into `out/rel`, recursively. Counts unit folders copied.
fn merge_dir(shard: &Path, out: &Path, rel: &Path, copied: &mut usize) -> Result<()> {
    let dir = shard.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    let in_units = rel.file_name().is_some_and(|n| n == "units");
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = rel.join(&name);
        let path = entry.path();
        if path.is_dir() {
            if in_units {
                let files = files_of(&path)?;
                if !files.contains_key("unit.json") {
                    continue;
                }
                let target = out.join(&rel);
                if target.exists() {
                    if files_of(&target)? != files {
                        bail!("conflict: {} differs between shards", rel.display());
                    }
                } else {
                    let list: Vec<(String, Vec<u8>)> = files
                        .into_iter()
                        .filter(|(n, _)| n != "unit.json")
                        .chain(std::iter::once((
                            "unit.json".to_owned(),
                            fs::read(path.join("unit.json"))?,
                        )))
                        .collect();
                    write_folder_atomic(&target, &list, &[])?;
                    *copied += 1;
                }
            } else if name != "sheets" {
                merge_dir(shard, out, &rel, copied)?;
            }
        } else if name != "layer.json" {
            let bytes =
                fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let target = out.join(&rel);
            match fs::read(&target) {
                Ok(existing) if existing != bytes => {
                    bail!(
                        "shards disagree on {} (were they built with the same settings?)",
                        rel.display()
                    )
                }
                Ok(_) => {}
                Err(_) => write_atomic(&target, &bytes)?,
            }
        }
    }
    Ok(())
}

/// Merges and finishes.
pub fn run(args: &MergeArgs) -> Result<()> {
    let _lock = FolderLock::acquire(&args.out, "merge")?;
    let mut copied = 0;
    for shard in &args.shards {
        if !shard.join("atlas.json").exists() {
            bail!("{} is not an atlas (no atlas.json)", shard.display());
        }
        if let Some(pid) = live_holder(shard) {
            bail!(
                "{} is still being built (process {pid}); merge it when it is done",
                shard.display()
            );
        }
        merge_dir(shard, &args.out, Path::new(""), &mut copied)?;
    }
    let layers = finish(&args.out)?;
    eprintln!(
        "{}: {copied} units merged from {} shards, {layers} layer manifests derived",
        args.out.display(),
        args.shards.len()
    );
    Ok(())
}
