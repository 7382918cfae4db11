//! `microscope publish`: the fixture atlas and the viewer built for `/microscope/sub/` made into
//! a site for `https://microscope.example/microscope/sub/`, served GitHub-Pages-style under
//! that path. A link unfurler's fetch (no JavaScript) of a unit's deep link must answer 200
//! with a title naming the unit and an `og:image` that resolves to the unit's picture; the
//! model and layer entries, the oEmbed document, the sitemap, robots.txt and the licence texts
//! must be there; and the same entry, opened in a browser, must boot the viewer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use microscope_e2e::paths::{SUB_PATH, sub_path_dist_dir};
use microscope_e2e::unfurl::{self, Response};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
    test_atlas,
};
use serde_json::Value as Json;

/// Where the published site says it lives.
const SITE_ORIGIN: &str = "https://microscope.example";

fn get(server: &StaticServer, path: &str) -> Response {
    unfurl::get(server.addr(), path).unwrap_or_else(|e| panic!("{e}"))
}

/// The local path of a URL of the published site.
fn local(url: &str) -> String {
    url.strip_prefix(SITE_ORIGIN)
        .unwrap_or_else(|| panic!("{url} is not on {SITE_ORIGIN}"))
        .to_owned()
}

/// The fixture atlas, with unit conv1:2's channel visualization taken out of its manifest (so
/// its preview must fall back to its top dataset examples).
fn atlas(dir: &Path) -> std::path::PathBuf {
    let atlas = dir.join("atlas");
    test_atlas::copy_dir(&test_atlas::fixture_dir(), &atlas).unwrap();
    let unit = atlas.join("models/tiny/checkpoints/final/layers/conv1/units/2/unit.json");
    let mut manifest: Json = serde_json::from_slice(&std::fs::read(&unit).unwrap()).unwrap();
    manifest["feature_visualizations"].as_object_mut().unwrap().remove("channel");
    std::fs::write(&unit, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    atlas
}

/// Fetches an entry like an unfurler and checks what a link preview needs; returns the page.
fn unfurls(server: &StaticServer, path: &str, title_has: &str) -> String {
    let response = get(server, path);
    assert_eq!(response.status, 200, "{path}: a deep link must answer 200");
    let html = response.text();
    let title = unfurl::title(&html).unwrap_or_else(|| panic!("{path} has no <title>"));
    assert!(title.contains(title_has), "{path}: title {title:?} lacks {title_has:?}");
    assert_eq!(unfurl::meta(&html, "og:title").as_deref(), Some(title.as_str()));
    let canonical = unfurl::link(&html, "canonical", None).unwrap();
    assert_eq!(canonical, format!("{SITE_ORIGIN}{path}"), "{path}: canonical URL");
    assert_eq!(unfurl::meta(&html, "og:url"), Some(canonical));
    let description = unfurl::meta(&html, "description").unwrap_or_default();
    assert!(!description.is_empty() && !description.starts_with("Microscope:"), "{description}");
    html
}

/// The page's `og:image` (which must be a PNG that exists on the site), and its local path.
fn preview_image(server: &StaticServer, html: &str) -> String {
    let image = unfurl::meta(html, "og:image").expect("an og:image");
    let response = get(server, &local(&image));
    assert_eq!(response.status, 200, "og:image {image}");
    assert_eq!(response.header("content-type"), Some("image/png"), "{image}");
    assert!(response.body.starts_with(b"\x89PNG\r\n\x1a\n"), "{image} is not a PNG");
    assert_eq!(unfurl::meta(html, "twitter:image").as_deref(), Some(image.as_str()));
    assert!(unfurl::meta(html, "twitter:card").is_some());
    local(&image)
}

#[tokio::test]
async fn a_published_unit_unfurls_without_javascript_and_boots_the_viewer() {
    let _one = serial::exclusive().await;
    let dist = sub_path_dist_dir();
    assert!(
        dist.join("index.html").is_file(),
        "no viewer built for {SUB_PATH}: run `trunk build --release --public-url {SUB_PATH} \
         --dist {}`",
        dist.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let atlas = atlas(dir.path());
    let site = dir.path().join("site");
    let site_url = format!("{SITE_ORIGIN}{SUB_PATH}");
    let args = [
        "publish",
        atlas.to_str().unwrap(),
        "--site-url",
        &site_url,
        "--out",
        site.to_str().unwrap(),
        "--viewer",
        dist.to_str().unwrap(),
    ];
    test_atlas::microscope(&dir.path().join("cache"), &args).unwrap_or_else(|e| panic!("{e}"));
    let server =
        StaticServer::start(ServerConfig::new(&site, Fallback::GithubPages).under(SUB_PATH))
            .unwrap_or_else(|e| panic!("{e}"));
    let base = SUB_PATH.trim_end_matches('/');

    // A unit with a channel visualization: its picture is that image.
    let unit = format!("{base}/models/tiny/conv1/0");
    let html = unfurls(&server, &unit, "conv1:0");
    let image = preview_image(&server, &html);
    assert_eq!(
        image,
        format!("{base}/atlas/models/tiny/checkpoints/final/layers/conv1/units/0/channel.png")
    );
    // oEmbed discovery, and the document it names.
    let oembed = unfurl::link(&html, "alternate", Some("application/json+oembed")).unwrap();
    let response = get(&server, &local(&oembed));
    assert_eq!(response.status, 200, "{oembed}");
    let document: Json = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(document["type"], "rich");
    let embed = format!("{site_url}embed/models/tiny/conv1/0");
    assert!(document["html"].as_str().unwrap().contains(&format!("src=\"{embed}\"")), "{document}");
    assert_eq!(document["thumbnail_url"], format!("{SITE_ORIGIN}{image}"));

    // A unit without one: the sheet of its top dataset examples.
    let html = unfurls(&server, &format!("{base}/models/tiny/conv1/2"), "conv1:2");
    assert!(preview_image(&server, &html).ends_with("/units/2/top.png"));
    // A unit the atlas has not built still answers 200, with words and no picture.
    let html = unfurls(&server, &format!("{base}/models/tiny/conv1/3"), "conv1:3");
    assert_eq!(unfurl::meta(&html, "og:image"), None);
    // The model and the layer.
    unfurls(&server, &format!("{base}/models/tiny"), "Tiny");
    let html = unfurls(&server, &format!("{base}/models/tiny/conv1"), "conv1");
    preview_image(&server, &html);

    // The files around them.
    let sitemap = get(&server, &format!("{base}/sitemap.xml"));
    assert_eq!(sitemap.status, 200);
    assert!(sitemap.text().contains(&format!("<loc>{SITE_ORIGIN}{unit}</loc>")));
    let robots = get(&server, &format!("{base}/robots.txt"));
    assert!(robots.text().contains(&format!("Sitemap: {site_url}sitemap.xml")));
    for (file, words) in [("LICENSE.txt", "Apache License"), ("NOTICE.txt", "GPL")] {
        let response = get(&server, &format!("{base}/{file}"));
        assert_eq!(response.status, 200, "{file}");
        assert!(response.text().contains(words), "{file}");
    }
    // The viewer's own file is untouched by the entries written over its copy.
    let viewer_index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(viewer_index.contains("<title>Microscope</title>"));

    // The entry is the viewer: in a browser it boots and shows the unit.
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, &unit, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((info.page.as_str(), info.unit.as_deref()), ("unit", Some("0")), "{info:?}");
    // The viewer's own files all load (the fixture lacks some atlas files on purpose).
    let atlas_files = format!("{base}/atlas/");
    let stray: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400 && !r.path.starts_with(&atlas_files))
        .map(|r| r.path)
        .collect();
    assert!(stray.is_empty(), "failed requests on the published site: {stray:?}");
    browser.screenshot("published-unit").await.unwrap();
    browser.close().await.unwrap();
}

/// A site whose atlas lives on another host (`--atlas-url`, a host that allows CORS): the atlas
/// is not copied, every entry (and `404.html`) tells the viewer where it is, link previews
/// point there, and the viewer reads it from there.
#[tokio::test]
async fn a_published_site_can_read_its_atlas_from_another_host() {
    let _one = serial::exclusive().await;
    let dist = sub_path_dist_dir();
    assert!(dist.join("index.html").is_file(), "no viewer built for {SUB_PATH}");
    let dir = tempfile::tempdir().unwrap();
    let atlas = atlas(dir.path());
    std::fs::write(dir.path().join("index.html"), "an atlas host").unwrap();
    let host = StaticServer::start(
        ServerConfig::new(dir.path(), Fallback::Spa).mount("/atlas/", &atlas).allow_any_origin(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let atlas_url = host.url("/atlas/");
    let site = dir.path().join("site");
    let site_url = format!("{SITE_ORIGIN}{SUB_PATH}");
    let args = [
        "publish",
        atlas.to_str().unwrap(),
        "--site-url",
        &site_url,
        "--atlas-url",
        &atlas_url,
        "--out",
        site.to_str().unwrap(),
        "--viewer",
        dist.to_str().unwrap(),
    ];
    test_atlas::microscope(&dir.path().join("cache"), &args).unwrap_or_else(|e| panic!("{e}"));
    assert!(!site.join("atlas").exists(), "the atlas is not copied");
    for file in ["404.html", "index.html", "models/tiny/conv1/0.html"] {
        let html = std::fs::read_to_string(site.join(file)).unwrap();
        assert_eq!(
            unfurl::meta(&html, "microscope-atlas").as_deref(),
            Some(atlas_url.as_str()),
            "{file}"
        );
    }
    let server =
        StaticServer::start(ServerConfig::new(&site, Fallback::GithubPages).under(SUB_PATH))
            .unwrap_or_else(|e| panic!("{e}"));
    let unit = format!("{}/models/tiny/conv1/0", SUB_PATH.trim_end_matches('/'));
    let html = unfurls(&server, &unit, "conv1:0");
    let image = unfurl::meta(&html, "og:image").unwrap();
    assert!(image.starts_with(&atlas_url), "the preview is on the atlas host: {image}");

    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, &unit, PAGE_TIMEOUT).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "unit", "{info:?}");
    let src = browser
        .wait_for_script(
            "the unit's visualization from the atlas host",
            std::time::Duration::from_secs(20),
            "const img = document.querySelector('#fv-image, img.fv');\
             return img !== null && img.complete && img.naturalWidth > 0 ? img.src : null;",
        )
        .await
        .unwrap();
    assert!(src.as_str().unwrap().starts_with(&atlas_url), "{src}");
    assert!(host.requests_under("/atlas/atlas.json").iter().any(|r| r.status == 200));
    browser.close().await.unwrap();
}
