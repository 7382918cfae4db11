//! Incremental builds on a small slice of the real EfficientNet-Lite0: adding a technique to a
//! folder builds exactly that technique (the corpus pass does not run again and the examples'
//! files stay the same files) and equals a build of both at once; changing a render setting
//! re-renders only the visualizations; more units build only the new ones; `verify` is clean
//! after each; and a second build into a folder that is being built refuses, as does a merge.
//!
//! Needs the weights, labels and photos in the cache (`microscope fetch all`); without them
//! the tests are skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a
//! failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod lite0;

use lite0::{
    BIN, assert_same_tree, build_args, data_ready, ok, run_with, scratch, stem_unit, unit_json,
    verify_clean,
};

/// The inode of a unit's file: the same file kept, not rewritten.
fn inode(atlas: &Path, unit: u32, file: &str) -> u64 {
    std::fs::metadata(stem_unit(atlas, unit).join(file)).unwrap().ino()
}

#[test]
fn adding_channel_to_an_examples_build_renders_only_the_channel_images() {
    if !data_ready() {
        return;
    }
    let atlas = scratch("examples-then-channel");
    let first = ok(&build_args(&atlas, "0-3", "examples", &[]));
    assert!(first.contains("4 units to build, 0 already complete"), "{first}");
    verify_clean(&atlas);
    let top_before = inode(&atlas, 2, "top.jpg");
    assert!(!stem_unit(&atlas, 2).join("channel.png").exists());

    // The case that used to answer "0 units to build, 4 already complete".
    let second = ok(&build_args(&atlas, "0-3", "examples,channel", &[]));
    assert!(
        second.contains("4 units to build, 0 already complete (to build: channel 4)"),
        "{second}"
    );
    assert!(!second.contains("corpus:"), "the examples are not computed again: {second}");
    for unit in 0..4 {
        assert!(stem_unit(&atlas, unit).join("channel.png").exists(), "unit {unit}");
        let manifest = unit_json(&atlas, unit);
        assert!(manifest["feature_visualizations"]["channel"]["image"].is_object());
        assert!(manifest["dataset_examples"]["top"].is_object(), "examples kept: {manifest}");
        let built = manifest["built"].as_object().unwrap();
        let parts: Vec<&str> = built.keys().map(String::as_str).collect();
        assert_eq!(parts, ["channel", "dataset_examples", "histogram"]);
    }
    assert_eq!(inode(&atlas, 2, "top.jpg"), top_before, "the examples' file is kept as it is");
    verify_clean(&atlas);

    // The same as building both at once, byte for byte.
    let at_once = scratch("examples-and-channel");
    ok(&build_args(&at_once, "0-3", "examples,channel", &[]));
    assert_same_tree(&at_once, &atlas);

    // Nothing left; more units build only the new ones.
    let again = ok(&build_args(&atlas, "0-3", "examples,channel", &[]));
    assert!(again.contains("0 units to build, 4 already complete"), "{again}");
    let more = ok(&build_args(&atlas, "0-5", "examples,channel", &[]));
    assert!(
        more.contains("2 units to build, 4 already complete (to build: channel 2, examples 2)"),
        "{more}"
    );
    verify_clean(&atlas);
    let inspect = ok(&["inspect".to_owned(), atlas.display().to_string()]);
    assert!(inspect.contains("  channel: 6 of 23032 units (0.0 %)"), "{inspect}");
    assert!(inspect.contains("  neuron: 0 of 23032 units"), "{inspect}");
    for dir in [&atlas, &at_once] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_steps_change_re_renders_only_the_visualizations() {
    if !data_ready() {
        return;
    }
    let atlas = scratch("steps-change");
    ok(&build_args(&atlas, "0-2", "channel,examples,circuits", &[]));
    let before = unit_json(&atlas, 1);
    let top_before = inode(&atlas, 1, "top.jpg");
    let channel_before = std::fs::read(stem_unit(&atlas, 1).join("channel.png")).unwrap();

    let mut args = build_args(&atlas, "0-2", "channel,examples,circuits", &[]);
    let steps = args.iter().position(|a| a == "--steps").unwrap() + 1;
    args[steps] = "10".to_owned();
    let rerun = ok(&args);
    assert!(
        rerun.contains("3 units to build, 0 already complete (to build: channel 3)"),
        "{rerun}"
    );
    assert!(!rerun.contains("corpus:"), "{rerun}");
    let after = unit_json(&atlas, 1);
    let channel_after = std::fs::read(stem_unit(&atlas, 1).join("channel.png")).unwrap();
    assert_ne!(channel_before, channel_after, "re-rendered");
    assert_eq!(after["feature_visualizations"]["channel"]["steps"], 10);
    assert_ne!(after["built"]["channel"], before["built"]["channel"]);
    for kept in ["dataset_examples", "histogram", "circuits"] {
        assert_eq!(after["built"][kept], before["built"][kept], "{kept}");
        assert_eq!(after[kept], before[kept], "{kept}");
    }
    assert_eq!(inode(&atlas, 1, "top.jpg"), top_before);
    let model: serde_json::Value = serde_json::from_slice(
        &std::fs::read(atlas.join("models/efficientnet-lite0/model.json")).unwrap(),
    )
    .unwrap();
    let settings = &model["provenance"]["build"]["settings"];
    assert_eq!(settings["fv"]["steps"], 10, "{settings}");
    assert_eq!(settings["examples"]["top_k"], 4, "{settings}");
    verify_clean(&atlas);

    // A run of one technique keeps what the others built, and their settings.
    let only_circuits = ok(&build_args(&atlas, "0-2", "circuits", &[]));
    assert!(only_circuits.contains("0 units to build, 3 already complete"), "{only_circuits}");
    assert!(stem_unit(&atlas, 1).join("channel.png").exists());
    let _ = std::fs::remove_dir_all(&atlas);
}

#[test]
fn a_second_build_into_a_folder_being_built_refuses() {
    if !data_ready() {
        return;
    }
    let atlas = scratch("locked");
    // A live process of this host holds the lock (this test's own): both refuse, writing
    // nothing.
    std::fs::create_dir_all(&atlas).unwrap();
    let lock = atlas.join(".build.lock");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    std::fs::write(&lock, format!("{}\n{}\n", std::process::id(), host.trim())).unwrap();
    let refused = run_with(&build_args(&atlas, "0-3", "examples", &[]), &[]);
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && text.contains("locked by another build"), "{text}");
    let merge = run_with(
        &["merge".to_owned(), atlas.display().to_string(), atlas.display().to_string()],
        &[],
    );
    assert!(!merge.status.success() && String::from_utf8_lossy(&merge.stderr).contains("locked"));
    let listed: Vec<_> =
        std::fs::read_dir(&atlas).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(listed, [".build.lock"], "nothing written");
    std::fs::remove_file(&lock).unwrap();

    // Two real builds: long enough to still be running when the second one starts.
    let mut args = build_args(&atlas, "0-31", "channel,neuron,negative", &[]);
    let steps = args.iter().position(|a| a == "--steps").unwrap() + 1;
    args[steps] = "24".to_owned();
    let mut first =
        Command::new(BIN).args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while !lock.exists() && started.elapsed() < Duration::from_secs(120) {
        assert!(first.try_wait().unwrap().is_none(), "the first build ended before locking");
        std::thread::sleep(Duration::from_millis(20));
    }
    let holder = std::fs::read_to_string(&lock).unwrap();
    assert!(holder.starts_with(&format!("{}\n", first.id())), "{holder}");

    let second = run_with(&build_args(&atlas, "0-3", "examples", &[]), &[]);
    let text = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{text}");
    assert!(
        text.contains("locked by another build or merge") && text.contains(&first.id().to_string()),
        "{text}"
    );
    let merge = run_with(
        &["merge".to_owned(), atlas.display().to_string(), atlas.display().to_string()],
        &[],
    );
    assert!(!merge.status.success());
    assert!(String::from_utf8_lossy(&merge.stderr).contains("locked"));
    assert!(first.try_wait().unwrap().is_none(), "refused while the first build still ran");

    let output = first.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!lock.exists(), "released");
    verify_clean(&atlas);

    // A lock left by a process that is gone is taken over.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(&lock, format!("{pid}\n{}\n", host.trim())).unwrap();
    let resumed = ok(&args);
    assert!(resumed.contains(&format!("taking over the lock of process {pid}")), "{resumed}");
    assert!(resumed.contains("0 units to build, 32 already complete"), "{resumed}");
    assert!(!lock.exists());
    let _ = std::fs::remove_dir_all(&atlas);
}

/// Whether the cache holds EfficientNet-Lite1's weights as well (else the test skips, or fails
/// when `MICROSCOPE_REQUIRE_DATA=1`).
fn lite1_ready() -> bool {
    let cache =
        std::env::var_os("MICROSCOPE_CACHE").map(std::path::PathBuf::from).unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
        });
    if cache.join("weights/efficientnet-lite1.safetensors").exists() {
        return true;
    }
    assert!(
        std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_none_or(|v| v != "1"),
        "MICROSCOPE_REQUIRE_DATA=1 but EfficientNet-Lite1 is missing (run `microscope fetch all`)"
    );
    eprintln!("SKIPPED: EfficientNet-Lite1 missing from the cache (run `microscope fetch all`)");
    false
}

/// `atlas.json`'s models as `(id, building)`.
fn listed(atlas: &Path) -> Vec<(String, bool)> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(atlas.join("atlas.json")).unwrap()).unwrap();
    index["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_owned(), m["building"].as_bool().unwrap_or(false)))
        .collect()
}

#[test]
fn a_second_model_joins_an_atlas_listed_as_building_until_done_leaving_the_first_as_it_is() {
    if !data_ready() || !lite1_ready() {
        return;
    }
    let atlas = scratch("second-model");
    ok(&build_args(&atlas, "0-3", "examples", &[]));
    assert_eq!(listed(&atlas), [("efficientnet-lite0".to_owned(), false)]);
    let lite0_dir = atlas.join("models/efficientnet-lite0");
    let lite0_before = lite0::tree(&lite0_dir);
    let stem_layer = lite0_dir.join("checkpoints/final/layers/stem/layer.json");
    let layer_inode = std::fs::metadata(&stem_layer).unwrap().ino();

    // Lite1, stopped in its finish step (and killed): listed, and marked as being built.
    let mut args = build_args(&atlas, "0-1", "examples", &[]);
    let model = args.iter().position(|a| a == "--model").unwrap() + 1;
    args[model] = "efficientnet-lite1".to_owned();
    lite0::kill_in_finish(&args);
    assert_eq!(
        listed(&atlas),
        [("efficientnet-lite0".to_owned(), false), ("efficientnet-lite1".to_owned(), true)]
    );

    // Resumed: finished, no longer marked; the first model's files are the same files.
    let resumed = ok(&args);
    assert!(resumed.contains("0 units to build, 2 already complete"), "{resumed}");
    assert_eq!(
        listed(&atlas),
        [("efficientnet-lite0".to_owned(), false), ("efficientnet-lite1".to_owned(), false)]
    );
    let index = std::fs::read_to_string(atlas.join("atlas.json")).unwrap();
    assert!(!index.contains("building"), "a finished atlas does not mention it: {index}");
    assert!(lite0::tree(&lite0_dir) == lite0_before, "the first model's files changed");
    assert_eq!(std::fs::metadata(&stem_layer).unwrap().ino(), layer_inode, "not rewritten");
    verify_clean(&atlas);
    let _ = std::fs::remove_dir_all(&atlas);
}
