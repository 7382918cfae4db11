//! `microscope merge` given shards it must not trust: a symbolic link inside a shard (to a
//! private file, or as a whole unit folder) is refused and nothing it points to is published;
//! files in a unit folder that its `unit.json` does not list are reported and left out. The
//! shard is the small atlas of core's test fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lite0;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lite0::copy_tree;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/atlas/v1.0");
const UNIT0: &str = "models/tiny/checkpoints/final/layers/conv1/units/0";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microscope-merge-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn merge(out: &Path, shard: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microscope"))
        .args(["merge", out.to_str().unwrap(), shard.to_str().unwrap()])
        .output()
        .unwrap()
}

/// The fixture atlas as a shard, with a private file beside it that no merge may publish.
fn make_shard(dir: &Path) -> (PathBuf, PathBuf) {
    let shard = dir.join("shard");
    copy_tree(Path::new(FIXTURE), &shard);
    let private = dir.join("private");
    fs::create_dir_all(&private).unwrap();
    fs::write(private.join("secret.txt"), "not for the atlas").unwrap();
    (shard, private)
}

#[test]
fn a_clean_shard_merges() {
    let dir = scratch("clean");
    let (shard, _) = make_shard(&dir);
    let out = dir.join("out");
    let result = merge(&out, &shard);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let merged = files(&out);
    assert!(merged.contains(&format!("{UNIT0}/channel.png")), "{merged:?}");
    assert!(merged.contains(&format!("{UNIT0}/unit.json")), "{merged:?}");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn symbolic_links_in_a_shard_are_refused_not_followed() {
    let dir = scratch("links");
    let (shard, private) = make_shard(&dir);
    // A listed asset replaced by a link to a private file.
    let asset = shard.join(UNIT0).join("top.png");
    fs::remove_file(&asset).unwrap();
    symlink(private.join("secret.txt"), &asset).unwrap();
    let out = dir.join("out");
    let result = merge(&out, &shard);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success(), "merged through a link: {stderr}");
    assert!(stderr.contains("symbolic link") && stderr.contains("top.png"), "{stderr}");
    assert!(!files(&out).iter().any(|f| f.ends_with("top.png")), "the link was copied");

    // A whole unit folder that is a link to a private folder.
    let (shard, private) = {
        let dir = dir.join("second");
        fs::create_dir_all(&dir).unwrap();
        make_shard(&dir)
    };
    let units = shard.join(UNIT0).parent().unwrap().to_path_buf();
    fs::write(private.join("unit.json"), fs::read(shard.join(UNIT0).join("unit.json")).unwrap())
        .unwrap();
    symlink(&private, units.join("7")).unwrap();
    let out = dir.join("out2");
    let result = merge(&out, &shard);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success(), "merged through a link: {stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(!files(&out).iter().any(|f| f.contains("secret")), "{:?}", files(&out));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn files_no_manifest_lists_are_reported_and_left_out() {
    let dir = scratch("strays");
    let (shard, _) = make_shard(&dir);
    let unit = shard.join(UNIT0);
    fs::write(unit.join("notes.txt"), "a stray").unwrap();
    fs::write(unit.join("diversity-9.png"), "not listed").unwrap();
    fs::create_dir_all(unit.join("extra")).unwrap();
    fs::write(unit.join("extra/more.png"), "nested").unwrap();
    let out = dir.join("out");
    let result = merge(&out, &shard);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let merged = files(&out);
    for stray in ["notes.txt", "diversity-9.png", "extra/more.png"] {
        assert!(!merged.contains(&format!("{UNIT0}/{stray}")), "{stray} was copied");
    }
    assert!(merged.contains(&format!("{UNIT0}/diversity-0.png")), "{merged:?}");
    for stray in ["notes.txt", "diversity-9.png", "extra"] {
        assert!(stderr.contains(&format!("{UNIT0}/{stray}")), "{stray} not reported: {stderr}");
    }
    assert!(stderr.contains("3 unlisted files skipped"), "{stderr}");

    // A unit that lists a file the shard lacks is an error, not a partial copy.
    let (shard, _) = {
        let dir = dir.join("second");
        fs::create_dir_all(&dir).unwrap();
        make_shard(&dir)
    };
    fs::remove_file(shard.join(UNIT0).join("negative.png")).unwrap();
    let out = dir.join("out2");
    let result = merge(&out, &shard);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success(), "{stderr}");
    assert!(stderr.contains("negative.png"), "{stderr}");
    let _ = fs::remove_dir_all(dir);
}
