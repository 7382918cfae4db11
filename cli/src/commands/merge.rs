//! `microscope merge OUT SHARD_DIR...`: joins shards of one build (each built with
//! `--shard K/N`) into one atlas. Unit folders are copied with exactly the files their
//! `unit.json` lists (a unit in two shards must be byte-identical, else it is a conflict);
//! shared files (`atlas.json`, `model.json`, `photos/`) must agree; then every `layer.json` and
//! sprite sheet is derived from the unit files, exactly as a single build finishes, so the
//! merge equals that build byte for byte.
//!
//! A shard is read as untrusted: a symbolic link anywhere in it is refused (never followed,
//! so a link to a private folder cannot be published), every file is read with its kind's size
//! limit, and files in a unit folder that its manifest does not list are reported and left
//! out.
//! The merged folder is locked (`.build.lock`) while the merge writes, as a build locks it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use microscope_core::atlas::limits::MAX_UNIT_BYTES;
use microscope_core::atlas::{AssetPath, Manifest, ManifestKind, UnitManifest, parse};

use crate::build::finish::finish;
use crate::build::folder::{read_at_most, write_folder_atomic};
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

/// What a merge did besides copying: files it left out.
#[derive(Default)]
struct Tally {
    /// Unit folders copied.
    copied: usize,
    /// Files in unit folders that no manifest lists (shard-relative paths).
    strays: Vec<String>,
}

/// The entries of `dir`, sorted by name, with dot-files (leftovers of killed runs) skipped.
/// A symbolic link or anything but a file or folder is an error: a shard is never followed
/// outside itself.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().with_context(|| format!("cannot stat {}", path.display()))?;
        if kind.is_symlink() {
            bail!(
                "{} is a symbolic link: a shard must hold only regular files and folders (merge never follows links)",
                path.display()
            );
        }
        if !kind.is_file() && !kind.is_dir() {
            bail!("{} is neither a regular file nor a folder", path.display());
        }
        out.push((name, path, kind.is_dir()));
    }
    out.sort();
    Ok(out)
}

/// The bytes of the shard file at atlas path `rel`, within its kind's size limit.
fn read_atlas_file(path: &Path, rel: &Path) -> Result<Vec<u8>> {
    let text = rel.to_string_lossy();
    let asset = AssetPath::new(&text)
        .with_context(|| format!("{} is not a file an atlas may hold", path.display()))?;
    read_at_most(path, ManifestKind::max_bytes_at(&asset))
        .with_context(|| format!("cannot read {}", path.display()))
}

/// The files of the unit folder `dir` (atlas path `rel`) that make the unit: `unit.json` and
/// the files it lists inside the folder, by name; `None` for a folder without `unit.json` (a
/// unit a killed build left unfinished). Other entries are added to `strays`.
fn unit_files(
    dir: &Path,
    rel: &Path,
    strays: &mut Vec<String>,
) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
    let found = entries(dir)?;
    if !found.iter().any(|(name, _, is_dir)| name == "unit.json" && !is_dir) {
        return Ok(None);
    }
    let manifest_path = dir.join("unit.json");
    let manifest_bytes = read_at_most(&manifest_path, MAX_UNIT_BYTES)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest_rel = rel.join("unit.json");
    let manifest: UnitManifest = parse(&manifest_rel.to_string_lossy(), &manifest_bytes)?;
    let prefix = format!("{}/", rel.to_string_lossy());
    let listed: Vec<String> = manifest
        .assets()
        .iter()
        .filter_map(|listed| listed.asset.path.as_str().strip_prefix(&prefix))
        .filter(|name| !name.contains('/'))
        .map(str::to_owned)
        .collect();
    let mut files = BTreeMap::new();
    for (name, path, is_dir) in found {
        if name == "unit.json" {
            continue;
        }
        if is_dir || !listed.contains(&name) {
            strays.push(rel.join(&name).display().to_string());
            continue;
        }
        let bytes = read_atlas_file(&path, &rel.join(&name))?;
        files.insert(name, bytes);
    }
    if let Some(missing) = listed.iter().find(|name| !files.contains_key(*name)) {
        bail!("{} lists {missing}, which the shard does not have", manifest_path.display());
    }
    // Last, so that a folder is complete once its manifest is there.
    files.insert("unit.json".to_owned(), manifest_bytes);
    Ok(Some(files))
}

/// Copies `shard/rel` into `out/rel`, recursively.
fn merge_dir(shard: &Path, out: &Path, rel: &Path, tally: &mut Tally) -> Result<()> {
    let dir = shard.join(rel);
    let in_units = rel.file_name().is_some_and(|n| n == "units");
    for (name, path, is_dir) in entries(&dir)? {
        let rel = rel.join(&name);
        if is_dir {
            if in_units {
                let Some(files) = unit_files(&path, &rel, &mut tally.strays)? else { continue };
                let target = out.join(&rel);
                if target.exists() {
                    if unit_files(&target, &rel, &mut Vec::new())? != Some(files) {
                        bail!("conflict: {} differs between shards", rel.display());
                    }
                } else {
                    let list: Vec<(String, Vec<u8>)> = files.into_iter().collect();
                    // `unit.json` last.
                    let (manifest, assets): (Vec<_>, Vec<_>) =
                        list.into_iter().partition(|(n, _)| n == "unit.json");
                    let ordered: Vec<_> = assets.into_iter().chain(manifest).collect();
                    write_folder_atomic(&target, &ordered, &[])?;
                    tally.copied += 1;
                }
            } else if name != "sheets" {
                merge_dir(shard, out, &rel, tally)?;
            }
        } else if name != "layer.json" {
            let bytes = read_atlas_file(&path, &rel)?;
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
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let _lock = FolderLock::acquire(&args.out, "merge")?;
    let mut tally = Tally::default();
    for shard in &args.shards {
        if !shard.join("atlas.json").is_file() {
            bail!("{} is not an atlas (no atlas.json)", shard.display());
        }
        if let Some(pid) = live_holder(shard) {
            bail!(
                "{} is still being built (process {pid}); merge it when it is done",
                shard.display()
            );
        }
        let before = tally.strays.len();
        merge_dir(shard, &args.out, Path::new(""), &mut tally)?;
        for stray in tally.strays.iter().skip(before) {
            eprintln!("{}: skipped {stray}: no manifest lists it", shard.display());
        }
    }
    let layers = finish(&args.out, None)?;
    eprintln!(
        "{}: {} units merged from {} shards, {layers} layer manifests derived, {} unlisted files skipped",
        args.out.display(),
        tally.copied,
        args.shards.len(),
        tally.strays.len()
    );
    Ok(())
}
