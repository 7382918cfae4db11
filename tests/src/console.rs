//! The browser console, as chromedriver records it (`goog:loggingPrefs` = `{"browser": "ALL"}`).
//!
//! chromedriver hands out each log entry once: [`fetch`] drains what accumulated since the last
//! call. The [`Browser`](crate::Browser) keeps everything it fetched, so a failing test can show
//! the whole console of its session.

use std::fmt;

use fantoccini::Client;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::Value as Json;

use crate::error::{Error, Result};

/// One console message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// `SEVERE` (errors), `WARNING`, `INFO` or `DEBUG`.
    pub level: String,
    /// Where it came from: `console-api`, `network`, `javascript`, …
    pub source: String,
    /// The text, usually prefixed by the script URL and line.
    pub message: String,
}

impl LogEntry {
    /// Whether this is an error (`console.error`, an uncaught exception, a failed load).
    pub fn is_error(&self) -> bool {
        self.level == "SEVERE"
    }
}

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} {}] {}", self.level, self.source, self.message)
    }
}

/// chromedriver's (non-standard) "get log" command.
#[derive(Debug)]
struct GetBrowserLog;

impl WebDriverCompatibleCommand for GetBrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// Drains the console messages logged since the previous call.
pub async fn fetch(client: &Client) -> Result<Vec<LogEntry>> {
    let answer = client
        .issue_cmd(GetBrowserLog)
        .await
        .map_err(|e| Error::command("reading the browser console log", e))?;
    let entries = match answer {
        Json::Object(mut object) => object.remove("value").unwrap_or(Json::Null),
        other => other,
    };
    let Json::Array(entries) = entries else {
        return Ok(Vec::new());
    };
    let field = |entry: &Json, name: &str| {
        entry.get(name).and_then(Json::as_str).unwrap_or_default().to_owned()
    };
    Ok(entries
        .iter()
        .map(|entry| LogEntry {
            level: field(entry, "level"),
            source: field(entry, "source"),
            message: field(entry, "message"),
        })
        .collect())
}
