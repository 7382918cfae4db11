//! The renderer's real feature visualization, through the diagnostics page's render check:
//! EfficientNet-Lite0's weights served as an atlas file, a render in the worker on the CPU
//! path (wasm), progress, a rising objective, cancel, and the weights downloaded once (Cache
//! Storage) across page loads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::Value as Json;

const WEIGHTS_IN_ATLAS: &str = "models/efficientnet-lite0/checkpoints/final/weights.safetensors";
const RENDER_TIMEOUT: Duration = Duration::from_secs(240);

/// A folder holding the converted lite0 weights where the atlas keeps them, or `None` (test
/// skipped) when they are not in the cache and data is not required.
fn atlas_with_weights(test: &str) -> Option<PathBuf> {
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
    let dir =
        std::env::temp_dir().join(format!("microscope-render-check-{test}-{}", std::process::id()));
    let target = dir.join(WEIGHTS_IN_ATLAS);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    if !target.exists() {
        std::fs::copy(&weights, &target).unwrap();
    }
    Some(dir)
}

async fn open(server: &StaticServer) -> Browser {
    let browser = Browser::launch(BrowserOptions::without_webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info =
        page::open(&browser, "/diagnostics", PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "diagnostics");
    browser
}

/// Sets an input's value as a user typing would (an `input` event).
async fn set_input(browser: &Browser, id: &str, value: &str) {
    browser
        .execute(
            "const e = document.getElementById(arguments[0]); e.value = arguments[1];\
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Json::from(id), Json::from(value)],
        )
        .await
        .unwrap();
}

/// `#render-result`'s state and objectives.
async fn result(browser: &Browser) -> (String, Vec<f64>) {
    let state = browser.attr("#render-result", "data-state").await.unwrap().unwrap_or_default();
    let objectives =
        browser.attr("#render-result", "data-objectives").await.unwrap().unwrap_or_default();
    let values =
        objectives.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    (state, values)
}

/// How many non-blank pixels the canvas shows (a rendered image is never all transparent).
async fn painted_pixels(browser: &Browser) -> u64 {
    let count = browser
        .execute(
            "const c = document.getElementById('render-canvas');\
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;\
             let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n;",
            Vec::new(),
        )
        .await
        .unwrap();
    count.as_u64().unwrap_or(0)
}

/// Renders `steps` steps on `path` (`cpu` or `webgpu`), waits for the end, checks it is done
/// on that path and returns the status text and the objectives.
async fn render_to_end(browser: &Browser, path: &str, steps: usize) -> (String, Vec<f64>) {
    set_input(browser, "render-steps", &steps.to_string()).await;
    browser.click(&format!("#render-{path}"), PAGE_TIMEOUT).await.unwrap();
    let state = browser
        .wait_for_attr_where("#render-result", "data-state", "render to end", RENDER_TIMEOUT, |s| {
            s == "done" || s == "failed"
        })
        .await;
    let shot = browser.screenshot(&format!("diagnostics render check {path}")).await.unwrap();
    let state = state.unwrap_or_else(|e| panic!("{e}\nscreenshot: {}", shot.display()));
    let text = browser.text("#render-result").await.unwrap();
    assert_eq!(state, "done", "{text}\nscreenshot: {}", shot.display());
    assert_eq!(browser.attr("#render-result", "data-path").await.unwrap().as_deref(), Some(path));
    let (_, objectives) = result(browser).await;
    assert_eq!(objectives.len(), steps, "{objectives:?}");
    (text, objectives)
}

#[tokio::test]
async fn cpu_render_raises_its_objective_cancels_and_reuses_cached_weights() {
    const TEST: &str = "cpu";
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas_with_weights(TEST) else { return };
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap_or_else(|e| panic!("{e}"));

    // A full render: 6 steps at 64 px, the objective rises.
    let browser = open(&server).await;
    let (text, objectives) = render_to_end(&browser, "cpu", 6).await;
    let (first, last) = (objectives[0], objectives[5]);
    assert!(last > first, "the objective should rise over 6 steps: {objectives:?}");
    eprintln!("render check on cpu: {text} objectives {objectives:?}");
    assert!(painted_pixels(&browser).await >= 64 * 64, "the canvas shows no image");

    // Cancel: a long render stops after a few steps, and the worker is free again.
    set_input(&browser, "render-steps", "500").await;
    browser.click("#render-cpu", PAGE_TIMEOUT).await.unwrap();
    browser
        .wait_until("two steps of the long render", RENDER_TIMEOUT, async || {
            let (state, objectives) = result(&browser).await;
            Ok((state == "running" && objectives.len() >= 2).then_some(()))
        })
        .await
        .unwrap();
    browser.click("#render-cancel", PAGE_TIMEOUT).await.unwrap();
    browser
        .wait_for_attr("#render-result", "data-state", "cancelled", RENDER_TIMEOUT)
        .await
        .unwrap();
    let (_, objectives) = result(&browser).await;
    assert!(
        objectives.len() < 20,
        "cancel should stop the render at once: {} steps ran",
        objectives.len()
    );
    set_input(&browser, "render-steps", "2").await;
    browser.click("#render-cpu", PAGE_TIMEOUT).await.unwrap();
    browser.wait_for_attr("#render-result", "data-state", "done", RENDER_TIMEOUT).await.unwrap();

    // The page again (a new worker, nothing in memory): the weights come from Cache Storage.
    let info = page::open(&browser, "/diagnostics", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "diagnostics");
    set_input(&browser, "render-steps", "2").await;
    browser.click("#render-cpu", PAGE_TIMEOUT).await.unwrap();
    browser.wait_for_attr("#render-result", "data-state", "done", RENDER_TIMEOUT).await.unwrap();
    browser.close().await.unwrap();
    let weights_path = format!("/atlas/{WEIGHTS_IN_ATLAS}");
    let fetched = server.requests_under(&weights_path).len();
    assert_eq!(
        fetched, 1,
        "renders in two page loads should download the weights once, not {fetched} times"
    );
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn webgpu_render_on_the_software_adapter_raises_its_objective() {
    const TEST: &str = "webgpu";
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas_with_weights(TEST) else { return };
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, "/diagnostics", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "diagnostics");
    let (text, objectives) = render_to_end(&browser, "webgpu", 3).await;
    eprintln!("render check on webgpu (SwiftShader): {text} objectives {objectives:?}");
    assert!(objectives[2] > objectives[0], "the objective should rise: {objectives:?}");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}
