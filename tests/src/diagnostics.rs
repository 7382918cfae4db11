//! The diagnostics page's contract: the WebGPU probe and the smoke computation.
//!
//! - `#gpu-probe` gets `data-state="done"` once the probe finished, with `data-webgpu`
//!   (`available` / `unavailable`) and `data-fallback` (`true` / `false`, whether the adapter
//!   is a fallback, i.e. software, adapter).
//! - Clicking `#smoke-webgpu` or `#smoke-cpu` starts a short optimisation; `#smoke-result`
//!   goes `data-state="running"`, then `done` (with `data-path` and `data-objectives`, one
//!   comma-separated float per step) or `failed` (with the error as its text).

use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::browser::Browser;
use crate::error::{Error, Result};

/// The route of the diagnostics page.
pub const PATH: &str = "/diagnostics";

/// The outcome of the WebGPU probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuProbe {
    /// `data-webgpu`: `available` or `unavailable`.
    pub webgpu: String,
    /// `data-fallback`: `true` or `false`.
    pub fallback: Option<String>,
    /// The probe's text (adapter description or reason).
    pub text: String,
}

impl GpuProbe {
    /// Whether the probe found a WebGPU adapter.
    pub fn available(&self) -> bool {
        self.webgpu == "available"
    }
}

/// Waits until `#gpu-probe` is done and reads it (the diagnostics page must be open).
pub async fn wait_for_probe(browser: &Browser, timeout: Duration) -> Result<GpuProbe> {
    browser.wait_for_attr("#gpu-probe", "data-state", "done", timeout).await?;
    Ok(GpuProbe {
        webgpu: browser.attr("#gpu-probe", "data-webgpu").await?.unwrap_or_default(),
        fallback: browser.attr("#gpu-probe", "data-fallback").await?,
        text: browser.text("#gpu-probe").await?,
    })
}

/// Which implementation the smoke computation runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmokePath {
    /// burn on WebGPU, in the renderer worker.
    WebGpu,
    /// burn on the CPU backend.
    Cpu,
}

impl SmokePath {
    /// The name used in `data-path` and in the button id (`#smoke-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::WebGpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

/// A finished smoke computation.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeRun {
    /// Every `data-state` that `#smoke-result` took after the click, in order.
    pub states: Vec<String>,
    /// The final state: `done` or `failed`.
    pub state: String,
    /// `data-path` of the result.
    pub path: Option<String>,
    /// The raw `data-objectives`.
    pub objectives_raw: Option<String>,
    /// `data-objectives` parsed (entries that are not numbers become NaN).
    pub objectives: Vec<f64>,
    /// The result's text (the error message when failed).
    pub text: String,
}

/// Records every `data-state` that `#smoke-result` takes, from now on, in
/// `window.__microscopeSmokeStates` (a mutation observer sees even states that last less than
/// one poll).
const RECORD_STATES: &str = "
    const states = [];
    window.__microscopeSmokeStates = states;
    const push = (value) => {
        if (value !== null && value !== undefined && states[states.length - 1] !== value) {
            states.push(value);
        }
    };
    if (window.__microscopeSmokeObserver) { window.__microscopeSmokeObserver.disconnect(); }
    const observer = new MutationObserver((records) => {
        for (const record of records) {
            if (record.type === 'attributes' && record.target.id === 'smoke-result') {
                push(record.oldValue);
            }
        }
        const result = document.getElementById('smoke-result');
        if (result !== null) { push(result.getAttribute('data-state')); }
    });
    observer.observe(document.documentElement, {
        subtree: true, childList: true, attributes: true,
        attributeFilter: ['data-state'], attributeOldValue: true,
    });
    window.__microscopeSmokeObserver = observer;
    const initial = document.getElementById('smoke-result');
    return initial === null ? null : initial.getAttribute('data-state');
";

/// Clicks `#smoke-<path>` and waits until `#smoke-result` is `done` or `failed` (the
/// diagnostics page must be open). A `failed` run is returned, not an error: the caller
/// asserts, with the error text at hand.
pub async fn run_smoke(browser: &Browser, path: SmokePath, timeout: Duration) -> Result<SmokeRun> {
    let before = browser.execute(RECORD_STATES, Vec::new()).await?;
    let button = format!("#smoke-{}", path.name());
    browser.click(&button, timeout).await?;
    let what = format!(
        "#smoke-result to finish (data-state done or failed) after clicking {button} \
         (state before the click: {before})"
    );
    let states = browser
        .wait_until(&what, timeout, async || {
            let states =
                browser.execute("return window.__microscopeSmokeStates || [];", Vec::new()).await?;
            let states: Vec<String> = states
                .as_array()
                .map(|all| all.iter().filter_map(Json::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let finished = states.last().is_some_and(|state| state == "done" || state == "failed");
            Ok(finished.then_some(states))
        })
        .await?;
    browser
        .execute(
            "if (window.__microscopeSmokeObserver) { window.__microscopeSmokeObserver.disconnect(); }",
            Vec::new(),
        )
        .await?;
    let result = browser
        .execute(
            "const e = document.getElementById('smoke-result');\
             return e === null ? null : {\
               state: e.getAttribute('data-state'),\
               path: e.getAttribute('data-path'),\
               objectives: e.getAttribute('data-objectives'),\
               text: e.innerText,\
             };",
            vec![json!(null)],
        )
        .await?;
    if result.is_null() {
        return Err(Error::Unexpected("#smoke-result disappeared after finishing".to_owned()));
    }
    let string = |name: &str| result.get(name).and_then(Json::as_str).map(str::to_owned);
    let objectives_raw = string("objectives");
    Ok(SmokeRun {
        states,
        state: string("state").unwrap_or_default(),
        path: string("path"),
        objectives: objectives_raw.as_deref().map(parse_objectives).unwrap_or_default(),
        objectives_raw,
        text: string("text").unwrap_or_default(),
    })
}

/// Parses `"1.5,2,3e-1"` into numbers; entries that do not parse become NaN (so that a
/// "all finite" assertion catches them).
pub fn parse_objectives(raw: &str) -> Vec<f64> {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| entry.parse().unwrap_or(f64::NAN))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_objectives;

    #[test]
    fn objectives_parse_and_flag_garbage() {
        assert_eq!(parse_objectives("1, 2.5,-3e-1"), vec![1.0, 2.5, -0.3]);
        assert!(parse_objectives("1,x")[1].is_nan());
        assert!(parse_objectives("").is_empty());
    }
}
