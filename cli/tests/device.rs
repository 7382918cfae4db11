//! `--device` and `microscope devices` end to end:
//!
//! - `devices --json` lists the CPU first, usable, on every machine; with
//!   `MICROSCOPE_REQUIRE_VULKAN=1` (CI, where Mesa's lavapipe is installed) it must also list a
//!   Vulkan software adapter;
//! - a bad `--device` is refused before any work, and `MICROSCOPE_DEVICE` is read;
//! - the GPU code path on a Vulkan software adapter: a render of EfficientNet-Lite0 over
//!   several steps on it and on `--device cpu` from the same seed agree: the last objective
//!   printed within 1%, and the change the steps make to the unit's activation (measured on
//!   the CPU on the saved images) within 3%. `cli/tests/device_stages.rs` compares the same
//!   step stage by stage, to name the stage when this fails.
//!
//! The render needs the weights in the cache (`microscope fetch all`), like the other CLI
//! tests; without a Vulkan adapter it is skipped with a message unless
//! `MICROSCOPE_REQUIRE_VULKAN=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const MODEL: &str = "efficientnet-lite0";

fn cache_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    })
}

fn require_vulkan() -> bool {
    std::env::var_os("MICROSCOPE_REQUIRE_VULKAN").is_some_and(|v| v == "1")
}

fn microscope(args: &[&str], device_env: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_microscope"));
    command.env("MICROSCOPE_CACHE", cache_dir()).env_remove("MICROSCOPE_DEVICE").args(args);
    if let Some(value) = device_env {
        command.env("MICROSCOPE_DEVICE", value);
    }
    command.output().expect("cannot run microscope")
}

fn succeed(args: &[&str]) -> Output {
    let output = microscope(args, None);
    assert!(
        output.status.success(),
        "microscope {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn devices() -> Vec<Value> {
    let output = succeed(&["devices", "--json"]);
    serde_json::from_slice::<Value>(&output.stdout).unwrap().as_array().unwrap().clone()
}

/// The first usable Vulkan software adapter listed, if any.
fn vulkan_software(devices: &[Value]) -> Option<Value> {
    devices
        .iter()
        .find(|d| d["backend"] == "vulkan" && d["kind"] == "software" && d["refused"].is_null())
        .cloned()
}

#[test]
fn devices_json_lists_the_cpu_first_and_lavapipe_where_required() {
    let devices = devices();
    let cpu = devices.first().expect("no devices listed");
    assert_eq!(cpu["id"], "cpu", "{devices:#?}");
    assert_eq!(cpu["kind"], "cpu");
    assert_eq!(cpu["backend"], "flex");
    assert!(cpu["refused"].is_null());
    assert!(cpu["name"].as_str().is_some_and(|n| n.contains("threads")), "{cpu}");
    for device in &devices {
        for field in ["id", "backend", "name", "kind", "driver"] {
            assert!(device[field].is_string(), "{field} missing in {device}");
        }
        assert!(["cpu", "hardware", "software"].contains(&device["kind"].as_str().unwrap()));
    }
    if require_vulkan() {
        let adapter = vulkan_software(&devices).unwrap_or_else(|| {
            panic!(
                "MICROSCOPE_REQUIRE_VULKAN=1 but no usable Vulkan software adapter: {devices:#?}"
            )
        });
        assert!(adapter["id"].as_str().unwrap().starts_with("vulkan:"), "{adapter}");
    }
    // The human form lists the same ids.
    let text = String::from_utf8(succeed(&["devices"]).stdout).unwrap();
    for device in &devices {
        assert!(text.contains(device["id"].as_str().unwrap()), "{text}");
    }
}

#[test]
fn a_bad_device_is_refused_before_any_work() {
    let output = microscope(&["--device", "cuda", "devices"], None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown device `cuda`"));
    let output = microscope(&["devices"], Some("vulkan:x"));
    assert!(!output.status.success(), "MICROSCOPE_DEVICE is not read");
    assert!(String::from_utf8_lossy(&output.stderr).contains("not an adapter number"));
    // An adapter number past the list names how many there are.
    let output = microscope(&["--device", "vulkan:99", "smoke"], None);
    assert!(!output.status.success());
}

#[test]
fn the_chosen_device_is_printed_when_a_command_computes() {
    let output = succeed(&["--device", "cpu", "smoke"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("device: cpu (flex, CPU: "), "{stderr}");
}

/// Final objective printed by `microscope render` on stderr.
fn final_objective(stderr: &str) -> f32 {
    let (_, tail) = stderr.rsplit_once("final objective ").expect("no final objective printed");
    tail.split_whitespace().next().unwrap().parse().unwrap()
}

/// The unit's activation on `image`, measured on the CPU.
fn activation(image: &Path) -> f32 {
    let output = succeed(&[
        "--device",
        "cpu",
        "activation",
        "--model",
        MODEL,
        "--unit",
        "blocks.2:3",
        "--json",
        image.to_str().unwrap(),
    ]);
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    rows[0]["value"].as_f64().unwrap() as f32
}

#[test]
fn a_render_on_a_vulkan_software_adapter_agrees_with_the_cpu() {
    if !cache_dir().join(format!("weights/{MODEL}.safetensors")).exists() {
        assert!(
            std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_none_or(|v| v != "1"),
            "MICROSCOPE_REQUIRE_DATA=1 but the lite0 weights are missing"
        );
        eprintln!("SKIPPED: the lite0 weights are missing; run `microscope fetch all`");
        return;
    }
    let Some(adapter) = vulkan_software(&devices()) else {
        assert!(!require_vulkan(), "MICROSCOPE_REQUIRE_VULKAN=1 but no Vulkan software adapter");
        eprintln!("SKIPPED: no usable Vulkan software adapter (Debian: mesa-vulkan-drivers)");
        return;
    };
    let id = adapter["id"].as_str().unwrap();
    let dir = std::env::temp_dir().join(format!("microscope-device-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let render = |device: &str, steps: usize| {
        let out = dir.join(format!("{}-{steps}.png", device.replace(':', "-")));
        let steps = steps.to_string();
        let output = succeed(&[
            "--device",
            device,
            "render",
            "--model",
            MODEL,
            "--objective",
            "blocks.2:3",
            "--size",
            "48",
            "--steps",
            &steps,
            "--seed",
            "7",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(stderr.contains(&format!("device: {device} (")), "{stderr}");
        (final_objective(&stderr), activation(&out))
    };
    // The initial image (no step), then the same render on each device from the same seed:
    // lucid's random transforms, Adam, and on the GPU the objective read back in bursts.
    let steps = 6;
    let (_, start) = render("cpu", 0);
    let (cpu_objective, cpu) = render("cpu", steps);
    let (gpu_objective, gpu) = render(id, steps);
    // The objective before the last step: the forward pass on an image both devices made.
    assert!(
        (cpu_objective - gpu_objective).abs() <= 0.01 * cpu_objective.abs(),
        "objective before step {steps}: cpu {cpu_objective} vs {id} {gpu_objective}"
    );
    // The ascent: the steps raise the unit's activation by the same amount.
    let (cpu_change, gpu_change) = (cpu - start, gpu - start);
    assert!(cpu_change > 1.0, "the CPU render did not ascend: {start} -> {cpu}");
    assert!(
        (cpu_change - gpu_change).abs() <= 0.03 * cpu_change.abs(),
        "{steps} steps raise the activation by {cpu_change} on the CPU, {gpu_change} on {id}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
