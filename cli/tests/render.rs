//! `microscope render` and `microscope activation` end to end on EfficientNet-Lite0:
//!
//! - renders of units sampled across the network's depth, optimised as ONE batch, activate
//!   their own unit more than every bundled photograph does, measured the same way for both
//!   (`microscope activation` on the saved PNG and on the photos);
//! - the Fourier parameterization gives images with far less high-frequency energy than the
//!   pixel one (lucid-like structure, not noise);
//! - the contact-sheet command writes a labelled grid; objective errors are reported before
//!   any rendering.
//!
//! Needs the weights and photos in the cache (`microscope fetch all`); without them the tests
//! are skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use microscope_core::fv::image::RenderedImage;
use microscope_core::fv::spectrum::high_frequency_fraction;
use serde_json::Value;

const MODEL: &str = "efficientnet-lite0";

fn cache_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/microscope")
    })
}

/// The cache when it has the lite0 weights and the photos; `None` (with a message) otherwise.
fn cache_with_data() -> Option<PathBuf> {
    let cache = cache_dir();
    let missing = [
        ("the lite0 weights", cache.join("weights/efficientnet-lite0.safetensors")),
        ("the photos", cache.join("photos/index.json")),
    ]
    .into_iter()
    .find(|(_, path)| !path.exists());
    if let Some((what, path)) = missing {
        assert!(
            std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_none_or(|v| v != "1"),
            "MICROSCOPE_REQUIRE_DATA=1 but {what} are missing ({}); run `microscope fetch all`",
            path.display()
        );
        eprintln!("SKIPPED: {what} are missing ({}); run `microscope fetch all`", path.display());
        return None;
    }
    Some(cache)
}

fn microscope(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microscope"))
        .env("MICROSCOPE_CACHE", cache)
        .args(args)
        .output()
        .expect("cannot run microscope")
}

fn succeed(cache: &Path, args: &[&str]) -> String {
    let output = microscope(cache, args);
    assert!(
        output.status.success(),
        "microscope {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microscope-render-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn photos(cache: &Path) -> Vec<PathBuf> {
    let mut photos: Vec<PathBuf> = std::fs::read_dir(cache.join("photos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg" || e == "jpeg"))
        .collect();
    photos.sort();
    assert!(!photos.is_empty(), "no photos in {}", cache.join("photos").display());
    photos
}

/// `microscope activation --json` values, in the order of `images`.
fn activations(cache: &Path, unit: &str, images: &[PathBuf]) -> Vec<f64> {
    let mut args = vec!["activation", "--model", MODEL, "--unit", unit, "--json"];
    args.extend(images.iter().map(|p| p.to_str().unwrap()));
    let json: Value = serde_json::from_str(&succeed(cache, &args)).unwrap();
    json.as_array().unwrap().iter().map(|row| row["value"].as_f64().unwrap()).collect()
}

#[test]
fn renders_across_the_depth_beat_every_photo_on_their_own_unit() {
    let Some(cache) = cache_with_data() else { return };
    let dir = scratch("depth");
    // Early, middle and late units, one batch element each.
    let units = ["blocks.1.expand:7", "blocks.8:50", "head:100"];
    let objective =
        units.iter().enumerate().map(|(i, u)| format!("{u}@{i}")).collect::<Vec<_>>().join(" + ");
    let start = Instant::now();
    let tiles = dir.join("tiles");
    succeed(
        &cache,
        &[
            "render",
            "--model",
            MODEL,
            "--objective",
            &objective,
            "--batch",
            "3",
            "--steps",
            "512",
            "--quiet",
            "--tiles",
            tiles.to_str().unwrap(),
            "--out",
            dir.join("depth.png").to_str().unwrap(),
        ],
    );
    let render_s = start.elapsed().as_secs_f64();
    let photos = photos(&cache);
    for (i, unit) in units.iter().enumerate() {
        let mut images = vec![tiles.join(format!("{i}.png"))];
        images.extend(photos.iter().cloned());
        let values = activations(&cache, unit, &images);
        let (render, photo_values) = values.split_first().unwrap();
        let (best, best_photo) = photo_values
            .iter()
            .zip(&photos)
            .max_by(|a, b| a.0.total_cmp(b.0))
            .map(|(v, p)| (*v, p.file_name().unwrap().to_string_lossy().into_owned()))
            .unwrap();
        eprintln!(
            "{unit}: render {render:.3}, best of {} photos {best:.3} ({best_photo}); render is {:.2}x and +{:.3} above",
            photos.len(),
            render / best,
            render - best
        );
        assert!(
            *render > best,
            "{unit}: the render ({render}) does not beat {best_photo} ({best})"
        );
    }
    eprintln!(
        "wall time: one 512-step batch of {} units in {render_s:.0} s, whole test {:.0} s",
        units.len(),
        start.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn decode(path: &Path) -> RenderedImage {
    let rgb = image::open(path).unwrap().to_rgb8();
    RenderedImage::from_rgb_image(&rgb, 3)
}

#[test]
fn fourier_renders_have_less_high_frequency_noise_than_pixel_renders() {
    let Some(cache) = cache_with_data() else { return };
    let dir = scratch("fourier");
    let mut fractions = Vec::new();
    for (name, extra) in [("fourier", None), ("pixel", Some("--pixel"))] {
        let out = dir.join(format!("{name}.png"));
        let mut args = vec![
            "render",
            "--model",
            MODEL,
            "--objective",
            "blocks.6:10",
            "--steps",
            "192",
            "--quiet",
        ];
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        succeed(&cache, &args);
        // Above a quarter cycle per pixel (half of Nyquist).
        fractions.push(high_frequency_fraction(&decode(&out), 0.25));
    }
    let [fourier, pixel] = [fractions[0], fractions[1]];
    eprintln!(
        "high-frequency energy fraction (> 0.25 cycles/px): Fourier {fourier:.3}, pixel {pixel:.3}"
    );
    assert!(fourier < 0.5 * pixel, "Fourier {fourier} is not well below pixel {pixel}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn contact_sheet_command_writes_a_labelled_grid() {
    let Some(cache) = cache_with_data() else { return };
    let dir = scratch("sheet");
    let out = dir.join("sheet.png");
    succeed(
        &cache,
        &[
            "render",
            "--model",
            MODEL,
            "--layer",
            "blocks.1",
            "--units",
            "0..4",
            "--steps",
            "2",
            "--size",
            "32",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let sheet = image::open(&out).unwrap().to_rgb8();
    // Two columns of 32 px tiles with 4 px gaps, each row with a 14 px label strip.
    assert_eq!(sheet.dimensions(), (4 + 2 * 36, 4 + 2 * (32 + 14 + 4)));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn objective_errors_are_reported_before_rendering() {
    let Some(cache) = cache_with_data() else { return };
    let out = std::env::temp_dir().join("microscope-never-written.png");
    let fail = |objective: &str| {
        let output = microscope(
            &cache,
            &["render", "--model", MODEL, "--objective", objective, "--out", out.to_str().unwrap()],
        );
        let error = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(1), "an error, not an abort: {error}");
        error
    };
    assert!(fail("blocks.8:").contains("at character 10: expected a non-negative integer"));
    let error = fail("blocks.88:1");
    assert!(
        error.contains("has no layer `blocks.88`") && error.contains("did you mean `blocks.8`?"),
        "{error}"
    );
    assert!(fail("blocks.8:5000").contains("unit 5000 is out of range (0..112)"));
    assert!(fail("diversity(blocks.8)").contains("render a batch of 2 or more"));
    // Nested 20,000 deep: refused by the parser's depth limit, not a stack overflow.
    let deep = format!("{}blocks.8:1{}", "(".repeat(20_000), ")".repeat(20_000));
    let error = fail(&deep);
    assert!(error.contains("levels of nesting") && !error.contains("overflow"), "{error}");
    assert!(error.contains("(40010 characters)") && !error.contains(&deep), "quoted cut short");
    assert!(!out.exists());
}
