//! The URL a published site will live at: `https://host/path/`, checked once.

use anyhow::{Result, bail};
use microscope_core::unit::site_path;

/// An absolute `http(s)` URL ending in `/`, with no query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUrl {
    url: String,
    /// Where the path starts in `url`.
    path_start: usize,
}

impl SiteUrl {
    /// Parses and checks a site URL; a missing final `/` is added.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_option("--site-url", text)
    }

    /// [`Self::parse`] for the command-line option `option`, which errors name.
    pub fn parse_option(option: &str, text: &str) -> Result<Self> {
        let text = text.trim();
        let Some(scheme_end) = text.find("://") else {
            bail!("{option} {text:?} is not an absolute URL (like https://user.github.io/repo/)");
        };
        if !matches!(&text[..scheme_end], "http" | "https") {
            bail!("{option} {text:?}: only http and https URLs can be published");
        }
        if text.contains(['?', '#', '"', '<', '>', ' ', '\'', '\\']) {
            bail!("{option} {text:?}: the URL may have no query, fragment, quotes or spaces");
        }
        let host_start = scheme_end + 3;
        let path_start = text[host_start..].find('/').map_or(text.len(), |i| host_start + i);
        if path_start == host_start {
            bail!("{option} {text:?} has no host");
        }
        let mut url = text.to_owned();
        if path_start == url.len() || !url.ends_with('/') {
            url.push('/');
        }
        Ok(Self { url, path_start })
    }

    /// The whole URL, ending in `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The path part, starting and ending in `/` (what `--public-url` must be).
    pub fn path(&self) -> &str {
        &self.url[self.path_start..]
    }

    /// The absolute URL of a site path such as `/models/m` (or an atlas path without `/`).
    pub fn join(&self, path: &str) -> String {
        site_path(&self.url, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_urls_are_checked_and_joined() {
        let site = SiteUrl::parse("https://user.github.io/repo").unwrap();
        assert_eq!(site.url(), "https://user.github.io/repo/");
        assert_eq!(site.path(), "/repo/");
        assert_eq!(site.join("/models/m"), "https://user.github.io/repo/models/m");
        let root = SiteUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((root.url(), root.path()), ("http://127.0.0.1:8080/", "/"));
        for bad in ["user.github.io/repo/", "ftp://h/", "https:///x", "https://h/?q=1"] {
            assert!(SiteUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
