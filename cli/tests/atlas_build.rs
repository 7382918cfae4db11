//! `microscope build`, `verify` and `merge` end to end on a small slice of EfficientNet-Lite0
//! (two early layers, six units, a few render steps, the bundled photos): a build killed at
//! random moments and rerun equals an uninterrupted one byte for byte and verifies clean;
//! two shards merged equal a single build; `verify` catches a corrupted or missing asset.
//!
//! Needs the weights, labels and photos in the cache (`microscope fetch all`); without them
//! the tests are skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a
//! failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

mod lite0;

use lite0::{BIN, assert_same_tree, copy_tree, data_ready, ok, scratch, tree};

fn build_args(out: &Path) -> Vec<String> {
    [
        "build",
        "--model",
        "efficientnet-lite0",
        "--layers",
        "stem,blocks.0",
        "--units",
        "0-5",
        "--fv-units",
        "0-3",
        "--techniques",
        "all",
        "--steps",
        "12",
        "--size",
        "24",
        "--fv-batch",
        "3",
        "--corpus",
        "bundled",
        "--crop-scales",
        "1",
        "--top-k",
        "4",
        "--quiet",
        "--out",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(std::iter::once(out.display().to_string()))
    .collect()
}

fn run(args: &[String]) -> Output {
    Command::new(BIN).args(args).output().expect("run microscope")
}

/// The uninterrupted reference build, shared by the tests.
fn reference() -> &'static Path {
    static REFERENCE: OnceLock<PathBuf> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let out = scratch("reference");
        let started = Instant::now();
        ok(&build_args(&out));
        eprintln!("reference build: {:.1} s", started.elapsed().as_secs_f64());
        out
    })
}

/// A delay in `[lo, hi)` ms from the clock (printed, so a failure can be replayed).
fn random_delay(lo: u64, hi: u64) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(lo + u64::from(nanos) % (hi - lo))
}

#[test]
fn a_build_killed_twice_and_resumed_equals_an_uninterrupted_one() {
    if !data_ready() {
        return;
    }
    let reference = reference();
    let out = scratch("killed");
    // Each run is killed at a random moment after it has written a unit more than the
    // runs before it: mid-build, sometimes mid-write.
    let mut written = 0;
    for attempt in 0..2 {
        let mut child = Command::new(BIN)
            .args(build_args(&out))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        while count_units(&out) <= written && started.elapsed() < Duration::from_secs(120) {
            if child.try_wait().expect("poll").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let delay = random_delay(0, 250);
        std::thread::sleep(delay);
        let finished = child.try_wait().expect("poll").is_some();
        child.kill().ok();
        child.wait().expect("reap");
        written = count_units(&out);
        eprintln!(
            "kill {attempt} {delay:?} after the first new unit: {written} units complete (finished: {finished})"
        );
        assert!(!finished, "the build finished before the kill: make it longer");
    }
    assert!(written < 12, "the kills should leave work to resume");
    let text = ok(&build_args(&out));
    eprintln!("{text}");
    assert_same_tree(reference, &out);
    let verified = ok(&["verify".to_owned(), out.display().to_string()]);
    assert!(verified.contains("0 errors"), "{verified}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn two_shards_merged_equal_one_build() {
    if !data_ready() {
        return;
    }
    let reference = reference();
    let mut shards = Vec::new();
    for k in 0..2 {
        let dir = scratch(&format!("shard{k}"));
        let mut args = build_args(&dir);
        args.extend(["--shard".to_owned(), format!("{k}/2")]);
        ok(&args);
        shards.push(dir);
    }
    // A shard holds only its own units: even ones in shard 0.
    let shard0 = tree(&shards[0]);
    assert!(shard0.keys().any(|k| k.ends_with("stem/units/4/unit.json")));
    assert!(!shard0.keys().any(|k| k.ends_with("stem/units/3/unit.json")));
    let merged = scratch("merged");
    let mut args = vec!["merge".to_owned(), merged.display().to_string()];
    args.extend(shards.iter().map(|d| d.display().to_string()));
    ok(&args);
    assert_same_tree(reference, &merged);
    // Merging again is a no-op; a shard that disagrees is refused.
    ok(&args);
    assert_same_tree(reference, &merged);
    let unit = "models/efficientnet-lite0/checkpoints/final/layers/stem/units/1/unit.json";
    let mut bytes = std::fs::read(shards[1].join(unit)).expect("unit");
    bytes.extend_from_slice(b" ");
    std::fs::write(shards[1].join(unit), bytes).expect("write");
    let conflict =
        run(&["merge".to_owned(), merged.display().to_string(), shards[1].display().to_string()]);
    assert!(!conflict.status.success(), "a differing unit must be a conflict");
    assert!(String::from_utf8_lossy(&conflict.stderr).contains("conflict"));
    for dir in shards.iter().chain([&merged]) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn verify_catches_a_corrupted_or_missing_asset_and_inspect_counts_coverage() {
    if !data_ready() {
        return;
    }
    let reference = reference();
    let clean = ok(&["verify".to_owned(), reference.display().to_string()]);
    assert!(clean.contains("0 errors"), "{clean}");
    let inspect = ok(&["inspect".to_owned(), reference.display().to_string()]);
    // stem: 6 units built, 4 with feature visualizations, 6 with the rest.
    let stem = inspect.lines().find(|l| l.starts_with("stem ")).expect("stem row");
    let numbers: Vec<u64> =
        stem.split_whitespace().skip(1).map(|n| n.parse().expect("count")).collect();
    assert_eq!(numbers, vec![32, 6, 4, 4, 4, 4, 6, 6, 6, 6], "{inspect}");

    let unit_dir = "models/efficientnet-lite0/checkpoints/final/layers/blocks.0/units/2";
    let broken = scratch("corrupted");
    copy_tree(reference, &broken);
    let image = broken.join(unit_dir).join("channel.png");
    let mut bytes = std::fs::read(&image).expect("image");
    let last = bytes.len() - 20;
    bytes[last] ^= 0x55;
    std::fs::write(&image, bytes).expect("write");
    let report = run(&["verify".to_owned(), broken.display().to_string()]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(!report.status.success(), "{text}");
    assert!(text.contains("channel.png") && text.contains("sha256"), "{text}");

    // The top examples sheet, whichever image format the build chose for it.
    let top = std::fs::read_dir(broken.join(unit_dir))
        .expect("unit folder")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("top."))
        .expect("a top examples sheet");
    std::fs::remove_file(broken.join(unit_dir).join(&top)).expect("remove");
    let report = run(&["verify".to_owned(), "--fast".to_owned(), broken.display().to_string()]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(!report.status.success());
    assert!(text.contains(&top), "{text}");
    let _ = std::fs::remove_dir_all(&broken);
}

/// Complete units (those with a `unit.json`) under an atlas folder, while a build may be
/// moving folders: whatever cannot be listed is skipped.
fn count_units(root: &Path) -> usize {
    fn walk(dir: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| {
                let path = e.path();
                if path.is_dir() { walk(&path) } else { usize::from(e.file_name() == "unit.json") }
            })
            .sum()
    }
    walk(root)
}
