//! The chromedriver process: started on a free port, awaited until ready, stopped on drop.
//!
//! chromedriver runs in a process group of its own, so that stopping it also stops any Chromium
//! it started, even when a test panicked before closing its session.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Environment variable naming the chromedriver binary (default `/usr/bin/chromedriver`).
pub const CHROMEDRIVER_ENV: &str = "CHROMEDRIVER";

/// How long chromedriver may take to answer `/status`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running chromedriver.
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// The chromedriver binary: `$CHROMEDRIVER`, else `/usr/bin/chromedriver`, else from `PATH`.
    pub fn binary() -> PathBuf {
        binary_from_env(CHROMEDRIVER_ENV, "/usr/bin/chromedriver", "chromedriver")
    }

    /// Starts chromedriver on a free port of `127.0.0.1` and waits until it is ready.
    pub fn start() -> Result<Self> {
        let program = Self::binary();
        let port = free_port()?;
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|source| Error::Spawn {
                program: program.clone(),
                env: CHROMEDRIVER_ENV,
                source,
            })?;
        let mut driver = Self { child, port };
        driver.wait_ready()?;
        Ok(driver)
    }

    /// The port chromedriver listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The WebDriver endpoint, e.g. `http://127.0.0.1:9515`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a WebDriver session (closing its Chromium), without needing an async runtime.
    ///
    /// Used on drop, when the session could not be closed the async way.
    pub fn delete_session(&self, session_id: &str) -> Result<()> {
        http_request(
            self.port,
            "DELETE",
            &format!("/session/{session_id}"),
            Duration::from_secs(15),
        )
        .map(|_| ())
    }

    /// Polls `/status` until chromedriver says it is ready, or fails if it exits.
    fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::DriverNotReady {
                    port: self.port,
                    reason: format!("chromedriver exited with {status}"),
                });
            }
            match http_request(self.port, "GET", "/status", Duration::from_secs(2)) {
                Ok(body) if body.contains("\"ready\":true") => return Ok(()),
                Ok(body) => last = body,
                Err(error) => last = error.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(Error::DriverNotReady {
            port: self.port,
            reason: format!("no ready answer within {READY_TIMEOUT:?} (last: {last})"),
        })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Anything chromedriver left behind (a Chromium whose session was never closed) is in
        // chromedriver's process group, whose id is chromedriver's pid.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A binary path: the environment variable if set, else `default` if it exists, else `name`
/// (looked up in `PATH` when started).
pub(crate) fn binary_from_env(env: &str, default: &str, name: &str) -> PathBuf {
    match std::env::var_os(env).filter(|value| !value.is_empty()) {
        Some(path) => PathBuf::from(path),
        None if std::path::Path::new(default).exists() => PathBuf::from(default),
        None => PathBuf::from(name),
    }
}

/// A port that was free a moment ago (the usual, slightly racy, way to pick one).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Error::io("finding a free port for chromedriver", e))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| Error::io("finding a free port for chromedriver", e))
}

/// A minimal blocking HTTP/1.1 request to `127.0.0.1:port`; returns the response body for any
/// status. Reads exactly `Content-Length` bytes: chromedriver keeps connections open.
fn http_request(port: u16, method: &str, path: &str, timeout: Duration) -> Result<String> {
    let doing = format!("{method} {path} on chromedriver (port {port})");
    let io = |e| Error::io(doing.clone(), e);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut received = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        if let Some(end) = find(&received, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok());
            let body = &received[end + 4..];
            if length.is_some_and(|length| body.len() >= length) {
                return Ok(String::from_utf8_lossy(body).into_owned());
            }
        }
        match stream.read(&mut chunk).map_err(io)? {
            0 => break,
            n => received.extend_from_slice(&chunk[..n]),
        }
    }
    let body = find(&received, b"\r\n\r\n").map_or(&received[..], |end| &received[end + 4..]);
    Ok(String::from_utf8_lossy(body).into_owned())
}

/// The position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}
