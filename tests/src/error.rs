//! The harness's one error type: every failure says what was being done and how to fix it.

use std::path::PathBuf;
use std::time::Duration;

/// Anything that can go wrong while serving the site or driving the browser.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The built site is missing (or has no `index.html`).
    #[error(
        "the site is not built: {dir} has no index.html.\n\
         Build it first: run `trunk build --release` at the workspace root ({workspace}),\n\
         or point MICROSCOPE_DIST at a directory holding a built site."
    )]
    SiteNotBuilt {
        /// The directory that should hold the site.
        dir: PathBuf,
        /// The workspace root, where Trunk is run.
        workspace: PathBuf,
    },

    /// An extra mount of the static server points at a directory that does not exist.
    #[error("the directory mounted at {prefix} does not exist: {dir}")]
    MountMissing {
        /// The URL prefix, e.g. `/atlas/`.
        prefix: String,
        /// The missing directory.
        dir: PathBuf,
    },

    /// A mount prefix that is not of the form `/name/` (or `/a/b/`).
    #[error("invalid mount prefix {0:?}: it must start and end with '/' and contain no '..'")]
    BadMountPrefix(String),

    /// Starting an external program (Chromium, chromedriver) failed.
    #[error("could not start {program}: {source}\n(set {env} to the path of the binary)")]
    Spawn {
        /// The program that could not be started.
        program: PathBuf,
        /// The environment variable that overrides its path.
        env: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },

    /// chromedriver started but did not become ready in time, or exited.
    #[error("chromedriver on port {port} is not ready: {reason}")]
    DriverNotReady {
        /// The port chromedriver was told to listen on.
        port: u16,
        /// What went wrong.
        reason: String,
    },

    /// chromedriver refused to open a browser session.
    #[error("could not open a Chromium session through chromedriver: {0}")]
    NewSession(#[from] fantoccini::error::NewSessionError),

    /// A WebDriver command failed.
    #[error("WebDriver command failed while {doing}: {source}")]
    Command {
        /// What the harness was doing.
        doing: String,
        /// The underlying error.
        source: fantoccini::error::CmdError,
    },

    /// A wait ran out of time. Carries what the page looked like, to make the failure readable.
    #[error(
        "timed out after {timeout:?} waiting for {what}\n  at URL: {url}\n  page text: {page_text}\n  \
         browser console errors:{console}"
    )]
    Timeout {
        /// What was awaited, e.g. `main[data-page]` or `#gpu-probe[data-state="done"]`.
        what: String,
        /// How long the harness waited.
        timeout: Duration,
        /// The URL when the time ran out.
        url: String,
        /// The text of the page's body (shortened).
        page_text: String,
        /// Console errors seen so far, one per line (or ` none`).
        console: String,
    },

    /// A page did not satisfy an expectation (used by helpers that check as well as wait).
    #[error("{0}")]
    Unexpected(String),

    /// A file-system or socket operation failed.
    #[error("{doing}: {source}")]
    Io {
        /// What the harness was doing.
        doing: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(doing: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { doing: doing.into(), source }
    }

    /// Wraps a WebDriver error with a description of what was being done.
    pub fn command(doing: impl Into<String>, source: fantoccini::error::CmdError) -> Self {
        Self::Command { doing: doing.into(), source }
    }
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
