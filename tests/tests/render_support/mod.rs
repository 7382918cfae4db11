//! Shared by the render tests (`render_check`, `render_memory`, `render_agreement`): an atlas
//! folder holding EfficientNet-Lite0's weights, and driving the diagnostics page's render
//! check (settings, one render to its end, what `#render-result` and the canvas show).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use microscope_e2e::{Browser, PAGE_TIMEOUT};
use serde_json::Value as Json;

/// Where the atlas keeps lite0's weights (what the render check fetches under `/atlas/`).
pub const WEIGHTS_IN_ATLAS: &str =
    "models/efficientnet-lite0/checkpoints/final/weights.safetensors";
/// The longest one render may take (WebGPU on SwiftShader is slow).
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(240);

/// The converted lite0 weights in the data cache (`$MICROSCOPE_CACHE`, else
/// `~/.cache/microscope`), or `None` (test skipped) when they are missing and data is not
/// required (`MICROSCOPE_REQUIRE_DATA=1` makes it a failure).
pub fn cached_weights() -> Option<PathBuf> {
    let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/microscope"))
    })?;
    let weights = cache.join("weights/efficientnet-lite0.safetensors");
    if !weights.exists() {
        assert!(
            std::env::var("MICROSCOPE_REQUIRE_DATA").as_deref() != Ok("1"),
            "MICROSCOPE_REQUIRE_DATA=1 but {} is missing; run `microscope fetch all`",
            weights.display()
        );
        eprintln!(
            "SKIPPED: no lite0 weights at {} (run `microscope fetch all`)",
            weights.display()
        );
        return None;
    }
    Some(weights)
}

/// A folder holding the converted lite0 weights where the atlas keeps them, or `None` (test
/// skipped, see [`cached_weights`]).
pub fn atlas_with_weights(test: &str) -> Option<PathBuf> {
    let weights = cached_weights()?;
    let dir =
        std::env::temp_dir().join(format!("microscope-render-check-{test}-{}", std::process::id()));
    let target = dir.join(WEIGHTS_IN_ATLAS);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    if !target.exists() {
        std::fs::copy(&weights, &target).unwrap();
    }
    Some(dir)
}

/// Sets an input's value as a user typing would (an `input` event).
pub async fn set_input(browser: &Browser, id: &str, value: &str) {
    browser
        .execute(
            "const e = document.getElementById(arguments[0]); e.value = arguments[1];\
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Json::from(id), Json::from(value)],
        )
        .await
        .unwrap();
}

/// Sets the render check's objective, steps, size and seed.
pub async fn set_render(browser: &Browser, objective: &str, steps: usize, size: u32, seed: u64) {
    set_input(browser, "render-objective", objective).await;
    set_input(browser, "render-steps", &steps.to_string()).await;
    set_input(browser, "render-size", &size.to_string()).await;
    set_input(browser, "render-seed", &seed.to_string()).await;
}

/// `#render-result`'s state and objectives.
pub async fn result(browser: &Browser) -> (String, Vec<f64>) {
    let state = browser.attr("#render-result", "data-state").await.unwrap().unwrap_or_default();
    let objectives =
        browser.attr("#render-result", "data-objectives").await.unwrap().unwrap_or_default();
    let values =
        objectives.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    (state, values)
}

/// A numeric data attribute of `#render-result` (`None` when absent or empty).
pub async fn number(browser: &Browser, attribute: &str) -> Option<f64> {
    browser.attr("#render-result", attribute).await.unwrap().and_then(|text| text.parse().ok())
}

/// Renders with the settings in the form on `path` (`cpu` or `webgpu`), waits for the end,
/// checks it is done on that path with `steps` objectives, and returns the status text and
/// the objectives.
pub async fn render_to_end(browser: &Browser, path: &str, steps: usize) -> (String, Vec<f64>) {
    let ended = number(browser, "data-ended").await.unwrap_or(0.0) as u64;
    set_input(browser, "render-steps", &steps.to_string()).await;
    browser.click(&format!("#render-{path}"), PAGE_TIMEOUT).await.unwrap();
    let next = (ended + 1).to_string();
    let waited = browser
        .wait_for_attr_where("#render-result", "data-ended", "render to end", RENDER_TIMEOUT, |n| {
            n == next
        })
        .await;
    if let Err(error) = waited {
        let shot = browser.screenshot(&format!("diagnostics render check {path}")).await.unwrap();
        panic!("{error}\nscreenshot: {}", shot.display());
    }
    let (state, objectives) = result(browser).await;
    let text = browser.text("#render-result").await.unwrap();
    if state != "done" {
        let shot = browser.screenshot(&format!("diagnostics render check {path}")).await.unwrap();
        panic!("state {state}: {text}\nscreenshot: {}", shot.display());
    }
    assert_eq!(browser.attr("#render-result", "data-path").await.unwrap().as_deref(), Some(path));
    assert_eq!(objectives.len(), steps, "{objectives:?}");
    (text, objectives)
}

/// The canvas's pixels: width, height and RGBA bytes.
pub async fn canvas_rgba(browser: &Browser) -> (usize, usize, Vec<u8>) {
    let value = browser
        .execute(
            "const c = document.getElementById('render-canvas');\
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;\
             return [c.width, c.height, Array.from(d)];",
            Vec::new(),
        )
        .await
        .unwrap();
    let parts = value.as_array().unwrap();
    let width = parts[0].as_u64().unwrap() as usize;
    let height = parts[1].as_u64().unwrap() as usize;
    let bytes = parts[2].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect();
    (width, height, bytes)
}
