//! Live renders on the unit page: a unit the atlas has no image of is rendered in the browser
//! (EfficientNet-Lite0's real weights served as an atlas file), on WebGPU (SwiftShader, forced
//! with `?path=webgpu`) or on the CPU (chosen automatically when the browser has no adapter);
//! progress, a rising objective read back through the page, cancel, cancel on navigating away,
//! and the second visit served from the browser's cache without a job.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use microscope_e2e::test_atlas::{LITE0_LAYER, LITE0_MODEL, LITE0_WEIGHTS, lite0_for_test};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::Value as Json;

/// A render on SwiftShader (shader compilation included) or a long CPU render may take this.
const RENDER_TIMEOUT: Duration = Duration::from_secs(300);
/// A cancelled job must end (and the worker be idle) this soon: a job left running would
/// still have thousands of steps to go.
const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Steps of the renders that the tests stop: far more than could finish within the waits.
const LONG_STEPS: u32 = 8192;

fn atlas(test: &str) -> Option<PathBuf> {
    lite0_for_test(&format!("live-render-{test}")).unwrap_or_else(|e| panic!("{e}"))
}

fn serve(atlas: &PathBuf) -> StaticServer {
    StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", atlas))
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn launch(options: BrowserOptions, server: &StaticServer) -> Browser {
    Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url())
}

fn unit_path(unit: u32, query: &str) -> String {
    format!("/models/{LITE0_MODEL}/{LITE0_LAYER}/{unit}{query}")
}

/// The render panel as the page shows it.
#[derive(Debug, Clone, PartialEq)]
struct Panel {
    state: String,
    path: String,
    step: u64,
    start: Option<f64>,
    end: Option<f64>,
    /// Rendered images that have loaded, and their natural width.
    images: Vec<u64>,
    /// `data-renderer-jobs` of the document (absent until the worker was started).
    jobs: Option<String>,
    text: String,
}

async fn panel(browser: &Browser) -> Option<Panel> {
    let value = browser
        .execute(
            "const p = document.getElementById('live-render'); if (!p) return null;\
             const d = p.dataset;\
             const imgs = [...p.querySelectorAll('img.live-render-image')]\
               .map(i => i.complete ? i.naturalWidth : 0);\
             return { state: d.state, path: d.path, step: Number(d.step),\
               start: d.objectiveStart, end: d.objectiveEnd, images: imgs,\
               jobs: document.documentElement.dataset.rendererJobs ?? null, text: p.innerText };",
            Vec::new(),
        )
        .await
        .unwrap();
    if value.is_null() {
        return None;
    }
    let number = |key: &str| value[key].as_str().and_then(|s| s.parse::<f64>().ok());
    Some(Panel {
        state: value["state"].as_str().unwrap_or_default().to_owned(),
        path: value["path"].as_str().unwrap_or_default().to_owned(),
        step: value["step"].as_u64().unwrap_or(0),
        start: number("start"),
        end: number("end"),
        images: value["images"].as_array().unwrap().iter().filter_map(Json::as_u64).collect(),
        jobs: value["jobs"].as_str().map(str::to_owned),
        text: value["text"].as_str().unwrap_or_default().to_owned(),
    })
}

/// Waits until the panel satisfies `check`; a timeout names the last panel seen and saves a
/// screenshot.
async fn wait_panel(
    browser: &Browser,
    what: &str,
    timeout: Duration,
    check: impl Fn(&Panel) -> bool,
) -> Panel {
    let mut last = None;
    let outcome = browser
        .wait_until(what, timeout, async || {
            last = panel(browser).await;
            Ok(last.clone().filter(|p| check(p)))
        })
        .await;
    match outcome {
        Ok(found) => found,
        Err(error) => {
            let shot = browser.screenshot(&format!("live render timeout {what}")).await.unwrap();
            panic!("{error}\nlast panel: {last:?}\nscreenshot: {}", shot.display())
        }
    }
}

/// Whether the panel has come to rest (not idle, not running).
fn ended(panel: &Panel) -> bool {
    !matches!(panel.state.as_str(), "idle" | "running")
}

async fn open_unit(browser: &Browser, path: &str) {
    let info = page::open(browser, path, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "unit", "{}", info.text);
}

#[tokio::test]
async fn webgpu_render_of_a_missing_unit_rises_and_is_cached_for_the_next_visit() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas("webgpu") else { return };
    let server = serve(&atlas);
    let browser = launch(BrowserOptions::webgpu(), &server).await;
    let link = unit_path(3, "?path=webgpu&render=1&size=32&steps=4");
    open_unit(&browser, &link).await;

    // Progress shows while it runs.
    let running = wait_panel(&browser, "a step of the WebGPU render", RENDER_TIMEOUT, |p| {
        p.step >= 1 || ended(p)
    })
    .await;
    assert_eq!(running.path, "webgpu", "{running:?}");
    let done = wait_panel(&browser, "the end of the WebGPU render", RENDER_TIMEOUT, ended).await;
    let shot = browser.screenshot("live render webgpu done").await.unwrap();
    assert_eq!(done.state, "done", "{done:?}\nscreenshot: {}", shot.display());
    assert_eq!((done.path.as_str(), done.step), ("webgpu", 4), "{done:?}");
    assert!(done.text.contains("WebGPU on"), "the panel should say what ran: {}", done.text);
    let (start, end) = (done.start.unwrap(), done.end.unwrap());
    assert!(end > start, "the image should activate its unit more than the noise: {done:?}");
    let image = wait_panel(&browser, "the rendered image", PAGE_TIMEOUT, |p| {
        p.images.first().is_some_and(|w| *w > 0)
    })
    .await;
    assert_eq!(image.images, vec![32], "one 32 px image: {image:?}");
    eprintln!("live render on webgpu (SwiftShader): objective {start} -> {end}; {}", done.text);
    // The cache write is asynchronous: give it a moment to land before the next page load.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The same deep link again, in a new page load: from the cache, no job, no worker.
    server.clear_requests();
    open_unit(&browser, &link).await;
    let cached = wait_panel(&browser, "the cached render", PAGE_TIMEOUT, |p| {
        p.state != "idle" && p.images.first().is_some_and(|w| *w > 0)
    })
    .await;
    browser.screenshot("live render second visit cached").await.unwrap();
    assert_eq!(cached.state, "cached", "{cached:?}");
    assert_eq!(cached.jobs, None, "no job should have started: {cached:?}");
    assert_eq!(cached.images, vec![32]);
    assert_eq!((cached.start, cached.end), (done.start, done.end));
    let worker = server.requests_under("/microscope-renderer");
    assert!(worker.is_empty(), "the renderer was loaded on a cached visit: {worker:?}");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn cancel_stops_the_render_and_frees_the_worker() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas("cancel") else { return };
    let server = serve(&atlas);
    let browser = launch(BrowserOptions::without_webgpu(), &server).await;
    open_unit(&browser, &unit_path(5, &format!("?path=cpu&render=1&size=32&steps={LONG_STEPS}")))
        .await;
    wait_panel(&browser, "two steps of the long render", RENDER_TIMEOUT, |p| {
        p.state == "running" && p.step >= 2
    })
    .await;
    browser.click("#live-render-cancel", PAGE_TIMEOUT).await.unwrap();
    let cancelled = wait_panel(&browser, "the cancelled state", IDLE_TIMEOUT, ended).await;
    browser.screenshot("live render cancelled").await.unwrap();
    assert_eq!(cancelled.state, "cancelled", "{cancelled:?}");
    assert!(cancelled.step < u64::from(LONG_STEPS), "{cancelled:?}");
    wait_panel(&browser, "an idle worker", IDLE_TIMEOUT, |p| p.jobs.as_deref() == Some("0")).await;

    // The worker is free: another technique of the unit renders at once and completes.
    browser.click("a.tab[data-technique=\"negative\"]", PAGE_TIMEOUT).await.unwrap();
    // Before it starts, the panel tells what a first render downloads, from recorded sizes (the
    // site's renderer.json, the atlas's record of the float16 weights).
    let weights = std::fs::metadata(atlas.join(LITE0_WEIGHTS)).unwrap().len();
    let idle =
        wait_panel(&browser, "the negative panel and its download note", PAGE_TIMEOUT, |p| {
            p.state == "idle" && p.text.contains("The first render downloads about")
        })
        .await;
    let weights_text = format!("the model's weights ({:.1} MB)", weights as f64 / 1e6);
    assert!(idle.text.contains(&weights_text), "{weights_text} in {idle:?}");
    let started = Instant::now();
    browser.click("#live-render-start", PAGE_TIMEOUT).await.unwrap();
    let done = wait_panel(&browser, "the next render", RENDER_TIMEOUT, ended).await;
    browser.screenshot("live render after cancel").await.unwrap();
    assert_eq!((done.state.as_str(), done.path.as_str()), ("done", "cpu"), "{done:?}");
    assert_eq!(done.step, 64, "the default is 64 steps: {done:?}");
    eprintln!("after cancel: 64 steps at 64 px on the CPU in {:?}", started.elapsed());
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn navigating_away_cancels_the_render() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas("navigate") else { return };
    let server = serve(&atlas);
    let browser = launch(BrowserOptions::without_webgpu(), &server).await;
    open_unit(&browser, &unit_path(7, &format!("?path=cpu&render=1&size=32&steps={LONG_STEPS}")))
        .await;
    wait_panel(&browser, "two steps of the long render", RENDER_TIMEOUT, |p| {
        p.state == "running" && p.step >= 2
    })
    .await;
    // The next unit, through the page's own link (the app stays loaded, so does the worker).
    browser.click("#next-unit", PAGE_TIMEOUT).await.unwrap();
    browser
        .wait_for_attr("main[data-page=\"unit\"]", "data-unit", "8", PAGE_TIMEOUT)
        .await
        .unwrap();
    let idle = wait_panel(&browser, "the old job cancelled (worker idle)", IDLE_TIMEOUT, |p| {
        p.jobs.as_deref() == Some("0")
    })
    .await;
    assert_eq!(idle.state, "idle", "the new unit's panel waits for a click: {idle:?}");
    browser.click("#live-render-start", PAGE_TIMEOUT).await.unwrap();
    let first = wait_panel(&browser, "the new job's first step", Duration::from_secs(60), |p| {
        p.step >= 1 || ended(p)
    })
    .await;
    assert_eq!(first.path, "cpu", "no adapter: the CPU path: {first:?}");
    browser.screenshot("live render after navigating away").await.unwrap();
    browser.click("#live-render-cancel", PAGE_TIMEOUT).await.unwrap();
    wait_panel(&browser, "the second cancel", IDLE_TIMEOUT, |p| p.state == "cancelled").await;
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn without_an_adapter_the_cpu_renders_a_unit_that_lacks_its_image() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas("cpu") else { return };
    let server = serve(&atlas);
    let browser = launch(BrowserOptions::without_webgpu(), &server).await;
    // Unit 0 is in the atlas (a unit file with a label) but has no images.
    open_unit(&browser, &unit_path(0, "?render=1&size=32&steps=4")).await;
    let label = browser.text("#unit-label").await.unwrap();
    assert_eq!(label, "test unit without images");
    let lab = browser.attr("#open-in-lab", "href").await.unwrap().unwrap_or_default();
    assert!(lab.contains("objective=blocks.2%3A0&size=32&steps=4"), "the lab link: {lab}");
    let done = wait_panel(&browser, "the CPU render", RENDER_TIMEOUT, ended).await;
    let shot = browser.screenshot("live render cpu fallback").await.unwrap();
    assert_eq!(done.state, "done", "{done:?}\nscreenshot: {}", shot.display());
    assert_eq!((done.path.as_str(), done.step), ("cpu", 4), "{done:?}");
    assert!(done.text.contains("CPU in WebAssembly"), "{}", done.text);
    assert!(done.text.contains("no WebGPU adapter"), "{}", done.text);
    let image = wait_panel(&browser, "the rendered image", PAGE_TIMEOUT, |p| {
        p.images.first().is_some_and(|w| *w > 0)
    })
    .await;
    assert_eq!(image.images, vec![32]);
    let requests = server.requests_under(&format!("/atlas/{LITE0_WEIGHTS}"));
    assert_eq!(requests.len(), 1, "the weights come from the atlas once");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn a_layer_page_renders_its_deep_dream() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas("dream") else { return };
    let server = serve(&atlas);
    let browser = launch(BrowserOptions::without_webgpu(), &server).await;
    let info = page::open(
        &browser,
        &format!("/models/{LITE0_MODEL}/{LITE0_LAYER}?render=1&size=32&steps=4"),
        PAGE_TIMEOUT,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "layer", "{}", info.text);
    assert!(browser.exists("#deep-dream #live-render").await.unwrap(), "the DeepDream panel");
    let done = wait_panel(&browser, "the layer's DeepDream", RENDER_TIMEOUT, ended).await;
    let shot = browser.screenshot("live render layer deepdream").await.unwrap();
    assert_eq!(done.state, "done", "{done:?}\nscreenshot: {}", shot.display());
    assert_eq!((done.path.as_str(), done.step), ("cpu", 4), "{done:?}");
    let (start, end) = (done.start.unwrap(), done.end.unwrap());
    assert!(end > start, "the dream should excite the layer more than the noise: {done:?}");
    let image = wait_panel(&browser, "the dream image", PAGE_TIMEOUT, |p| {
        p.images.first().is_some_and(|w| *w > 0)
    })
    .await;
    assert_eq!(image.images, vec![32]);
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

/// Makes the page keep every worker it creates in `window.__workers` (the app creates its
/// renderer with `new Worker(...)`, looked up at call time).
const RECORD_WORKERS: &str = "window.__workers = [];\
    const Real = window.Worker;\
    window.Worker = class extends Real {\
      constructor(...args) { super(...args); window.__workers.push(this); }\
    };";

#[tokio::test]
async fn a_crashed_worker_fails_its_job_and_the_retry_starts_a_new_one() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas("crash") else { return };
    let server = serve(&atlas);
    let browser = launch(BrowserOptions::without_webgpu(), &server).await;
    open_unit(&browser, &unit_path(9, "?path=cpu&size=32&steps=24")).await;
    browser.execute(RECORD_WORKERS, Vec::new()).await.unwrap();
    browser.click("#live-render-start", PAGE_TIMEOUT).await.unwrap();
    wait_panel(&browser, "a step of the render", RENDER_TIMEOUT, |p| p.step >= 1 || ended(p)).await;

    // The worker dies mid-render. A real crash (a panic, memory exhausted) reaches the page as
    // an `error` event on the Worker object; this fires the same event.
    browser
        .execute(
            "window.__workers[0].dispatchEvent(new ErrorEvent('error',\
               { message: 'RuntimeError: unreachable executed' }));",
            Vec::new(),
        )
        .await
        .unwrap();
    let failed = wait_panel(&browser, "the failed render", IDLE_TIMEOUT, ended).await;
    browser.screenshot("live render worker crashed").await.unwrap();
    assert_eq!(failed.state, "failed", "{failed:?}");
    assert!(failed.text.contains("renderer stopped"), "the panel says why: {}", failed.text);
    assert_eq!(failed.jobs.as_deref(), Some("0"), "the crashed job is not left in flight");

    // Retry: a new worker renders to the end.
    browser.click("#live-render-retry", PAGE_TIMEOUT).await.unwrap();
    wait_panel(&browser, "the retry running", PAGE_TIMEOUT, |p| p.state == "running").await;
    let done = wait_panel(&browser, "the render in a new worker", RENDER_TIMEOUT, ended).await;
    assert_eq!((done.state.as_str(), done.step), ("done", 24), "{done:?}");
    let workers = browser
        .execute(
            "return [window.__workers.length, document.documentElement.dataset.rendererStarts];",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(workers, serde_json::json!([2, "2"]), "a second worker was started");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}
