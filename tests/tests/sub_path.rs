//! The viewer hosted under a sub-path, as a GitHub Pages project site lives (`/repo/`): the site
//! built with `trunk build --release --public-url /microscope/sub/` is served under that path
//! only, GitHub-Pages-style (unknown paths answered by its `404.html` with status 404), with
//! the frozen fixture atlas at `/microscope/sub/atlas/`. A visitor walks home → model → layer
//! → unit → embed → lab by clicking the viewer's own links (and opening the embed code's URL
//! cold); every page, link, asset and atlas file must stay under the sub-path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use microscope_e2e::paths::{SUB_PATH, SUB_PATH_DIST_ENV, sub_path_dist_dir};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
    test_atlas,
};

/// How long a view may take to show its data once the page is there.
const DATA_TIMEOUT: Duration = Duration::from_secs(20);

/// Waits until the page named `name` is rendered (after a click: the old page's `<main>` may
/// still be there for a moment).
async fn arrive(browser: &Browser, name: &str) -> page::PageInfo {
    let script = format!("return document.querySelector('main[data-page=\"{name}\"]') !== null;");
    browser
        .wait_for_script(&format!("the {name} page"), PAGE_TIMEOUT, &script)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    page::read(browser).await.unwrap().unwrap()
}

/// The current URL, which must be `expected` (a path under the server).
async fn assert_at(browser: &Browser, server: &StaticServer, expected: &str) {
    let url = browser.current_url().await.unwrap();
    assert_eq!(url, server.url(expected), "the address bar after the walk's last step");
}

/// Requests that left the sub-path, or that failed other than as a cold deep link's 404 (or
/// an atlas file the fixture lacks on purpose, such as an unbuilt layer's).
fn stray_requests(server: &StaticServer, cold: &[&str]) -> Vec<String> {
    let atlas = format!("{SUB_PATH}atlas/");
    server
        .requests()
        .into_iter()
        .filter(|r| {
            let outside = !r.path.starts_with(SUB_PATH) && r.path != "/favicon.ico";
            let failed =
                r.status >= 400 && !cold.contains(&r.path.as_str()) && !r.path.starts_with(&atlas);
            outside || failed
        })
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

#[tokio::test]
async fn the_whole_site_works_under_a_sub_path() {
    let _one = serial::exclusive().await;
    let dist = sub_path_dist_dir();
    assert!(
        dist.join("index.html").is_file(),
        "no site built for {SUB_PATH} in {}: run `trunk build --release --public-url {SUB_PATH} \
         --dist {}` at the workspace root (or set {SUB_PATH_DIST_ENV})",
        dist.display(),
        dist.display()
    );
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(
        index.contains(&format!("<base href=\"{SUB_PATH}\"")),
        "{} was not built with --public-url {SUB_PATH}",
        dist.display()
    );
    let server = StaticServer::start(
        ServerConfig::new(&dist, Fallback::GithubPages)
            .under(SUB_PATH)
            .mount(&format!("{SUB_PATH}atlas/"), test_atlas::fixture_dir()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let site = SUB_PATH.trim_end_matches('/');
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.url(site));

    // Home, opened cold at the sub-path's root.
    let home = page::open(&browser, "/", PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(home.page, "home", "{home:?}");
    browser.screenshot("sub-path-home").await.unwrap();

    // → the model, through its card.
    browser.click("[data-model-card=\"tiny\"] h3 a", DATA_TIMEOUT).await.unwrap();
    let model = arrive(&browser, "model").await;
    assert_eq!(model.model.as_deref(), Some("tiny"));
    assert_at(&browser, &server, &format!("{site}/models/tiny")).await;

    // → the layer, through the architecture diagram.
    browser.click(".arch-layer[data-layer=\"conv1\"]", DATA_TIMEOUT).await.unwrap();
    let layer = arrive(&browser, "layer").await;
    assert_eq!(layer.layer.as_deref(), Some("conv1"));
    assert_at(&browser, &server, &format!("{site}/models/tiny/conv1")).await;
    browser
        .wait_for_script(
            "the grid's sprite sheet",
            DATA_TIMEOUT,
            "return performance.getEntriesByType('resource')\
               .some(e => e.name.includes('/sheets/channel-0.png'));",
        )
        .await
        .unwrap();

    // → the unit, through the grid.
    browser.click("[data-grid-unit=\"0\"]", DATA_TIMEOUT).await.unwrap();
    let unit = arrive(&browser, "unit").await;
    assert_eq!(unit.unit.as_deref(), Some("0"));
    let unit_path = format!("{site}/models/tiny/conv1/0");
    assert_at(&browser, &server, &unit_path).await;
    browser
        .wait_for_script(
            "every image of the unit page",
            DATA_TIMEOUT,
            "const imgs = [...document.querySelectorAll('img')];\
             return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);",
        )
        .await
        .unwrap();
    let permalink = browser.text("#permalink").await.unwrap();
    assert_eq!(permalink, server.url(&unit_path), "the permalink names the sub-path");
    // The no-JavaScript snippet: a link to the page around a stable image URL that exists.
    let snippet = browser.text("#image-link-code").await.unwrap();
    let attribute = |name: &str| {
        let key = format!("{name}=\"");
        let rest = snippet.split(key.as_str()).nth(1).unwrap_or_else(|| panic!("{snippet}"));
        rest.split('"').next().unwrap_or_default().to_owned()
    };
    assert!(snippet.starts_with("<a href=") && snippet.contains("<img "), "{snippet}");
    assert_eq!(attribute("href"), server.url(&unit_path));
    let image = attribute("src");
    let image_path = image.strip_prefix(&server.base_url()).unwrap_or_else(|| panic!("{image}"));
    assert!(image_path.starts_with(&format!("{site}/atlas/")), "{image}");
    let response = microscope_e2e::unfurl::get(server.addr(), image_path).unwrap();
    assert_eq!((response.status, response.header("content-type")), (200, Some("image/png")));
    browser.screenshot("sub-path-unit").await.unwrap();

    // → the embed card, at the URL its embed code gives (opened cold, as an iframe would).
    let code = browser.text("#embed-code").await.unwrap();
    let embed_url = code
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no src in the embed code {code:?}"))
        .to_owned();
    let embed_path = format!("{site}/embed/models/tiny/conv1/0");
    assert_eq!(embed_url, server.url(&embed_path));
    let embed = page::open(&browser, &embed_url, PAGE_TIMEOUT).await.unwrap();
    assert_eq!(embed.page, "embed", "{embed:?}");
    browser
        .wait_for_script(
            "the embed card's image",
            DATA_TIMEOUT,
            "const img = document.querySelector('.unit-card img.fv');\
             return img !== null && img.complete && img.naturalWidth > 0;",
        )
        .await
        .unwrap();
    browser.screenshot("sub-path-embed").await.unwrap();

    // → back to the unit page through the card's link, then → the lab through the header.
    browser.click("a.full-page", DATA_TIMEOUT).await.unwrap();
    arrive(&browser, "unit").await;
    assert_at(&browser, &server, &unit_path).await;
    browser.click("header nav a[href$=\"/lab\"]", DATA_TIMEOUT).await.unwrap();
    arrive(&browser, "lab").await;
    assert_at(&browser, &server, &format!("{site}/lab")).await;
    browser.screenshot("sub-path-lab").await.unwrap();

    // The 404s of the cold loads (the embed link, and the card's link back, which leaves
    // the frame with target=_top) are GitHub Pages' way of serving the app; nothing else may
    // fail or leave the sub-path.
    let cold = [embed_path.as_str(), unit_path.as_str()];
    let stray = stray_requests(&server, &cold);
    assert!(stray.is_empty(), "requests outside {SUB_PATH} or failed: {stray:#?}");
    let errors = browser.console_errors().await.unwrap();
    let expected = |message: &str| {
        cold.iter().any(|path| message.contains(path)) || message.contains("/atlas/")
    };
    assert!(errors.iter().all(|e| expected(&e.message)), "console errors: {errors:#?}");
    browser.close().await.unwrap();
}

/// An embed of a unit the atlas has no visualization of, in a page of another origin: the card
/// shows the unit's top dataset examples and offers to render the picture in the browser.
#[tokio::test]
async fn an_embed_without_an_atlas_image_shows_a_picture_on_another_origin() {
    let _one = serial::exclusive().await;
    let dist = sub_path_dist_dir();
    assert!(
        dist.join("index.html").is_file(),
        "no site built for {SUB_PATH} in {}",
        dist.display()
    );
    // The fixture, with unit conv1:2's channel visualization taken out of its manifest.
    let dir = tempfile::tempdir().unwrap();
    let atlas = dir.path().join("atlas");
    test_atlas::copy_dir(&test_atlas::fixture_dir(), &atlas).unwrap();
    let unit_file = atlas.join("models/tiny/checkpoints/final/layers/conv1/units/2/unit.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&unit_file).unwrap()).unwrap();
    manifest["feature_visualizations"].as_object_mut().unwrap().remove("channel");
    std::fs::write(&unit_file, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let site = StaticServer::start(
        ServerConfig::new(&dist, Fallback::GithubPages)
            .under(SUB_PATH)
            .mount(&format!("{SUB_PATH}atlas/"), &atlas),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // A blog on another origin embeds the card with the iframe code.
    let blog = dir.path().join("blog");
    std::fs::create_dir(&blog).unwrap();
    let embed =
        site.url(&format!("{SUB_PATH}embed/models/tiny/conv1/2?parts=visualization,label,link"));
    std::fs::write(
        blog.join("index.html"),
        format!("<!DOCTYPE html><title>A post</title><p>Look:</p><iframe src=\"{embed}\" width=\"360\" height=\"440\"></iframe>"),
    )
    .unwrap();
    let blog = StaticServer::start(ServerConfig::new(&blog, Fallback::Spa)).unwrap();
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(blog.base_url());
    browser.goto("/").await.unwrap();
    browser.wait_for("iframe", PAGE_TIMEOUT).await.unwrap();
    browser.client().enter_frame(0).await.unwrap();
    arrive(&browser, "embed").await;
    let seen = browser
        .wait_for_script(
            "the card's picture: the top dataset examples",
            DATA_TIMEOUT,
            "const img = document.querySelector('[data-source=\"examples\"] img');\
             return img !== null && img.complete && img.naturalWidth > 0 ? img.src : null;",
        )
        .await
        .unwrap();
    assert!(seen.as_str().unwrap().ends_with("/units/2/top.png"), "{seen}");
    assert!(browser.exists("#live-render-start").await.unwrap(), "a click renders the picture");
    assert!(!browser.exists("img.fv[data-source=\"atlas\"]").await.unwrap());
    browser.client().enter_parent_frame().await.unwrap();
    browser.screenshot("embed-on-another-origin").await.unwrap();

    // With render=1 the card starts the renderer at once: its worker comes from the sub-path.
    // (The fixture's tiny model has no weights, so the render itself ends in an error.)
    let live = site.url(&format!("{SUB_PATH}embed/models/tiny/conv1/2?render=1&size=16&steps=2"));
    page::open(&browser, &live, PAGE_TIMEOUT).await.unwrap();
    let state = browser
        .wait_for_attr_where(
            "#live-render",
            "data-state",
            "the render started",
            DATA_TIMEOUT,
            |s| s != "idle",
        )
        .await
        .unwrap();
    assert!(["running", "failed", "done"].contains(&state.as_str()), "{state}");
    browser
        .wait_until("the worker script", DATA_TIMEOUT, async || {
            Ok(site
                .requests_under(&format!("{SUB_PATH}microscope-renderer_loader.js"))
                .iter()
                .any(|r| r.status == 200)
                .then_some(()))
        })
        .await
        .unwrap();
    let outside: Vec<_> = site
        .requests()
        .into_iter()
        .filter(|r| !r.path.starts_with(SUB_PATH))
        .map(|r| r.path)
        .collect();
    assert!(outside.is_empty(), "requests outside {SUB_PATH}: {outside:?}");
    browser.close().await.unwrap();
}

/// A viewer opened with `?atlas=URL` reads someone else's atlas from another origin when its
/// host allows CORS, keeps it while the visitor browses, and says what is wrong when the host
/// does not allow it.
#[tokio::test]
async fn a_viewer_reads_an_atlas_from_another_origin_that_allows_it() {
    let _one = serial::exclusive().await;
    let dist = sub_path_dist_dir();
    assert!(
        dist.join("index.html").is_file(),
        "no site built for {SUB_PATH} in {}",
        dist.display()
    );
    let site = StaticServer::start(ServerConfig::new(&dist, Fallback::GithubPages).under(SUB_PATH))
        .unwrap_or_else(|e| panic!("{e}"));
    let host_root = tempfile::tempdir().unwrap();
    std::fs::write(host_root.path().join("index.html"), "an atlas host").unwrap();
    let host = |cors: bool| {
        let config = ServerConfig::new(host_root.path(), Fallback::Spa)
            .mount("/atlas/", test_atlas::fixture_dir());
        let config = if cors { config.allow_any_origin() } else { config };
        StaticServer::start(config).unwrap_or_else(|e| panic!("{e}"))
    };
    let (open_host, closed_host) = (host(true), host(false));
    let encode = |url: String| url.replace(':', "%3A").replace('/', "%2F");
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(site.url(SUB_PATH.trim_end_matches('/')));

    let home = format!("/?atlas={}", encode(open_host.url("/atlas/")));
    let info = page::open(&browser, &home, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "home");
    browser.click("[data-model-card=\"tiny\"] h3 a", DATA_TIMEOUT).await.unwrap();
    arrive(&browser, "model").await;
    browser.click(".arch-layer[data-layer=\"conv1\"]", DATA_TIMEOUT).await.unwrap();
    arrive(&browser, "layer").await;
    browser.click("[data-grid-unit=\"0\"]", DATA_TIMEOUT).await.unwrap();
    arrive(&browser, "unit").await;
    let image = browser
        .wait_for_script(
            "the unit's visualization from the other origin",
            DATA_TIMEOUT,
            "const img = document.querySelector('#fv-image, img.fv');\
             return img !== null && img.complete && img.naturalWidth > 0 ? img.src : null;",
        )
        .await
        .unwrap();
    assert!(image.as_str().unwrap().starts_with(&open_host.url("/atlas/")), "{image}");
    let permalink = browser.text("#permalink").await.unwrap();
    assert!(permalink.contains("atlas="), "a shared link keeps the atlas: {permalink}");
    assert!(site.requests_under(&format!("{SUB_PATH}atlas/")).is_empty(), "not the site's own");
    browser.screenshot("atlas-from-another-origin").await.unwrap();

    // A host that does not allow other origins: the viewer says so.
    let home = format!("/?atlas={}", encode(closed_host.url("/atlas/")));
    page::open(&browser, &home, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    let message = browser
        .wait_for_script(
            "the viewer's error about the atlas host",
            DATA_TIMEOUT,
            "const e = document.querySelector('.load-error');\
             return e === null ? null : e.innerText;",
        )
        .await
        .unwrap();
    assert!(message.as_str().unwrap().contains("Access-Control-Allow-Origin"), "{message}");
    browser.screenshot("atlas-host-without-cors").await.unwrap();
    browser.close().await.unwrap();
}
