//! Headless Chromium driven through chromedriver, with the helpers the tests need.
//!
//! [`Browser::launch`] starts chromedriver on a free port and opens a session whose Chromium
//! uses a fresh profile directory and, by default, a software WebGPU adapter (SwiftShader),
//! which works without a GPU. [`WebGpu::Disabled`] starts it without WebGPU instead, for the
//! CPU-fallback paths.
//!
//! Every wait polls with a timeout; when time runs out the error names what was awaited, the
//! current URL, the page's text and the console errors, so a failing test explains itself.
//! Dropping the browser ends the session, stops chromedriver and removes the profile.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};

use crate::console::{self, LogEntry};
use crate::driver::{ChromeDriver, binary_from_env};
use crate::error::{Error, Result};
use crate::screenshots;

/// Environment variable naming the Chromium binary (default `/usr/bin/chromium`).
pub const CHROMIUM_ENV: &str = "CHROMIUM";

/// How long a page may take to render (download and compile the wasm, run the router).
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a computation in the browser may take (shader compilation on SwiftShader alone
/// can take tens of seconds).
pub const COMPUTE_TIMEOUT: Duration = Duration::from_secs(120);

/// How often waits poll the page.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How much of the page's text a timeout error shows.
const PAGE_TEXT_LIMIT: usize = 1500;

/// Whether the browser offers WebGPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebGpu {
    /// WebGPU on Chromium's software adapter (SwiftShader): `--enable-unsafe-webgpu`.
    SwiftShader,
    /// No WebGPU at all: `navigator.gpu` is absent, as on browsers without WebGPU support.
    Disabled,
}

/// How to start Chromium.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// WebGPU or not.
    pub webgpu: WebGpu,
    /// The window size in CSS pixels (screenshots have this size).
    pub window_size: (u32, u32),
    /// More command-line switches for Chromium.
    pub extra_args: Vec<String>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self { webgpu: WebGpu::SwiftShader, window_size: (1280, 900), extra_args: Vec::new() }
    }
}

impl BrowserOptions {
    /// Chromium with WebGPU on SwiftShader (the default).
    pub fn webgpu() -> Self {
        Self::default()
    }

    /// Chromium without WebGPU.
    pub fn without_webgpu() -> Self {
        Self { webgpu: WebGpu::Disabled, ..Self::default() }
    }

    /// The Chromium binary: `$CHROMIUM`, else `/usr/bin/chromium`, else from `PATH`.
    pub fn chromium_binary() -> PathBuf {
        binary_from_env(CHROMIUM_ENV, "/usr/bin/chromium", "chromium")
    }

    /// Chromium's command line, using `profile` as its (fresh, empty) user data directory.
    pub fn chromium_args(&self, profile: &Path) -> Vec<String> {
        let (width, height) = self.window_size;
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu-sandbox",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("--window-size={width},{height}"));
        args.push(format!("--user-data-dir={}", profile.display()));
        match self.webgpu {
            WebGpu::SwiftShader => args.push("--enable-unsafe-webgpu".to_owned()),
            WebGpu::Disabled => {
                args.push("--disable-webgpu".to_owned());
                args.push("--disable-blink-features=WebGPU".to_owned());
            }
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }
}

/// A Chromium session. Dropping it closes the browser and cleans up.
#[derive(Debug)]
pub struct Browser {
    // Field order is drop order: the session, then chromedriver, then the profile directory.
    client: Client,
    session_id: Option<String>,
    base_url: Option<String>,
    console: Mutex<Vec<LogEntry>>,
    closed: bool,
    options: BrowserOptions,
    driver: ChromeDriver,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and opens a Chromium session with `options`.
    pub async fn launch(options: BrowserOptions) -> Result<Self> {
        let profile = tempfile::Builder::new()
            .prefix("microscope-e2e-profile-")
            .tempdir()
            .map_err(|e| Error::io("creating a Chromium profile directory", e))?;
        let driver = ChromeDriver::start()?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": BrowserOptions::chromium_binary(),
                "args": options.chromium_args(profile.path()),
            }),
        );
        capabilities.insert("goog:loggingPrefs".to_owned(), json!({ "browser": "ALL" }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client =
            ClientBuilder::new(connector).capabilities(capabilities).connect(&driver.url()).await?;
        let session_id =
            client.session_id().await.map_err(|e| Error::command("reading the session id", e))?;
        let browser = Self {
            client,
            session_id,
            base_url: None,
            console: Mutex::new(Vec::new()),
            closed: false,
            options,
            driver,
            profile,
        };
        browser.fit_viewport().await?;
        Ok(browser)
    }

    /// Resizes the window so that the viewport (hence every screenshot) is exactly
    /// `window_size`: `--window-size` sets the outer size, which includes the browser's frame.
    async fn fit_viewport(&self) -> Result<()> {
        let (width, height) = self.options.window_size;
        let frame = self
            .execute(
                "return [window.outerWidth - window.innerWidth, \
                         window.outerHeight - window.innerHeight];",
                Vec::new(),
            )
            .await?;
        let extra = |i: usize| {
            frame
                .get(i)
                .and_then(Json::as_u64)
                .and_then(|value| u32::try_from(value).ok())
                .unwrap_or(0)
        };
        if extra(0) == 0 && extra(1) == 0 {
            return Ok(());
        }
        self.client
            .set_window_size(width + extra(0), height + extra(1))
            .await
            .map_err(|e| Error::command("sizing the browser window", e))
    }

    /// Sets the origin that relative paths given to [`goto`](Self::goto) are resolved against.
    pub fn set_base_url(&mut self, base_url: impl Into<String>) {
        self.base_url = Some(base_url.into().trim_end_matches('/').to_owned());
    }

    /// [`set_base_url`](Self::set_base_url), builder style.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.set_base_url(base_url);
        self
    }

    /// The options this browser was started with.
    pub fn options(&self) -> &BrowserOptions {
        &self.options
    }

    /// Chromium's user data directory (fresh for this browser, removed on drop).
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }

    /// The underlying WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The absolute URL for `path` (`path` itself if it is already absolute).
    pub fn url_for(&self, path: &str) -> String {
        match &self.base_url {
            Some(base) if !path.contains("://") => {
                if path.starts_with('/') {
                    format!("{base}{path}")
                } else {
                    format!("{base}/{path}")
                }
            }
            _ => path.to_owned(),
        }
    }

    /// Navigates to `path` (a fresh page load, as when following a deep link) and waits for
    /// the document to load.
    pub async fn goto(&self, path: &str) -> Result<()> {
        let url = self.url_for(path);
        self.client.goto(&url).await.map_err(|e| Error::command(format!("opening {url}"), e))
    }

    /// The current URL.
    pub async fn current_url(&self) -> Result<String> {
        self.client
            .current_url()
            .await
            .map(|url| url.to_string())
            .map_err(|e| Error::command("reading the current URL", e))
    }

    /// Runs `script` in the page (`arguments[i]` are `args`) and returns what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Json>) -> Result<Json> {
        self.client
            .execute(script, args)
            .await
            .map_err(|e| Error::command(format!("running script {}", shorten(script, 200)), e))
    }

    /// Whether an element matches the CSS `selector` now.
    pub async fn exists(&self, selector: &str) -> Result<bool> {
        let found = self
            .execute("return document.querySelector(arguments[0]) !== null;", vec![json!(selector)])
            .await?;
        Ok(found.as_bool().unwrap_or(false))
    }

    /// The first element matching `selector` (an error if there is none).
    pub async fn find(&self, selector: &str) -> Result<Element> {
        self.client
            .find(Locator::Css(selector))
            .await
            .map_err(|e| Error::command(format!("finding {selector}"), e))
    }

    /// All elements matching `selector` now.
    pub async fn find_all(&self, selector: &str) -> Result<Vec<Element>> {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .map_err(|e| Error::command(format!("finding all {selector}"), e))
    }

    /// The rendered text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> Result<String> {
        let text = self
            .execute(
                "const e = document.querySelector(arguments[0]);\
                 return e === null ? null : e.innerText;",
                vec![json!(selector)],
            )
            .await?;
        text.as_str().map(str::to_owned).ok_or_else(|| {
            Error::Unexpected(format!("no element matches {selector} (wanted its text)"))
        })
    }

    /// An attribute of the first element matching `selector`: `Ok(None)` if the element lacks
    /// it, an error if no element matches.
    pub async fn attr(&self, selector: &str, name: &str) -> Result<Option<String>> {
        match self.probe_attr(selector, name).await? {
            Probe::Missing => Err(Error::Unexpected(format!(
                "no element matches {selector} (wanted its attribute {name})"
            ))),
            Probe::Found(value) => Ok(value),
        }
    }

    /// The text of the whole page (`document.body.innerText`).
    pub async fn page_text(&self) -> Result<String> {
        let text = self
            .execute("return document.body ? document.body.innerText : '';", Vec::new())
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Clicks the first element matching `selector` (waiting for it to appear first).
    pub async fn click(&self, selector: &str, timeout: Duration) -> Result<()> {
        let element = self.wait_for(selector, timeout).await?;
        element.click().await.map_err(|e| Error::command(format!("clicking {selector}"), e))
    }

    /// Types `text` into the first element matching `selector` (special keys: [`Key`]).
    pub async fn send_keys(&self, selector: &str, text: &str) -> Result<()> {
        let element = self.find(selector).await?;
        element
            .send_keys(text)
            .await
            .map_err(|e| Error::command(format!("typing into {selector}"), e))
    }

    /// Presses and releases `keys` one after the other, wherever the focus is.
    pub async fn press_keys(&self, keys: &[Key]) -> Result<()> {
        let mut actions = KeyActions::new("keyboard".to_owned());
        for &key in keys {
            let value = char::from(key);
            actions = actions.then(KeyAction::Down { value }).then(KeyAction::Up { value });
        }
        self.client
            .perform_actions(actions)
            .await
            .map_err(|e| Error::command(format!("pressing {keys:?}"), e))
    }

    /// Waits until an element matches `selector` and returns it.
    pub async fn wait_for(&self, selector: &str, timeout: Duration) -> Result<Element> {
        self.wait_until(selector, timeout, async || {
            Ok(self.find_all(selector).await?.into_iter().next())
        })
        .await
    }

    /// Waits until no element matches `selector`.
    pub async fn wait_for_absent(&self, selector: &str, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("no element matching {selector}"), timeout, async || {
            Ok((!self.exists(selector).await?).then_some(()))
        })
        .await
    }

    /// Waits until the first element matching `selector` has attribute `name` equal to
    /// `expected`.
    pub async fn wait_for_attr(
        &self,
        selector: &str,
        name: &str,
        expected: &str,
        timeout: Duration,
    ) -> Result<()> {
        let what = format!("{selector} with {name}={expected:?}");
        self.wait_for_attr_where(selector, name, &what, timeout, |value| value == expected)
            .await
            .map(|_| ())
    }

    /// Waits until the first element matching `selector` has attribute `name` and
    /// `predicate` holds for its value; returns the value. `what` describes the wait in the
    /// timeout error (the last value seen is added to it).
    pub async fn wait_for_attr_where(
        &self,
        selector: &str,
        name: &str,
        what: &str,
        timeout: Duration,
        predicate: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let mut last = Probe::Missing;
        let outcome = self
            .wait_until(what, timeout, async || {
                last = self.probe_attr(selector, name).await?;
                Ok(match &last {
                    Probe::Found(Some(value)) if predicate(value) => Some(value.clone()),
                    _ => None,
                })
            })
            .await;
        match outcome {
            Err(Error::Timeout { what, timeout, url, page_text, console }) => {
                let seen = match last {
                    Probe::Missing => format!("no element matched {selector}"),
                    Probe::Found(None) => format!("{selector} had no attribute {name}"),
                    Probe::Found(Some(value)) => format!("{name} was {value:?}"),
                };
                Err(Error::Timeout {
                    what: format!("{what} (last seen: {seen})"),
                    timeout,
                    url,
                    page_text,
                    console,
                })
            }
            other => other,
        }
    }

    /// Polls `check` until it returns `Some`, or fails with a [`Error::Timeout`] describing
    /// `what` and the page. Errors from `check` end the wait at once.
    pub async fn wait_until<T, F>(&self, what: &str, timeout: Duration, mut check: F) -> Result<T>
    where
        F: AsyncFnMut() -> Result<Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await? {
                return Ok(value);
            }
            if started.elapsed() >= timeout {
                return Err(self.timeout_error(what, timeout).await);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Runs `script` in the page until it returns something other than `null` or `false`, and
    /// returns that; fails like [`Browser::wait_until`].
    pub async fn wait_for_script(
        &self,
        what: &str,
        timeout: Duration,
        script: &str,
    ) -> Result<Json> {
        self.wait_until(what, timeout, async || {
            let value = self.execute(script, Vec::new()).await?;
            Ok((!value.is_null() && value != json!(false)).then_some(value))
        })
        .await
    }

    /// Saves a PNG of the viewport as `<screenshot folder>/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| Error::command(format!("taking screenshot {name}"), e))?;
        let path = screenshots::path(name)?;
        std::fs::write(&path, png)
            .map_err(|e| Error::io(format!("writing screenshot {}", path.display()), e))?;
        Ok(path)
    }

    /// Every console message of this session so far.
    pub async fn console(&self) -> Result<Vec<LogEntry>> {
        let fresh = console::fetch(&self.client).await?;
        let mut all = self.console.lock().unwrap_or_else(PoisonError::into_inner);
        all.extend(fresh);
        Ok(all.clone())
    }

    /// The console errors of this session so far (level `SEVERE`).
    pub async fn console_errors(&self) -> Result<Vec<LogEntry>> {
        Ok(self.console().await?.into_iter().filter(LogEntry::is_error).collect())
    }

    /// Forgets the console messages seen so far (e.g. before opening the next page).
    pub async fn clear_console(&self) -> Result<()> {
        console::fetch(&self.client).await?;
        self.console.lock().unwrap_or_else(PoisonError::into_inner).clear();
        Ok(())
    }

    /// Ends the session cleanly (dropping the browser does the same, less politely).
    pub async fn close(mut self) -> Result<()> {
        self.closed = true;
        self.client
            .clone()
            .close()
            .await
            .map_err(|e| Error::command("closing the browser session", e))
    }

    /// The first element matching `selector` and its attribute `name`, in one script.
    async fn probe_attr(&self, selector: &str, name: &str) -> Result<Probe> {
        let value = self
            .execute(
                "const e = document.querySelector(arguments[0]);\
                 return e === null ? [false, null] : [true, e.getAttribute(arguments[1])];",
                vec![json!(selector), json!(name)],
            )
            .await?;
        Ok(match value.get(0).and_then(Json::as_bool) {
            Some(true) => Probe::Found(value.get(1).and_then(Json::as_str).map(str::to_owned)),
            _ => Probe::Missing,
        })
    }

    /// A timeout error with the page's URL, text and console errors (best effort: the page
    /// may be the reason the wait failed).
    async fn timeout_error(&self, what: &str, timeout: Duration) -> Error {
        let url = self.current_url().await.unwrap_or_else(|e| format!("(unknown: {e})"));
        let page_text = self
            .page_text()
            .await
            .map(|text| format!("{:?}", shorten(&text, PAGE_TEXT_LIMIT)))
            .unwrap_or_else(|e| format!("(unreadable: {e})"));
        let console = match self.console_errors().await {
            Ok(errors) if errors.is_empty() => " none".to_owned(),
            Ok(errors) => errors.iter().map(|entry| format!("\n    {entry}")).collect(),
            Err(e) => format!(" (unreadable: {e})"),
        };
        Error::Timeout { what: what.to_owned(), timeout, url, page_text, console }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed
            && let Some(id) = &self.session_id
        {
            // No async runtime is guaranteed here: talk to chromedriver directly.
            let _ = self.driver.delete_session(id);
        }
        // Then `driver` stops chromedriver (and anything left in its process group) and
        // `profile` removes the user data directory.
    }
}

/// An element's attribute as probed by script.
#[derive(Debug)]
enum Probe {
    /// No element matched.
    Missing,
    /// The element, and its attribute if present.
    Found(Option<String>),
}

/// The first `limit` characters of `text`, with `…` if cut.
fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
