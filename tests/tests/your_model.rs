//! A visitor's own ONNX model in the browser: a real torchvision architecture
//! (MobileNetV3-Small, random weights, exported at test time by `tools/onnx-zoo.py` with
//! PyTorch's own exporter) is set on the your-model page's file input; the layers the page
//! lists must be those core's importer finds natively for the same file (what `microscope
//! layers` lists after `microscope import-onnx`); a unit of a middle layer renders for a few
//! steps on the CPU path: its objective must rise, as the same render does natively (within
//! [`OBJECTIVE_TOLERANCE`]). The model is kept in the browser's
//! storage, listed again after a reload, opened from there, and removed. A truncated file
//! ends in the importer's own error, a file of unsupported operators in the list of all of
//! them, and nothing of the model is ever sent to the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use burn::prelude::Device;
use microscope_core::fv::{Objective, RenderOptions, RenderSession};
use microscope_core::model::Model;
use microscope_core::model_import::{ImportSettings, LayerSummary, OnnxLimits, import_onnx};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::Value as Json;

const PYTHON: &str = "/usr/bin/python3";
/// The architecture exported (a `tools/onnx-zoo.py` name).
const ZOO_MODEL: &str = "mobilenet_v3_small";
/// The exported file's name.
const FILE: &str = "mobilenet_v3_small-op17.onnx";
/// An import and a render on the CPU in wasm may take this long on a busy machine.
const JOB_TIMEOUT: Duration = Duration::from_secs(300);
/// Steps of the render.
const STEPS: u32 = 8;
/// Side of the render in pixels (the exported model's input size).
const SIZE_PX: u32 = 64;
/// Most the browser's objective may differ from the same render natively, relative to it (the
/// CPU path in wasm runs core's code on the same backend; SIMD sums round differently).
const OBJECTIVE_TOLERANCE: f64 = 0.02;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Exports the model into `dir` and returns the file, or `None` (SKIPPED) when Debian's torch
/// is missing; with `MICROSCOPE_REQUIRE_ZOO=1` that is a failure.
fn export(dir: &Path) -> Option<PathBuf> {
    let available = Command::new(PYTHON)
        .args(["-c", "import torch, torchvision"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("MICROSCOPE_REQUIRE_ZOO").is_none_or(|v| v != "1"),
            "MICROSCOPE_REQUIRE_ZOO=1 but {PYTHON} cannot import torch and torchvision"
        );
        eprintln!("SKIPPED: {PYTHON} cannot import torch and torchvision (python3-torchvision)");
        return None;
    }
    let out = Command::new(PYTHON)
        .arg(repo_root().join("tools/onnx-zoo.py"))
        .arg(dir)
        .args(["--size", "64", "--opsets", "17", "--models", ZOO_MODEL])
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed:\n{}", String::from_utf8_lossy(&out.stderr));
    Some(dir.join(FILE))
}

/// A small file using two operators Microscope does not implement, one twice (after a
/// supported one): the report must list both at once, as `import-onnx` does.
fn unsupported_file() -> Vec<u8> {
    use microscope_core::onnx::proto::{
        DimensionProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorShapeProto,
        TensorTypeProto, TypeProto, ValueInfoProto, data_type,
    };
    let node = |op: &str, name: &str, input: &str, output: &str| NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: vec![input.into()],
        output: vec![output.into()],
        ..Default::default()
    };
    let value = |name: &str, dims: &[i64]| ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| DimensionProto { dim_value: Some(d), dim_param: None })
                        .collect(),
                }),
            }),
        }),
    };
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
        graph: Some(GraphProto {
            name: "unsupported".into(),
            node: vec![
                node("Relu", "relu", "x", "a"),
                node("Foo", "foo1", "a", "b"),
                node("Bar", "bar", "b", "c"),
                node("Foo", "foo2", "c", "y"),
            ],
            input: vec![value("x", &[1, 3, 8, 8])],
            output: vec![value("y", &[])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .to_bytes()
}

/// The objective at every step of the render the page asks for (seed 0), natively.
async fn render_natively(model: &Model, layer: &str, unit: u32) -> Vec<f64> {
    let objective = Objective::channel(layer, unit as usize);
    let options = RenderOptions {
        size_px: SIZE_PX as usize,
        steps: STEPS as usize,
        seed: 0,
        batch: 1,
        ..RenderOptions::default()
    };
    let mut session = RenderSession::new(model, &objective, &options, &Device::flex()).unwrap();
    let mut objectives = Vec::new();
    for _ in 0..STEPS {
        objectives.push(f64::from(session.step().await.unwrap()));
    }
    objectives
}

/// The import that `start` begins (choosing a file, pressing Open): its state
/// (`data-state` of `#your-model-import`) once it has ended. The page numbers its imports
/// (`data-serial`), so the previous import's state is never taken for this one's.
async fn import(browser: &Browser, what: &str, start: impl AsyncFnOnce()) -> String {
    let serial = || async {
        browser.attr("#your-model-import", "data-serial").await.unwrap().unwrap_or_default()
    };
    let before = serial().await;
    start().await;
    browser
        .wait_until(what, JOB_TIMEOUT, async || {
            if serial().await == before {
                return Ok(None);
            }
            let state = browser.attr("#your-model-import", "data-state").await?;
            Ok(state.filter(|s| !matches!(s.as_str(), "idle" | "running")))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Chooses `file` in the page's file input; its import's state once it has ended.
async fn import_file(browser: &Browser, file: &Path, what: &str) -> String {
    import(browser, what, async || {
        browser.send_keys("#your-model-input", file.to_str().unwrap()).await.unwrap();
    })
    .await
}

/// The layers the page lists.
async fn listed_layers(browser: &Browser) -> Vec<LayerSummary> {
    let rows = browser
        .execute(
            "return [...document.querySelectorAll('#your-model-layers tr[data-layer]')]\
               .map(r => [r.dataset.layer, r.dataset.op, Number(r.dataset.channels),\
                          Number(r.dataset.height), Number(r.dataset.width)]);",
            Vec::new(),
        )
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| LayerSummary {
            name: r[0].as_str().unwrap().to_owned(),
            op: r[1].as_str().unwrap().to_owned(),
            channels: r[2].as_u64().unwrap() as u32,
            height: r[3].as_u64().unwrap() as u32,
            width: r[4].as_u64().unwrap() as u32,
        })
        .collect()
}

/// The `sha256`s of the models the page lists as kept, once it has read the browser's
/// storage.
async fn kept(browser: &Browser) -> Vec<String> {
    browser.wait_for("#your-models-section[data-count]", PAGE_TIMEOUT).await.unwrap();
    let list = browser
        .execute(
            "return [...document.querySelectorAll('#your-models li')].map(li => li.dataset.sha256);",
            Vec::new(),
        )
        .await
        .unwrap();
    list.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// Sets an input's value as a user typing would.
async fn type_into(browser: &Browser, selector: &str, text: &str) {
    browser
        .execute(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
             e.dispatchEvent(new Event('input', { bubbles: true }));\
             e.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![Json::from(selector), Json::from(text)],
        )
        .await
        .unwrap();
}

/// `#live-render`'s state and objectives once the render has ended.
async fn render_ended(browser: &Browser) -> Json {
    browser
        .wait_for_script(
            "the render of the visitor's unit",
            JOB_TIMEOUT,
            "const p = document.getElementById('live-render'); if (!p) return null;\
             const d = p.dataset; if (d.state === 'idle' || d.state === 'running') return null;\
             return { state: d.state, path: d.path, start: Number(d.objectiveStart),\
                      end: Number(d.objectiveEnd), text: p.innerText };",
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_dropped_onnx_file_lists_its_layers_renders_a_unit_and_is_kept_until_removed() {
    let _one_browser = serial::exclusive().await;
    let scratch = tempfile::tempdir().unwrap();
    let Some(file) = export(scratch.path()) else { return };
    let bytes = std::fs::read(&file).unwrap();

    // What core's importer finds natively, as `microscope import-onnx` and `layers` do.
    let imported =
        import_onnx(&bytes, &ImportSettings::imagenet(None), OnnxLimits::BROWSER).unwrap();
    let model = imported.model("native", &Device::flex()).unwrap();
    let want = imported.summary(FILE, &model);
    assert!(want.layers.len() > 10, "{:?}", want.layers);
    // A convolution's map in the middle of the network: its channel objective is linear in
    // the layer's input, so its gradient is never zero (a ReLU's unit of random weights may
    // be dead everywhere).
    let maps: Vec<&LayerSummary> =
        want.layers.iter().filter(|l| l.op == "Conv" && l.height > 1).collect();
    let middle = maps[maps.len() / 2];
    let unit = 3.min(middle.channels - 1);
    let native = render_natively(&model, &middle.name, unit).await;

    let server = StaticServer::start(ServerConfig::dist(Fallback::GithubPages)).unwrap();
    let browser = Browser::launch(BrowserOptions::without_webgpu())
        .await
        .unwrap()
        .with_base_url(server.base_url());

    // The lab links to the page.
    let info = page::open(&browser, "/lab", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "lab", "{}", info.text);
    let href = browser.attr("#lab-your-model", "href").await.unwrap().unwrap();
    assert!(href.ends_with("/your-model"), "{href}");

    let info = page::open(&browser, "/your-model?path=cpu", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "your-model", "{}", info.text);
    assert!(info.text.contains("never leaves this computer"), "{}", info.text);
    assert!(kept(&browser).await.is_empty(), "a fresh browser keeps no model");

    // A truncated file: the importer's own words, no layers.
    let truncated = scratch.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let state = import_file(&browser, &truncated, "the import of a truncated file").await;
    let shot = browser.screenshot("your model truncated").await.unwrap();
    let error = browser.text("#your-model-error").await.unwrap_or_default();
    assert_eq!(state, "failed", "screenshot: {}", shot.display());
    assert!(
        error.contains("truncated.onnx cannot be imported")
            && error.contains("not a valid ONNX file"),
        "{error}"
    );
    assert!(!browser.exists("#your-model-layers").await.unwrap());

    // Unsupported operators: all of them, at once, in the CLI's words.
    let unsupported = scratch.path().join("unsupported.onnx");
    std::fs::write(&unsupported, unsupported_file()).unwrap();
    let state =
        import_file(&browser, &unsupported, "the import of a file with unsupported operators")
            .await;
    let error = browser.text("#your-model-error").await.unwrap_or_default();
    browser.screenshot("your model unsupported").await.unwrap();
    assert_eq!(state, "failed", "{error}");
    for line in [
        "unsupported.onnx cannot be imported",
        "2 unsupported operators (3 nodes, opset 13):",
        "`Foo` x2 at `foo1`, `foo2`",
        "`Bar` x1 at `bar`",
    ] {
        assert!(error.contains(line), "{line:?} is missing from {error:?}");
    }

    // The real file, kept: its layers are the native importer's.
    browser.click("#your-model-keep", PAGE_TIMEOUT).await.unwrap();
    server.clear_requests();
    let state = import_file(&browser, &file, "the import of the exported model").await;
    let text = browser.text("#your-model-import").await.unwrap_or_default();
    assert_eq!(state, "done", "{text}");
    browser.wait_for("#your-model-layers", PAGE_TIMEOUT).await.unwrap();
    let listed = listed_layers(&browser).await;
    assert_eq!(listed, want.layers, "the page's layers differ from core's importer's");
    let summary = browser.text("#your-model-summary").await.unwrap();
    eprintln!("{summary}");
    assert!(summary.contains(&format!("{} layers", want.layers.len())), "{summary}");
    let sha256 = browser.attr("#your-model", "data-sha256").await.unwrap().unwrap();
    assert_eq!(sha256, want.sha256.as_str());

    // A unit of a middle layer, a few steps on the CPU: the objective rises.
    type_into(&browser, "#your-model-layer", &middle.name).await;
    type_into(&browser, "#your-model-unit", &unit.to_string()).await;
    type_into(&browser, "#your-model-render-size", &SIZE_PX.to_string()).await;
    type_into(&browser, "#your-model-steps", &STEPS.to_string()).await;
    browser.click("#your-model-render", PAGE_TIMEOUT).await.unwrap();
    let render = render_ended(&browser).await;
    let shot = browser.screenshot("your model render").await.unwrap();
    eprintln!("{}:{unit}: {render}", middle.name);
    assert_eq!(render["state"], "done", "{render}\nscreenshot: {}", shot.display());
    assert_eq!(render["path"], "cpu");
    let (start, end) = (render["start"].as_f64().unwrap(), render["end"].as_f64().unwrap());
    assert!(end > start, "the objective should rise over {STEPS} steps: {start} -> {end}");
    // The same render natively: the browser ran core's render on the imported model.
    let (native_start, native_end) = (native[0], native[native.len() - 1]);
    eprintln!("natively: {native_start} -> {native_end}");
    for (got, want) in [(start, native_start), (end, native_end)] {
        assert!(
            (got - want).abs() <= OBJECTIVE_TOLERANCE * want.abs(),
            "the browser's objective {got} differs from the native render's {want}"
        );
    }

    // Nothing of the model went to the server: only the site's own files were fetched.
    let requests = server.requests();
    let sent: Vec<_> =
        requests.iter().filter(|r| r.method != "GET" || r.path.contains(".onnx")).collect();
    assert!(sent.is_empty(), "the model went to the server: {sent:?}");

    // Kept: listed after a reload, and usable from there.
    browser
        .wait_until("the model to be listed as kept", PAGE_TIMEOUT, async || {
            Ok(kept(&browser).await.contains(&sha256).then_some(()))
        })
        .await
        .unwrap();
    let info = page::open(&browser, "/your-model?path=cpu", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "your-model");
    assert_eq!(kept(&browser).await, vec![sha256.clone()], "the kept model after a reload");
    let name = browser.text("#your-models .your-model-name").await.unwrap();
    assert_eq!(name, FILE);
    let state = import(&browser, "the import of the kept model", async || {
        browser.click(".your-model-open", PAGE_TIMEOUT).await.unwrap();
    })
    .await;
    assert_eq!(state, "done");
    browser.wait_for("#your-model-layers", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(listed_layers(&browser).await, want.layers);
    browser.screenshot("your model kept").await.unwrap();

    // Removed: gone from the list, and still gone after a reload.
    browser.click(".your-model-remove", PAGE_TIMEOUT).await.unwrap();
    browser.wait_for_absent("#your-models li", PAGE_TIMEOUT).await.unwrap();
    page::open(&browser, "/your-model?path=cpu", PAGE_TIMEOUT).await.unwrap();
    assert!(kept(&browser).await.is_empty(), "the removed model is still listed after a reload");
    browser.close().await.unwrap();
}
