//! `robots.txt` and the sitemap (<https://www.sitemaps.org>): one `sitemap.xml` while the site
//! has at most [`MAX_URLS`] pages, else `sitemap.xml` as an index of `sitemap-<n>.xml` files
//! of at most that many each (the protocol's limit per file).

use super::html::escape;
use super::site_url::SiteUrl;

/// The most URLs one sitemap file may list.
pub const MAX_URLS: usize = 50_000;

/// The sitemap files, name and text, for `urls` (absolute) with at most `limit` per file.
pub fn sitemaps(site: &SiteUrl, urls: &[String], limit: usize) -> Vec<(String, String)> {
    let limit = limit.max(1);
    if urls.len() <= limit {
        return vec![("sitemap.xml".to_owned(), urlset(urls))];
    }
    let mut files: Vec<(String, String)> = urls
        .chunks(limit)
        .enumerate()
        .map(|(i, chunk)| (format!("sitemap-{}.xml", i + 1), urlset(chunk)))
        .collect();
    let entries: String = files
        .iter()
        .map(|(name, _)| format!("  <sitemap><loc>{}</loc></sitemap>\n", escape(&site.join(name))))
        .collect();
    let index = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{entries}</sitemapindex>\n"
    );
    files.insert(0, ("sitemap.xml".to_owned(), index));
    files
}

fn urlset(urls: &[String]) -> String {
    let entries: String =
        urls.iter().map(|url| format!("  <url><loc>{}</loc></url>\n", escape(url))).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{entries}</urlset>\n"
    )
}

/// `robots.txt`: everything may be crawled; the sitemap is named. (Crawlers read it only at
/// the root of a host: a site under a sub-path should name its sitemap in the host's own.)
pub fn robots(site: &SiteUrl) -> String {
    format!("User-agent: *\nAllow: /\nSitemap: {}\n", site.join("sitemap.xml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemaps_split_at_the_limit() {
        let site = SiteUrl::parse("https://h.example/r/").unwrap();
        let urls: Vec<String> = (0..5).map(|i| site.join(&format!("/models/m/l/{i}"))).collect();
        let one = sitemaps(&site, &urls, 5);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].1.matches("<url>").count(), 5);
        let split = sitemaps(&site, &urls, 2);
        let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sitemap.xml", "sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml"]);
        assert!(split[0].1.contains("<loc>https://h.example/r/sitemap-3.xml</loc>"));
        assert_eq!(split[3].1.matches("<url>").count(), 1);
        assert!(robots(&site).contains("Sitemap: https://h.example/r/sitemap.xml"));
    }
}
