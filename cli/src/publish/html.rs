//! The HTML entry of one page: the viewer's own `index.html` (so the page boots the app) with
//! that page's `<title>`, description, canonical URL, Open Graph and Twitter card tags, oEmbed
//! discovery, and its heading and description in the boot shell for readers without
//! JavaScript.

use anyhow::{Result, bail};

use super::PublishPlan;
use super::entries::{Page, SITE_NAME};
use super::oembed;
use super::site_url::SiteUrl;

/// The smallest picture width that gets Twitter's large-image card.
const LARGE_CARD_MIN_WIDTH_PX: u32 = 300;
/// What the boot shell shows while the viewer downloads; the page's own words go before it.
const SHELL_MARKER: &str = "<p class=\"loading\">";

/// The viewer's `index.html`, with the parts an entry replaces located once.
#[derive(Debug)]
pub struct Template {
    text: String,
    base: String,
    title_tag: String,
    description_tag: String,
}

/// The text from `start` up to and including the first `end` after it.
fn tag<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)?;
    let after = from + start.len();
    let to = text[after..].find(end)? + after + end.len();
    Some(&text[from..to])
}

impl Template {
    /// Finds the base, `<title>`, description and `</head>` of a viewer `index.html`.
    pub fn parse(text: &str) -> Result<Self> {
        let Some(base_tag) = tag(text, "<base ", ">") else {
            bail!("the viewer's index.html has no <base href> (it is not Trunk's output)");
        };
        let Some(base) = tag(base_tag, "href=\"", "\"") else {
            bail!("the viewer's <base> has no href: {base_tag}");
        };
        let base = base.trim_start_matches("href=\"").trim_end_matches('"').to_owned();
        let (Some(title_tag), Some(description_tag)) =
            (tag(text, "<title>", "</title>"), tag(text, "<meta name=\"description\"", ">"))
        else {
            bail!("the viewer's index.html has no <title> or no <meta name=\"description\">");
        };
        if !text.contains("</head>") {
            bail!("the viewer's index.html has no </head>");
        }
        Ok(Self {
            text: text.to_owned(),
            base,
            title_tag: title_tag.to_owned(),
            description_tag: description_tag.to_owned(),
        })
    }

    /// The viewer's page with `tags` (lines of `<head>` tags) added to its head.
    pub fn with_head_tags(&self, tags: &str) -> String {
        self.text.replacen("</head>", &format!("{tags}</head>"), 1)
    }

    /// The base path the viewer was built for (`--public-url`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The entry of a page.
    pub fn render(&self, head: &Head) -> String {
        let title = format!("<title>{}</title>", escape(&head.title));
        let description =
            format!("<meta name=\"description\" content=\"{}\">", escape(&head.description));
        let shell = format!(
            "<h1>{}</h1><p>{}</p>{SHELL_MARKER}",
            escape(&head.heading),
            escape(&head.description)
        );
        self.text
            .replacen(&self.title_tag, &title, 1)
            .replacen(&self.description_tag, &description, 1)
            .replacen("</head>", &format!("{}</head>", head.tags), 1)
            .replacen(SHELL_MARKER, &shell, 1)
    }
}

/// What one entry says about its page.
#[derive(Debug)]
pub struct Head {
    title: String,
    heading: String,
    description: String,
    /// The extra `<head>` tags, one per line.
    tags: String,
}

impl Head {
    /// The head of `page` on the site of `plan`.
    pub fn of(page: &Page, plan: &PublishPlan) -> Self {
        Self::on(page, &plan.site, &plan.atlas_url, plan.atlas_elsewhere)
    }

    /// The head of `page` on `site`, whose atlas is at `atlas` (on another host when
    /// `elsewhere`: the viewer is then told where).
    fn on(page: &Page, site: &SiteUrl, atlas: &SiteUrl, elsewhere: bool) -> Self {
        let url = site.join(&page.path);
        let mut tags = vec![
            format!("<link rel=\"canonical\" href=\"{}\">", escape(&url)),
            meta("og:site_name", SITE_NAME),
            meta("og:type", "website"),
            meta("og:title", &page.title),
            meta("og:description", &page.description),
            meta("og:url", &url),
            name("twitter:title", &page.title),
            name("twitter:description", &page.description),
        ];
        let card = match &page.image {
            Some(image) => {
                let image_url = atlas.join(image.path.as_str());
                tags.extend([
                    meta("og:image", &image_url),
                    meta("og:image:width", &image.width.to_string()),
                    meta("og:image:height", &image.height.to_string()),
                    meta("og:image:alt", &image.alt),
                    name("twitter:image", &image_url),
                    name("twitter:image:alt", &image.alt),
                ]);
                if image.width >= LARGE_CARD_MIN_WIDTH_PX {
                    "summary_large_image"
                } else {
                    "summary"
                }
            }
            None => "summary",
        };
        tags.push(name("twitter:card", card));
        if page.unit.is_some() {
            tags.push(format!(
                "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{}\" title=\"{}\">",
                escape(&site.join(&oembed::file(&page.path))),
                escape(&page.title)
            ));
        }
        let mut tags = tags.iter().map(|t| format!("    {t}\n")).collect::<String>();
        if elsewhere {
            tags.push_str(&atlas_meta(atlas));
        }
        Self {
            title: page.title.clone(),
            heading: page.heading.clone(),
            description: page.description.clone(),
            tags,
        }
    }
}

/// The tag that tells the viewer where its atlas is (see `app/src/links.rs`).
pub fn atlas_meta(atlas: &SiteUrl) -> String {
    format!("    <meta name=\"microscope-atlas\" content=\"{}\">\n", escape(atlas.url()))
}

fn meta(property: &str, content: &str) -> String {
    format!("<meta property=\"{property}\" content=\"{}\">", escape(content))
}

fn name(name: &str, content: &str) -> String {
    format!("<meta name=\"{name}\" content=\"{}\">", escape(content))
}

/// Text made safe inside an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The file of a page's entry: `index.html` for `/`, else `<path>.html` (a static host answers
/// `/models/m/blocks.8/50` with `models/m/blocks.8/50.html`, beside the folder of the same
/// name that holds the next level).
pub fn entry_file(path: &str) -> String {
    match path.trim_matches('/') {
        "" => "index.html".to_owned(),
        path => format!("{path}.html"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::entries::Preview;

    const VIEWER: &str = "<!DOCTYPE html><html><head>\n<meta name=\"description\" content=\"x\">\
        <title>Microscope</title><base href=\"/repo/\" />\n</head><body>\
        <p class=\"loading\">Loading</p></body></html>";

    #[test]
    fn an_entry_is_the_viewer_with_its_own_head() {
        let template = Template::parse(VIEWER).unwrap();
        assert_eq!(template.base(), "/repo/");
        let site = SiteUrl::parse("https://h.example/repo/").unwrap();
        let page = Page {
            path: "/models/m/b.8/5".to_owned(),
            heading: "b.8:5 “<dogs>”".to_owned(),
            title: "b.8:5 · M — Microscope".to_owned(),
            description: "Unit 5 & more".to_owned(),
            image: Some(Preview {
                path: microscope_core::atlas::AssetPath::new("u/channel.png").unwrap(),
                width: 128,
                height: 128,
                alt: "fv".to_owned(),
            }),
            unit: Some(crate::publish::entries::UnitPage {
                model: "m".to_owned(),
                id: microscope_core::UnitId::new("b.8", 5),
            }),
        };
        let atlas = SiteUrl::parse("https://h.example/repo/atlas/").unwrap();
        let html = template.render(&Head::on(&page, &site, &atlas, false));
        assert!(!html.contains("microscope-atlas"));
        let elsewhere = SiteUrl::parse("https://cdn.example/a/").unwrap();
        let moved = template.render(&Head::on(&page, &site, &elsewhere, true));
        assert!(
            moved.contains("<meta name=\"microscope-atlas\" content=\"https://cdn.example/a/\">")
        );
        assert!(moved.contains("content=\"https://cdn.example/a/u/channel.png\""));
        assert!(html.contains("<title>b.8:5 · M — Microscope</title>"), "{html}");
        assert!(html.contains("<meta name=\"description\" content=\"Unit 5 &amp; more\">"));
        assert!(!html.contains("content=\"x\""));
        assert!(
            html.contains(
                "<link rel=\"canonical\" href=\"https://h.example/repo/models/m/b.8/5\">"
            )
        );
        assert!(html.contains(
            "<meta property=\"og:image\" content=\"https://h.example/repo/atlas/u/channel.png\">"
        ));
        assert!(html.contains("<meta name=\"twitter:card\" content=\"summary\">"));
        assert!(html.contains("href=\"https://h.example/repo/oembed/models/m/b.8/5.json\""));
        assert!(html.contains("<h1>b.8:5 “&lt;dogs&gt;”</h1>"));
        assert!(html.contains("<base href=\"/repo/\" />"), "the viewer still boots");
        assert_eq!(entry_file("/"), "index.html");
        assert_eq!(entry_file("/models/m/b.8/5"), "models/m/b.8/5.html");
    }

    #[test]
    fn a_page_that_is_not_the_viewer_is_refused() {
        assert!(Template::parse("<html><head><title>x</title></head></html>").is_err());
    }
}
