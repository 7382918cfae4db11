//! A static file server for the built site, on `127.0.0.1` with a free port.
//!
//! It behaves like the two hosts the viewer meets in practice, chosen by [`Fallback`]:
//! a development server that answers every unknown path with `index.html` (status 200), and
//! GitHub Pages, which answers unknown paths with the site's `404.html` and status 404 (the
//! site ships `404.html` as a copy of `index.html` so that deep links still boot the app).
//!
//! The site may live under a sub-path ([`ServerConfig::under`]), as a GitHub Pages project
//! site does (`/repo/`): paths outside it are plain 404s. Like static hosts, a path without an
//! extension is also looked up as `<path>.html` (before `<path>/index.html`), which is how
//! the static entries of a published site answer deep links.
//!
//! Every request is recorded in a log ([`StaticServer::requests`]) so tests can assert which
//! files a page downloaded and with which status. Responses carry `Cache-Control: no-store`
//! so the log does not depend on the browser cache.
//!
//! The server runs on its own thread with its own Tokio runtime, so it keeps serving no matter
//! how the test drives its async code, and it stops when the [`StaticServer`] is dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue,
};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::mime::content_type;
use crate::paths;

/// What the server answers for a path that matches no file of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fallback {
    /// `index.html` with status 200, as a development server (`trunk serve`) does.
    Spa,
    /// `404.html` with status 404, exactly as GitHub Pages does.
    GithubPages,
}

impl Fallback {
    /// Both modes, for tests that must pass under each.
    pub const ALL: [Self; 2] = [Self::Spa, Self::GithubPages];

    /// A short name for file names and messages: `spa` or `github-pages`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Spa => "spa",
            Self::GithubPages => "github-pages",
        }
    }
}

/// What to serve, and how.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    root: PathBuf,
    fallback: Fallback,
    mounts: Vec<Mount>,
    /// The site's URL path as segments (empty: served at `/`).
    site: Vec<String>,
    /// Whether every response allows any origin to read it (CORS).
    cors: bool,
}

/// An extra directory served under a URL prefix (e.g. atlases under `/atlas/`).
#[derive(Debug, Clone)]
struct Mount {
    /// The prefix's path segments, e.g. `["atlas"]` for `/atlas/`.
    segments: Vec<String>,
    /// The prefix as given, for messages.
    prefix: String,
    dir: PathBuf,
}

impl ServerConfig {
    /// Serves `root` with the given fallback.
    pub fn new(root: impl Into<PathBuf>, fallback: Fallback) -> Self {
        Self { root: root.into(), fallback, mounts: Vec::new(), site: Vec::new(), cors: false }
    }

    /// Lets pages of any origin read every file (`Access-Control-Allow-Origin: *`), as a host
    /// of an atlas meant for other sites' viewers must.
    pub fn allow_any_origin(mut self) -> Self {
        self.cors = true;
        self
    }

    /// Serves the site under the URL path `prefix` (such as `/repo/`) instead of at `/`; its
    /// fallback page is `<prefix>404.html`, and paths outside `prefix` are plain 404s. Mount
    /// prefixes stay absolute (give `/repo/atlas/` for an atlas beside such a site).
    pub fn under(mut self, prefix: &str) -> Self {
        self.site = segments(prefix);
        self
    }

    /// Serves the built site ([`paths::dist_dir`]: `$MICROSCOPE_DIST` or `<workspace>/dist`).
    pub fn dist(fallback: Fallback) -> Self {
        Self::new(paths::dist_dir(), fallback)
    }

    /// Also serves `dir` under the URL `prefix` (which must look like `/atlas/`).
    ///
    /// A missing file under a mount is a plain 404 in both fallback modes: mounts hold data,
    /// never pages.
    pub fn mount(mut self, prefix: &str, dir: impl Into<PathBuf>) -> Self {
        self.mounts.push(Mount {
            segments: segments(prefix),
            prefix: prefix.to_owned(),
            dir: dir.into(),
        });
        self
    }

    /// The directory served at `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The fallback mode.
    pub fn fallback(&self) -> Fallback {
        self.fallback
    }

    /// Checks that the site and every mount exist, with errors that say how to fix them.
    fn validate(&self) -> Result<()> {
        if !self.root.join("index.html").is_file() {
            return Err(Error::SiteNotBuilt {
                dir: self.root.clone(),
                workspace: paths::workspace_root(),
            });
        }
        for mount in &self.mounts {
            let well_formed = mount.prefix.starts_with('/')
                && mount.prefix.ends_with('/')
                && !mount.segments.is_empty()
                && mount.segments.iter().all(|segment| segment != ".." && segment != ".");
            if !well_formed {
                return Err(Error::BadMountPrefix(mount.prefix.clone()));
            }
            if !mount.dir.is_dir() {
                return Err(Error::MountMissing {
                    prefix: mount.prefix.clone(),
                    dir: mount.dir.clone(),
                });
            }
        }
        Ok(())
    }
}

/// One answered request, as recorded in the server's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The path as requested, without the query string (still percent-encoded).
    pub path: String,
    /// The status code sent.
    pub status: u16,
    /// The file whose content was sent, if any (for fallbacks: `index.html` or `404.html`).
    pub served: Option<PathBuf>,
}

/// A running static server. Dropping it stops the server.
#[derive(Debug)]
pub struct StaticServer {
    addr: SocketAddr,
    fallback: Fallback,
    log: Arc<Mutex<Vec<RequestRecord>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Starts serving `config` on `127.0.0.1` with a free port.
    pub fn start(config: ServerConfig) -> Result<Self> {
        config.validate()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::io("binding the static server to 127.0.0.1", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("configuring the static server's socket", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the static server's address", e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the static server's runtime", e))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let site = Arc::new(Site {
            root: config.root.clone(),
            fallback: config.fallback,
            mounts: config.mounts.clone(),
            site: config.site.clone(),
            cors: config.cors,
            log: Arc::clone(&log),
        });
        let (shutdown, stop) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("e2e-static-server-{}", addr.port()))
            .spawn(move || runtime.block_on(serve(listener, site, stop)))
            .map_err(|e| Error::io("spawning the static server's thread", e))?;
        Ok(Self {
            addr,
            fallback: config.fallback,
            log,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Serves the built site with the given fallback (see [`ServerConfig::dist`]).
    pub fn dist(fallback: Fallback) -> Result<Self> {
        Self::start(ServerConfig::dist(fallback))
    }

    /// The socket address, e.g. `127.0.0.1:43211`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fallback mode this server runs with.
    pub fn fallback(&self) -> Fallback {
        self.fallback
    }

    /// The origin, e.g. `http://127.0.0.1:43211` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The absolute URL of a path on this server (`path` should start with `/`).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url())
        } else {
            format!("{}/{path}", self.base_url())
        }
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_under(&self, prefix: &str) -> Vec<RequestRecord> {
        self.requests().into_iter().filter(|request| request.path.starts_with(prefix)).collect()
    }

    /// Forgets the requests logged so far (e.g. before opening the next page).
    pub fn clear_requests(&self) {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The receiver is gone only if the server thread already ended.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The server's shared state: what to serve and where to log.
#[derive(Debug)]
struct Site {
    root: PathBuf,
    fallback: Fallback,
    mounts: Vec<Mount>,
    site: Vec<String>,
    cors: bool,
    log: Arc<Mutex<Vec<RequestRecord>>>,
}

/// The non-empty segments of a URL path prefix (`/repo/atlas/` → `["repo", "atlas"]`).
fn segments(prefix: &str) -> Vec<String> {
    prefix.split('/').filter(|segment| !segment.is_empty()).map(str::to_owned).collect()
}

/// Whether `path` starts with the segments `prefix`.
fn starts_with(path: &[&str], prefix: &[String]) -> bool {
    path.len() >= prefix.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

/// Where a request path leads.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// An existing file.
    File(PathBuf),
    /// No such file under the site root: the fallback applies.
    SiteMiss,
    /// No such file under a mount, or a path outside the site: plain 404.
    MountMiss,
    /// A path that tries to leave the served directory, or cannot be decoded.
    Rejected,
}

/// Accepts connections until `stop` fires.
async fn serve(listener: std::net::TcpListener, site: Arc<Site>, mut stop: oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let site = Arc::clone(&site);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let site = Arc::clone(&site);
                        async move { Ok::<_, Infallible>(site.respond(&request)) }
                    });
                    // A browser closing its connection mid-response is not the test's concern.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

impl Site {
    /// Answers one request and logs it.
    fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let (mut response, served) = self.answer(request.method(), &path);
        if self.cors {
            response
                .headers_mut()
                .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        self.log.lock().unwrap_or_else(PoisonError::into_inner).push(RequestRecord {
            method: request.method().to_string(),
            path,
            status: response.status().as_u16(),
            served,
        });
        response
    }

    /// The response for `method` on `path`, and the file it sent.
    fn answer(&self, method: &Method, path: &str) -> (Response<Full<Bytes>>, Option<PathBuf>) {
        if method != Method::GET && method != Method::HEAD {
            return (text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"), None);
        }
        let head = method == Method::HEAD;
        match self.resolve(path) {
            Target::File(file) => (file_response(&file, StatusCode::OK, head), Some(file)),
            Target::SiteMiss => {
                let (name, status) = match self.fallback {
                    Fallback::Spa => ("index.html", StatusCode::OK),
                    Fallback::GithubPages => ("404.html", StatusCode::NOT_FOUND),
                };
                let file = self.root.join(name);
                if file.is_file() {
                    (file_response(&file, status, head), Some(file))
                } else {
                    // What GitHub Pages does without a 404.html: its own error page.
                    let message = format!(
                        "404: {path} does not exist and the site has no {name} \
                         (GitHub Pages would show its own error page here)"
                    );
                    (text(StatusCode::NOT_FOUND, &message), None)
                }
            }
            Target::MountMiss => (text(StatusCode::NOT_FOUND, "404: no such file"), None),
            Target::Rejected => (text(StatusCode::BAD_REQUEST, "400: bad path"), None),
        }
    }

    /// Maps a URL path to a file, refusing anything that would leave the served directories.
    fn resolve(&self, path: &str) -> Target {
        let Some(decoded) = percent_decode(path) else {
            return Target::Rejected;
        };
        let mut segments = Vec::new();
        for segment in decoded.split('/') {
            match segment {
                "" | "." => {}
                ".." => return Target::Rejected,
                _ if segment.contains(['\\', '\0']) => return Target::Rejected,
                _ => segments.push(segment),
            }
        }
        let mount = self.mounts.iter().find(|mount| starts_with(&segments, &mount.segments));
        let (base, rest) = match mount {
            Some(mount) => (&mount.dir, &segments[mount.segments.len()..]),
            None if starts_with(&segments, &self.site) => {
                (&self.root, &segments[self.site.len()..])
            }
            None => return Target::MountMiss,
        };
        let mut candidate = base.clone();
        candidate.extend(rest);
        let page = rest.last().map(|last| candidate.with_file_name(format!("{last}.html")));
        if let Some(page) = page.filter(|page| !candidate.is_file() && page.is_file()) {
            candidate = page;
        } else if candidate.is_dir() {
            candidate.push("index.html");
        }
        if candidate.is_file() {
            Target::File(candidate)
        } else if mount.is_some() {
            Target::MountMiss
        } else {
            Target::SiteMiss
        }
    }
}

/// A file's content with its content type (headers only for `HEAD`).
fn file_response(file: &Path, status: StatusCode, head: bool) -> Response<Full<Bytes>> {
    match std::fs::read(file) {
        Ok(content) => {
            let length = content.len();
            let body = if head { Bytes::new() } else { Bytes::from(content) };
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = status;
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(file)));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("500: reading {}: {error}", file.display()),
        ),
    }
}

/// A plain-text response.
fn text(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message.to_owned())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Decodes `%XX` escapes; `None` for malformed escapes or a result that is not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn site(fallback: Fallback) -> (tempfile::TempDir, Site) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "index").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.wasm"), "wasm").unwrap();
        let atlas = dir.path().join("atlas-data");
        std::fs::create_dir(&atlas).unwrap();
        std::fs::write(atlas.join("m.json"), "{}").unwrap();
        let config = ServerConfig::new(dir.path(), fallback).mount("/atlas/", &atlas);
        let site = Site {
            root: config.root.clone(),
            fallback,
            mounts: config.mounts.clone(),
            site: config.site.clone(),
            cors: false,
            log: Arc::default(),
        };
        (dir, site)
    }

    #[test]
    fn a_site_under_a_sub_path_answers_only_there_and_finds_html_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "index").unwrap();
        std::fs::create_dir_all(dir.path().join("models/m/blocks.8")).unwrap();
        std::fs::write(dir.path().join("models/m/blocks.8.html"), "layer").unwrap();
        std::fs::write(dir.path().join("models/m/blocks.8/3.html"), "unit").unwrap();
        let config = ServerConfig::new(dir.path(), Fallback::GithubPages).under("/repo/sub/");
        let site = Site {
            root: config.root.clone(),
            fallback: config.fallback,
            mounts: Vec::new(),
            site: config.site.clone(),
            cors: false,
            log: Arc::default(),
        };
        assert_eq!(site.resolve("/repo/sub/"), Target::File(dir.path().join("index.html")));
        assert_eq!(
            site.resolve("/repo/sub/models/m/blocks.8"),
            Target::File(dir.path().join("models/m/blocks.8.html")),
            "the entry beside the folder of the same name comes first"
        );
        assert_eq!(
            site.resolve("/repo/sub/models/m/blocks.8/3"),
            Target::File(dir.path().join("models/m/blocks.8/3.html"))
        );
        assert_eq!(site.resolve("/repo/sub/models/m/blocks.8/4"), Target::SiteMiss);
        assert_eq!(site.resolve("/index.html"), Target::MountMiss, "outside the site");
        assert_eq!(site.resolve("/repo/index.html"), Target::MountMiss);
    }

    #[test]
    fn resolves_files_and_refuses_traversal() {
        let (dir, site) = site(Fallback::Spa);
        assert_eq!(site.resolve("/"), Target::File(dir.path().join("index.html")));
        assert_eq!(site.resolve("/sub/a.wasm"), Target::File(dir.path().join("sub/a.wasm")));
        assert_eq!(site.resolve("/sub/%61.wasm"), Target::File(dir.path().join("sub/a.wasm")));
        assert_eq!(site.resolve("/models/x/y/3"), Target::SiteMiss);
        assert_eq!(site.resolve("/../etc/passwd"), Target::Rejected);
        assert_eq!(site.resolve("/sub/%2e%2e/%2e%2e/x"), Target::Rejected);
        assert_eq!(site.resolve("/a%5cb"), Target::Rejected);
        assert_eq!(site.resolve("/%zz"), Target::Rejected);
        assert_eq!(
            site.resolve("/atlas/m.json"),
            Target::File(dir.path().join("atlas-data/m.json"))
        );
        assert_eq!(site.resolve("/atlas/none.json"), Target::MountMiss);
    }

    #[test]
    fn fallbacks_match_their_hosts() {
        let (_dir, spa) = site(Fallback::Spa);
        let (response, served) = spa.answer(&Method::GET, "/models/x");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(served.unwrap().ends_with("index.html"));

        let (dir, pages) = site(Fallback::GithubPages);
        let (response, served) = pages.answer(&Method::GET, "/models/x");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(served, None, "no 404.html yet: plain 404");
        std::fs::write(dir.path().join("404.html"), "index").unwrap();
        let (response, served) = pages.answer(&Method::GET, "/models/x");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(served.unwrap().ends_with("404.html"));
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            HeaderValue::from_static("text/html; charset=utf-8")
        );
    }

    #[test]
    fn missing_site_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let error = StaticServer::start(ServerConfig::new(dir.path(), Fallback::Spa)).unwrap_err();
        assert!(error.to_string().contains("trunk build --release"), "{error}");
    }
}
