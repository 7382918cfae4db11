//! The lab page: an objective typed in the URL is rendered in the browser (CPU path, chosen
//! because the browser has no WebGPU adapter), and a mistyped objective is shown under the box.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use microscope_e2e::test_atlas::lite0_for_test;
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

    // A sum of two channels with a batch of 2, from the link alone.
    let link = "/lab?model=efficientnet-lite0&objective=blocks.2%3A3%20%2B%200.5%20*%20blocks.2%3A5\
                &size=32&steps=4&seed=2&batch=2&render=1";
    let info = page::open(&browser, link, PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "lab", "{}", info.text);
    let objective = browser
        .execute("return document.getElementById('lab-objective').value;", Vec::new())
        .await
        .unwrap();
    assert_eq!(objective, "blocks.2:3 + 0.5 * blocks.2:5", "the form shows the link's objective");
    let done =
        wait_state(&browser, "the lab render", |p| p["state"] != "running" && p["state"] != "idle")
            .await;
    let shot = browser.screenshot("lab render").await.unwrap();
    assert_eq!(done["state"], "done", "{done}\nscreenshot: {}", shot.display());
    assert_eq!((done["path"].as_str(), done["step"].as_u64()), (Some("cpu"), Some(4)), "{done}");
    let images =
        wait_state(&browser, "both images", |p| p["images"].as_u64().unwrap_or(0) >= 2).await;
    assert_eq!(images["images"], 2, "a batch of 2 gives 2 images: {images}");

    // A typo: the renderer's parse error appears under the box, and the URL carries it.
    browser
        .execute(
            "const e = document.getElementById('lab-objective'); e.value = 'blocks.2:3 +';\
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            Vec::new(),
        )
        .await
        .unwrap();
    browser.click("#lab-render", PAGE_TIMEOUT).await.unwrap();
    let error = browser.wait_for("#lab-objective-error", RENDER_TIMEOUT).await;
    let shot = browser.screenshot("lab objective error").await.unwrap();
    error.unwrap_or_else(|e| panic!("{e}\nscreenshot: {}", shot.display()));
    let text = browser.text("#lab-objective-error").await.unwrap();
    assert!(!text.is_empty(), "the error says what is wrong");
    let failed = panel(&browser).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let url = browser.current_url().await.unwrap();
    assert!(url.contains("objective=blocks.2%3A3%20%2B"), "{url}");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}
