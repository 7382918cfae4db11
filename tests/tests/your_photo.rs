//! The visitor's own photo in the browser, on both compute paths (WebGPU on SwiftShader, and
//! the CPU in wasm): a real photo from the data cache is set on the model page's file input;
//! the model's top class must be what `microscope classify` finds for it, and the walk goes
//! on inside the app (the photo stays chosen) to the layer page, whose "fires most on your
//! photo" grid must rank the units as `microscope activation` measures them, and whose first
//! cell must open that unit's page, where the unit's value must be `microscope activation`'s.
//!
//! The expectations are computed here, natively, with the functions those two commands call
//! (`photo_query::class_probabilities` and `top_classes`; `fv::measure::objective_values` on
//! `picture_input`), twice: on the CLI's float32 weights, and on the float16 weights the atlas
//! ships (which the browser runs). Against the CLI's, a probability may differ by
//! [`PROBABILITY_TOLERANCE`] and a unit's value by [`CLI_TOLERANCE`] of the layer's scale (the
//! largest magnitude of its units' values: the rounding of the weights shifts every unit of
//! a layer by about the same amount, which is large next to a value near zero); against the
//! same weights natively, by [`SAME_WEIGHTS_TOLERANCE`] of that scale.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use burn::prelude::Device;
use microscope_core::fv::Objective;
use microscope_core::fv::measure::{objective_values, picture_input};
use microscope_core::model::{Model, ModelId};
use microscope_core::photo_query::{
    ClassScore, TOP_CLASSES, UnitValue, class_probabilities, classify_framing, layer_activations,
    rank_units, top_classes,
};
use microscope_core::preprocess::decode_rgb;
use microscope_core::weights::read_safetensors;
use microscope_e2e::test_atlas::{LITE0_LAYER, LITE0_MODEL, LITE0_WEIGHTS, lite0_for_test};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::Value as Json;

/// The photo: scikit-image's `coffee.png` (a cup of espresso, a confident top class).
const PHOTO: &str = "coffee.png";
/// A photo job on SwiftShader (shader compilation included) may take this long.
const PHOTO_TIMEOUT: Duration = Duration::from_secs(300);
/// Most a class probability may differ from the CLI's.
const PROBABILITY_TOLERANCE: f64 = 0.03;
/// Most a unit's value may differ from the CLI's (float32 weights), relative to the layer's
/// scale.
const CLI_TOLERANCE: f64 = 0.01;
/// Most a unit's value may differ from the same computation natively on the atlas's float16
/// weights, relative to the layer's scale.
const SAME_WEIGHTS_TOLERANCE: f64 = 0.002;

/// What the CLI's functions say about the photo.
struct Expected {
    classes: Vec<ClassScore>,
    ranking: Vec<UnitValue>,
}

fn cache_dir() -> PathBuf {
    std::env::var_os("MICROSCOPE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/microscope")
    })
}

/// The photo, or `None` (skipped) when the data cache lacks it and data is not required.
fn photo() -> Option<PathBuf> {
    let path = cache_dir().join("photos").join(PHOTO);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("MICROSCOPE_REQUIRE_DATA").as_deref() != Ok("1"),
        "MICROSCOPE_REQUIRE_DATA=1 but {} is missing; run `microscope fetch all`",
        path.display()
    );
    eprintln!("SKIPPED: no photo at {} (run `microscope fetch all`)", path.display());
    None
}

/// Lite0 from a safetensors file (float32, or float16 widened as the browser reads it).
fn lite0(weights: &std::path::Path, device: &Device) -> Model {
    let bytes = std::fs::read(weights).unwrap();
    let tensors = read_safetensors(&bytes).unwrap();
    Model::from_tensor_map(ModelId::from_str(LITE0_MODEL).unwrap(), &tensors, device).unwrap()
}

/// `microscope activation --model efficientnet-lite0 --unit blocks.2:<unit>` on the photo.
fn cli_activation(model: &Model, photo: &image::RgbImage, unit: u32, device: &Device) -> f64 {
    let objective = Objective::channel(LITE0_LAYER, unit as usize);
    let input = picture_input(photo, &model.input_spec(), device);
    f64::from(pollster::block_on(objective_values(model, &objective, input)).unwrap()[0])
}

/// The expectations, natively on the CPU with the weights in `weights`.
fn expected(photo: &PathBuf, weights: &std::path::Path) -> (Expected, impl Fn(u32) -> f64 + use<>) {
    let device = Device::flex();
    let model = lite0(weights, &device);
    let rgb = decode_rgb(&std::fs::read(photo).unwrap()).unwrap();
    let framing = classify_framing(LITE0_MODEL);
    let probabilities =
        pollster::block_on(class_probabilities(&model, &rgb, framing, &device)).unwrap();
    let classes = top_classes(&probabilities, TOP_CLASSES);
    let activations = layer_activations(&model, &rgb, LITE0_LAYER, &device).unwrap();
    let ranking = pollster::block_on(rank_units(&activations)).unwrap();
    // The ranking's values are the CLI's values, unit by unit.
    for entry in &ranking {
        let cli = cli_activation(&model, &rgb, entry.unit, &device);
        assert!(
            (f64::from(entry.value) - cli).abs() <= 1e-4 * cli.abs().max(1.0),
            "{entry:?}: {cli}"
        );
    }
    let activation = move |unit: u32| cli_activation(&model, &rgb, unit, &device);
    (Expected { classes, ranking }, activation)
}

/// The largest magnitude of a layer's unit values.
fn scale(ranking: &[UnitValue]) -> f64 {
    ranking.iter().map(|u| f64::from(u.value).abs()).fold(0.0, f64::max)
}

/// Waits until the page's photo job has ended; fails with the page's words if it failed.
async fn photo_done(browser: &Browser, page_name: &str, path: &str) {
    let selector = format!("main[data-page=\"{page_name}\"] #photo-run");
    let state = browser
        .wait_for_attr_where(
            &selector,
            "data-state",
            &format!("the photo job of the {page_name} page"),
            PHOTO_TIMEOUT,
            |state| !matches!(state, "idle" | "running"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = browser.text("#your-photo").await.unwrap_or_default();
    show_photo_section(browser).await;
    let shot = browser.screenshot(&format!("your photo {path} {page_name}")).await.unwrap();
    assert_eq!(state, "done", "{text}\nscreenshot: {}", shot.display());
    let ran = browser.attr(&selector, "data-path").await.unwrap().unwrap_or_default();
    assert_eq!(ran, path, "the job should have run on {path}: {text}");
}

/// Scrolls the photo section into view, for the screenshots.
async fn show_photo_section(browser: &Browser) {
    browser
        .execute(
            "const s = document.getElementById('your-photo'); if (s) s.scrollIntoView();",
            Vec::new(),
        )
        .await
        .unwrap();
}

/// Follows a link inside the app (the router handles it; no page load, so the session's
/// photo stays chosen).
async fn follow_in_app(browser: &Browser, href: &str) {
    browser
        .execute(
            "const a = document.createElement('a'); a.href = arguments[0]; a.id = 'test-link';\
             document.body.appendChild(a); a.click(); a.remove();",
            vec![Json::from(href)],
        )
        .await
        .unwrap();
}

async fn walk(options: BrowserOptions, path: &str) {
    let _one_browser = serial::exclusive().await;
    let Some(photo) = photo() else { return };
    let Some(atlas) = lite0_for_test(&format!("your-photo-{path}")).unwrap() else { return };
    let (want, activation) =
        expected(&photo, &cache_dir().join("weights/efficientnet-lite0.safetensors"));
    let (shipped, shipped_activation) = expected(&photo, &atlas.join(LITE0_WEIGHTS));
    let layer_scale = scale(&want.ranking);
    let close = |got: f64, want: f64, tolerance: f64| (got - want).abs() <= tolerance * layer_scale;
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap();
    let browser = Browser::launch(options).await.unwrap().with_base_url(server.base_url());

    // The model page: the photo goes in, the top classes come out.
    let model_path = format!("/models/{LITE0_MODEL}?path={path}");
    let info = page::open(&browser, &model_path, PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "model", "{}", info.text);
    let note = browser.text("#your-photo .photo-privacy").await.unwrap();
    assert!(note.contains("never leaves this computer"), "{note}");
    browser.send_keys("#photo-input", photo.to_str().unwrap()).await.unwrap();
    photo_done(&browser, "model", path).await;
    let classes = browser
        .execute(
            "return [...document.querySelectorAll('#photo-classes li')]\
               .map(li => [Number(li.dataset.class), Number(li.dataset.probability)]);",
            Vec::new(),
        )
        .await
        .unwrap();
    let classes: Vec<(u64, f64)> = classes
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_u64().unwrap(), pair[1].as_f64().unwrap()))
        .collect();
    eprintln!(
        "{path}: browser top classes {classes:?}; CLI {:?}; atlas weights natively {:?}",
        want.classes, shipped.classes
    );
    assert_eq!(classes.len(), TOP_CLASSES);
    let top = want.classes[0];
    assert_eq!(classes[0].0, u64::from(top.class), "the top class differs from classify's");
    for ((_, got), want) in classes.iter().zip(&want.classes) {
        assert!((got - f64::from(want.probability)).abs() <= PROBABILITY_TOLERANCE);
    }
    for ((class, got), same) in classes.iter().zip(&shipped.classes) {
        assert_eq!(*class, u64::from(same.class));
        assert!((got - f64::from(same.probability)).abs() <= 1e-3, "{got} vs {same:?}");
    }

    // On to the layer, inside the app: the photo is still chosen, its units ranked.
    follow_in_app(&browser, &format!("/models/{LITE0_MODEL}/{LITE0_LAYER}?path={path}")).await;
    browser.wait_for("main[data-page=\"layer\"]", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(browser.text("#photo-name").await.unwrap(), PHOTO, "the photo should stay chosen");
    photo_done(&browser, "layer", path).await;
    let cells = browser
        .execute(
            "return [...document.querySelectorAll('a.photo-rank-cell')]\
               .map(a => [Number(a.dataset.unit), Number(a.dataset.value), a.getAttribute('href')]);",
            Vec::new(),
        )
        .await
        .unwrap();
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), want.ranking.len().min(24), "{cells:?}");
    let mut worst = (0.0f64, 0.0f64);
    for cell in cells {
        let (unit, value) = (cell[0].as_u64().unwrap() as u32, cell[1].as_f64().unwrap());
        let (cli, same) = (activation(unit), shipped_activation(unit));
        worst = (worst.0.max((value - cli).abs()), worst.1.max((value - same).abs()));
        assert!(
            close(value, cli, CLI_TOLERANCE),
            "{LITE0_LAYER}:{unit} is {value} in the browser, {cli} by the CLI (scale {layer_scale})"
        );
        assert!(
            close(value, same, SAME_WEIGHTS_TOLERANCE),
            "{LITE0_LAYER}:{unit} is {value} in the browser, {same} natively on the same weights"
        );
    }
    eprintln!(
        "{path}: layer scale {layer_scale}; largest difference from the CLI {}, from the same \
         weights natively {}",
        worst.0, worst.1
    );
    let (first_unit, first_value) =
        (cells[0][0].as_u64().unwrap() as u32, cells[0][1].as_f64().unwrap());
    let best = want.ranking[0];
    // The browser's first is the CLI's first, unless the two are within the tolerance.
    assert!(
        first_unit == best.unit || close(f64::from(best.value), first_value, CLI_TOLERANCE),
        "the browser ranks {first_unit} ({first_value}) first, the CLI {best:?}"
    );
    eprintln!(
        "{path}: first on the layer {LITE0_LAYER}:{first_unit} = {first_value} (CLI: {:?})",
        &want.ranking[..3]
    );
    // With the photo chosen, the layer links to the lab's renders of it (the link names the
    // technique, never the photo; tests/tests/photo_render.rs renders them).
    for (id, wanted) in [
        ("#photo-caricature", format!("objective=caricature({LITE0_LAYER})")),
        ("#photo-deepdream", format!("objective=dream({LITE0_LAYER})")),
    ] {
        let link = browser.attr(id, "href").await.unwrap().unwrap_or_default();
        assert!(
            link.contains("/lab?model=efficientnet-lite0&") && link.contains(&wanted),
            "{link}"
        );
        assert!(
            link.ends_with(&format!(
                "&path={path}{}&render=1",
                if id == "#photo-deepdream" { "&start=photo" } else { "" }
            )),
            "{link}"
        );
    }
    let href = cells[0][2].as_str().unwrap().to_owned();
    assert!(href.ends_with(&format!("/{LITE0_LAYER}/{first_unit}?path={path}")), "{href}");

    // The first cell opens its unit's page, where the photo is measured again.
    browser.click("a.photo-rank-cell", PAGE_TIMEOUT).await.unwrap();
    let unit_main = format!("main[data-page=\"unit\"][data-unit=\"{first_unit}\"]");
    browser.wait_for(&unit_main, PAGE_TIMEOUT).await.unwrap();
    photo_done(&browser, "unit", path).await;
    let value: f64 =
        browser.attr("#photo-unit-value", "data-value").await.unwrap().unwrap().parse().unwrap();
    let (cli, same) = (activation(first_unit), shipped_activation(first_unit));
    eprintln!(
        "{path}: {LITE0_LAYER}:{first_unit} on {PHOTO}: browser {value}, CLI {cli}, atlas \
         weights natively {same}"
    );
    assert!(
        close(value, cli, CLI_TOLERANCE),
        "the unit's value {value} differs from activation's {cli}"
    );
    assert!(close(value, same, SAME_WEIGHTS_TOLERANCE), "{value} vs {same} on the same weights");
    let overlay = browser
        .wait_for_script(
            "the activation map over the photo",
            PAGE_TIMEOUT,
            "const i = document.getElementById('photo-overlay');\
             return i && i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null;",
        )
        .await
        .unwrap();
    assert_eq!(overlay, serde_json::json!([56, 56]), "one pixel per position of blocks.2");
    show_photo_section(&browser).await;
    browser.screenshot(&format!("your photo {path} unit map")).await.unwrap();
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn your_photo_on_webgpu_matches_classify_and_activation() {
    walk(BrowserOptions::webgpu(), "webgpu").await;
}

#[tokio::test]
async fn your_photo_on_the_cpu_matches_classify_and_activation() {
    walk(BrowserOptions::without_webgpu(), "cpu").await;
}
