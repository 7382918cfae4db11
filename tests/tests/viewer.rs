//! The viewer on an atlas: every view reads the frozen v1.0 fixture (or TEST DATA generated
//! from it with the format's writer) served at `/atlas/`, opened cold, in headless Chromium.
//! Each test saves screenshots; timings are printed as `METRIC name=value` lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use fantoccini::key::Key;
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
    test_atlas,
};
use serde_json::{Value as Json, json};

/// How long a view may take to show its data once the page is there.
const DATA_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves the site with `atlas` at `/atlas/` (and `extra` mounts).
fn serve(atlas: Option<&Path>, extra: &[(&str, &Path)]) -> StaticServer {
    let mut config = ServerConfig::dist(Fallback::GithubPages);
    if let Some(atlas) = atlas {
        config = config.mount("/atlas/", atlas);
    }
    for (prefix, dir) in extra {
        config = config.mount(prefix, *dir);
    }
    StaticServer::start(config).unwrap_or_else(|e| panic!("{e}"))
}

async fn launch(server: &StaticServer, options: BrowserOptions) -> Browser {
    Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url())
}

/// Waits until `script` returns something other than `null`/`false`, and returns it.
async fn until(browser: &Browser, what: &str, script: &str) -> Json {
    browser.wait_for_script(what, DATA_TIMEOUT, script).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn run(browser: &Browser, script: &str) -> Json {
    browser.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn open(browser: &Browser, path: &str, expected_page: &str) -> page::PageInfo {
    let info = page::open(browser, path, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, expected_page, "{path}: {info:?}");
    info
}

/// Every `<img>` on the page has loaded (no broken images), and there is at least one.
const IMAGES_LOADED: &str = "const imgs = [...document.querySelectorAll('img')];\
    return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0) ? imgs.length : null;";

#[tokio::test]
async fn unit_page_shows_everything_the_atlas_has() {
    let _one = serial::exclusive().await;
    let server = serve(Some(&test_atlas::fixture_dir()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    open(&browser, "/models/tiny/conv1/0", "unit").await;
    // When the large feature visualization has arrived, relative to the navigation's start.
    let painted =
        page::fv_image_arrived_ms(&browser, DATA_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    println!("METRIC cold_deep_link_fv_ms={painted:.0}");
    let started = run(
        &browser,
        "const e = performance.getEntriesByType('resource').find(e => e.name.endsWith('/atlas/atlas.json'));\
         return e ? e.startTime : null;",
    )
    .await;
    println!("METRIC cold_deep_link_app_running_ms={:.0}", started.as_f64().unwrap_or(f64::NAN));
    until(&browser, "annotations", "return document.querySelector('.annotation') !== null;").await;
    until(&browser, "all images", IMAGES_LOADED).await;
    let seen = run(
        &browser,
        "const q = s => document.querySelector(s);\
         const all = s => [...document.querySelectorAll(s)];\
         return {\
           fv: q('#fv-image').getAttribute('src'),\
           label: q('#unit-label').innerText,\
           bars: all('#histogram rect').length,\
           classes: q('#top-classes').textContent,\
           top: all('#examples-top .activation').map(e => e.innerText),\
           bottom: all('#examples-bottom .activation').map(e => e.innerText),\
           outputs: all('#circuit-outputs a').map(a => a.getAttribute('href')),\
           annotation: q('.annotation').innerText,\
           embed: q('#embed-code').innerText,\
           permalink: q('#permalink').innerText,\
           cite: q('#cite').innerText,\
           download: q('.download-png').getAttribute('download'),\
           next: q('#next-unit').getAttribute('href'),\
           explain: q('#technique-explanation').innerText,\
         };",
    )
    .await;
    let text = |key: &str| seen[key].as_str().unwrap_or_default().to_owned();
    assert!(
        text("fv")
            .ends_with("/atlas/models/tiny/checkpoints/final/layers/conv1/units/0/channel.png"),
        "{seen}"
    );
    assert_eq!(text("label"), "unit 0 label");
    assert_eq!(seen["bars"], json!(5), "one bar per histogram bin");
    assert!(text("classes").contains("cup") && text("classes").contains("tree"), "{seen}");
    assert_eq!(seen["top"], json!(["5.500", "2.000"]));
    assert_eq!(seen["bottom"], json!(["-1.250"]));
    assert_eq!(seen["outputs"], json!(["/models/tiny/conv2/2"]));
    assert!(
        text("annotation").contains("brown things") && text("annotation").contains("ada"),
        "{seen}"
    );
    assert!(
        text("embed").starts_with("<iframe src=\"http://")
            && text("embed").contains("/embed/models/tiny/conv1/0\""),
        "{seen}"
    );
    assert!(text("permalink").ends_with("/models/tiny/conv1/0"), "{seen}");
    assert!(text("cite").contains("Tiny") && text("cite").contains(&text("permalink")), "{seen}");
    assert_eq!(text("download"), "tiny-conv1-0-channel.png");
    assert_eq!(text("next"), "/models/tiny/conv1/1");
    assert!(text("explain").contains("excite this channel"), "{seen}");
    // All of it under the site's Content-Security-Policy, without a violation.
    let policy = run(
        &browser,
        "const m = document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]');\
         return m && m.content;",
    )
    .await;
    let policy = policy.as_str().unwrap_or_default();
    assert!(
        policy.contains("default-src 'self'") && policy.contains("object-src 'none'"),
        "{policy}"
    );
    let console = browser.console().await.unwrap();
    let violations: Vec<_> =
        console.iter().filter(|e| e.message.contains("Content Security Policy")).collect();
    assert!(violations.is_empty(), "{violations:?}");
    browser.screenshot("viewer unit page").await.unwrap();
    browser.close().await.unwrap();
}

#[tokio::test]
async fn deep_links_carry_technique_and_seed() {
    let _one = serial::exclusive().await;
    let server = serve(Some(&test_atlas::fixture_dir()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;

    open(&browser, "/models/tiny/conv1/0?technique=diversity", "unit").await;
    let count = until(
        &browser,
        "four diversity images",
        "const imgs = [...document.querySelectorAll('.fv-large img')];\
         return imgs.length === 4 && imgs.every(i => i.complete && i.naturalWidth > 0) ? imgs.length : null;",
    )
    .await;
    assert_eq!(count, json!(4));
    let current = run(
        &browser,
        "return document.querySelector('.tab[aria-current=\"true\"]').dataset.technique;",
    )
    .await;
    assert_eq!(current, json!("diversity"));
    browser.screenshot("viewer technique diversity").await.unwrap();

    // The atlas has no neuron visualization of this unit: a placeholder, never a broken image.
    open(&browser, "/models/tiny/conv1/0?technique=neuron", "unit").await;
    let placeholder = until(
        &browser,
        "the neuron placeholder",
        "const p = document.querySelector('.fv-large .placeholder[data-technique=\"neuron\"]');\
         return p && document.querySelectorAll('.fv-large img').length === 0 ? p.innerText : null;",
    )
    .await;
    assert!(placeholder.as_str().unwrap().contains("in-browser renderer"), "{placeholder}");
    browser.screenshot("viewer technique neuron placeholder").await.unwrap();

    // A seed the atlas did not render: the renderer's job. The atlas's own seed: its image.
    open(&browser, "/models/tiny/conv1/0?technique=channel&seed=3", "unit").await;
    let placeholder = until(
        &browser,
        "the seed placeholder",
        "const p = document.querySelector('.fv-large .placeholder'); return p && p.innerText;",
    )
    .await;
    assert!(placeholder.as_str().unwrap().contains("seed 3"), "{placeholder}");
    let permalink = until(
        &browser,
        "the permalink",
        "const p = document.getElementById('permalink'); return p && p.innerText;",
    )
    .await;
    assert!(permalink.as_str().unwrap().ends_with("/models/tiny/conv1/0?seed=3"), "{permalink}");
    open(&browser, "/models/tiny/conv1/0?technique=negative&seed=2", "unit").await;
    let src = until(&browser, "the negative image", "const i = document.getElementById('fv-image'); return i && i.complete && i.naturalWidth > 0 && i.getAttribute('src');").await;
    assert!(src.as_str().unwrap().ends_with("/units/0/negative.png"), "{src}");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn arrow_keys_step_through_the_units_of_a_layer() {
    let _one = serial::exclusive().await;
    let server = serve(Some(&test_atlas::fixture_dir()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    open(&browser, "/models/tiny/conv1/0", "unit").await;
    until(&browser, "the unit's data", "return document.getElementById('fv-image') !== null;")
        .await;
    let at_unit = async |unit: &str| {
        let script = format!(
            "const m = document.querySelector('main[data-page=\"unit\"]');\
             return m && m.dataset.unit === '{unit}' && document.querySelector('h1').innerText === 'conv1:{unit}'\
               && location.pathname === '/models/tiny/conv1/{unit}';"
        );
        until(&browser, &format!("unit {unit}"), &script).await;
    };
    for unit in ["1", "2", "3"] {
        browser.press_keys(&[Key::Right]).await.unwrap();
        at_unit(unit).await;
    }
    // Unit 3 is in the architecture but not built: placeholders say so.
    until(&browser, "the not-built note", "return document.getElementById('not-built') !== null;")
        .await;
    browser.screenshot("viewer unit not built").await.unwrap();
    // The last unit: the right arrow stays.
    browser.press_keys(&[Key::Right]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    at_unit("3").await;
    browser.press_keys(&[Key::Left]).await.unwrap();
    at_unit("2").await;
    // Typing in the search box does not step.
    browser.find("#search-input").await.unwrap().click().await.unwrap();
    browser.press_keys(&[Key::Left]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    at_unit("2").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn embed_card_lives_in_an_iframe() {
    let _one = serial::exclusive().await;
    let host = tempfile::tempdir().unwrap();
    std::fs::write(
        host.path().join("page.html"),
        "<!DOCTYPE html><html><body style=\"background:#eee\"><p>A blog post.</p>\
         <iframe id=\"light\" src=\"/embed/models/tiny/conv1/0?theme=light\" width=\"360\" height=\"440\"></iframe>\
         <iframe id=\"dark\" src=\"/embed/models/tiny/conv1/0?theme=dark\" width=\"300\" height=\"440\"></iframe>\
         </body></html>",
    )
    .unwrap();
    let server = serve(Some(&test_atlas::fixture_dir()), &[("/host/", host.path())]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    browser.goto("/host/page.html").await.unwrap();
    let card = |id: &str| {
        format!(
            "const d = document.getElementById('{id}').contentDocument;\
             if (!d) return null;\
             const main = d.querySelector('main[data-page=\"embed\"]');\
             const img = d.querySelector('img.fv');\
             if (!main || !img || !img.complete || img.naturalWidth === 0) return null;\
             const link = d.querySelector('a.full-page');\
             return {{ header: d.querySelector('header') !== null, href: link.getAttribute('href'),\
               target: link.getAttribute('target'), theme: main.dataset.theme,\
               background: getComputedStyle(main).backgroundColor,\
               overflow: d.documentElement.scrollWidth > d.documentElement.clientWidth\
                 || d.documentElement.scrollHeight > d.documentElement.clientHeight }};"
        )
    };
    let light = until(&browser, "the light card", &card("light")).await;
    let dark = until(&browser, "the dark card", &card("dark")).await;
    for seen in [&light, &dark] {
        assert_eq!(seen["header"], json!(false), "no site chrome in an embed: {seen}");
        assert!(seen["href"].as_str().unwrap().ends_with("/models/tiny/conv1/0"), "{seen}");
        assert_eq!(seen["target"], json!("_top"));
        assert_eq!(seen["overflow"], json!(false), "the card fits its frame: {seen}");
    }
    assert_eq!(light["background"], json!("rgb(255, 255, 255)"));
    assert_eq!(dark["background"], json!("rgb(26, 28, 34)"));
    browser.screenshot("viewer embed in iframes").await.unwrap();
    browser.close().await.unwrap();
}

#[tokio::test]
async fn damaged_or_missing_atlas_files_show_a_message_in_place() {
    let _one = serial::exclusive().await;
    let atlas = tempfile::tempdir().unwrap();
    test_atlas::copy_dir(&test_atlas::fixture_dir(), atlas.path()).unwrap();
    let unit2 = "models/tiny/checkpoints/final/layers/conv1/units/2/unit.json";
    test_atlas::write(
        atlas.path(),
        unit2,
        br#"{"kind": "unit", "format_version": "1.0", "model": 5}"#,
    )
    .unwrap();
    let server = serve(Some(atlas.path()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    open(&browser, "/models/tiny/conv1/2", "unit").await;
    let error = until(
        &browser,
        "the damaged-file message",
        "const e = document.querySelector('.load-error[data-error=\"corrupt\"]'); return e && {file: e.dataset.file, text: e.innerText};",
    )
    .await;
    assert_eq!(error["file"], json!(unit2));
    assert!(error["text"].as_str().unwrap().contains("unit.json"), "{error}");
    // The rest of the page works: placeholders, navigation, sharing.
    let rest = run(
        &browser,
        "return { header: document.querySelector('header') !== null,\
          tabs: document.querySelectorAll('.tab').length,\
          placeholder: document.querySelector('.fv-large .placeholder') !== null,\
          permalink: document.getElementById('permalink') !== null,\
          prev: document.getElementById('prev-unit').getAttribute('href') };",
    )
    .await;
    assert_eq!(
        rest,
        json!({"header": true, "tabs": 4, "placeholder": true, "permalink": true, "prev": "/models/tiny/conv1/1"})
    );
    browser.screenshot("viewer corrupt unit file").await.unwrap();
    browser.press_keys(&[Key::Left]).await.unwrap();
    until(&browser, "unit 1's histogram", "return location.pathname.endsWith('/conv1/1') && document.getElementById('histogram') !== null;").await;

    // A damaged index: the home page says so; the site still works.
    test_atlas::write(atlas.path(), "atlas.json", b"{ this is not json").unwrap();
    let server = serve(Some(atlas.path()), &[]);
    let browser2 = launch(&server, BrowserOptions::webgpu()).await;
    open(&browser2, "/", "home").await;
    let error = until(
        &browser2,
        "the index message",
        "const e = document.querySelector('.load-error'); return e && e.dataset.error;",
    )
    .await;
    assert_eq!(error, json!("corrupt"));
    assert!(browser2.exists("header nav a[href=\"/diagnostics\"]").await.unwrap());
    browser2.screenshot("viewer corrupt atlas index").await.unwrap();
    browser2.close().await.unwrap();

    // No atlas at all (an empty folder at /atlas/: the built site may link the default atlas
    // there).
    let empty = tempfile::tempdir().unwrap();
    let server = serve(Some(empty.path()), &[]);
    let browser3 = launch(&server, BrowserOptions::webgpu()).await;
    open(&browser3, "/models/tiny/conv1/0", "unit").await;
    let error = until(&browser3, "the missing-atlas message", "const e = document.querySelector('.load-error'); return e && [e.dataset.error, e.dataset.file];").await;
    assert_eq!(error, json!(["missing", "atlas.json"]));
    browser3.close().await.unwrap();
    browser.close().await.unwrap();
}

#[tokio::test]
async fn bad_links_lead_to_the_nearest_matches() {
    let _one = serial::exclusive().await;
    let server = serve(Some(&test_atlas::fixture_dir()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    let cases: [(&str, &[&str]); 4] = [
        ("/models/tinny", &["/models/tiny"]),
        ("/models/tiny/conv3", &["/models/tiny/conv1", "/models/tiny/conv2"]),
        ("/models/tiny/conv1/99", &["/models/tiny/conv1/3", "/models/tiny/conv1"]),
        ("/models/tinny/conv1/0/extra", &["/models/tiny"]),
    ];
    for (path, expected) in cases {
        open(&browser, path, "not-found").await;
        let links = until(
            &browser,
            &format!("suggestions for {path}"),
            "const l = [...document.querySelectorAll('#suggestions a')].map(a => a.getAttribute('href'));\
             return l.length ? l : null;",
        )
        .await;
        let links: Vec<&str> = links.as_array().unwrap().iter().filter_map(Json::as_str).collect();
        for want in expected {
            assert!(links.contains(want), "{path}: suggestions {links:?} lack {want}");
        }
        browser.screenshot(&format!("viewer not found {path}")).await.unwrap();
    }
    browser.close().await.unwrap();
}

#[tokio::test]
async fn layer_grid_of_1280_units_is_virtualised_and_filters() {
    let _one = serial::exclusive().await;
    let atlas = tempfile::tempdir().unwrap();
    test_atlas::write_with_wide_layer(atlas.path(), 1280).unwrap();
    let server = serve(Some(atlas.path()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    open(
        &browser,
        &format!("/models/{}/{}", test_atlas::WIDE_MODEL, test_atlas::WIDE_LAYER),
        "layer",
    )
    .await;
    // Painted: cells in the DOM and the first sprite sheet downloaded.
    let painted = until(
        &browser,
        "the grid painted",
        "const g = document.getElementById('unit-grid');\
         if (!g || g.dataset.units !== '1280' || !g.querySelector('.grid-cell .sprite')) return null;\
         const sheet = performance.getEntriesByType('resource').find(e => e.name.includes('/sheets/channel-0.png'));\
         return sheet ? { sheet: sheet.responseEnd, now: performance.now(), rendered: Number(g.dataset.rendered) } : null;",
    )
    .await;
    println!("METRIC grid_1280_sheet_loaded_ms={:.0}", painted["sheet"].as_f64().unwrap());
    println!("METRIC grid_1280_cells_in_dom_by_ms={:.0}", painted["now"].as_f64().unwrap());
    let rendered = painted["rendered"].as_u64().unwrap();
    assert!(rendered > 0 && rendered < 400, "only rows near the viewport exist: {rendered} cells");
    browser.screenshot("viewer grid 1280 top").await.unwrap();
    // Scrolling to the end brings the last units in.
    run(&browser, "window.scrollTo(0, document.body.scrollHeight); return null;").await;
    until(
        &browser,
        "unit 1279 in the grid",
        "return document.querySelector('[data-grid-unit=\"1279\"] .sprite') !== null;",
    )
    .await;
    let cells = run(&browser, "return document.querySelectorAll('.grid-cell').length;").await;
    assert!(cells.as_u64().unwrap() < 400, "{cells}");
    browser.screenshot("viewer grid 1280 bottom").await.unwrap();
    // Filter by number.
    run(&browser, "window.scrollTo(0, 0); return null;").await;
    browser.send_keys("#unit-filter", "1279").await.unwrap();
    until(&browser, "one unit left", "const g = document.getElementById('unit-grid'); return g.dataset.units === '1' && document.querySelector('[data-grid-unit=\"1279\"]') !== null;").await;
    browser.click("[data-grid-unit=\"1279\"]", DATA_TIMEOUT).await.unwrap();
    until(&browser, "the unit page", "const m = document.querySelector('main[data-page=\"unit\"]'); return m && m.dataset.unit === '1279';").await;
    // Its evidence is too weak for a label: no headline, the evidence in words.
    let evidence = until(&browser, "the label evidence", "const e = document.getElementById('label-evidence'); return e ? { text: e.innerText, headline: document.getElementById('unit-label') !== null } : null;").await;
    assert_eq!(evidence["headline"], json!(false), "{evidence}");
    let text = evidence["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("No label") && text.contains("r = 0.31"), "{text}");
    assert!(
        text.contains("1 crop of the unit's 32 strongest") && text.contains("1 photo"),
        "{text}"
    );

    // Filter by community label and by top class on the fixture's layer.
    open(&browser, "/models/tiny/conv1", "layer").await;
    until(
        &browser,
        "the fixture grid",
        "return document.querySelector('[data-grid-unit=\"3\"]') !== null;",
    )
    .await;
    browser.send_keys("#unit-filter", "brown").await.unwrap();
    let units = until(&browser, "label filter", "const c = [...document.querySelectorAll('.grid-cell')].map(c => c.dataset.gridUnit); return c.length === 1 ? c : null;").await;
    assert_eq!(units, json!(["0"]));
    run(&browser, "const i = document.getElementById('unit-filter'); i.value = ''; return null;")
        .await;
    browser.send_keys("#unit-filter", "cup").await.unwrap();
    let units = until(&browser, "class filter", "const c = [...document.querySelectorAll('.grid-cell')].map(c => c.dataset.gridUnit); return c.length >= 1 && c.length < 4 ? c : null;").await;
    assert!(units.as_array().unwrap().contains(&json!("0")), "{units}");
    browser.screenshot("viewer grid filtered").await.unwrap();
    browser.close().await.unwrap();
}

#[tokio::test]
async fn home_model_search_and_compare() {
    let _one = serial::exclusive().await;
    let server = serve(Some(&test_atlas::fixture_dir()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;
    open(&browser, "/", "home").await;
    let card = until(&browser, "the model card", "const c = document.querySelector('[data-model-card=\"tiny\"]'); return c && !c.innerText.includes('counting') && c.innerText;").await;
    let card = card.as_str().unwrap();
    for fact in [
        "16×16 px",
        "1,234",
        "75.0 % top-1",
        "CC0-1.0",
        "trained by the tests",
        // Coverage per technique: 3 units are built, but only 2 have a channel picture.
        "channel: 2 of 7 (28.6 %)",
        "neuron: 0 of 7 (0.0 %)",
        "histogram: 3 of 7 (42.9 %)",
        "dataset examples: 2 of 7 (28.6 %)",
        "1 of 2 layers built",
    ] {
        assert!(card.contains(fact), "the card lacks {fact:?}: {card}");
    }
    assert!(!card.contains("3 of 7 units"), "no single count for every technique: {card}");
    browser.screenshot("viewer home").await.unwrap();

    open(&browser, "/models/tiny", "model").await;
    let layers = until(&browser, "the architecture", "const l = [...document.querySelectorAll('.arch-layer')]; return l.length && l.every(e => e.dataset.coverage !== 'unknown') ? l.map(e => [e.getAttribute('href'), e.dataset.coverage]) : null;").await;
    assert_eq!(layers, json!([["/models/tiny/conv1", "partial"], ["/models/tiny/conv2", "none"]]));
    let stages = run(&browser, "return document.querySelectorAll('.arch-stage').length;").await;
    assert_eq!(stages, json!(2), "8×8 and 4×4 are two stages");
    browser.screenshot("viewer model").await.unwrap();
    browser.click(".arch-layer[data-layer=\"conv1\"]", DATA_TIMEOUT).await.unwrap();
    until(&browser, "the layer page", "const m = document.querySelector('main[data-page=\"layer\"]'); return m && m.dataset.layer === 'conv1';").await;

    // Search from the header: lucid's layer:unit text, then a label.
    browser.send_keys("#search-input", "conv1:2\n").await.unwrap();
    let units = until(&browser, "unit results", "const l = [...document.querySelectorAll('#results-units a')].map(a => a.getAttribute('href')); return l.length ? l : null;").await;
    assert_eq!(units, json!(["/models/tiny/conv1/2"]));
    open(&browser, "/search?q=brown", "search").await;
    let labels = until(&browser, "label results", "const l = [...document.querySelectorAll('#results-labels a')].map(a => a.getAttribute('href')); return l.length ? l : null;").await;
    assert_eq!(labels, json!(["/models/tiny/conv1/0"]));
    open(&browser, "/search?q=hound", "search").await;
    let classes = until(
        &browser,
        "class results",
        "const l = document.getElementById('results-classes'); return l && l.innerText;",
    )
    .await;
    assert!(classes.as_str().unwrap().contains("class 1: dog, hound"), "{classes}");

    open(&browser, "/compare?a=tiny/conv1/0&b=tiny/conv1/2", "compare").await;
    let sides = until(&browser, "two cards", "const c = [...document.querySelectorAll('[data-unit-card]')].map(e => e.dataset.unitCard); return c.length === 2 ? c : null;").await;
    assert_eq!(sides, json!(["conv1:0", "conv1:2"]));
    until(&browser, "both images", IMAGES_LOADED).await;
    browser.screenshot("viewer compare").await.unwrap();
    browser.close().await.unwrap();
}

#[tokio::test]
async fn compare_one_class_across_models_and_models_being_built() {
    let _one = serial::exclusive().await;
    let atlas = tempfile::tempdir().unwrap();
    test_atlas::write_with_twin(atlas.path()).unwrap();
    let server = serve(Some(atlas.path()), &[]);
    let browser = launch(&server, BrowserOptions::webgpu()).await;

    // Home: the twin is marked as still being built, the fixture's model is not.
    open(&browser, "/", "home").await;
    let note = until(
        &browser,
        "the building note",
        "const n = document.getElementById('building-note'); return n && n.innerText;",
    )
    .await;
    assert!(
        note.as_str().unwrap().contains("Tiny twin (test data) is still being built"),
        "{note}"
    );
    let marked = until(&browser, "two cards", "const c = [...document.querySelectorAll('[data-model-card]')]; return c.length === 2 ? c.map(e => [e.dataset.modelCard, !!e.querySelector('[data-building]')]) : null;").await;
    assert_eq!(marked, json!([["tiny", false], [test_atlas::TWIN_MODEL, true]]));

    // One class, every model that has it: the twin's units whose strongest class is `cup`,
    // strongest first, with their scores; the fixture's model has none.
    open(&browser, "/compare?class=cup", "compare").await;
    let columns = until(&browser, "both columns", "const c = [...document.querySelectorAll('.compare-model')]; return c.length === 2 ? c.map(e => [e.dataset.model, [...e.querySelectorAll('.class-unit')].map(u => [u.querySelector('a').getAttribute('href'), u.querySelector('.score').innerText])]) : null;").await;
    let twin = |unit: u32, score: &str| {
        json!([
            format!("/models/{}/{}/{unit}", test_atlas::TWIN_MODEL, test_atlas::TWIN_LAYER),
            score
        ])
    };
    assert_eq!(
        columns,
        json!([
            ["tiny", []],
            [test_atlas::TWIN_MODEL, [twin(4, "0.800"), twin(1, "0.400"), twin(3, "0.200")]]
        ])
    );
    let empty = run(
        &browser,
        "return document.querySelector('.compare-model[data-model=\"tiny\"]').innerText;",
    )
    .await;
    assert!(
        empty.as_str().unwrap().contains("No unit of Tiny has “cup” as its strongest class"),
        "{empty}"
    );
    browser.screenshot("viewer compare class").await.unwrap();
    browser
        .click(".compare-model[data-model=\"tiny-twin\"] .class-unit a", DATA_TIMEOUT)
        .await
        .unwrap();
    until(&browser, "the unit page", "const m = document.querySelector('main[data-page=\"unit\"]'); return m && location.pathname === '/models/tiny-twin/mixed/4';").await;

    // The picker offers every class name; a class no model has says so.
    open(&browser, "/compare", "compare").await;
    let names = until(&browser, "the class names", "const o = [...document.querySelectorAll('#compare-class-names option')].map(o => o.value); return o.length ? o : null;").await;
    assert_eq!(names, json!(["cat", "dog, hound", "cup", "car", "tree"]));
    browser.send_keys("#compare-class", "dog, hound\n").await.unwrap();
    until(&browser, "the submitted class", "return new URLSearchParams(location.search).get('class') === 'dog, hound' && document.querySelectorAll('.compare-model').length === 2;").await;
    open(&browser, "/compare?class=nonesuch", "compare").await;
    until(&browser, "no such class", "const p = document.getElementById('compare-class-none'); return p && p.innerText.includes('nonesuch');").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn phone_width_dark_scheme_has_no_sideways_scroll() {
    let _one = serial::exclusive().await;
    let server = serve(Some(&test_atlas::fixture_dir()), &[]);
    let options = BrowserOptions {
        window_size: (390, 844),
        extra_args: vec!["--force-dark-mode".to_owned()],
        ..BrowserOptions::webgpu()
    };
    let browser = launch(&server, options).await;
    for path in ["/", "/models/tiny", "/models/tiny/conv1", "/models/tiny/conv1/0"] {
        let page = match path.matches('/').count() {
            1 if path == "/" => "home",
            2 => "model",
            3 => "layer",
            _ => "unit",
        };
        open(&browser, path, page).await;
        until(&browser, "the page's data", "return document.querySelector('.loading') === null;")
            .await;
        let seen = run(
            &browser,
            "return { dark: matchMedia('(prefers-color-scheme: dark)').matches,\
              background: getComputedStyle(document.body).backgroundColor,\
              overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth };",
        )
        .await;
        assert_eq!(seen["dark"], json!(true), "{seen}");
        assert_eq!(seen["background"], json!("rgb(17, 18, 22)"), "{path} follows the dark scheme");
        assert_eq!(seen["overflow"], json!(0), "{path} scrolls sideways at phone width: {seen}");
        browser.screenshot(&format!("viewer phone dark {path}")).await.unwrap();
    }
    browser.close().await.unwrap();
}
