//! Fetching a page as a link unfurler does (Slack, Mastodon, a CMS): one plain HTTP GET, no
//! JavaScript, and the `<head>` read for its title and its Open Graph, Twitter and oEmbed tags.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::{Error, Result};

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` from the server at `addr`, with a link unfurler's user agent.
pub fn get(addr: SocketAddr, path: &str) -> Result<Response> {
    let what = format!("GET {path} from {addr}");
    let io = |e| Error::io(what.clone(), e);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(io)?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: Slackbot-LinkExpanding 1.0\r\n\
         Accept: text/html,*/*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| Error::Unexpected(format!("{what}: no end of headers")))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| Error::Unexpected(format!("{what}: no status line in {head:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Response { status, headers, body: raw[split + 4..].to_vec() })
}

/// The text of the first `<title>`.
pub fn title(html: &str) -> Option<String> {
    let start = html.find("<title>")? + "<title>".len();
    let end = html[start..].find("</title>")? + start;
    Some(unescape(&html[start..end]))
}

/// The `content` of the first `<meta>` whose `property` or `name` is `key`.
pub fn meta(html: &str, key: &str) -> Option<String> {
    tags(html, "<meta ").find_map(|tag| {
        let named = attribute(tag, "property").or_else(|| attribute(tag, "name"));
        (named.as_deref() == Some(key)).then(|| attribute(tag, "content")).flatten()
    })
}

/// The `href` of the first `<link>` whose `rel` is `rel` (and `type` is `kind`, if given).
pub fn link(html: &str, rel: &str, kind: Option<&str>) -> Option<String> {
    tags(html, "<link ").find_map(|tag| {
        let matches = attribute(tag, "rel").as_deref() == Some(rel)
            && kind.is_none_or(|kind| attribute(tag, "type").as_deref() == Some(kind));
        matches.then(|| attribute(tag, "href")).flatten()
    })
}

/// The tags starting with `start`, up to their `>`.
fn tags<'a>(html: &'a str, start: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    html.match_indices(start).filter_map(|(at, _)| {
        let end = html[at..].find('>')? + at;
        Some(&html[at..end])
    })
}

/// A double-quoted attribute of a tag, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// Undoes the HTML escapes a page's text may hold.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
