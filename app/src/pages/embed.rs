//! `/embed/models/:model/:layer/:unit`: a compact card of one unit, made to live in an iframe:
//! no site chrome, sized to its container, light or dark (following the system, or
//! `?theme=light|dark`), with a link back to the full page.
//!
//! It shows what the unit page would: `technique`, `seed` and `checkpoint` choose the picture,
//! `size` and `steps` the browser render. Where the atlas has no such image, the card shows the
//! best the atlas has (the sheet of the unit's top dataset examples) and renders the picture
//! in the browser on a click, or at once with `render=1`. `parts` chooses what the card holds,
//! from `visualization`, `examples`, `histogram`, `label` and `link` (default: all but
//! `examples` and `histogram`).

use leptos::prelude::*;
use microscope_core::atlas::{Rendering, Sheet, Technique, UnitManifest};

use crate::atlas::{Lookup, UnitCtx, asset_url, resolve_unit};
use crate::components::histogram::HistogramChart;
use crate::components::live_render::LiveRender;
use crate::components::load_error::LoadErrorBox;
use crate::components::placeholder::Placeholder;
use crate::links;
use crate::pages::live_settings::{UrlRenderSettings, technique_job};
use crate::pages::not_found::NotFoundPage;
use crate::pages::{query_param, unit_route};

/// The card's picture size in pixels.
const IMAGE: u32 = 224;
/// The techniques a card can show.
const FV: [Technique; 4] =
    [Technique::Channel, Technique::Neuron, Technique::Negative, Technique::Diversity];

/// What a card holds (`parts=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    visualization: bool,
    examples: bool,
    histogram: bool,
    label: bool,
    link: bool,
}

impl Parts {
    /// Reads `parts=a,b,…`; without it, the visualization, the label and the link.
    fn parse(text: Option<&str>) -> Self {
        let Some(text) = text else {
            return Self {
                visualization: true,
                examples: false,
                histogram: false,
                label: true,
                link: true,
            };
        };
        let has = |name: &str| text.split(',').any(|part| part.trim() == name);
        Self {
            visualization: has("visualization"),
            examples: has("examples"),
            histogram: has("histogram"),
            label: has("label"),
            link: has("link"),
        }
    }
}

/// The embeddable unit card.
#[component]
pub fn EmbedPage() -> impl IntoView {
    let route = unit_route();
    let theme = query_param("theme");
    let checkpoint = query_param("checkpoint");
    let technique_param = query_param("technique");
    let seed_param = query_param("seed");
    let parts_param = query_param("parts");
    let settings = UrlRenderSettings::from_query();
    let lookup = LocalResource::new(move || {
        let (route, checkpoint) = (route.get(), checkpoint.get());
        async move {
            match route {
                Some(r) => {
                    Some(resolve_unit(&r.model, &r.layer, r.unit, checkpoint.as_deref()).await)
                }
                None => None,
            }
        }
    });
    move || match route.get() {
        None => view! { <NotFoundPage/> }.into_any(),
        Some(_) if lookup.get().is_none() => {
            view! { <main class="embed" aria-busy="true"><p class="loading">"Loading…"</p></main> }
                .into_any()
        }
        Some(route) => {
            let technique = technique_param
                .get()
                .and_then(|name| Technique::from_name(&name))
                .filter(|t| FV.contains(t))
                .unwrap_or(Technique::Channel);
            let seed = seed_param.get().and_then(|s| s.parse::<u64>().ok());
            let parts = Parts::parse(parts_param.get().as_deref());
            // The full page with the same settings.
            let query = page_query(checkpoint.get(), technique, seed, &settings);
            let full_page = links::absolute(&format!(
                "{}{query}",
                links::unit(&route.model, &route.layer, route.unit)
            ));
            let theme = theme
                .get()
                .filter(|t| t == "light" || t == "dark")
                .unwrap_or_else(|| "system".to_owned());
            let title = format!("{}:{}", route.layer, route.unit);
            let body = match lookup.get() {
                Some(Some(Lookup::Found(ctx))) => {
                    card(&ctx, full_page.clone(), technique, seed, parts, settings)
                }
                Some(None) | None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Some(Lookup::NotFound { what, .. })) => view! {
                    <p>{format!("The atlas has no {what}.")}</p>
                    <a href=full_page.clone() target="_top">"Open in Microscope"</a>
                }
                .into_any(),
                Some(Some(Lookup::Failed(error))) => view! {
                    <h1>{title}</h1>
                    <LoadErrorBox error=error what="This unit"/>
                    <a href=full_page.clone() target="_top">"Open in Microscope"</a>
                }
                .into_any(),
            };
            view! {
                <main data-page="embed" data-model=route.model.clone() data-layer=route.layer.clone()
                    data-unit=route.unit.to_string() data-theme=theme data-technique=technique.as_str()
                    class="embed">
                    {body}
                </main>
            }
            .into_any()
        }
    }
}

/// The query of the full page with the card's settings (empty when all are defaults).
fn page_query(
    checkpoint: Option<String>,
    technique: Technique,
    seed: Option<u64>,
    settings: &UrlRenderSettings,
) -> String {
    let mut query = Vec::new();
    if let Some(checkpoint) = checkpoint {
        query.push(format!("checkpoint={}", js_sys::encode_uri_component(&checkpoint)));
    }
    if technique != Technique::Channel {
        query.push(format!("technique={technique}"));
    }
    if let Some(seed) = seed {
        query.push(format!("seed={seed}"));
    }
    query.extend(settings.link_query());
    if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) }
}

/// The atlas's images of `technique` for the unit (with `seed`, when one is asked for).
fn renderings(unit: &UnitManifest, technique: Technique, seed: Option<u64>) -> Vec<Rendering> {
    let fv = &unit.feature_visualizations;
    let all: Vec<&Rendering> = match technique {
        Technique::Neuron => fv.neuron.iter().collect(),
        Technique::Negative => fv.negative.iter().collect(),
        Technique::Diversity => fv.diversity.iter().collect(),
        _ => fv.channel.iter().collect(),
    };
    all.into_iter().filter(|r| seed.is_none_or(|s| r.seed == Some(s))).cloned().collect()
}

/// The sheet of a unit's top dataset examples, as one image.
fn examples_view(sheet: &Sheet, title: &str) -> AnyView {
    let height = IMAGE * sheet.image.height / sheet.image.width.max(1);
    view! {
        <img class="examples-sheet" src=asset_url(&sheet.image.path) width=IMAGE height=height
            alt=format!("The photographs that most excite {title}")/>
    }
    .into_any()
}

/// The card of a resolved unit.
fn card(
    ctx: &UnitCtx,
    page_href: String,
    technique: Technique,
    seed: Option<u64>,
    parts: Parts,
    settings: UrlRenderSettings,
) -> AnyView {
    let layer = ctx.layer.info().name.as_str().to_owned();
    let model = &ctx.layer.model.model;
    let title = format!("{layer}:{}", ctx.unit);
    let unit = ctx.manifest.as_ref().ok();
    let names = model.labels.as_ref().map(|labels| labels.names.clone()).unwrap_or_default();
    let top_sheet = unit
        .and_then(|u| u.dataset_examples.as_ref())
        .and_then(|e| e.top.as_ref())
        .and_then(|list| list.sheet.clone());
    let in_atlas = unit.map(|u| renderings(u, technique, seed)).unwrap_or_default();
    let visualization = parts.visualization.then(|| match in_atlas.first() {
        Some(rendering) => view! {
            <img class="fv" src=asset_url(&rendering.image.path) width=IMAGE height=IMAGE
                data-source="atlas" alt=format!("{technique} feature visualization of {title}")/>
        }
        .into_any(),
        None => {
            // The best the atlas has while (or instead of) rendering: the top examples.
            let (sheet, title) = (top_sheet.clone(), title.clone());
            let placeholder = move || match &sheet {
                Some(sheet) => view! {
                    <div data-source="examples">{examples_view(sheet, &title)}</div>
                }
                .into_any(),
                None => view! { <Placeholder technique=technique.as_str() size=IMAGE/> }.into_any(),
            };
            let job = technique_job(ctx, technique, seed.unwrap_or(0), &settings);
            match settings.forced_path() {
                Some(path) => view! {
                    <LiveRender job=job forced_path=path auto_start=settings.auto_start()
                        display_px=IMAGE placeholder=placeholder/>
                }
                .into_any(),
                None => view! {
                    <LiveRender job=job auto_start=settings.auto_start() display_px=IMAGE
                        placeholder=placeholder/>
                }
                .into_any(),
            }
        }
    });
    let examples = top_sheet.filter(|_| parts.examples).map(|sheet| examples_view(&sheet, &title));
    let histogram = parts
        .histogram
        .then(|| unit.and_then(|u| u.histogram.clone()))
        .flatten()
        .map(|histogram| view! { <HistogramChart histogram=histogram/> });
    let label = unit.and_then(|u| u.label.clone());
    let classes: Vec<String> = unit
        .and_then(|u| u.top_classes.as_ref())
        .into_iter()
        .flatten()
        .take(3)
        .map(|c| {
            names.get(c.class as usize).cloned().unwrap_or_else(|| format!("class {}", c.class))
        })
        .collect();
    let text = parts.label.then(|| {
        view! {
            <h2>{title.clone()}</h2>
            <p class="muted">{model.title.clone()}</p>
            {label.map(|label| view! { <p class="unit-label">{label}</p> })}
            {(!classes.is_empty()).then(|| view! { <p class="card-classes">"Drives: " {classes.join(", ")}</p> })}
        }
    });
    let link = parts.link.then(|| {
        view! { <a class="full-page" href=page_href target="_top">"Open in Microscope →"</a> }
    });
    view! {
        <div class="unit-card" data-unit-card=title.clone()>
            {visualization}
            <div class="unit-card-text">
                {text}
                {examples}
                {histogram}
                {link}
            </div>
        </div>
    }
    .into_any()
}
