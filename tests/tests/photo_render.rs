//! Renders of the visitor's own photo in the lab, on the CPU path (flex in wasm) and on WebGPU
//! (SwiftShader): a caricature of the photo at a layer, then a DeepDream starting from it.
//!
//! A lab link with the caricature's objective but no photo renders nothing and asks for one
//! (links never carry the photo); a file that is not an image fails the render with words
//! saying so. Then a real photo from the data cache (the one the
//! `your_photo` test uses) is set on the page's file input and the link's render starts. Each
//! render is checked against the same render natively, on the same (atlas) weights, through
//! the functions `microscope render --photo/--start` calls (`photo_query::render_picture`,
//! `fv::RenderSession`):
//! - caricature: its objective (the picture's similarity to the photo's activations at the
//!   layer) rises by at least [`MIN_CARICATURE_RISE`] of its start; the first step's objective
//!   agrees with the native one to [`FIRST_OBJECTIVE_TOLERANCE`] (same noise, same photo, same
//!   transforms) and the last to [`LAST_OBJECTIVE_TOLERANCE`] of the rise;
//! - DeepDream from the photo: natively the render's first image is the photo (the start
//!   image inverted into the parameterization, within [`START_PIXEL_MEAN_TOLERANCE`] levels
//!   on average and [`START_PIXEL_MAX_TOLERANCE`] at most), the
//!   browser's first objective is the native one (so it too started from the photo), and its
//!   final image has moved away from the photo by at least [`MIN_DREAM_CHANGE`] levels on
//!   average while staying within [`PIXEL_MEAN_TOLERANCE`] levels of the native result.
//!
//! Both final objectives are also compared with what `microscope render --photo` (caricature)
//! and `--start` (DeepDream) print for the same settings on the CPU: within
//! [`CLI_TOLERANCE`], since the CLI runs the float32 weights and the atlas ships float16 ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use burn::prelude::Device;
use microscope_core::fv::{Objective, RenderOptions, RenderSession, RenderedImage};
use microscope_core::model::{Model, ModelId};
use microscope_core::photo_query::{PhotoLimits, render_picture};
use microscope_core::weights::read_safetensors;
use microscope_e2e::test_atlas::{
    LITE0_LAYER, LITE0_MODEL, LITE0_WEIGHTS, lite0_for_test, microscope_stderr,
};
use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use serde_json::Value as Json;

/// The photo: scikit-image's `coffee.png`, as in `your_photo`.
const PHOTO: &str = "coffee.png";
/// Side of the renders, in pixels.
const SIZE_PX: usize = 64;
/// Seed of the renders' noise and transforms.
const SEED: u64 = 3;
/// A render on SwiftShader (shader compilation included) may take this long.
const RENDER_TIMEOUT: Duration = Duration::from_secs(300);
/// The caricature's objective must rise by at least this fraction of its magnitude at the start.
const MIN_CARICATURE_RISE: f64 = 0.2;
/// Most the first step's objective may differ between browser and native, relative.
const FIRST_OBJECTIVE_TOLERANCE: f64 = 0.002;
/// Most the last step's objective may differ between browser and native, as a fraction of
/// what the render added (the paths' sums in another order drift apart slowly).
const LAST_OBJECTIVE_TOLERANCE: f64 = 0.1;
/// Most the native DeepDream's first image may differ from the photo on average, in 8-bit
/// levels.
const START_PIXEL_MEAN_TOLERANCE: f64 = 0.5;
/// Most one value of the native DeepDream's first image may differ from the photo, in 8-bit
/// levels: the parameterization's sigmoid never reaches 0 or 1, so the photo's black and white
/// pixels come back a few levels inside (seen: 5 on `coffee.png`).
const START_PIXEL_MAX_TOLERANCE: u8 = 8;
/// Least the DeepDream's final image must differ from the photo on average, in 8-bit levels.
const MIN_DREAM_CHANGE: f64 = 1.0;
/// Most a final objective may differ from the CLI's, relative to the CLI's.
const CLI_TOLERANCE: f64 = 0.02;
/// Most the browser's final image may differ from the native one on average, in 8-bit levels.
const PIXEL_MEAN_TOLERANCE: f64 = 4.0;

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

/// Lite0 from the atlas's weights file (what the browser runs).
fn lite0(weights: &Path, device: &Device) -> Model {
    let tensors = read_safetensors(&std::fs::read(weights).unwrap()).unwrap();
    Model::from_tensor_map(ModelId::from_str(LITE0_MODEL).unwrap(), &tensors, device).unwrap()
}

/// A render natively: its first image, its objective at every step, its final image.
struct Native {
    first: RenderedImage,
    objectives: Vec<f64>,
    image: RenderedImage,
}

/// The worker's render (`renderer/src/render_job.rs`) with the photo in `role`, natively.
fn render_natively(
    model: &Model,
    objective: &Objective,
    photo: &[u8],
    steps: usize,
    reference: bool,
) -> Native {
    let device = Device::flex();
    let picture = render_picture(photo, PhotoLimits::BROWSER, SIZE_PX, 3).unwrap();
    let options = RenderOptions {
        size_px: SIZE_PX,
        steps,
        seed: SEED,
        batch: 1,
        reference: reference.then(|| picture.clone()),
        start: (!reference).then(|| vec![picture]),
        ..RenderOptions::default()
    };
    pollster::block_on(async {
        let mut session = RenderSession::new(model, objective, &options, &device).unwrap();
        let first = session.images().await.unwrap().remove(0);
        let mut objectives = Vec::with_capacity(steps);
        for _ in 0..steps {
            objectives.push(f64::from(session.step().await.unwrap()));
        }
        let image = session.images().await.unwrap().remove(0);
        Native { first, objectives, image }
    })
}

/// Mean and largest absolute difference of two images' 8-bit values.
fn pixel_difference(a: &RenderedImage, b: &RenderedImage) -> (f64, u8) {
    let (a, b) = (a.rgb8(), b.rgb8());
    assert_eq!(a.len(), b.len());
    let diffs: Vec<u8> = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).collect();
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    (mean, diffs.iter().copied().max().unwrap_or(0))
}

/// What the lab's render panel ended with.
struct BrowserRender {
    objective_start: f64,
    objective_end: f64,
    image: RenderedImage,
}

/// Remembers how the panel's render ended, so that [`render_result`] waits for the next one
/// (the panel may be rebuilt in place, so its element is not a sign of a new render).
const REMEMBER_RENDER: &str = "const p = document.getElementById('live-render');\
     window.lastRender = [p.dataset.state, p.dataset.objectiveStart];";

/// Waits for the lab's render panel to end a render other than the one remembered by
/// [`REMEMBER_RENDER`], checks it ended done on `path` with `steps` steps, and reads its
/// objectives and its image.
async fn render_result(browser: &Browser, path: &str, steps: usize, what: &str) -> BrowserRender {
    let state = browser
        .wait_for_script(
            what,
            RENDER_TIMEOUT,
            "const p = document.getElementById('live-render');\
             if (!p || ['idle', 'running'].includes(p.dataset.state)) return null;\
             const last = window.lastRender;\
             const same = last && p.dataset.state === last[0] && p.dataset.objectiveStart === last[1];\
             return same ? null : p.dataset.state;",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = browser.text("#live-render").await.unwrap_or_default();
    browser
        .execute("document.getElementById('live-render').scrollIntoView();", Vec::new())
        .await
        .unwrap();
    let shot = browser.screenshot(&format!("photo render {path} {what}")).await.unwrap();
    assert_eq!(state, Json::from("done"), "{text}\nscreenshot: {}", shot.display());
    let attr = |name: &'static str| async move {
        browser.attr("#live-render", name).await.unwrap().unwrap_or_default()
    };
    assert_eq!(attr("data-path").await, path, "{text}");
    assert_eq!(attr("data-step").await, steps.to_string(), "{text}");
    let objective_start: f64 = attr("data-objective-start").await.parse().unwrap();
    let objective_end: f64 = attr("data-objective-end").await.parse().unwrap();
    // The result's pixels: its PNG drawn on a canvas and read back.
    let value = browser
        .wait_for_script(
            "the rendered image's pixels",
            PAGE_TIMEOUT,
            "const i = document.querySelector('#live-render img.live-render-image');\
             if (!i || !i.complete || i.naturalWidth === 0) return null;\
             const c = document.createElement('canvas');\
             c.width = i.naturalWidth; c.height = i.naturalHeight;\
             const g = c.getContext('2d'); g.drawImage(i, 0, 0);\
             return [c.width, c.height, Array.from(g.getImageData(0, 0, c.width, c.height).data)];",
        )
        .await
        .unwrap();
    let parts = value.as_array().unwrap();
    let (width, height) =
        (parts[0].as_u64().unwrap() as usize, parts[1].as_u64().unwrap() as usize);
    assert_eq!((width, height), (SIZE_PX, SIZE_PX));
    let rgba: Vec<u8> =
        parts[2].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect();
    let plane = width * height;
    let mut data = vec![0.0f32; 3 * plane];
    for (i, pixel) in rgba.chunks_exact(4).enumerate() {
        for c in 0..3 {
            data[c * plane + i] = f32::from(pixel[c]) / 255.0;
        }
    }
    let image = RenderedImage { width, height, channels: 3, data };
    BrowserRender { objective_start, objective_end, image }
}

/// The final objective `microscope render` prints for `objective` with the photo as
/// `photo_flag` (`--photo` or `--start`), with the test's size and seed, on the CPU.
fn cli_final_objective(objective: &Objective, photo_flag: &str, photo: &Path, steps: usize) -> f64 {
    let out = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    let (objective, size, steps, seed) =
        (objective.to_string(), SIZE_PX.to_string(), steps.to_string(), SEED.to_string());
    let stderr = microscope_stderr(
        &cache_dir(),
        &[
            "--device",
            "cpu",
            "render",
            "--model",
            LITE0_MODEL,
            "--objective",
            &objective,
            photo_flag,
            photo.to_str().unwrap(),
            "--size",
            &size,
            "--steps",
            &steps,
            "--seed",
            &seed,
            "--quiet",
            "--out",
            out.path().to_str().unwrap(),
        ],
    )
    .unwrap();
    let value = stderr.rsplit_once("final objective ").map(|(_, value)| value.trim());
    value.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no final objective in {stderr}"))
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-6)
}

async fn photo_renders(options: BrowserOptions, path: &str, steps: usize) {
    let _one_browser = serial::exclusive().await;
    let Some(photo) = photo() else { return };
    let Some(atlas) = lite0_for_test(&format!("photo-render-{path}")).unwrap() else { return };
    let photo_bytes = std::fs::read(&photo).unwrap();
    let model = lite0(&atlas.join(LITE0_WEIGHTS), &Device::flex());
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap();
    let browser = Browser::launch(options).await.unwrap().with_base_url(server.base_url());

    // A caricature's link without a photo: nothing renders, the page asks for the photo.
    let caricature = Objective::from_str(&format!("caricature({LITE0_LAYER})")).unwrap();
    let link = format!(
        "/lab?model={LITE0_MODEL}&objective={}&size={SIZE_PX}&steps={steps}&seed={SEED}\
         &path={path}&render=1",
        caricature.to_string().replace('(', "%28").replace(')', "%29")
    );
    let info = page::open(&browser, &link, PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "lab", "{}", info.text);
    let asked = browser.wait_for("#lab-needs-photo", PAGE_TIMEOUT).await;
    let text = browser.text("main").await.unwrap();
    asked.unwrap_or_else(|e| panic!("{e}: {text}"));
    let asked = browser.text("#lab-needs-photo").await.unwrap();
    assert!(asked.contains("choose yours") && asked.contains("never carry it"), "{asked}");
    assert!(!browser.exists("#live-render").await.unwrap(), "rendered without a photo");
    browser.screenshot(&format!("photo render {path} asks for a photo")).await.unwrap();

    // A file that is not an image: the render fails and says so.
    let bad = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(bad.path(), b"not a photo at all").unwrap();
    browser.send_keys("#photo-input", bad.path().to_str().unwrap()).await.unwrap();
    browser
        .wait_for_attr("#live-render", "data-state", "failed", RENDER_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let error = browser.text("#live-render .live-render-error").await.unwrap();
    assert!(
        error.starts_with("Your photo cannot be used: the file is not a PNG, JPEG or WebP image"),
        "{error}"
    );
    browser.execute(REMEMBER_RENDER, Vec::new()).await.unwrap();

    // The photo goes in; the link's caricature renders.
    browser.send_keys("#photo-input", photo.to_str().unwrap()).await.unwrap();
    let got = render_result(&browser, path, steps, "caricature of the photo").await;
    let native = render_natively(&model, &caricature, &photo_bytes, steps, true);
    let (native_start, native_end) = (native.objectives[0], *native.objectives.last().unwrap());
    eprintln!(
        "{path}: caricature({LITE0_LAYER}) of {PHOTO}, {steps} steps: browser {} -> {}, native \
         {native_start} -> {native_end}",
        got.objective_start, got.objective_end
    );
    let rise = got.objective_end - got.objective_start;
    assert!(
        rise >= MIN_CARICATURE_RISE * got.objective_start.abs().max(1e-3),
        "the caricature's objective should rise: {} -> {}",
        got.objective_start,
        got.objective_end
    );
    assert!(
        relative(got.objective_start, native_start) <= FIRST_OBJECTIVE_TOLERANCE,
        "first objective: browser {}, native {native_start}",
        got.objective_start
    );
    assert!(
        (got.objective_end - native_end).abs() <= LAST_OBJECTIVE_TOLERANCE * rise,
        "last objective: browser {}, native {native_end} (rise {rise})",
        got.objective_end
    );
    let cli = cli_final_objective(&caricature, "--photo", &photo, steps);
    eprintln!("{path}: microscope render --photo: final objective {cli}");
    assert!(
        relative(got.objective_end, cli) <= CLI_TOLERANCE,
        "the browser's caricature ends at {}, microscope render's at {cli}",
        got.objective_end
    );
    let (from_photo, _) = pixel_difference(&got.image, &native.first);
    eprintln!("{path}: the caricature differs from its noise by {from_photo:.1} levels on average");

    // DeepDream from the photo, by the lab's button (at the objective's layer, start=photo).
    browser.execute(REMEMBER_RENDER, Vec::new()).await.unwrap();
    browser.click("#lab-deepdream", PAGE_TIMEOUT).await.unwrap();
    let got = render_result(&browser, path, steps, "DeepDream from the photo").await;
    let url = browser.current_url().await.unwrap();
    assert!(url.contains("start=photo") && url.contains("objective=dream"), "{url}");
    assert!(!url.contains("coffee"), "the link must not name the photo: {url}");
    let dream = Objective::dream(LITE0_LAYER);
    let native = render_natively(&model, &dream, &photo_bytes, steps, false);
    let picture = render_picture(&photo_bytes, PhotoLimits::BROWSER, SIZE_PX, 3).unwrap();
    let (start_mean, start_max) = pixel_difference(&native.first, &picture);
    assert!(
        start_mean <= START_PIXEL_MEAN_TOLERANCE && start_max <= START_PIXEL_MAX_TOLERANCE,
        "the DeepDream should start from the photo: {start_mean:.2} levels on average, {start_max} at most"
    );
    let native_start = native.objectives[0];
    let (moved, _) = pixel_difference(&got.image, &picture);
    let (apart, apart_max) = pixel_difference(&got.image, &native.image);
    eprintln!(
        "{path}: dream({LITE0_LAYER}) from {PHOTO}, {steps} steps: browser {} -> {}, native \
         {native_start} -> {}; the result differs from the photo by {moved:.1} levels on \
         average, from the native result by {apart:.2} (at most {apart_max})",
        got.objective_start,
        got.objective_end,
        native.objectives.last().unwrap()
    );
    assert!(
        relative(got.objective_start, native_start) <= FIRST_OBJECTIVE_TOLERANCE,
        "the browser's DeepDream did not start from the photo: first objective {}, native {native_start}",
        got.objective_start
    );
    assert!(got.objective_end > got.objective_start, "the DeepDream's objective should rise");
    let cli = cli_final_objective(&dream, "--start", &photo, steps);
    eprintln!("{path}: microscope render --start: final objective {cli}");
    assert!(
        relative(got.objective_end, cli) <= CLI_TOLERANCE,
        "the browser's DeepDream ends at {}, microscope render's at {cli}",
        got.objective_end
    );
    assert!(moved >= MIN_DREAM_CHANGE, "the DeepDream left the photo as it was ({moved:.2})");
    assert!(apart <= PIXEL_MEAN_TOLERANCE, "browser and native DeepDreams differ by {apart:.2}");
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();
}

#[tokio::test]
async fn caricature_and_deepdream_of_a_photo_on_the_cpu() {
    photo_renders(BrowserOptions::without_webgpu(), "cpu", 16).await;
}

#[tokio::test]
async fn caricature_and_deepdream_of_a_photo_on_webgpu() {
    photo_renders(BrowserOptions::webgpu(), "webgpu", 8).await;
}
