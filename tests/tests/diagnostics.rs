//! The diagnostics page: the WebGPU probe (with Chromium's software adapter, and without
//! WebGPU) and the smoke computation on both paths (WebGPU in the renderer worker, and CPU).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use microscope_e2e::diagnostics::{self, SmokePath};
use microscope_e2e::{
    Browser, BrowserOptions, COMPUTE_TIMEOUT, Fallback, PAGE_TIMEOUT, StaticServer, page, serial,
};

/// Serves the site under `fallback`, opens the diagnostics page cold in a browser started with
/// `options`, and checks it is the diagnostics page.
async fn open_diagnostics(fallback: Fallback, options: BrowserOptions) -> (StaticServer, Browser) {
    let server = StaticServer::dist(fallback).unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, diagnostics::PATH, PAGE_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.page, "diagnostics");
    (server, browser)
}

/// Console errors of the session, for failure messages.
async fn console_report(browser: &Browser) -> String {
    match browser.console_errors().await {
        Ok(errors) if errors.is_empty() => "none".to_owned(),
        Ok(errors) => errors.iter().map(|entry| format!("\n  {entry}")).collect(),
        Err(e) => format!("(unreadable: {e})"),
    }
}

#[tokio::test]
async fn webgpu_probe_finds_the_software_adapter() {
    let _one_browser = serial::exclusive().await;
    for fallback in Fallback::ALL {
        let (_server, browser) = open_diagnostics(fallback, BrowserOptions::webgpu()).await;
        let probe = diagnostics::wait_for_probe(&browser, PAGE_TIMEOUT).await;
        let shot = browser
            .screenshot(&format!("diagnostics {} webgpu probe", fallback.name()))
            .await
            .unwrap();
        let probe = probe.unwrap_or_else(|e| panic!("{e}\nscreenshot: {}", shot.display()));
        assert!(
            probe.available() && probe.fallback.as_deref() == Some("true"),
            "under {}: expected data-webgpu=\"available\" data-fallback=\"true\" (SwiftShader), \
             got {probe:?}\nscreenshot: {}\nconsole errors: {}",
            fallback.name(),
            shot.display(),
            console_report(&browser).await
        );
        browser.close().await.unwrap();
    }
}

#[tokio::test]
async fn webgpu_probe_reports_a_browser_without_webgpu() {
    let _one_browser = serial::exclusive().await;
    let (_server, browser) =
        open_diagnostics(Fallback::GithubPages, BrowserOptions::without_webgpu()).await;
    let probe = diagnostics::wait_for_probe(&browser, PAGE_TIMEOUT).await;
    let shot = browser.screenshot("diagnostics github-pages no-webgpu probe").await.unwrap();
    let probe = probe.unwrap_or_else(|e| panic!("{e}\nscreenshot: {}", shot.display()));
    assert_eq!(
        probe.webgpu,
        "unavailable",
        "without WebGPU: {probe:?}\nscreenshot: {}",
        shot.display()
    );
    browser.close().await.unwrap();
}

/// Runs the smoke computation on `path` and checks its objectives rise at every step.
async fn smoke(path: SmokePath) {
    let _one_browser = serial::exclusive().await;
    let (_server, browser) =
        open_diagnostics(Fallback::GithubPages, BrowserOptions::webgpu()).await;
    let run = diagnostics::run_smoke(&browser, path, COMPUTE_TIMEOUT).await;
    let shot = browser.screenshot(&format!("diagnostics smoke {}", path.name())).await.unwrap();
    let run = run.unwrap_or_else(|e| panic!("{e}\nscreenshot: {}", shot.display()));
    let context = format!(
        "{run:?}\nscreenshot: {}\nconsole errors: {}",
        shot.display(),
        console_report(&browser).await
    );
    assert_eq!(run.state, "done", "the smoke computation failed: {context}");
    let running_first = run.states.iter().position(|state| state == "running");
    let done_at = run.states.iter().position(|state| state == "done");
    assert!(
        running_first.is_some() && running_first < done_at,
        "#smoke-result should go data-state=running, then done; it went {:?}: {context}",
        run.states
    );
    assert_eq!(run.path.as_deref(), Some(path.name()), "data-path: {context}");
    let objectives = &run.objectives;
    assert!(objectives.len() >= 3, "at least 3 objectives expected: {context}");
    assert!(
        objectives.iter().all(|value| value.is_finite()),
        "objectives must be finite: {context}"
    );
    assert!(
        objectives.windows(2).all(|pair| pair[0] < pair[1]),
        "objectives must increase strictly at every step: {context}"
    );
    browser.close().await.unwrap();
}

#[tokio::test]
async fn smoke_computation_on_webgpu() {
    smoke(SmokePath::WebGpu).await;
}

#[tokio::test]
async fn smoke_computation_on_cpu() {
    smoke(SmokePath::Cpu).await;
}
