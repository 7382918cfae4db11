//! The renderer's real feature visualization, through the diagnostics page's render check:
//! EfficientNet-Lite0's weights served as an atlas file, a render in the worker on the CPU
//! path (wasm), progress, a rising objective, cancel, and the weights downloaded once (Cache
//! Storage) across page loads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod render_support;

use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use render_support::{
    RENDER_TIMEOUT, WEIGHTS_IN_ATLAS, atlas_with_weights, render_to_end, result, set_input,
};

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
    let (_server, browser) = open_diagnostics(microscope_e2e::paths::dist_dir(), &atlas).await;
    let (text, objectives) = render_to_end(&browser, "webgpu", 3).await;
    eprintln!("render check on webgpu (SwiftShader): {text} objectives {objectives:?}");
    assert!(objectives[2] > objectives[0], "the objective should rise: {objectives:?}");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

/// Steps per second of the render check's render in this browser, for BENCHMARKS.md: objective
/// `blocks.2:3` at 64 and 128 px on the CPU path (10 steps) and the WebGPU path (SwiftShader,
/// 3 steps), each after a one-step warm-up render at the same size (kernels compiled, model
/// loaded), timed by the worker (`data-elapsed-ms`: the steps only).
///
/// With `MICROSCOPE_BENCH_BASELINE_DIST` naming a second built site (say, one built before a
/// change), the CPU path of both sites is measured in the same run, alternating, and the ratio
/// printed: the side-by-side comparison BENCHMARKS.md asks for on a machine whose speed drifts.
///
/// ```sh
/// MICROSCOPE_REQUIRE_DATA=1 cargo test --release -p microscope-e2e --test render_check \
///   -- --ignored --nocapture bench
/// ```
#[tokio::test]
#[ignore = "a benchmark: minutes on SwiftShader; run it for BENCHMARKS.md"]
async fn bench_steps_per_second() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas_with_weights("bench") else { return };
    let mut sites = vec![("this", microscope_e2e::paths::dist_dir())];
    if let Some(baseline) = std::env::var_os(BASELINE_DIST_ENV).filter(|v| !v.is_empty()) {
        sites.push(("baseline", baseline.into()));
    }
    let mut open_sites = Vec::new();
    for (name, dist) in &sites {
        let (server, browser) = open_diagnostics(dist.clone(), &atlas).await;
        open_sites.push((*name, server, browser));
    }
    let paths: &[(&str, usize)] =
        if open_sites.len() > 1 { &[("cpu", 10)] } else { &[("cpu", 10), ("webgpu", 3)] };
    for &(path, steps) in paths {
        for size in [64, 128] {
            let mut per_step = Vec::new();
            // Two rounds, alternating sites, so drift in the machine's speed hits both alike.
            for round in 0..2 {
                for (name, _server, browser) in &open_sites {
                    render_support::set_render(browser, "blocks.2:3", 1, size, 0).await;
                    if round == 0 {
                        render_to_end(browser, path, 1).await;
                    }
                    render_to_end(browser, path, steps).await;
                    let ms = render_support::number(browser, "data-elapsed-ms").await.unwrap();
                    eprintln!(
                        "METRIC render_bench {name} {path} {size} px: {steps} steps in {ms:.0} \
                         ms, {:.3} steps/s, {:.0} ms/step",
                        steps as f64 * 1000.0 / ms,
                        ms / steps as f64
                    );
                    per_step.push((*name, ms / steps as f64));
                }
            }
            if open_sites.len() > 1 {
                let best = |site: &str| {
                    per_step
                        .iter()
                        .filter(|(name, _)| *name == site)
                        .map(|(_, ms)| *ms)
                        .fold(f64::INFINITY, f64::min)
                };
                let (this, baseline) = (best("this"), best("baseline"));
                eprintln!(
                    "METRIC render_bench_ratio {path} {size} px: this {this:.0} ms/step, \
                     baseline {baseline:.0} ms/step, speed-up {:.2}x",
                    baseline / this
                );
            }
        }
    }
    for (_, _server, browser) in open_sites {
        browser.close().await.unwrap();
    }
    std::fs::remove_dir_all(&atlas).ok();
}

/// Serves the site in `dist` with `atlas` at `/atlas/` and opens its diagnostics page in a
/// browser with a WebGPU adapter.
async fn open_diagnostics(
    dist: std::path::PathBuf,
    atlas: &std::path::Path,
) -> (StaticServer, Browser) {
    let server =
        StaticServer::start(ServerConfig::new(dist, Fallback::GithubPages).mount("/atlas/", atlas))
            .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, "/diagnostics", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "diagnostics");
    (server, browser)
}

/// Names a second built site for [`bench_steps_per_second`] to measure beside this one.
const BASELINE_DIST_ENV: &str = "MICROSCOPE_BENCH_BASELINE_DIST";
