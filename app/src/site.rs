//! Where the site lives: its origin and base path, for permalinks and embed snippets.

/// The site's base URL (origin and base path, ending in `/`), from `<base href>`.
pub fn base_url() -> String {
    let base = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.base_uri().ok().flatten())
        .unwrap_or_else(|| "/".to_owned());
    let base = base.split(['?', '#']).next().unwrap_or_default();
    match base.rfind('/') {
        Some(slash) => base[..=slash].to_owned(),
        None => "/".to_owned(),
    }
}

/// The absolute URL of a site path such as `/models/m/l/3`.
pub fn absolute(path: &str) -> String {
    format!("{}{}", base_url(), path.trim_start_matches('/'))
}
