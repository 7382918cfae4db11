//! End-to-end test harness for the Microscope viewer.
//!
//! The built site (`trunk build --release` → `dist/`) is served by a local [`StaticServer`]
//! that behaves like a development server or like GitHub Pages ([`Fallback`]), and driven in
//! headless Chromium through chromedriver ([`Browser`]), with WebGPU on a software adapter or
//! without WebGPU ([`WebGpu`]).
//!
//! ```no_run
//! # async fn example() -> microscope_e2e::Result<()> {
//! use microscope_e2e::{Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, StaticServer, page};
//!
//! let _one_browser_at_a_time = microscope_e2e::serial::exclusive().await;
//! let server = StaticServer::dist(Fallback::GithubPages)?;
//! let browser = Browser::launch(BrowserOptions::webgpu()).await?.with_base_url(server.base_url());
//! let info = page::open(&browser, "/models/m/blocks.8", PAGE_TIMEOUT).await?;
//! assert_eq!(info.page, "layer");
//! browser.screenshot("layer").await?;
//! # Ok(())
//! # }
//! ```
//!
//! Environment overrides: `MICROSCOPE_DIST` (the site), `MICROSCOPE_SCREENSHOTS` (where
//! screenshots go), `CHROMIUM` and `CHROMEDRIVER` (the binaries).

pub mod browser;
pub mod console;
pub mod diagnostics;
pub mod driver;
pub mod error;
pub mod mime;
pub mod page;
pub mod paths;
pub mod png;
pub mod screenshots;
pub mod serial;
pub mod server;
pub mod test_atlas;
pub mod unfurl;

pub use browser::{Browser, BrowserOptions, COMPUTE_TIMEOUT, PAGE_TIMEOUT, WebGpu};
pub use console::LogEntry;
pub use error::{Error, Result};
pub use page::PageInfo;
pub use server::{Fallback, RequestRecord, ServerConfig, StaticServer};
