//! `/models/:model/:layer`: every unit of a layer as a virtualised grid of sprite-sheet
//! thumbnails, by technique, with a filter by unit number, label or top class; and the
//! layer's DeepDream, rendered in the browser (settings from the URL as on the unit page); with
//! the visitor's photo chosen, the units that fire most on it and links to the lab's
//! caricature of the photo and DeepDream from it at this layer.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::atlas::{LayerManifest, Technique};

use crate::atlas::{LayerCtx, Lookup, load_annotations, load_unit, resolve_layer};
use crate::components::live_render::{LiveRender, RenderJob, model_ref, weights_bytes};
use crate::components::load_error::LoadErrorBox;
use crate::components::unit_grid::{GridSource, UnitGrid};
use crate::components::your_photo::photo_slot;
use crate::components::your_photo::ranking::PhotoRanking;
use crate::layout::{Loading, Page};
use crate::links;
use crate::pages::lab::photo_technique_link;
use crate::pages::live_settings::{PhotoTechnique, UrlRenderSettings, dream_objective};
use crate::pages::not_found::NotFoundPage;
use crate::pages::{name_param, query_param};

/// Unit manifests read at once while filtering by label or class.
const SCAN_TASKS: u32 = 8;

/// The layer page.
#[component]
pub fn LayerPage() -> impl IntoView {
    let model = name_param("model");
    let layer = name_param("layer");
    let checkpoint = query_param("checkpoint");
    let lookup = LocalResource::new(move || {
        let (model, layer, checkpoint) = (model.get(), layer.get(), checkpoint.get());
        async move {
            match (model, layer) {
                (Some(model), Some(layer)) => {
                    Some(resolve_layer(&model, &layer, checkpoint.as_deref()).await)
                }
                _ => None,
            }
        }
    });
    move || match (model.get(), layer.get(), lookup.get()) {
        (None, _, _) | (_, None, _) | (_, _, Some(None)) => view! { <NotFoundPage/> }.into_any(),
        (_, _, None) => view! { <Loading/> }.into_any(),
        (_, _, Some(Some(Lookup::NotFound { what, suggestions }))) => {
            view! { <NotFoundPage what=what suggestions=suggestions/> }.into_any()
        }
        (Some(model), Some(layer), state) => {
            let (model_href, model_text, layer_text) =
                (links::model(&model), model.clone(), layer.clone());
            view! {
            <Page>
                <main data-page="layer" data-model=model data-layer=layer class="page">
                    <p class="breadcrumbs"><a href=links::home()>"Models"</a> " / " <a href=model_href>{model_text}</a></p>
                    <h1>{layer_text}</h1>
                    {match state {
                        Some(Some(Lookup::Found(ctx))) => found(ctx).into_any(),
                        Some(Some(Lookup::Failed(error))) => view! { <LoadErrorBox error=error what="This layer"/> }.into_any(),
                        _ => view! { <p class="loading">"Loading…"</p> }.into_any(),
                    }}
                </main>
            </Page>
            }
            .into_any()
        }
    }
}

/// Whether `unit` passes the filter `text` (lowercase), given words known about it.
fn passes(unit: u32, text: &str, words: &HashMap<u32, Vec<String>>) -> bool {
    if text.is_empty() {
        return true;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return unit.to_string().contains(text);
    }
    words
        .get(&unit)
        .is_some_and(|words| words.iter().any(|word| word.to_lowercase().contains(text)))
}

/// Reads the unit manifests of every built unit for their labels and top classes, a few at a
/// time, adding their words to `words` and counting in `progress`.
fn scan(
    ctx: &LayerCtx,
    manifest: Arc<LayerManifest>,
    words: RwSignal<HashMap<u32, Vec<String>>>,
    progress: RwSignal<u64>,
) {
    let names =
        Arc::new(ctx.model.model.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default());
    let built: Arc<Vec<u32>> = Arc::new(manifest.coverage.built.iter().collect());
    for task in 0..SCAN_TASKS {
        let (built, names) = (Arc::clone(&built), Arc::clone(&names));
        let (model, checkpoint, layer) = (
            manifest.model.as_str().to_owned(),
            manifest.checkpoint.as_str().to_owned(),
            manifest.layer.as_str().to_owned(),
        );
        spawn_local(async move {
            for unit in built.iter().skip(task as usize).step_by(SCAN_TASKS as usize) {
                if let Ok(manifest) = load_unit(&model, &checkpoint, &layer, *unit).await {
                    let mut found: Vec<String> = manifest.label.iter().cloned().collect();
                    for class in manifest.top_classes.iter().flatten().take(5) {
                        if let Some(name) = names.get(class.class as usize) {
                            found.push(name.clone());
                        }
                    }
                    words.update(|words| words.entry(*unit).or_default().extend(found));
                }
                progress.update(|n| *n += 1);
            }
        });
    }
}

fn found(ctx: LayerCtx) -> impl IntoView {
    let info = ctx.info().clone();
    let model_id = ctx.model.model.id.as_str().to_owned();
    let layer_name = info.name.as_str().to_owned();
    let units = info.units;
    let manifest = ctx.manifest.clone().ok();
    let techniques: Vec<Technique> = Technique::THUMBNAILS
        .into_iter()
        .filter(|t| manifest.as_ref().is_some_and(|m| !m.sheets.get(*t).is_empty()))
        .collect();
    // Open on the thumbnails that cover the most units (a feature visualization wins a tie):
    // an atlas with visualizations of a few units but examples of all opens on the examples.
    let covered = |t: Technique| manifest.as_ref().map_or(0, |m| m.coverage.get(t).len());
    let first = techniques
        .iter()
        .copied()
        .reduce(|best, t| if covered(t) > covered(best) { t } else { best })
        .unwrap_or(Technique::Channel);
    let technique = RwSignal::new(first);
    let filter = RwSignal::new(String::new());
    let words = RwSignal::new(HashMap::<u32, Vec<String>>::new());
    let progress = RwSignal::new(0_u64);
    let scanning = RwSignal::new(false);

    // Community labels from annotations.json.
    {
        let (model, layer, checkpoint, default) = (
            model_id.clone(),
            layer_name.clone(),
            ctx.checkpoint.clone(),
            ctx.model.model.default_checkpoint.as_str().to_owned(),
        );
        if ctx.model.index.annotations {
            spawn_local(async move {
                if let Ok(annotations) = load_annotations().await {
                    words.update(|words| {
                        for a in annotations.annotations.iter().filter(|a| {
                            a.model.as_str() == model
                                && a.layer.as_str() == layer
                                && a.checkpoint.as_ref().map_or(default.as_str(), |c| c.as_str())
                                    == checkpoint
                        }) {
                            if let Some(unit) = a.unit {
                                words.entry(unit).or_default().push(a.text.clone());
                            }
                        }
                    });
                }
            });
        }
    }

    let ctx_for_scan = ctx.clone();
    let manifest_for_scan = manifest.clone();
    let on_filter = move |ev| {
        let text = event_target_value(&ev);
        let needs_words = text.bytes().any(|b| !b.is_ascii_digit());
        filter.set(text);
        if needs_words
            && !scanning.get_untracked()
            && let Some(manifest) = manifest_for_scan.clone()
        {
            scanning.set(true);
            scan(&ctx_for_scan, manifest, words, progress);
        }
    };
    let shown = Memo::new(move |_| {
        let text = filter.get().trim().to_lowercase();
        words.with(|words| {
            (0..units).filter(|unit| passes(*unit, &text, words)).collect::<Vec<u32>>()
        })
    });
    let built = manifest.as_ref().map_or(0, |m| m.coverage.built.len());
    let scan_total = built;
    let shape = info.shape.iter().map(u32::to_string).collect::<Vec<_>>().join("×");
    let source = GridSource {
        model: model_id.clone(),
        layer: layer_name.clone(),
        manifest: manifest.clone(),
        query: if ctx.checkpoint == ctx.model.model.default_checkpoint.as_str() {
            String::new()
        } else {
            format!("?checkpoint={}", ctx.checkpoint)
        },
    };
    let technique_options = techniques
        .iter()
        .map(|t| {
            let t = *t;
            view! {
                <option value=t.as_str() selected=move || technique.get() == t>
                    {t.as_str().replace('_', " ")}
                </option>
            }
        })
        .collect_view();
    view! {
        <p class="layer-facts">
            {format!("{} · {units} units · output {shape} · checkpoint {} · {built} units built", info.op.clone().unwrap_or_default(), ctx.checkpoint)}
        </p>
        {ctx.manifest.clone().err().map(|error| view! { <LoadErrorBox error=error what="The layer's thumbnails"/> })}
        <div class="grid-controls">
            <label>"Show "
                <select id="technique-select" on:change=move |ev| {
                    if let Some(t) = Technique::from_name(&event_target_value(&ev)) { technique.set(t) }
                }>{technique_options}</select>
            </label>
            <label>"Filter "
                <input id="unit-filter" type="search" placeholder="unit number, label or class" on:input=on_filter/>
            </label>
            <span class="filter-status" role="status" aria-live="polite">
                {move || {
                    let shown = shown.with(Vec::len);
                    let read = progress.get();
                    if scanning.get() && read < scan_total {
                        format!("{shown} units · reading labels and classes: {read} of {scan_total}")
                    } else {
                        format!("{shown} units")
                    }
                }}
            </span>
        </div>
        <UnitGrid source=source units=shown technique=technique.into()/>
        {your_photo(&ctx, manifest)}
        {deep_dream(&ctx)}
    }
}

/// The units that fire most on the visitor's photo; their links keep the checkpoint and a
/// forced compute path.
fn your_photo(ctx: &LayerCtx, manifest: Option<Arc<LayerManifest>>) -> impl IntoView + use<> {
    let model = &ctx.model.model;
    let forced = UrlRenderSettings::from_query().forced_path();
    let mut query = Vec::new();
    if ctx.checkpoint != model.default_checkpoint.as_str() {
        query.push(format!("checkpoint={}", ctx.checkpoint));
    }
    if let Some(path) = forced {
        query.push(format!("path={}", path.as_str()));
    }
    let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    let layer = ctx.info().name.as_str().to_owned();
    let checkpoint =
        (ctx.checkpoint != model.default_checkpoint.as_str()).then(|| ctx.checkpoint.clone());
    // Links, not panels: the lab renders them (the photo stays chosen on the way).
    let techniques = PhotoTechnique::ALL
        .into_iter()
        .map(|technique| {
            let href = photo_technique_link(
                model.id.as_str(),
                &layer,
                technique,
                checkpoint.as_deref(),
                forced,
            );
            view! {
                <a class="button" id=format!("photo-{}", technique.id()) href=href>{technique.label()}</a>
            }
        })
        .collect_view();
    let slot = photo_slot();
    view! {
        <PhotoRanking model=model_ref(model, &ctx.checkpoint) layer=layer.clone()
            manifest=manifest query=query forced_path=forced/>
        <p class="actions photo-techniques" id="photo-techniques"
            style=move || if slot.with(Option::is_some) { "" } else { "display:none" }>
            {techniques}
            <span class="muted">{format!(" at {layer}, rendered in the lab")}</span>
        </p>
    }
}

/// Size of the DeepDream image on the page.
const DREAM_DISPLAY_PX: u32 = 320;

/// The layer's DeepDream: an image optimised to excite every unit of the layer at once,
/// rendered in the browser on demand and kept in the browser's cache under its settings.
fn deep_dream(ctx: &LayerCtx) -> impl IntoView + use<> {
    let model = &ctx.model.model;
    let layer = ctx.info().name.as_str().to_owned();
    let settings = UrlRenderSettings::from_query();
    let job = RenderJob::new(
        model_ref(model, &ctx.checkpoint),
        dream_objective(&layer),
        1,
        settings.look(),
        &format!("{}/{}/{layer}/deepdream", model.id, ctx.checkpoint),
        &format!("{}-{layer}-deepdream", model.id),
    )
    .downloading(weights_bytes(model, &ctx.checkpoint));
    let placeholder = move || {
        view! {
            <div class="placeholder" role="img" aria-label="No DeepDream yet"
                style=format!("width:{DREAM_DISPLAY_PX}px;height:{DREAM_DISPLAY_PX}px")>
                <span>"No DeepDream of this layer yet: render it in your browser."</span>
            </div>
        }
    };
    let auto_start = settings.auto_start();
    let panel = match settings.forced_path() {
        Some(path) => view! {
            <LiveRender job=job forced_path=path auto_start=auto_start display_px=DREAM_DISPLAY_PX placeholder=placeholder/>
        }
        .into_any(),
        None => view! {
            <LiveRender job=job auto_start=auto_start display_px=DREAM_DISPLAY_PX placeholder=placeholder/>
        }
        .into_any(),
    };
    view! {
        <section class="deep-dream" aria-labelledby="dream-heading" id="deep-dream">
            <h2 id="dream-heading">"DeepDream"</h2>
            <p class="explain">
                "An image optimised from noise to excite every unit of this layer at once: the \
                 textures and parts the whole layer responds to, mixed together. It is rendered \
                 here, in your browser, from the model's weights."
            </p>
            {panel}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_matches_unit_numbers_or_known_words() {
        let words = HashMap::from([(12, vec!["Tabby cat".to_owned(), "dog".to_owned()])]);
        assert!(passes(12, "", &words));
        assert!(passes(12, "1", &words) && passes(112, "12", &words));
        assert!(!passes(3, "12", &words));
        assert!(passes(12, "tabby", &words), "words compare lowercase");
        assert!(!passes(12, "bird", &words));
        assert!(!passes(13, "cat", &words), "a unit without words passes only by number");
    }
}
