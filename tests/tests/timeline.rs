//! A unit across training: on a real atlas of the fashion-cnn at three checkpoints (trained and
//! built by the command-line tool in seconds), the unit page shows a timeline; the keyboard
//! on its slider and clicks on its thumbnails move across checkpoints, the deep link names the
//! checkpoint, and the images change: other URLs and other pixels.
//!
//! Needs Debian's `dataset-fashion-mnist`; without it the test is skipped with a message,
//! unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fantoccini::key::Key;
use microscope_core::dataset::FASHION_MNIST_CLASSES;
use microscope_e2e::test_atlas::{
    FASHION_CHECKPOINTS, FASHION_MODEL, fashion_mnist_available, write_fashion_timeline,
};
use microscope_e2e::{
    Browser, BrowserOptions, COMPUTE_TIMEOUT, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer,
    page, serial,
};
use serde_json::{Value as Json, json};

/// How long a view may take to show its data once the page is there.
const DATA_TIMEOUT: Duration = Duration::from_secs(20);

async fn until(browser: &Browser, what: &str, script: &str) -> Json {
    until_within(browser, DATA_TIMEOUT, what, script).await
}

/// [`until`] with its own time limit.
async fn until_within(browser: &Browser, limit: Duration, what: &str, script: &str) -> Json {
    browser.wait_for_script(what, limit, script).await.unwrap_or_else(|e| panic!("{e}"))
}

/// What the timeline shows once every thumbnail has settled: the slider's value and label,
/// the current item, the thumbnails' image URLs, and the large channel image's URL.
const STATE: &str = "const items = [...document.querySelectorAll('#timeline-strip li')];\
    if (items.length === 0) return null;\
    const imgs = items.map(li => li.querySelector('img'));\
    if (imgs.some(i => !i || !i.complete || i.naturalWidth === 0)) return null;\
    const fv = document.getElementById('fv-image');\
    if (!fv || !fv.complete || fv.naturalWidth === 0) return null;\
    const slider = document.getElementById('timeline-slider');\
    return {\
      value: slider.value, max: slider.max,\
      label: document.getElementById('timeline-label').innerText,\
      valuetext: slider.getAttribute('aria-valuetext'),\
      current: items.filter(li => li.dataset.current === 'true').map(li => li.dataset.checkpoint),\
      thumbs: imgs.map(i => i.src),\
      fv: fv.src,\
      focused: document.activeElement === slider,\
      url: location.pathname + location.search,\
    };";

/// The bytes of the image at `url`, fetched by the page.
async fn bytes(browser: &Browser, url: &str) -> Vec<u8> {
    let script = "const r = await fetch(arguments[0]);\
        return Array.from(new Uint8Array(await r.arrayBuffer()));";
    let script = format!("return (async () => {{ {script} }})();");
    let value = browser.execute(&script, vec![json!(url)]).await.unwrap();
    value.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect()
}

/// Waits for the timeline of `checkpoint`.
async fn at(browser: &Browser, checkpoint: &str) -> Json {
    let script = format!(
        "const s = (() => {{ {STATE} }})();\
         return s && s.current.length === 1 && s.current[0] === '{checkpoint}' \
           && s.fv.includes('/checkpoints/{checkpoint}/') ? s : null;"
    );
    until(browser, &format!("the timeline at {checkpoint}"), &script).await
}

#[tokio::test]
async fn unit_timeline_moves_across_checkpoints() {
    if !fashion_mnist_available() {
        if std::env::var_os("MICROSCOPE_REQUIRE_DATA").is_some_and(|v| v == "1") {
            panic!("MICROSCOPE_REQUIRE_DATA=1 but Fashion-MNIST is missing");
        }
        eprintln!("SKIPPED: Fashion-MNIST is missing (apt-get install dataset-fashion-mnist)");
        return;
    }
    let _one = serial::exclusive().await;
    let dir = std::env::temp_dir().join(format!("microscope-timeline-e2e-{}", std::process::id()));
    let atlas = write_fashion_timeline(&dir).unwrap_or_else(|e| panic!("{e}"));
    let config = ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas);
    let server = StaticServer::start(config).unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());

    // Opened without a checkpoint: the last one, with one thumbnail per checkpoint.
    let path = format!("/models/{FASHION_MODEL}/fc/0");
    let info = page::open(&browser, &path, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "unit", "{info:?}");
    let last = at(&browser, "step-20").await;
    assert_eq!(last["max"], "2");
    assert_eq!(last["value"], "2");
    assert!(last["label"].as_str().unwrap().contains("step 20"), "{last}");
    assert!(last["label"].as_str().unwrap().contains("test accuracy"), "{last}");
    let thumbs: Vec<String> =
        last["thumbs"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    assert_eq!(thumbs.len(), 3);
    for (thumb, checkpoint) in thumbs.iter().zip(FASHION_CHECKPOINTS) {
        assert!(thumb.contains(&format!("/checkpoints/{checkpoint}/")), "{thumb}");
    }
    browser.screenshot("timeline at step-20").await.unwrap();

    // The keyboard on the slider: one step back is the previous checkpoint, named in the URL.
    let state = last.clone();
    browser.execute("document.getElementById('timeline-slider').focus()", vec![]).await.unwrap();
    browser.press_keys(&[Key::Left]).await.unwrap();
    let middle = at(&browser, "step-5").await;
    assert_eq!(middle["url"], json!(format!("{path}?checkpoint=step-5")));
    assert_eq!(middle["value"], "1");
    assert!(middle["valuetext"].as_str().unwrap().contains("step 5"), "{middle}");
    assert_ne!(middle["fv"], state["fv"]);
    assert_eq!(middle["focused"], json!(true), "the slider keeps the focus: {middle}");
    let (late, early) = (
        bytes(&browser, state["fv"].as_str().unwrap()).await,
        bytes(&browser, middle["fv"].as_str().unwrap()).await,
    );
    assert!(late.starts_with(b"\x89PNG") && early.starts_with(b"\x89PNG"));
    assert_ne!(late, early, "the unit's image differs between checkpoints");
    browser.screenshot("timeline at step-5").await.unwrap();
    browser.press_keys(&[Key::Left]).await.unwrap();
    let first = at(&browser, "step-0").await;
    assert_eq!(first["url"], json!(format!("{path}?checkpoint=step-0")));
    let initial = bytes(&browser, first["fv"].as_str().unwrap()).await;
    assert_ne!(initial, early);
    assert_ne!(initial, late);

    // A thumbnail: straight to the last checkpoint.
    browser.click("#timeline-strip li[data-checkpoint=\"step-20\"] a", DATA_TIMEOUT).await.unwrap();
    let back = at(&browser, "step-20").await;
    assert_eq!(back["url"], json!(format!("{path}?checkpoint=step-20")));
    assert_eq!(back["fv"], state["fv"]);

    // A deep link opened cold names its checkpoint.
    page::open(&browser, &format!("{path}?checkpoint=step-5"), PAGE_TIMEOUT).await.unwrap();
    let deep = at(&browser, "step-5").await;
    assert_eq!(deep["fv"], middle["fv"]);
    browser.screenshot("timeline deep link step-5").await.unwrap();

    // Its dataset examples are labelled test images: each says its class.
    let classes = until(
        &browser,
        "the examples' classes",
        "const c = [...document.querySelectorAll('#examples-top .example')]\
           .map(e => (e.querySelector('.class') || {}).innerText || '');\
         return c.length > 0 ? c : null;",
    )
    .await;
    for class in classes.as_array().unwrap() {
        assert!(FASHION_MNIST_CLASSES.contains(&class.as_str().unwrap()), "{classes}");
    }

    // The in-browser renderer fills a technique the atlas lacks at that checkpoint (neuron),
    // on the trained model's own weights: the render raises its objective.
    page::open(
        &browser,
        &format!("{path}?checkpoint=step-5&technique=neuron&path=cpu&render=1&steps=6&size=28"),
        PAGE_TIMEOUT,
    )
    .await
    .unwrap();
    let render = until_within(
        &browser,
        COMPUTE_TIMEOUT,
        "the neuron render at step-5",
        "const p = document.getElementById('live-render'); if (!p) return null;\
         const d = p.dataset;\
         if (d.state === 'failed') return { state: d.state, text: p.innerText };\
         return d.state === 'done' ? { state: d.state, start: Number(d.objectiveStart),\
           end: Number(d.objectiveEnd), path: d.path } : null;",
    )
    .await;
    assert_eq!(render["state"], "done", "{render}");
    assert_eq!(render["path"], "cpu", "{render}");
    let (start, end) = (render["start"].as_f64().unwrap(), render["end"].as_f64().unwrap());
    assert!(end > start, "the render raised its objective: {render}");
    browser.screenshot("timeline neuron rendered in the browser at step-5").await.unwrap();
    drop(browser);
    std::fs::remove_dir_all(dir).ok();
}
