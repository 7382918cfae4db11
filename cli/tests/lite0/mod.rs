//! Shared by the CLI tests that build small atlases of the real EfficientNet-Lite0 (a layer or
//! two, a few units, a few render steps, the bundled photos): whether the cache holds what a
//! build needs, running `microscope`, scratch folders, and copying and comparing atlas trees.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_microscope");

/// A small build of `stem` units `units` with `techniques`, then `extra` arguments.
pub fn build_args(out: &Path, units: &str, techniques: &str, extra: &[&str]) -> Vec<String> {
    [
        "build",
        "--model",
        "efficientnet-lite0",
        "--layers",
        "stem",
        "--units",
        units,
        "--techniques",
        techniques,
        "--steps",
        "8",
        "--size",
        "24",
        "--fv-batch",
        "4",
        "--corpus",
        "bundled",
        "--crop-scales",
        "1",
        "--top-k",
        "4",
        "--quiet",
    ]
    .iter()
    .chain(extra)
    .map(|s| (*s).to_owned())
    .chain(["--out".to_owned(), out.display().to_string()])
    .collect()
}

/// Runs `microscope` with extra environment variables (and none of a job engine's but those).
pub fn run_with(args: &[String], env: &[(&str, String)]) -> Output {
    command(BIN, args, env).output().expect("run microscope")
}

/// `program` (`microscope`, or a wrapper that runs it) with `args`, extra environment variables
/// and none of a job engine's but those.
pub fn command(program: &str, args: &[String], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    for name in [
        "JOB_COMPLETION_INDEX",
        "MICROSCOPE_SHARD_COUNT",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_STEP",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `microscope`; fails the test if it fails; returns stdout and stderr.
pub fn ok(args: &[String]) -> String {
    ok_with(args, &[])
}

/// [`ok`] with extra environment variables.
pub fn ok_with(args: &[String], env: &[(&str, String)]) -> String {
    let output = run_with(args, env);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "microscope {args:?} failed:\n{text}");
    text
}

/// `microscope verify` finds nothing wrong.
pub fn verify_clean(atlas: &Path) {
    let report = ok(&["verify".to_owned(), atlas.display().to_string()]);
    assert!(report.contains("0 errors"), "{report}");
}

/// A fresh scratch folder for this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("microscope-lite0-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every file under `root` by relative path (dot-files, such as a lock, are not atlas files).
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("list").flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).expect("inside").display().to_string();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// `a` and `b` hold the same files with the same bytes.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let only_a: Vec<&String> = ta.keys().filter(|k| !tb.contains_key(*k)).collect();
    let only_b: Vec<&String> = tb.keys().filter(|k| !ta.contains_key(*k)).collect();
    assert!(
        only_a.is_empty() && only_b.is_empty(),
        "only in {}: {only_a:?}; only in {}: {only_b:?}",
        a.display(),
        b.display()
    );
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{path} differs");
    }
}

/// Whether the cache holds what a build needs (else the test skips, or fails when
/// `MICROSCOPE_REQUIRE_DATA=1`).
pub fn data_ready() -> bool {
    let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    });
    let needed = [
        "weights/efficientnet-lite0.safetensors",
        "labels/imagenet1k_label_to_names.json",
        "photos/index.json",
    ];
    let missing: Vec<&str> = needed.into_iter().filter(|p| !cache.join(p).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
        panic!(
            "MICROSCOPE_REQUIRE_DATA=1 but {missing:?} are missing (run `microscope fetch all`)"
        );
    }
    eprintln!("SKIPPED: {missing:?} missing from the cache (run `microscope fetch all`)");
    false
}

/// The folder of unit `unit` of lite0's `stem` in an atlas.
pub fn stem_unit(atlas: &Path, unit: u32) -> PathBuf {
    atlas.join(format!("models/efficientnet-lite0/checkpoints/final/layers/stem/units/{unit}"))
}

/// A unit's `unit.json`.
pub fn unit_json(atlas: &Path, unit: u32) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(stem_unit(atlas, unit).join("unit.json")).unwrap())
        .unwrap()
}

/// Copies the folder `from` into `to`, recursively (a fixture or a built atlas to a scratch
/// folder a test may change).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `microscope` with `args` until it halts at the start of its finish step
/// (`MICROSCOPE_HALT_AT=finish`, see `cli/src/build/halt.rs`), then kills it there, as a crash would; returns what it said on
/// stderr up to that point, and fails when it never got there.
pub fn kill_in_finish(args: &[String]) -> String {
    let mut child = command(BIN, args, &[("MICROSCOPE_HALT_AT", "finish".to_owned())])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.starts_with("halted at finish") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(said.contains("halted at finish"), "the build did not reach finish:\n{said}");
    said
}
