//! The lab page: an objective typed in the URL is rendered in the browser (CPU path, chosen
//! because the browser has no WebGPU adapter); a mistyped or absurdly nested objective is shown
//! under the box without downloading the renderer, and an objective the model refuses comes
//! back from the worker as a typed failure shown in the same place.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use microscope_e2e::test_atlas::{LITE0_WEIGHTS, lite0_for_test};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::Value as Json;

const RENDER_TIMEOUT: Duration = Duration::from_secs(300);

/// `#live-render`'s state, path, step, objective at the start and end, and loaded images.
async fn panel(browser: &Browser) -> Json {
    browser
        .execute(
            "const p = document.getElementById('live-render'); if (!p) return null;\
             const d = p.dataset;\
             return { state: d.state, path: d.path, step: Number(d.step),\
               start: d.objectiveStart, end: d.objectiveEnd, text: p.innerText,\
               images: [...p.querySelectorAll('img.live-render-image')]\
                 .filter(i => i.complete && i.naturalWidth > 0).length };",
            Vec::new(),
        )
        .await
        .unwrap()
}

async fn wait_state(browser: &Browser, what: &str, done: impl Fn(&Json) -> bool) -> Json {
    let mut last = Json::Null;
    let outcome = browser
        .wait_until(what, RENDER_TIMEOUT, async || {
            last = panel(browser).await;
            Ok((!last.is_null() && done(&last)).then(|| last.clone()))
        })
        .await;
    outcome.unwrap_or_else(|e| panic!("{e}\nlast panel: {last}"))
}

/// Sets the lab's objective box to `text` as a user typing would, and presses Render.
async fn render_objective(browser: &Browser, text: &str) {
    browser
        .execute(
            "const e = document.getElementById('lab-objective'); e.value = arguments[0];\
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Json::from(text)],
        )
        .await
        .unwrap();
    browser.click("#lab-render", PAGE_TIMEOUT).await.unwrap();
}

/// Waits for the objective's error under the box and returns its text and `data-position`.
async fn objective_error(browser: &Browser, what: &str) -> (String, Option<String>) {
    let found = browser.wait_for("#lab-objective-error", RENDER_TIMEOUT).await;
    let shot = browser.screenshot(what).await.unwrap();
    found.unwrap_or_else(|e| panic!("{e}\nscreenshot: {}", shot.display()));
    let text = browser.text("#lab-objective-error").await.unwrap();
    let position = browser.attr("#lab-objective-error", "data-position").await.unwrap();
    (text, position)
}

/// Asserts that nothing of the renderer (its worker script, its wasm, the model's weights) was
/// requested since the log was last cleared.
fn assert_no_renderer_requests(server: &StaticServer, why: &str) {
    let worker = server.requests_under("/microscope-renderer");
    assert!(worker.is_empty(), "{why}: the renderer was downloaded: {worker:?}");
    let weights = server.requests_under(&format!("/atlas/{LITE0_WEIGHTS}"));
    assert!(weights.is_empty(), "{why}: the weights were downloaded: {weights:?}");
}

#[tokio::test]
async fn a_lab_link_renders_its_objective_and_a_typo_is_shown_inline() {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = lite0_for_test("lab").unwrap_or_else(|e| panic!("{e}")) else { return };
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(BrowserOptions::without_webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());

    // A typo in a link: the page's own parse shows it under the box, and no renderer starts
    // (nothing of it is downloaded).
    server.clear_requests();
    let typo =
        "/lab?model=efficientnet-lite0&objective=blocks.2%3A3%20%2B&size=32&steps=2&render=1";
    let info = page::open(&browser, typo, PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "lab", "{}", info.text);
    let objective = browser
        .execute("return document.getElementById('lab-objective').value;", Vec::new())
        .await
        .unwrap();
    assert_eq!(objective, "blocks.2:3 +", "the form shows the link's objective");
    let (text, position) = objective_error(&browser, "lab objective typo").await;
    assert!(text.contains("expected an objective") && text.contains("the end"), "{text}");
    assert_eq!(position.as_deref(), Some("12"), "the error says where: {text}");
    assert!(panel(&browser).await.is_null(), "no render panel for an objective with a mistake");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_no_renderer_requests(&server, "a typo");

    // A link nesting 20,000 deep: an error (not a crashed tab or worker), and the next render
    // works. Its settings (a batch of 2, 4 steps at 32 px) stay in the form.
    let deep = format!("{}blocks.2:3{}", "(".repeat(20_000), ")".repeat(20_000));
    let link = format!(
        "/lab?model=efficientnet-lite0&objective={deep}&size=32&steps=4&seed=2&batch=2&render=1"
    );
    server.clear_requests();
    let info = page::open(&browser, &link, PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "lab", "{}", info.text);
    let (text, _) = objective_error(&browser, "lab objective too deep").await;
    assert!(text.contains("levels of nesting"), "{text}");
    assert_no_renderer_requests(&server, "a deep objective");

    // A sum of two channels with a batch of 2.
    render_objective(&browser, "blocks.2:3 + 0.5 * blocks.2:5").await;
    let done =
        wait_state(&browser, "the lab render", |p| p["state"] != "running" && p["state"] != "idle")
            .await;
    let shot = browser.screenshot("lab render").await.unwrap();
    assert_eq!(done["state"], "done", "{done}\nscreenshot: {}", shot.display());
    assert_eq!((done["path"].as_str(), done["step"].as_u64()), (Some("cpu"), Some(4)), "{done}");
    let images =
        wait_state(&browser, "both images", |p| p["images"].as_u64().unwrap_or(0) >= 2).await;
    assert_eq!(images["images"], 2, "a batch of 2 gives 2 images: {images}");
    assert!(!browser.exists("#lab-objective-error").await.unwrap(), "the old error is gone");
    let url = browser.current_url().await.unwrap();
    assert!(url.contains("objective=blocks.2%3A3%20%2B%200.5%20*%20blocks.2%3A5"), "{url}");

    // A layer the model does not have: the renderer's typed objective failure appears under
    // the box too, and the panel says it failed.
    render_objective(&browser, "nosuch:1").await;
    let (text, position) = objective_error(&browser, "lab unknown layer").await;
    assert!(text.contains("nosuch"), "the error names the layer: {text}");
    assert_eq!(position, None, "a model's refusal has no position in the text");
    let failed = wait_state(&browser, "the failed panel", |p| p["state"] == "failed").await;
    assert_eq!(failed["state"], "failed", "{failed}");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}
