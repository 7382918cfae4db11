//! Every route of the viewer, opened cold (a fresh load of the deep URL) under both hosts: a
//! development server (unknown paths → `index.html`, 200) and GitHub Pages (unknown paths →
//! `404.html`, 404), with the frozen v1.0 fixture atlas served at `/atlas/`. Each page is
//! checked against the DOM contract and screenshotted.
//!
//! All routes of one host share one browser; failures are collected so that one run reports
//! every broken route, each with its screenshot and console errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, PageInfo, ServerConfig, StaticServer, page,
    serial, test_atlas,
};

/// One route and what its page must show.
struct Case {
    path: &'static str,
    page: &'static str,
    model: Option<&'static str>,
    layer: Option<&'static str>,
    unit: Option<&'static str>,
    /// Text the `<h1>` must contain.
    h1: Option<&'static str>,
    /// Text the page must contain (not-found pages show the requested path).
    shows: Option<&'static str>,
    /// Whether the site navigation (`<header>`) must be absent.
    no_header: bool,
}

const fn case(path: &'static str, page: &'static str) -> Case {
    Case {
        path,
        page,
        model: None,
        layer: None,
        unit: None,
        h1: None,
        shows: None,
        no_header: false,
    }
}

const fn not_found(path: &'static str) -> Case {
    Case { shows: Some(path), ..case(path, "not-found") }
}

const CASES: &[Case] = &[
    Case { shows: Some("Tiny"), ..case("/", "home") },
    Case { model: Some("tiny"), h1: Some("tiny"), ..case("/models/tiny", "model") },
    Case {
        model: Some("tiny"),
        layer: Some("conv1"),
        h1: Some("conv1"),
        ..case("/models/tiny/conv1", "layer")
    },
    Case {
        model: Some("tiny"),
        layer: Some("conv1"),
        unit: Some("0"),
        h1: Some("conv1:0"),
        shows: Some("brown things"),
        ..case("/models/tiny/conv1/0", "unit")
    },
    Case {
        model: Some("tiny"),
        layer: Some("conv2"),
        unit: Some("2"),
        h1: Some("conv2:2"),
        shows: Some("in-browser renderer"),
        ..case("/models/tiny/conv2/2", "unit")
    },
    Case {
        model: Some("tiny"),
        layer: Some("conv1"),
        unit: Some("0"),
        no_header: true,
        shows: Some("Open in Microscope"),
        ..case("/embed/models/tiny/conv1/0", "embed")
    },
    Case {
        shows: Some("Compare units"),
        ..case("/compare?a=tiny/conv1/0&b=tiny/conv1/2", "compare")
    },
    Case { shows: Some("conv1:0"), ..case("/search?q=conv1:0", "search") },
    not_found("/models/x/y/abc"),
    not_found("/models/x/y/3/extra"),
    not_found("/nope"),
    not_found("/models/x/y/-1"),
    Case { shows: Some("Tiny"), ..not_found("/models/x/y/3") },
    case("/diagnostics", "diagnostics"),
    Case { shows: Some("Drop an .onnx file"), ..case("/your-model", "your-model") },
];

/// Compares one rendered page with its case; the problems found, if any.
fn contract_problems(case: &Case, info: &PageInfo) -> Vec<String> {
    let mut problems = Vec::new();
    if info.page != case.page {
        problems.push(format!("data-page is {:?}, expected {:?}", info.page, case.page));
    }
    let attributes = [
        ("data-model", &info.model, case.model),
        ("data-layer", &info.layer, case.layer),
        ("data-unit", &info.unit, case.unit),
    ];
    for (name, actual, expected) in attributes {
        if let Some(expected) = expected
            && actual.as_deref() != Some(expected)
        {
            problems.push(format!("{name} is {actual:?}, expected {expected:?}"));
        }
    }
    if let Some(expected) = case.h1
        && !info.h1.as_deref().is_some_and(|h1| h1.contains(expected))
    {
        problems.push(format!("<h1> is {:?}, expected it to contain {expected:?}", info.h1));
    }
    if let Some(expected) = case.shows
        && !info.text.contains(expected)
    {
        problems.push(format!("the page does not show {expected:?}; its text is {:?}", info.text));
    }
    if case.no_header && info.has_header {
        problems.push("the page has a <header> (site navigation), expected none".to_owned());
    }
    problems
}

/// What the host must have answered for the page itself and for everything it loaded.
fn request_problems(case: &Case, server: &StaticServer) -> Vec<String> {
    let mut problems = Vec::new();
    let requests = server.requests();
    let expected_status = match (server.fallback(), case.path) {
        (_, "/") | (Fallback::Spa, _) => 200,
        (Fallback::GithubPages, _) => 404,
    };
    let document_path = case.path.split('?').next().unwrap_or(case.path);
    match requests.iter().find(|request| request.path == document_path) {
        None => problems.push(format!("the server never saw a request for {}", case.path)),
        Some(document) if document.status != expected_status => problems.push(format!(
            "the document was answered {}, expected {expected_status}",
            document.status
        )),
        Some(_) => {}
    }
    for request in &requests {
        let is_document = request.path == document_path;
        // A layer without `layer.json` is not built yet: missing is data (format § 9), and the
        // viewer asks for it to know. Anything else missing is a bug.
        let unbuilt_layer =
            request.path.starts_with("/atlas/") && request.path.ends_with("/layer.json");
        if !is_document && !unbuilt_layer && request.path != "/favicon.ico" && request.status >= 400
        {
            problems.push(format!(
                "{} {} was answered {} (a missing asset: are asset URLs absolute?)",
                request.method, request.path, request.status
            ));
        }
    }
    problems
}

/// Opens every route under `fallback` and asserts all of them.
async fn all_routes_render(fallback: Fallback) {
    let _one_browser = serial::exclusive().await;
    let config = ServerConfig::dist(fallback).mount("/atlas/", test_atlas::fixture_dir());
    let server = StaticServer::start(config).unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(BrowserOptions::webgpu())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let mut failures = Vec::new();
    for case in CASES {
        server.clear_requests();
        browser.clear_console().await.unwrap();
        let mut problems = match page::open(&browser, case.path, PAGE_TIMEOUT).await {
            Ok(info) => contract_problems(case, &info),
            Err(error) => vec![error.to_string()],
        };
        problems.extend(request_problems(case, &server));
        let console = browser.console().await.unwrap_or_default();
        problems.extend(
            console
                .iter()
                .filter(|entry| entry.message.contains("panicked at"))
                .map(|entry| format!("the app panicked: {}", entry.message)),
        );
        let shot = browser.screenshot(&format!("routes {} {}", fallback.name(), case.path)).await;
        if !problems.is_empty() {
            let problems = problems.join("\n    - ");
            // A timeout already lists the console errors.
            let console = if problems.contains("browser console errors:") {
                String::new()
            } else {
                let errors: Vec<String> = console
                    .iter()
                    .filter(|entry| entry.is_error())
                    .map(|entry| format!("\n      {entry}"))
                    .collect();
                format!(
                    "\n    console errors:{}",
                    if errors.is_empty() { " none".to_owned() } else { errors.concat() }
                )
            };
            failures.push(format!(
                "{} (expected data-page={:?}):\n    - {problems}\n    screenshot: {}{console}",
                case.path,
                case.page,
                shot.map_or_else(|e| format!("(failed: {e})"), |p| p.display().to_string()),
            ));
        }
    }
    browser.close().await.unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} routes failed under the {} host:\n{}",
        failures.len(),
        CASES.len(),
        fallback.name(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn routes_render_cold_on_a_dev_server() {
    all_routes_render(Fallback::Spa).await;
}

#[tokio::test]
async fn routes_render_cold_on_github_pages() {
    all_routes_render(Fallback::GithubPages).await;
}
