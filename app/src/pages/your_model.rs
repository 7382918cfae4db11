//! `/your-model`: a visitor brings an ONNX model of their own. The file (dropped or chosen)
//! is refused over core's `OnnxLimits::BROWSER` before it is read, then checked and imported
//! in the renderer worker by the code `microscope import-onnx` runs; its layers are listed and
//! any unit renders live. Nothing is uploaded. "Keep in this browser" stores the file in Cache
//! Storage (`your_models`), listed on the next visit with a "remove" button. `?path=cpu|webgpu`
//! forces the compute path, as on the lab page.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use microscope_core::atlas::Sha256Hex;
use microscope_core::model_import::{
    ImportSettings, ModelSummary, OnnxFile, OnnxLimits, parse_input_size,
};
use microscope_core::objective::Objective;
use microscope_core::protocol::{ComputePath, ModelRef, RenderLimits};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement};

use crate::components::live_render::{LiveRender, Look, RenderJob};
use crate::components::model_import::{ImportPhase, ImportRun};
use crate::gpu::PathChoice;
use crate::layout::Page;
use crate::number::grouped;
use crate::pages::query_param;
use crate::your_models::{self, KeptModel};

/// What the page says about where the model goes.
const PRIVACY_NOTE: &str = "Your model never leaves this computer: it is read, checked and \
    rendered in this browser tab by the same code as the microscope import-onnx command, and \
    never uploaded. Kept models stay in this browser's storage until you remove them.";

/// A file waiting for its import to finish, to be kept if the visitor asked.
#[derive(Clone)]
struct PendingKeep {
    serial: u32,
    name: String,
    bytes: Arc<Vec<u8>>,
}

/// The page's shared handles (all `Copy`).
#[derive(Clone, Copy)]
struct Ctx {
    run: ImportRun,
    keep: RwSignal<bool>,
    size: RwSignal<String>,
    forced: Memo<Option<ComputePath>>,
    pending: StoredValue<Option<PendingKeep>>,
    /// Bumped when the kept models change.
    kept_version: RwSignal<u32>,
    note: RwSignal<String>,
}

impl Ctx {
    /// The import settings from the size box (ImageNet normalisation), or the box's mistake.
    fn settings(self) -> Result<ImportSettings, String> {
        let text = self.size.get_untracked();
        let size = if text.trim().is_empty() { None } else { Some(parse_input_size(&text)?) };
        Ok(ImportSettings::imagenet(size))
    }

    /// Imports `bytes` (named `name`); `keep`: store it once imported.
    fn import(self, name: String, bytes: Vec<u8>, keep: bool) {
        let settings = match self.settings() {
            Ok(settings) => settings,
            Err(message) => {
                self.note.set(message);
                return;
            }
        };
        self.note.set(String::new());
        let bytes = Arc::new(bytes);
        let file = OnnxFile { name: name.clone(), bytes: bytes.as_ref().clone() };
        self.run.start(file, settings, self.forced.get_untracked());
        let serial = self.run.status.with_untracked(|s| s.serial);
        self.pending.set_value(keep.then_some(PendingKeep { serial, name, bytes }));
    }

    /// Reads a chosen or dropped file, refusing one over the limit before reading it.
    fn choose(self, file: File) {
        if let Err(error) = OnnxLimits::BROWSER.check_bytes(file.size() as u64) {
            self.run.refuse(file.name(), error);
            return;
        }
        let keep = self.keep.get_untracked();
        spawn_local(async move {
            match JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => {
                    self.import(file.name(), js_sys::Uint8Array::new(&buffer).to_vec(), keep);
                }
                Err(_) => self.note.set(format!("{} could not be read.", file.name())),
            }
        });
    }

    /// Keeps the file just imported, if the visitor asked.
    fn keep_imported(self, serial: u32, model: &ModelSummary) {
        let Some(pending) = self.pending.get_value().filter(|p| p.serial == serial) else {
            return;
        };
        self.pending.set_value(None);
        let record = KeptModel {
            name: pending.name.clone(),
            sha256: model.sha256.as_str().to_owned(),
            bytes: pending.bytes.len() as u64,
            kept_ms: js_sys::Date::now(),
        };
        spawn_local(async move {
            if your_models::keep(&record, &pending.bytes).await {
                self.kept_version.update(|v| *v += 1);
            } else {
                self.note.set("This browser refused to keep the model (storage full or off); it is usable until you leave the page.".to_owned());
            }
        });
    }

    /// Imports a kept model again.
    fn open(self, kept: KeptModel) {
        spawn_local(async move {
            match your_models::file(&kept.sha256).await {
                Some(bytes) => self.import(kept.name, bytes, false),
                None => {
                    self.note.set(format!("{} is no longer kept in this browser.", kept.name));
                    self.kept_version.update(|v| *v += 1);
                }
            }
        });
    }
}

/// The your-model page.
#[component]
pub fn YourModelPage() -> impl IntoView {
    let path_q = query_param("path");
    let ctx = Ctx {
        run: ImportRun::new(),
        keep: RwSignal::new(false),
        size: RwSignal::new(String::new()),
        forced: Memo::new(move |_| path_q.get().and_then(|p| PathChoice::parse_path(&p))),
        pending: StoredValue::new(None),
        kept_version: RwSignal::new(0),
        note: RwSignal::new(String::new()),
    };
    // Keep the file once its import has succeeded.
    Effect::new(move |_| {
        let status = ctx.run.status.get();
        if let (ImportPhase::Done, Some(model)) = (status.phase, status.model.as_ref()) {
            ctx.keep_imported(status.serial, model);
        }
    });

    view! {
        <Page>
            <main data-page="your-model" class="page your-model-page">
                <h1>"Your model"</h1>
                <p>
                    "Bring a vision CNN of your own as an ONNX file (PyTorch's "<code>"torch.onnx.export"</code>
                    ", tf2onnx …): its layers are listed and any unit's feature visualization renders "
                    "here, as the atlas's models do. The operators it can run are listed in "
                    <code>"docs/onnx-support.md"</code>"; a file that uses others is refused with all "
                    "of them named. Inputs are normalised as torchvision's ImageNet models expect."
                </p>
                <Picker ctx=ctx/>
                {move || {
                    let text = ctx.note.get();
                    (!text.is_empty()).then(|| view! { <p class="photo-error" id="your-model-note" role="alert">{text}</p> })
                }}
                {ctx.run.view()}
                <KeptList ctx=ctx/>
                {move || {
                    let status = ctx.run.status.get();
                    match (status.phase, status.model) {
                        (ImportPhase::Done, Some(model)) => {
                            view! { <ModelView model=model forced=ctx.forced.get_untracked()/> }.into_any()
                        }
                        _ => ().into_any(),
                    }
                }}
            </main>
        </Page>
    }
}

/// The drop zone, the file input, "keep" and the input size.
#[component]
fn Picker(ctx: Ctx) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let on_change = move |event: leptos::ev::Event| {
        let input = event.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok());
        if let Some(file) = input.as_ref().and_then(HtmlInputElement::files).and_then(|f| f.get(0))
        {
            ctx.choose(file);
        }
        // The same file chosen again imports again.
        if let Some(input) = input {
            input.set_value("");
        }
    };
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(file) = event.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            ctx.choose(file);
        }
    };
    let max_mib = OnnxLimits::BROWSER.max_bytes >> 20;
    view! {
        <div class="photo-picker your-model-picker" class:dragging=move || dragging.get()
            on:dragover=move |event: leptos::ev::DragEvent| {
                event.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <label class="photo-drop">
                <span>{format!("Drop an .onnx file here (up to {max_mib} MiB), or choose one: ")}</span>
                <input id="your-model-input" type="file" accept=".onnx" on:change=on_change/>
            </label>
            <div class="form-row">
                <label>
                    <input id="your-model-keep" type="checkbox" prop:checked=ctx.keep
                        on:change=move |ev| ctx.keep.set(event_target_checked(&ev))/>
                    " Keep it in this browser for my next visit"
                </label>
                <label>"Input size (for files that declare none) "
                    <input id="your-model-size" type="text" size="9" placeholder="224 or 160x224"
                        prop:value=ctx.size on:input=move |ev| ctx.size.set(event_target_value(&ev))/>
                </label>
            </div>
            <p class="muted photo-privacy">{PRIVACY_NOTE}</p>
        </div>
    }
}

/// The models kept in this browser, each with Open and Remove.
#[component]
fn KeptList(ctx: Ctx) -> impl IntoView {
    let kept = LocalResource::new(move || {
        ctx.kept_version.track();
        your_models::list()
    });
    let remove = move |sha256: String| {
        spawn_local(async move {
            your_models::remove(&sha256).await;
            ctx.kept_version.update(|v| *v += 1);
        });
    };
    move || {
        // Nothing until the list is read; then `data-count` says how many (for tests).
        let Some(models) = kept.get() else { return ().into_any() };
        let count = models.len();
        let rows = models
            .into_iter()
            .map(|model| {
                let (sha256, open_model) = (model.sha256.clone(), model.clone());
                let size = format!("{} KiB", grouped(model.bytes.div_ceil(1024)));
                view! {
                    <li data-sha256=model.sha256.clone()>
                        <strong class="your-model-name">{model.name.clone()}</strong>" "
                        <span class="muted">{size}</span>" "
                        <button type="button" class="your-model-open"
                            on:click=move |_| ctx.open(open_model.clone())>"Open"</button>" "
                        <button type="button" class="your-model-remove"
                            on:click=move |_| remove(sha256.clone())>"Remove"</button>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="your-models" id="your-models-section" data-count=count>
                {(count > 0).then(|| view! { <h2>"Kept in this browser"</h2> })}
                <ul id="your-models">{rows}</ul>
            </section>
        }
        .into_any()
    }
}

/// The imported model: its summary, its layers, and a unit rendered live.
#[component]
fn ModelView(model: Arc<ModelSummary>, forced: Option<ComputePath>) -> impl IntoView {
    let limits = RenderLimits::BROWSER;
    let first = model.layers.first().map(|l| l.name.clone()).unwrap_or_default();
    let layer = RwSignal::new(first);
    let unit = RwSignal::new("0".to_owned());
    let size = RwSignal::new("128".to_owned());
    let steps = RwSignal::new("64".to_owned());
    let unit_error = RwSignal::new(String::new());
    let job = RwSignal::new(None::<RenderJob>);
    let model_ref = ModelRef::Visitor { sha256: model.sha256.clone(), name: model.name.clone() };
    let layers = model.layers.clone();
    let render = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let name = layer.get_untracked();
        let Some(info) = layers.iter().find(|l| l.name == name) else { return };
        let wanted = unit.get_untracked().trim().parse::<u32>().ok().filter(|u| *u < info.channels);
        let Some(wanted) = wanted else {
            unit_error.set(format!("{name} has units 0 to {}.", info.channels.saturating_sub(1)));
            return;
        };
        unit_error.set(String::new());
        let number = |signal: RwSignal<String>, default: u32| {
            signal.get_untracked().trim().parse::<u32>().unwrap_or(default)
        };
        let look = Look { size_px: number(size, 128), steps: number(steps, 64), seed: 0 };
        let mut made = RenderJob::new(
            model_ref.clone(),
            Objective::channel(name.clone(), wanted as usize),
            1,
            look,
            &format!("your-model/{}/{name}:{wanted}", model_ref.id()),
            &format!("{}-{name}-{wanted}", sanitize(model_ref.id())),
        );
        // A visitor's model leaves nothing behind: its renders are not cached.
        made.cache_key = None;
        job.set(Some(made));
    };
    let summary = format!(
        "{}: {}x{}x{} input, {} layers, {} outputs, {} parameters, opset {}",
        model.name,
        model.channels,
        model.height_px,
        model.width_px,
        model.layers.len(),
        model.outputs,
        grouped(model.parameters),
        model.opset,
    );
    let rows = model
        .layers
        .iter()
        .map(|l| {
            view! {
                <tr data-layer=l.name.clone() data-op=l.op.clone() data-channels=l.channels
                    data-height=l.height data-width=l.width>
                    <td><code>{l.name.clone()}</code></td>
                    <td>{l.op.clone()}</td>
                    <td class="num">{l.channels}</td>
                    <td class="num">{format!("{}x{}", l.height, l.width)}</td>
                </tr>
            }
        })
        .collect_view();
    let options = model
        .layers
        .iter()
        .map(|l| {
            let name = l.name.clone();
            let label = format!("{} ({} units)", l.name, l.channels);
            view! { <option value=name.clone() selected=move || layer.get() == name>{label}</option> }
        })
        .collect_view();
    let sha256: Sha256Hex = model.sha256.clone();
    view! {
        <section id="your-model" data-sha256=sha256.as_str().to_owned()>
            <h2>{model.name.clone()}</h2>
            <p id="your-model-summary">{summary}</p>
            <form class="lab-form" id="your-model-form" on:submit=render>
                <div class="form-row">
                    <label>"Layer " <select id="your-model-layer"
                        on:change=move |ev| layer.set(event_target_value(&ev))>{options}</select></label>
                    <label>"Unit " <input id="your-model-unit" type="number" min="0" prop:value=unit
                        on:input=move |ev| unit.set(event_target_value(&ev))/></label>
                    <label>"Size (px) " <input id="your-model-render-size" type="number"
                        min=limits.min_size_px.to_string() max=limits.max_size_px.to_string()
                        prop:value=size on:input=move |ev| size.set(event_target_value(&ev))/></label>
                    <label>"Steps " <input id="your-model-steps" type="number" min="1"
                        max=limits.max_steps.to_string() prop:value=steps
                        on:input=move |ev| steps.set(event_target_value(&ev))/></label>
                </div>
                {move || {
                    let text = unit_error.get();
                    (!text.is_empty()).then(|| view! { <p class="form-error" id="your-model-unit-error" role="alert">{text}</p> })
                }}
                <div class="actions"><button type="submit" id="your-model-render">"Render"</button></div>
            </form>
            {move || job.get().map(|job| match forced {
                Some(path) => view! { <LiveRender job=job forced_path=path auto_start=true display_px=320/> }.into_any(),
                None => view! { <LiveRender job=job auto_start=true display_px=320/> }.into_any(),
            })}
            <table class="your-model-layers" id="your-model-layers">
                <thead><tr><th>"Layer"</th><th>"Operator"</th><th>"Units"</th><th>"Size"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// A file name made safe for download names.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}
