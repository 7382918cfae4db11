//! The viewer on the real default atlas (EfficientNet-Lite0, every layer and unit, built by
//! `scripts/default-atlas.sh`): the pages a visitor walks through, opened cold, with the
//! figures the viewer promises (a deep link paints its feature visualization within 500 ms, a
//! 1,280-unit layer grid is painted within 1 s) printed as `METRIC name=value` lines.
//!
//! The default atlas takes about 15 minutes to build, so these tests are `#[ignore]`d in the
//! everyday run and are run on purpose, after `scripts/default-atlas.sh`:
//!
//! ```sh
//! cargo test --release -p microscope-e2e --test default_atlas -- --ignored --nocapture
//! ```
//!
//! `MICROSCOPE_ATLAS` names another atlas folder; by default it is
//! `$MICROSCOPE_CACHE/atlas/default` (or `~/.cache/microscope/atlas/default`). A missing atlas
//! fails the tests: they exist to check that atlas.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::key::Key;
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::{Value as Json, json};

const MODEL: &str = "efficientnet-lite0";
/// A middle layer whose unit 0 has a channel visualization in the default atlas.
const LAYER: &str = "blocks.8";
/// The widest layer: 1,280 units.
const WIDE_LAYER: &str = "head";
/// How long a view may take to show its data once the page is there.
const DATA_TIMEOUT: Duration = Duration::from_secs(30);

/// The default atlas folder, which must be complete.
fn atlas_dir() -> PathBuf {
    let dir = std::env::var_os("MICROSCOPE_ATLAS").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/microscope")
        });
        cache.join("atlas/default")
    });
    assert!(
        dir.join("atlas.json").is_file(),
        "no atlas at {}: run scripts/default-atlas.sh first (or set MICROSCOPE_ATLAS)",
        dir.display()
    );
    dir
}

/// The built site with the default atlas at `/atlas/`, and a browser pointed at it. The
/// server answers unknown paths with `index.html` and status 200, like `trunk serve`, so the
/// console stays free of the 404 a GitHub Pages deep link logs (the viewer tests cover that).
async fn start() -> (StaticServer, Browser) {
    start_with(BrowserOptions::webgpu()).await
}

/// [`start`] with a browser started with `options`.
async fn start_with(options: BrowserOptions) -> (StaticServer, Browser) {
    let config = ServerConfig::dist(Fallback::Spa).mount("/atlas/", atlas_dir());
    let server = StaticServer::start(config).unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    (server, browser)
}

/// Waits until `script` returns something other than `null`/`false`, and returns it.
async fn poll(browser: &Browser, what: &str, script: &str) -> Json {
    browser.wait_for_script(what, DATA_TIMEOUT, script).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn visit(browser: &Browser, path: &str, expected_page: &str) {
    let info = page::open(browser, path, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, expected_page, "{path}: {info:?}");
}

/// Once every `<img>` has settled: how many there are, the broken ones, and the atlas files
/// the page asked for that the server did not have (sprite sheets and example crops are CSS
/// backgrounds, so the resource timings are what sees them).
const ALL_IMAGES: &str = "const imgs = [...document.querySelectorAll('img')];\
    if (!imgs.every(i => i.complete)) return null;\
    const broken = imgs.filter(i => i.naturalWidth === 0).map(i => i.src);\
    const failed = performance.getEntriesByType('resource')\
      .filter(e => e.name.includes('/atlas/') && e.responseStatus >= 400).map(e => e.name);\
    return { loaded: imgs.length, broken, failed };";

/// The number of `<img>` on the page once all have loaded; fails on a broken image or a file
/// of the atlas that was asked for and missing.
async fn all_images_load(browser: &Browser, what: &str) -> u64 {
    let seen = poll(browser, what, ALL_IMAGES).await;
    assert_eq!(seen["broken"], json!([]), "{what}: broken images {seen}");
    assert_eq!(seen["failed"], json!([]), "{what}: atlas files missing {seen}");
    seen["loaded"].as_u64().unwrap()
}

/// A cold deep link to a unit: its feature visualization, dataset examples from real photos,
/// histogram, top ImageNet classes and circuits, with no broken image and no console error.
#[tokio::test]
#[ignore = "needs the default atlas (scripts/default-atlas.sh)"]
async fn deep_link_to_a_unit_paints_quickly_and_shows_everything() {
    let _one = serial::exclusive().await;
    let (server, browser) = start().await;
    visit(&browser, &format!("/models/{MODEL}/{LAYER}/0"), "unit").await;
    let painted =
        page::fv_image_arrived_ms(&browser, DATA_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    println!("METRIC default_atlas_deep_link_fv_ms={painted:.0}");
    let images = all_images_load(&browser, "the unit page's images").await;
    let seen = browser
        .execute(
            "const all = s => [...document.querySelectorAll(s)];\
             return {\
               top: all('#examples-top .activation').length,\
               bottom: all('#examples-bottom .activation').length,\
               bars: all('#histogram rect').length,\
               classes: (document.getElementById('top-classes') || {}).textContent || '',\
               inputs: all('#circuit-inputs a').length,\
               outputs: all('#circuit-outputs a').length,\
               credits: (document.querySelector('.photo-credits') || {}).textContent || '',\
             };",
            Vec::new(),
        )
        .await
        .unwrap();
    println!("default atlas unit page: {images} images, {seen}");
    assert!(seen["top"].as_u64().unwrap() >= 4, "top examples: {seen}");
    assert!(seen["bottom"].as_u64().unwrap() >= 4, "bottom examples: {seen}");
    assert!(seen["bars"].as_u64().unwrap() >= 8, "histogram bars: {seen}");
    assert!(!seen["classes"].as_str().unwrap().trim().is_empty(), "top classes: {seen}");
    assert!(seen["inputs"].as_u64().unwrap() > 0 && seen["outputs"].as_u64().unwrap() > 0);
    browser.screenshot("default atlas unit blocks.8 0").await.unwrap();
    // The eight input circuits share one layer manifest: asked for once, not eight times.
    let mut asked: Vec<String> =
        server.requests_under("/atlas/").into_iter().map(|r| r.path).collect();
    asked.sort();
    let twice: Vec<&String> = asked.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
    assert!(twice.is_empty(), "atlas files fetched more than once: {twice:?}");

    // Arrow keys walk on to units that have examples but no feature visualization: the
    // placeholder stands where the image would be, never a broken image.
    browser.press_keys(&[Key::Right]).await.unwrap();
    poll(
        &browser,
        "unit 1",
        "const m = document.querySelector('main[data-page=\"unit\"]'); return m && m.dataset.unit === '1';",
    )
    .await;
    poll(
        &browser,
        "a placeholder for the missing image",
        "return document.querySelector('.placeholder') !== null;",
    )
    .await;
    all_images_load(&browser, "unit 1's images").await;
    browser.screenshot("default atlas unit blocks.8 1").await.unwrap();
    let errors = browser.console_errors().await.unwrap();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await.unwrap();
}

/// README's first picture: a unit page with its feature visualization and its dataset
/// examples both in view, in a window as tall as a laptop screen's. The screenshot is
/// `readme unit page.png` in the screenshot folder; docs/screenshot-unit.png is a copy of it.
#[tokio::test]
#[ignore = "needs the default atlas (scripts/default-atlas.sh)"]
async fn a_unit_page_shows_its_visualization_and_examples_in_one_screen() {
    let _one = serial::exclusive().await;
    let options = BrowserOptions { window_size: (1280, 1300), ..BrowserOptions::webgpu() };
    let (_server, browser) = start_with(options).await;
    visit(&browser, &format!("/models/{MODEL}/{LAYER}/0"), "unit").await;
    page::fv_image_arrived_ms(&browser, DATA_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    all_images_load(&browser, "the unit page's images").await;
    // Both the visualization and the top row of examples lie inside the window.
    let seen = poll(
        &browser,
        "the visualization and the examples in view",
        "const inView = e => { if (!e) return false; const r = e.getBoundingClientRect();\
           return r.width > 0 && r.top >= 0 && r.bottom <= innerHeight; };\
         const fv = document.getElementById('fv-image');\
         const top = document.querySelector('#examples-top');\
         const crops = document.querySelectorAll('#examples-top .activation').length;\
         return inView(fv) && inView(top) && crops >= 4 ? { crops } : null;",
    )
    .await;
    println!("readme screenshot: {seen}");
    browser.screenshot("readme unit page").await.unwrap();
    browser.close().await.unwrap();
}

/// The widest layer (1,280 units) as a grid: painted within the budget, virtualised, and
/// scrolling to the end brings in the last unit.
#[tokio::test]
#[ignore = "needs the default atlas (scripts/default-atlas.sh)"]
async fn the_1280_unit_head_layer_grid_paints_within_a_second() {
    let _one = serial::exclusive().await;
    let (_server, browser) = start().await;
    visit(&browser, &format!("/models/{MODEL}/{WIDE_LAYER}"), "layer").await;
    let painted = poll(
        &browser,
        "the grid painted",
        "const g = document.getElementById('unit-grid');\
         if (!g || g.dataset.units !== '1280') return null;\
         const cells = [...g.querySelectorAll('.grid-cell')];\
         if (cells.length === 0) return null;\
         const sheets = performance.getEntriesByType('resource').filter(e => e.name.includes('/sheets/'));\
         const visible = cells.filter(c => { const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; });\
         const imgs = visible.flatMap(c => [...c.querySelectorAll('img')]);\
         if (imgs.some(i => !i.complete)) return null;\
         return { now: performance.now(), sheets: sheets.map(e => e.responseEnd), cells: cells.length, visible: visible.length };",
    )
    .await;
    let sheets: Vec<f64> =
        painted["sheets"].as_array().unwrap().iter().filter_map(Json::as_f64).collect();
    let last_sheet = sheets.iter().copied().fold(0.0, f64::max);
    println!("METRIC default_atlas_grid_1280_painted_ms={:.0}", painted["now"].as_f64().unwrap());
    println!(
        "METRIC default_atlas_grid_1280_sheets_loaded_ms={last_sheet:.0} ({} sheets)",
        sheets.len()
    );
    let cells = painted["cells"].as_u64().unwrap();
    assert!(cells > 0 && cells < 400, "only rows near the viewport exist: {painted}");
    // Every unit has dataset examples but only a few have visualizations: the grid opens on
    // the examples, so no cell in view is empty.
    let shown = browser
        .execute(
            "return { technique: document.getElementById('technique-select').value,\
                      empty: document.querySelectorAll('#unit-grid .sprite.empty').length };",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(shown, json!({ "technique": "dataset_examples", "empty": 0 }));
    browser.screenshot("default atlas grid head").await.unwrap();
    browser
        .execute("window.scrollTo(0, document.body.scrollHeight); return null;", Vec::new())
        .await
        .unwrap();
    poll(
        &browser,
        "unit 1279",
        "return document.querySelector('[data-grid-unit=\"1279\"]') !== null;",
    )
    .await;
    browser.screenshot("default atlas grid head end").await.unwrap();
    browser.close().await.unwrap();
}

/// A visitor's walk: home → model (architecture picture) → a layer → a unit; search by
/// "layer:unit" and by class; compare; the embed card; the fashion-cnn's timeline. Every page opened cold has no broken
/// image and no console error.
#[tokio::test]
#[ignore = "needs the default atlas (scripts/default-atlas.sh)"]
async fn every_page_works_on_the_default_atlas() {
    let _one = serial::exclusive().await;
    let (_server, browser) = start().await;

    visit(&browser, "/", "home").await;
    poll(&browser, "the model card", &format!("return document.body.innerText.includes('EfficientNet-Lite0') && document.querySelector('a[href=\"/models/{MODEL}\"]') !== null;")).await;
    browser.screenshot("default atlas home").await.unwrap();

    visit(&browser, &format!("/models/{MODEL}"), "model").await;
    let layers = poll(
        &browser,
        "the architecture's layer links",
        &format!("const n = document.querySelectorAll('a[href^=\"/models/{MODEL}/\"]').length; return n >= 59 ? n : null;"),
    )
    .await;
    println!("model page: {layers} layer links");
    browser.screenshot("default atlas model").await.unwrap();

    for layer in ["stem", "blocks.0.depthwise", "blocks.15", "logits"] {
        visit(&browser, &format!("/models/{MODEL}/{layer}"), "layer").await;
        poll(&browser, "grid cells", "return document.querySelector('.grid-cell') !== null;").await;
        all_images_load(&browser, layer).await;
    }
    browser.screenshot("default atlas layer logits").await.unwrap();

    visit(&browser, &format!("/search?q={LAYER}:12"), "search").await;
    poll(
        &browser,
        "the unit hit",
        &format!(
            "return document.querySelector('a[href=\"/models/{MODEL}/{LAYER}/12\"]') !== null;"
        ),
    )
    .await;
    visit(&browser, "/search?q=espresso", "search").await;
    let hits = poll(&browser, "units driving espresso", "const n = document.querySelectorAll('main a[href*=\"/models/\"]').length; return n > 0 ? n : null;").await;
    println!("search espresso: {hits} links");
    browser.screenshot("default atlas search espresso").await.unwrap();

    visit(&browser, &format!("/compare?a={MODEL}/{LAYER}/0&b={MODEL}/{LAYER}/1"), "compare").await;
    all_images_load(&browser, "compare").await;
    browser.screenshot("default atlas compare").await.unwrap();

    visit(&browser, &format!("/embed/models/{MODEL}/{LAYER}/0"), "embed").await;
    all_images_load(&browser, "embed").await;
    browser.screenshot("default atlas embed").await.unwrap();

    // The fashion-cnn trained here: a unit page with its timeline over the 7 checkpoints.
    visit(&browser, "/models/fashion-cnn/conv3/0", "unit").await;
    let strip = poll(
        &browser,
        "the timeline",
        "const n = document.querySelectorAll('#timeline-strip li').length; return n > 0 ? n : null;",
    )
    .await;
    assert_eq!(strip, json!(7), "one thumbnail per checkpoint");
    all_images_load(&browser, "the fashion-cnn unit page").await;
    browser.screenshot("default atlas fashion-cnn timeline").await.unwrap();

    let errors = browser.console_errors().await.unwrap();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await.unwrap();
}

/// Every organism of the default atlas: the home page lists the three ImageNet models and the
/// fashion-cnn with none still being built; each ImageNet model's unit page shows its
/// examples and top classes; and `/compare?class=` puts the units of all three that are most
/// correlated with one class side by side, each linking to its unit page.
#[tokio::test]
#[ignore = "needs the default atlas with every organism (scripts/default-atlas.sh all)"]
async fn every_organism_is_browsable_and_compared_by_class() {
    let _one = serial::exclusive().await;
    let (_server, browser) = start().await;
    const IMAGENET: [&str; 3] = ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"];
    visit(&browser, "/", "home").await;
    let cards = poll(&browser, "the model cards", "const c = [...document.querySelectorAll('.model-card')].map(e => e.dataset.modelCard); return c.length ? c : null;").await;
    for model in IMAGENET.iter().chain(&["fashion-cnn"]) {
        assert!(
            cards.as_array().unwrap().contains(&json!(model)),
            "{model} not on the home page: {cards}"
        );
    }
    let building = browser
        .execute("return document.querySelectorAll('[data-building]').length + (document.getElementById('building-note') ? 1 : 0);", Vec::new())
        .await
        .unwrap();
    assert_eq!(building, json!(0), "a model is still marked as being built");
    for model in IMAGENET {
        visit(&browser, &format!("/models/{model}/{LAYER}/3"), "unit").await;
        let seen = poll(&browser, "examples and classes", "const top = document.querySelectorAll('#examples-top .activation').length; const classes = (document.getElementById('top-classes') || {}).textContent || ''; return top >= 4 && classes.trim() ? { top, classes } : null;").await;
        println!("{model} {LAYER}:3: {seen}");
        all_images_load(&browser, &format!("{model}'s unit page")).await;
    }
    visit(&browser, "/compare?class=espresso", "compare").await;
    let columns = poll(&browser, "one column per ImageNet model", "const c = [...document.querySelectorAll('.compare-model')]; return c.length >= 3 ? c.map(e => [e.dataset.model, [...e.querySelectorAll('.class-unit a')].map(a => a.getAttribute('href'))]) : null;").await;
    println!("compare espresso: {columns}");
    let columns = columns.as_array().unwrap();
    for model in IMAGENET {
        let column = columns
            .iter()
            .find(|c| c[0] == json!(model))
            .unwrap_or_else(|| panic!("{model} has no column: {columns:?}"));
        let links = column[1].as_array().unwrap();
        assert!(!links.is_empty(), "{model}: no unit for espresso");
        assert!(
            links.iter().all(|l| l.as_str().unwrap().contains(&format!("/models/{model}/"))),
            "{model}: links to another model's units: {links:?}"
        );
    }
    all_images_load(&browser, "compare by class").await;
    browser.screenshot("default atlas compare espresso").await.unwrap();
    let errors = browser.console_errors().await.unwrap();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await.unwrap();
}
