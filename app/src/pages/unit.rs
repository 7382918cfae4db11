//! `/models/:model/:layer/:unit`: everything the atlas knows about one unit: feature
//! visualizations (channel, neuron, negative, diversity) with explanations, dataset examples,
//! activation histogram, top classes, circuits, annotations, and ways to share it (permalink,
//! embed code, cite, PNG). Deep links carry the technique and its parameters
//! (`?technique=neuron&seed=3`); arrow keys step to the previous and next unit. A technique
//! the atlas lacks can be rendered in the browser (`?render=1` starts it, `size`, `steps`,
//! `seed` and `path=webgpu|cpu` set it up), and the result is cached under that link.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use microscope_core::UnitId;
use microscope_core::atlas::{
    Connection, ExampleList, ImageFormat, Rendering, Technique, UnitManifest,
};
use microscope_core::protocol::RenderSettings;

use crate::atlas::{
    LoadError, Lookup, UnitCtx, asset_url, load_annotations, load_layer, load_photos, resolve_unit,
};
use crate::components::clipboard::CopyButton;
use crate::components::histogram::HistogramChart;
use crate::components::label_evidence::LabelEvidenceNote;
use crate::components::live_render::{LiveRender, model_ref};
use crate::components::load_error::LoadErrorBox;
use crate::components::placeholder::Placeholder;
use crate::components::sprite::SpriteTile;
use crate::components::timeline::Timeline;
use crate::components::top_classes::TopClassesChart;
use crate::components::your_photo::unit_map::PhotoUnitMap;
use crate::download::download_png;
use crate::layout::{Loading, Page};
use crate::links;
use crate::pages::explain::explanation;
use crate::pages::live_settings::{UrlRenderSettings, technique_job};
use crate::pages::not_found::NotFoundPage;
use crate::pages::{query_param, unit_route};

/// The large image's size in pixels.
const LARGE: u32 = 320;
/// Thumbnails of examples and circuits.
const THUMB: u32 = 96;
/// The feature-visualization techniques, in tab order.
const FV: [Technique; 4] =
    [Technique::Channel, Technique::Neuron, Technique::Negative, Technique::Diversity];
/// The unit page.
#[component]
pub fn UnitPage() -> impl IntoView {
    let route = unit_route();
    let checkpoint = query_param("checkpoint");
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
    move || match (route.get(), lookup.get()) {
        (None, _) | (_, Some(None)) => view! { <NotFoundPage/> }.into_any(),
        (_, None) => view! { <Loading/> }.into_any(),
        (Some(_), Some(Some(Lookup::NotFound { what, suggestions }))) => {
            view! { <NotFoundPage what=what suggestions=suggestions/> }.into_any()
        }
        (Some(route), state) => {
            let title = format!("{}:{}", route.layer, route.unit);
            let model_href = links::model(&route.model);
            let layer_href = links::layer(&route.model, &route.layer);
            let (model_text, layer_text) = (route.model.clone(), route.layer.clone());
            view! {
                <Page>
                    <main data-page="unit" data-model=route.model data-layer=route.layer
                        data-unit=route.unit.to_string() class="page unit-page">
                        <p class="breadcrumbs">
                            <a href=links::home()>"Models"</a> " / "
                            <a href=model_href>{model_text}</a> " / "
                            <a href=layer_href>{layer_text}</a>
                        </p>
                        {match state {
                            Some(Some(Lookup::Found(ctx))) => view! { <UnitView ctx=ctx/> }.into_any(),
                            Some(Some(Lookup::Failed(error))) => view! {
                                <h1>{title}</h1>
                                <LoadErrorBox error=error what="The atlas"/>
                            }.into_any(),
                            _ => view! { <h1>{title}</h1><p class="loading">"Loading…"</p> }.into_any(),
                        }}
                    </main>
                </Page>
            }
            .into_any()
        }
    }
}

/// The path of unit `unit` of the same layer, keeping the checkpoint.
fn unit_path(ctx: &UnitCtx, unit: u32) -> String {
    let model = &ctx.layer.model.model;
    let mut path = links::unit(model.id.as_str(), ctx.layer.info().name.as_str(), unit as usize);
    if ctx.layer.checkpoint != model.default_checkpoint.as_str() {
        path.push_str(&format!("?checkpoint={}", ctx.layer.checkpoint));
    }
    path
}

/// Whether a key event comes from a text field (arrow keys then move the caret).
fn typing(event: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// A resolved unit.
#[component]
fn UnitView(ctx: UnitCtx) -> impl IntoView {
    let technique_param = query_param("technique");
    let seed_param = query_param("seed");
    let technique = Memo::new(move |_| {
        technique_param
            .get()
            .and_then(|name| Technique::from_name(&name))
            .filter(|t| FV.contains(t))
            .unwrap_or(Technique::Channel)
    });
    let seed = Memo::new(move |_| seed_param.get().and_then(|s| s.parse::<u64>().ok()));

    let unit = ctx.unit;
    let units = ctx.layer.info().units;
    let model = ctx.layer.model.model.clone();
    let model_id = model.id.as_str().to_owned();
    let layer = ctx.layer.info().name.as_str().to_owned();
    let title = format!("{layer}:{unit}");
    let prev = unit.checked_sub(1).map(|u| unit_path(&ctx, u));
    let next = (unit + 1 < units).then(|| unit_path(&ctx, unit + 1));

    // Arrow keys step through the layer.
    let navigate = use_navigate();
    let (prev_key, next_key) = (prev.clone(), next.clone());
    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if typing(&event) || event.alt_key() || event.ctrl_key() || event.meta_key() {
            return;
        }
        let target = match event.key().as_str() {
            "ArrowLeft" => prev_key.clone(),
            "ArrowRight" => next_key.clone(),
            _ => None,
        };
        if let Some(target) = target {
            event.prevent_default();
            navigate(&target, links::navigate());
        }
    });
    on_cleanup(move || keys.remove());

    let path = links::unit(&model_id, &layer, unit as usize);
    // Every setting that changes the picture, for the permalink and the embed alike.
    let url_settings = UrlRenderSettings::from_query();
    let share_query = Signal::derive({
        let checkpoint = ctx.layer.checkpoint.clone();
        let default = model.default_checkpoint.as_str().to_owned();
        move || {
            let mut query = Vec::new();
            if checkpoint != default {
                query.push(format!("checkpoint={checkpoint}"));
            }
            if technique.get() != Technique::Channel {
                query.push(format!("technique={}", technique.get()));
            }
            if let Some(seed) = seed.get() {
                query.push(format!("seed={seed}"));
            }
            query.extend(url_settings.link_query());
            query.extend(links::atlas_query());
            if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) }
        }
    });
    let permalink = Signal::derive({
        let path = path.clone();
        move || links::absolute(&format!("{path}{}", share_query.get()))
    });
    let id = UnitId::new(&layer, unit as usize);
    let embed_code = Signal::derive({
        let (model_id, id) = (model_id.clone(), id.clone());
        let embed = links::absolute(&links::embed(&model_id, &id.layer, id.unit));
        move || {
            let url = format!("{embed}{}", share_query.get());
            microscope_core::unit::embed_code(&url, &model_id, &id)
        }
    });
    // Without JavaScript: the unit's picture as a stable atlas URL, linking to the page.
    let image_code = ctx.manifest.as_ref().ok().and_then(|m| {
        let picture = m.picture()?;
        let image = picture.image();
        let alt = picture.alt(&id.to_string(), &model.title).replace('&', "&amp;").replace('"', "&quot;");
        let src = links::absolute(&asset_url(&image.path));
        let href = links::absolute(&path);
        let height = LARGE * image.height / image.width.max(1);
        Some(format!(
            "<a href=\"{href}\"><img src=\"{src}\" alt=\"{alt}\" width=\"{LARGE}\" height=\"{height}\"></a>"
        ))
    });
    let cite = Signal::derive({
        let (model_title, title) = (model.title.clone(), title.clone());
        move || format!("Microscope atlas, {model_title}, unit {title}. {}", permalink.get())
    });
    let label = ctx.manifest.as_ref().ok().and_then(|m| m.label.clone());
    let evidence = ctx.manifest.as_ref().ok().and_then(|m| m.label_evidence).map(|evidence| {
        let names = model.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
        view! { <LabelEvidenceNote evidence=evidence labelled=label.is_some() names=names/> }
    });

    let body = match &ctx.manifest {
        Ok(manifest) => unit_body(&ctx, Arc::clone(manifest), technique, seed).into_any(),
        Err(LoadError::Missing { .. }) => view! {
            <p class="not-built" id="not-built">
                "This unit is not in the atlas yet: every view below is a placeholder the "
                "in-browser renderer will fill."
            </p>
            {fv_section(&ctx, None, technique, seed)}
        }
        .into_any(),
        Err(error) => view! {
            <LoadErrorBox error=error.clone() what="This unit's data"/>
            {fv_section(&ctx, None, technique, seed)}
        }
        .into_any(),
    };

    let checkpoints = (model.checkpoints.len() > 1).then(|| {
        view! {
            <Timeline model=model_id.clone() layer=layer.clone() unit=unit
                checkpoints=model.checkpoints.clone() current=ctx.layer.checkpoint.clone()
                path=path.clone()/>
        }
    });

    let annotations = annotations_view(&ctx);
    let photo = view! {
        <PhotoUnitMap model=model_ref(&model, &ctx.layer.checkpoint) unit=id.clone()
            histogram=ctx.manifest.as_ref().ok().and_then(|m| m.histogram.clone())
            forced_path=url_settings.forced_path()/>
    };
    view! {
        <div class="unit-head">
            <h1>{title.clone()}</h1>
            {label.map(|label| view! { <p class="unit-label" id="unit-label">{label}</p> })}
            {evidence}
            <nav class="unit-steps" aria-label="Neighbouring units">
                {match prev {
                    Some(href) => view! { <a href=href id="prev-unit" rel="prev">{format!("← {layer}:{}", unit - 1)}</a> }.into_any(),
                    None => view! { <span class="muted">"first unit"</span> }.into_any(),
                }}
                <span class="muted">{format!("{} of {units}", unit + 1)}</span>
                {match next {
                    Some(href) => view! { <a href=href id="next-unit" rel="next">{format!("{layer}:{} →", unit + 1)}</a> }.into_any(),
                    None => view! { <span class="muted">"last unit"</span> }.into_any(),
                }}
                <span class="muted key-hint">"(arrow keys)"</span>
            </nav>
        </div>
        {checkpoints}
        {body}
        {photo}
        <section class="share" aria-labelledby="share-heading">
            <h2 id="share-heading">"Share"</h2>
            <div class="actions">
                <CopyButton id="copy-link" label="Copy link" text=permalink/>
                <CopyButton id="copy-embed" label="Copy embed code" text=embed_code/>
                {image_code.clone().map(|code| view! {
                    <CopyButton id="copy-image-link" label="Copy image link (no JavaScript)" text=Signal::derive(move || code.clone())/>
                })}
                <CopyButton id="copy-cite" label="Copy citation" text=cite/>
            </div>
            <p>"Permalink: " <code id="permalink">{move || permalink.get()}</code></p>
            <p>"Embed: " <code id="embed-code">{move || embed_code.get()}</code></p>
            {image_code.map(|code| view! {
                <p>"Image link, for pages without JavaScript: " <code id="image-link-code">{code}</code></p>
            })}
            <p>"Cite: " <code id="cite">{move || cite.get()}</code></p>
        </section>
        {annotations}
    }
}

/// Everything of a unit the atlas has.
fn unit_body(
    ctx: &UnitCtx,
    unit: Arc<UnitManifest>,
    technique: Memo<Technique>,
    seed: Memo<Option<u64>>,
) -> impl IntoView + use<> {
    let names = ctx.layer.model.model.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
    let examples = unit.dataset_examples.clone();
    let histogram = unit.histogram.clone();
    let classes = unit.top_classes.clone();
    let circuits = unit.circuits.clone();
    view! {
        {fv_section(ctx, Some(Arc::clone(&unit)), technique, seed)}
        <section class="examples" aria-labelledby="examples-heading">
            <h2 id="examples-heading">"Dataset examples"</h2>
            <p class="explain">{explanation(Technique::DatasetExamples)}</p>
            {match examples {
                Some(examples) => {
                    let photos: Vec<String> = examples.top.iter().chain(examples.bottom.iter())
                        .flat_map(|list| list.examples.iter().map(|e| e.photo.as_str().to_owned()))
                        .collect();
                    view! {
                        {example_list("top", "Top: where it responds most", examples.top, &names)}
                        {example_list("bottom", "Bottom: where it responds least", examples.bottom, &names)}
                        {photo_credits(photos)}
                    }.into_any()
                }
                None => view! { <Placeholder technique="dataset_examples" size=THUMB note="No dataset examples in the atlas for this unit yet."/> }.into_any(),
            }}
        </section>
        <div class="plots">
            <section aria-labelledby="hist-heading">
                <h2 id="hist-heading">"Activation histogram"</h2>
                <p class="explain">{explanation(Technique::Histogram)}</p>
                {match histogram {
                    Some(h) => view! { <HistogramChart histogram=h/> }.into_any(),
                    None => view! { <p class="muted">"Not in the atlas for this unit."</p> }.into_any(),
                }}
            </section>
            <section aria-labelledby="classes-heading">
                <h2 id="classes-heading">"Top classes"</h2>
                <p class="explain">{explanation(Technique::TopClasses)}</p>
                {match classes {
                    Some(c) if !c.is_empty() => view! { <TopClassesChart classes=c names=names/> }.into_any(),
                    _ => view! { <p class="muted">"Not in the atlas for this unit."</p> }.into_any(),
                }}
            </section>
        </div>
        <section class="circuits" aria-labelledby="circuits-heading" id="circuits">
            <h2 id="circuits-heading">"Circuits"</h2>
            <p class="explain">{explanation(Technique::Circuits)}</p>
            {match circuits {
                Some(c) => {
                    let (model, checkpoint) = (ctx.layer.model.model.id.as_str().to_owned(), ctx.layer.checkpoint.clone());
                    view! {
                        {connections("Inputs (earlier layers)", "circuit-inputs", &model, &checkpoint, c.inputs)}
                        {connections("Outputs (later layers)", "circuit-outputs", &model, &checkpoint, c.outputs)}
                    }.into_any()
                }
                None => view! { <p class="muted">"Not in the atlas for this unit."</p> }.into_any(),
            }}
        </section>
    }
}

/// The feature-visualization tabs and the large image.
fn fv_section(
    ctx: &UnitCtx,
    unit: Option<Arc<UnitManifest>>,
    technique: Memo<Technique>,
    seed: Memo<Option<u64>>,
) -> impl IntoView + use<> {
    let base = links::unit(
        ctx.layer.model.model.id.as_str(),
        ctx.layer.info().name.as_str(),
        ctx.unit as usize,
    );
    let checkpoint_query =
        if ctx.layer.checkpoint == ctx.layer.model.model.default_checkpoint.as_str() {
            String::new()
        } else {
            format!("checkpoint={}&", ctx.layer.checkpoint)
        };
    let file_stem = format!("{}-{}-{}", ctx.layer.model.model.id, ctx.layer.info().name, ctx.unit);
    let job_ctx = ctx.clone();
    let settings = UrlRenderSettings::from_query();
    let tabs = FV
        .into_iter()
        .map(|t| {
            let href = format!("{base}?{checkpoint_query}technique={t}");
            let has = unit.as_ref().is_some_and(|u| u.has(t));
            view! {
                <a href=href class="tab" data-technique=t.as_str()
                    aria-current=move || (technique.get() == t).then_some("true")
                    data-in-atlas=has.to_string()>
                    {t.as_str()}
                </a>
            }
        })
        .collect_view();
    let large = move || {
        let t = technique.get();
        let fv = unit.as_ref().map(|u| u.feature_visualizations.clone()).unwrap_or_default();
        let wanted_seed = seed.get();
        let matches_seed = |r: &Rendering| wanted_seed.is_none_or(|s| r.seed == Some(s));
        let renderings: Vec<Rendering> = match t {
            Technique::Channel => fv.channel.into_iter().collect(),
            Technique::Neuron => fv.neuron.into_iter().collect(),
            Technique::Negative => fv.negative.into_iter().collect(),
            _ => fv.diversity,
        };
        let renderings: Vec<Rendering> = renderings.into_iter().filter(matches_seed).collect();
        let note = match wanted_seed {
            Some(s) => format!(
                "No {t} image with seed {s} in the atlas: the in-browser renderer will fill it."
            ),
            None => String::new(),
        };
        let images = if renderings.is_empty() {
            let job = technique_job(&job_ctx, t, wanted_seed.unwrap_or(0), &settings);
            let RenderSettings { size_px, steps, seed, batch, .. } = job.settings;
            let lab_href = links::lab(&format!(
                "{checkpoint_query}model={}&objective={}&size={size_px}&steps={steps}&seed={seed}&batch={batch}",
                job.model.id(),
                String::from(js_sys::encode_uri_component(&job.settings.objective.to_string()))
            ));
            let forced = settings.forced_path();
            let auto_start = settings.auto_start();
            let technique = t.as_str();
            let placeholder =
                move || view! { <Placeholder technique=technique size=LARGE note=note.clone()/> };
            let panel = match forced {
                Some(path) => view! {
                    <LiveRender job=job forced_path=path auto_start=auto_start display_px=LARGE placeholder=placeholder/>
                }.into_any(),
                None => view! {
                    <LiveRender job=job auto_start=auto_start display_px=LARGE placeholder=placeholder/>
                }.into_any(),
            };
            view! {
                {panel}
                <p class="muted lab-link"><a href=lab_href id="open-in-lab">"Change the objective in the lab"</a></p>
            }.into_any()
        } else {
            let size = if t == Technique::Diversity { LARGE / 2 } else { LARGE };
            let file_stem = file_stem.clone();
            renderings
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    let url = asset_url(&r.image.path);
                    let meta = [
                        r.objective.clone().map(|o| format!("objective {o}")),
                        r.seed.map(|s| format!("seed {s}")),
                        r.steps.map(|s| format!("{s} steps")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                    let file_name = format!("{file_stem}-{t}{}.png", if t == Technique::Diversity { format!("-{i}") } else { String::new() });
                    let is_png = r.image.format() == Some(ImageFormat::Png);
                    let download = if is_png {
                        view! { <a class="button download-png" href=url.clone() download=file_name>"Download PNG"</a> }.into_any()
                    } else {
                        let (url, file_name) = (url.clone(), file_name.clone());
                        view! {
                            <button type="button" class="download-png" on:click=move |_| {
                                let (url, file_name) = (url.clone(), file_name.clone());
                                spawn_local(async move {
                                    if let Err(message) = download_png(&url, &file_name).await {
                                        leptos::logging::warn!("{message}");
                                    }
                                });
                            }>"Download PNG"</button>
                        }.into_any()
                    };
                    view! {
                        <figure class="fv-figure">
                            <img class="fv" id=(i == 0).then_some("fv-image") src=url width=size height=size
                                alt=format!("{t} feature visualization")/>
                            <figcaption>{meta} " " {download}</figcaption>
                        </figure>
                    }
                })
                .collect_view()
                .into_any()
        };
        view! {
            <div class="fv-large" data-technique=t.as_str()>{images}</div>
            <p class="explain" id="technique-explanation">{explanation(t)}</p>
        }
    };
    view! {
        <section class="fv-section" aria-labelledby="fv-heading">
            <h2 id="fv-heading" class="visually-hidden">"Feature visualization"</h2>
            <nav class="tabs" aria-label="Technique">{tabs}</nav>
            {large}
        </section>
    }
}

/// One list of dataset examples: tiles of its sheet (or placeholders) with activations, and
/// each example's class when the data set is labelled (`names`: the model's label names).
fn example_list(
    id: &'static str,
    heading: &'static str,
    list: Option<ExampleList>,
    names: &[String],
) -> impl IntoView + use<> {
    let Some(list) = list else {
        return view! { <h3>{heading}</h3><p class="muted">"None in the atlas."</p> }.into_any();
    };
    let items = list
        .examples
        .iter()
        .enumerate()
        .map(|(i, example)| {
            let tile = list.sheet.as_ref().and_then(|sheet| sheet.tile(i as u32).map(|tile| (sheet.clone(), tile)));
            let class = example.class.map(|c| {
                names.get(c as usize).cloned().unwrap_or_else(|| format!("class {c}"))
            });
            let label = format!("{} at ({}, {}), activation {:.3}", example.photo, example.crop.x, example.crop.y, example.activation);
            let image = match tile {
                Some((sheet, tile)) => view! { <SpriteTile sheet=sheet tile=tile size=THUMB label=label.clone()/> }.into_any(),
                None => view! { <Placeholder technique="dataset_examples" size=THUMB note=format!("photo {}", example.photo)/> }.into_any(),
            };
            view! {
                <li class="example" title=label>
                    {image}
                    <span class="activation">{format!("{:.3}", example.activation)}</span>
                    {class.map(|class| view! { <span class="class">{class}</span> })}
                    <span class="photo muted">{example.photo.as_str().to_owned()}</span>
                </li>
            }
        })
        .collect_view();
    view! { <h3>{heading}</h3><ul class="example-list" id=format!("examples-{id}")>{items}</ul> }
        .into_any()
}

/// A list of circuit connections with thumbnails from each layer's channel sheet.
fn connections(
    heading: &'static str,
    id: &'static str,
    model: &str,
    checkpoint: &str,
    list: Vec<Connection>,
) -> impl IntoView + use<> {
    if list.is_empty() {
        return view! { <h3>{heading}</h3><p class="muted">"None recorded."</p> }.into_any();
    }
    let items = list
        .into_iter()
        .take(24)
        .map(|c| {
            let href = links::unit(model, c.layer.as_str(), c.unit as usize);
            let name = format!("{}:{}", c.layer, c.unit);
            let (m, cp, l, u) = (model.to_owned(), checkpoint.to_owned(), c.layer.as_str().to_owned(), c.unit);
            let thumb = LocalResource::new(move || {
                let (m, cp, l) = (m.clone(), cp.clone(), l.clone());
                async move {
                    load_layer(&m, &cp, &l)
                        .await
                        .ok()
                        .and_then(|layer| layer.thumbnail(Technique::Channel, u).map(|(s, t)| (s.clone(), t)))
                }
            });
            let label = name.clone();
            view! {
                <li class="connection">
                    <a href=href>
                        {move || match thumb.get().flatten() {
                            Some((sheet, tile)) => view! { <SpriteTile sheet=sheet tile=tile size=THUMB label=label.clone()/> }.into_any(),
                            None => view! { <Placeholder technique="channel" size=THUMB note="no thumbnail yet"/> }.into_any(),
                        }}
                        <span>{name}</span>
                    </a>
                    <span class="weight">{format!("weight {:.3}", c.weight)}</span>
                </li>
            }
        })
        .collect_view();
    view! { <h3>{heading}</h3><ul class="connections" id=id>{items}</ul> }.into_any()
}

/// Community labels and notes from `annotations.json`.
fn annotations_view(ctx: &UnitCtx) -> impl IntoView + use<> {
    let has = ctx.layer.model.index.annotations;
    let model = ctx.layer.model.model.clone();
    let (checkpoint, layer, unit) =
        (ctx.layer.checkpoint.clone(), ctx.layer.info().name.as_str().to_owned(), ctx.unit);
    let loaded = LocalResource::new(move || async move {
        if has { Some(load_annotations().await) } else { None }
    });
    view! {
        <section class="annotations" aria-labelledby="annotations-heading" id="annotations">
            <h2 id="annotations-heading">"Annotations"</h2>
            {move || match loaded.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(None) => view! { <p class="muted">"No community labels or notes yet."</p> }.into_any(),
                Some(Some(Err(error))) => view! { <LoadErrorBox error=error what="Annotations"/> }.into_any(),
                Some(Some(Ok(all))) => {
                    let items: Vec<_> = all
                        .for_unit(model.id.as_str(), &checkpoint, model.default_checkpoint.as_str(), &layer, Some(unit))
                        .map(|a| view! {
                            <li class="annotation">
                                <p>{a.text.clone()}</p>
                                <p class="muted">{format!("{} by {} on {}", format!("{:?}", a.kind).to_lowercase(), a.author, a.date)}</p>
                            </li>
                        })
                        .collect();
                    if items.is_empty() {
                        view! { <p class="muted">"No community labels or notes yet."</p> }.into_any()
                    } else {
                        view! { <ul class="annotation-list">{items}</ul> }.into_any()
                    }
                }
            }}
        </section>
    }
}

/// Where the example photos come from: source, license and credit from `photos.json`.
fn photo_credits(mut ids: Vec<String>) -> impl IntoView + use<> {
    ids.sort();
    ids.dedup();
    let credits = LocalResource::new(move || {
        let ids = ids.clone();
        async move {
            let photos = load_photos().await.ok()?;
            let lines: Vec<String> = ids
                .iter()
                .filter_map(|id| photos.photo(id))
                .map(|p| format!("{}: {} ({}, {})", p.id, p.source, p.license, p.credit))
                .collect();
            Some(lines)
        }
    });
    move || {
        credits.get().flatten().filter(|lines| !lines.is_empty()).map(|lines| {
            view! {
                <details class="photo-credits">
                    <summary>"Photo sources and licenses"</summary>
                    <ul>{lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                </details>
            }
        })
    }
}
