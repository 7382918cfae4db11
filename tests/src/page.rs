//! The viewer's page contract: every page renders `<main data-page="NAME" …>`.
//!
//! Pages that concern a model, layer or unit also carry `data-model`, `data-layer` and
//! `data-unit` on that `<main>`. [`open`] loads a URL cold and reads all of it in one go.

use std::time::Duration;

use serde_json::Value as Json;

use crate::browser::Browser;
use crate::error::{Error, Result};

/// The names a page may give itself in `data-page`.
pub const PAGE_NAMES: [&str; 11] = [
    "home",
    "model",
    "layer",
    "unit",
    "embed",
    "compare",
    "search",
    "not-found",
    "diagnostics",
    "lab",
    "your-model",
];

/// What a rendered page shows of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// `data-page` of `<main>`.
    pub page: String,
    /// `data-model` of `<main>`, if present.
    pub model: Option<String>,
    /// `data-layer` of `<main>`, if present.
    pub layer: Option<String>,
    /// `data-unit` of `<main>`, if present.
    pub unit: Option<String>,
    /// The text of the first `<h1>`, if any.
    pub h1: Option<String>,
    /// Whether the page has a `<header>` (the site navigation).
    pub has_header: bool,
    /// The page's whole text.
    pub text: String,
}

/// Reads the page contract now; `None` while no `<main data-page>` is rendered.
pub async fn read(browser: &Browser) -> Result<Option<PageInfo>> {
    let info = browser
        .execute(
            "const main = document.querySelector('main[data-page]');\
             if (main === null) { return null; }\
             const h1 = document.querySelector('h1');\
             return {\
               page: main.getAttribute('data-page'),\
               model: main.getAttribute('data-model'),\
               layer: main.getAttribute('data-layer'),\
               unit: main.getAttribute('data-unit'),\
               h1: h1 === null ? null : h1.innerText,\
               header: document.querySelector('header') !== null,\
               text: document.body.innerText,\
             };",
            Vec::new(),
        )
        .await?;
    if info.is_null() {
        return Ok(None);
    }
    let string = |name: &str| info.get(name).and_then(Json::as_str).map(str::to_owned);
    Ok(Some(PageInfo {
        page: string("page").unwrap_or_default(),
        model: string("model"),
        layer: string("layer"),
        unit: string("unit"),
        h1: string("h1"),
        has_header: info.get("header").and_then(Json::as_bool).unwrap_or(false),
        text: string("text").unwrap_or_default(),
    }))
}

/// Waits until a page is rendered and returns its contract.
pub async fn wait(browser: &Browser, timeout: Duration) -> Result<PageInfo> {
    browser
        .wait_until("main[data-page] (the app rendering a page)", timeout, async || {
            read(browser).await
        })
        .await
}

/// Opens `path` cold (a fresh page load of the deep URL) and waits for its page.
pub async fn open(browser: &Browser, path: &str, timeout: Duration) -> Result<PageInfo> {
    browser.goto(path).await?;
    let info = wait(browser, timeout).await?;
    if PAGE_NAMES.contains(&info.page.as_str()) {
        Ok(info)
    } else {
        Err(Error::Unexpected(format!(
            "{path} rendered data-page={:?}, which is not one of {PAGE_NAMES:?}",
            info.page
        )))
    }
}

/// Waits until the unit page's large feature visualization (`#fv-image`) has loaded and
/// returns when it arrived: its `responseEnd` in milliseconds from the navigation's start (or
/// the time of the check, if the browser kept no timing for it).
pub async fn fv_image_arrived_ms(browser: &Browser, timeout: Duration) -> Result<f64> {
    let arrived = browser
        .wait_for_script(
            "the channel visualization",
            timeout,
            "const i = document.getElementById('fv-image');\
             if (!i || !i.complete || i.naturalWidth === 0) return null;\
             const e = performance.getEntriesByName(i.src)[0];\
             return e ? e.responseEnd : performance.now();",
        )
        .await?;
    arrived
        .as_f64()
        .ok_or_else(|| Error::Unexpected(format!("not a time in milliseconds: {arrived}")))
}
