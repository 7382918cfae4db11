//! Thirty renders in one page, and nothing accumulates: after each render of the diagnostics
//! page's render check the test records the renderer worker's wasm linear memory (reported in
//! `RenderDone`, shown as `data-wasm-bytes`), on WebGPU what burn's GPU memory pools hold
//! (`data-gpu-*`), and the page's JS heap (`performance.memory.usedJSHeapSize` after a forced
//! garbage collection; Chromium with `--enable-precise-memory-info --js-flags=--expose-gc`).
//! Memory after the warm-up render is compared with memory after the last one.
//!
//! Bounds, and what they catch (renders of 64 px):
//! - wasm linear memory: grows in 64 KiB pages and never shrinks. At most
//!   [`WASM_GROWTH_BOUND`] (2 pages) of growth is allowed for allocator placement; a leak of
//!   one 64 px image per render (its f32 planes: 3 x 64 x 64 x 4 = 48 KiB) over 25 renders is
//!   1.2 MiB, a leaked render session (the autodiff graph of one 224 px forward pass) is
//!   megabytes per render: both fail. Measured: no growth at all on either path.
//! - page JS heap: at most [`JS_HEAP_GROWTH_PER_RENDER`] (8 KiB) of growth per render after
//!   the warm-up. Each render brings two 64 px RGBA pictures (a preview and the result,
//!   16 KiB each) to the page: keeping even one of them per render fails. Measured: a steady
//!   drift of 2 to 5 KiB per render (more on the slower WebGPU path, so it may come partly
//!   from the test's own polling of the page), which the bound allows.
//! - GPU pools (WebGPU path): the live allocations and their bytes in use must come back to
//!   their post-warm-up value; reserved bytes must not grow. Measured: exactly equal.
//!
//! Figures are printed (`--nocapture`); see BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod render_support;

use microscope_e2e::{
    Browser, BrowserOptions, Fallback, PAGE_TIMEOUT, ServerConfig, StaticServer, page, serial,
};
use render_support::{atlas_with_weights, number, render_to_end, set_render};

/// Renders after which the "before" figures are taken (caches, pools and the allocator have
/// settled by then).
const WARM_UP: usize = 5;
/// Most the worker's wasm memory may grow from the warm-up render to the last one.
const WASM_GROWTH_BOUND: f64 = 2.0 * 65536.0;
/// Most the page's JS heap (after GC) may grow per render, from the warm-up render to the
/// last one.
const JS_HEAP_GROWTH_PER_RENDER: f64 = 8.0 * 1024.0;
/// Side of the rendered images.
const SIZE_PX: u32 = 64;

/// Memory after one render.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wasm: f64,
    js_heap: f64,
    gpu_allocations: Option<f64>,
    gpu_in_use: Option<f64>,
    gpu_reserved: Option<f64>,
}

async fn js_heap_after_gc(browser: &Browser) -> f64 {
    let value = browser
        .execute(
            "if (typeof window.gc === 'function') { window.gc(); }\
             return performance.memory ? performance.memory.usedJSHeapSize : null;",
            Vec::new(),
        )
        .await
        .unwrap();
    value.as_f64().expect("performance.memory.usedJSHeapSize is missing (Chromium only)")
}

async fn sample(browser: &Browser) -> Sample {
    Sample {
        wasm: number(browser, "data-wasm-bytes").await.expect("the worker reported no memory"),
        js_heap: js_heap_after_gc(browser).await,
        gpu_allocations: number(browser, "data-gpu-allocations").await,
        gpu_in_use: number(browser, "data-gpu-bytes-in-use").await,
        gpu_reserved: number(browser, "data-gpu-bytes-reserved").await,
    }
}

/// Runs `renders` renders of `objective` on `path` in one page and checks the bounds.
async fn repeated_renders(test: &str, path: &str, objective: &str, steps: usize, renders: usize) {
    let _one_browser = serial::exclusive().await;
    let Some(atlas) = atlas_with_weights(test) else { return };
    let server =
        StaticServer::start(ServerConfig::dist(Fallback::GithubPages).mount("/atlas/", &atlas))
            .unwrap_or_else(|e| panic!("{e}"));
    let options =
        if path == "webgpu" { BrowserOptions::webgpu() } else { BrowserOptions::without_webgpu() };
    let options = BrowserOptions {
        extra_args: vec!["--enable-precise-memory-info".into(), "--js-flags=--expose-gc".into()],
        ..options
    };
    let browser = Browser::launch(options)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .with_base_url(server.base_url());
    let info = page::open(&browser, "/diagnostics", PAGE_TIMEOUT).await.unwrap();
    assert_eq!(info.page, "diagnostics");
    set_render(&browser, objective, steps, SIZE_PX, 1).await;

    let started = std::time::Instant::now();
    let mut samples = Vec::with_capacity(renders);
    for _ in 0..renders {
        render_to_end(&browser, path, steps).await;
        samples.push(sample(&browser).await);
    }
    let seconds = started.elapsed().as_secs_f64();
    browser.close().await.unwrap();
    std::fs::remove_dir_all(&atlas).ok();

    let kib = |bytes: f64| bytes / 1024.0;
    for (i, s) in samples.iter().enumerate() {
        eprintln!(
            "{path} render {:>2}: wasm {:.0} KiB, JS heap {:.1} KiB, GPU allocations {:?}, \
             in use {:?} KiB, reserved {:?} KiB",
            i + 1,
            kib(s.wasm),
            kib(s.js_heap),
            s.gpu_allocations,
            s.gpu_in_use.map(kib),
            s.gpu_reserved.map(kib),
        );
    }
    let (before, after) = (samples[WARM_UP - 1], samples[renders - 1]);
    let (wasm_growth, heap_growth) = (after.wasm - before.wasm, after.js_heap - before.js_heap);
    eprintln!(
        "METRIC render_memory {path}: {renders} renders of {steps} steps at {SIZE_PX} px in {seconds:.0} s; \
         after render {WARM_UP} -> {renders}: worker wasm {:.0} -> {:.0} KiB ({:+.0} KiB), \
         page JS heap {:.1} -> {:.1} KiB ({:+.1} KiB), GPU in use {:?} -> {:?} B, reserved {:?} -> {:?} B",
        kib(before.wasm),
        kib(after.wasm),
        kib(wasm_growth),
        kib(before.js_heap),
        kib(after.js_heap),
        kib(heap_growth),
        before.gpu_in_use,
        after.gpu_in_use,
        before.gpu_reserved,
        after.gpu_reserved,
    );
    assert!(before.wasm > 0.0 && before.js_heap > 0.0, "no memory figures: {before:?}");
    assert!(
        wasm_growth <= WASM_GROWTH_BOUND,
        "the worker's wasm memory grew by {:.0} KiB over {} renders (bound {:.0} KiB)",
        kib(wasm_growth),
        renders - WARM_UP,
        kib(WASM_GROWTH_BOUND)
    );
    let heap_bound = JS_HEAP_GROWTH_PER_RENDER * (renders - WARM_UP) as f64;
    assert!(
        heap_growth <= heap_bound,
        "the page's JS heap grew by {:.1} KiB over {} renders (bound {:.0} KiB)",
        kib(heap_growth),
        renders - WARM_UP,
        kib(heap_bound)
    );
    if path == "webgpu" {
        let reported = |s: &Sample| s.gpu_allocations.is_some() && s.gpu_reserved.is_some();
        assert!(reported(&before) && reported(&after), "the GPU pools were not reported");
        assert!(
            after.gpu_allocations <= before.gpu_allocations
                && after.gpu_in_use <= before.gpu_in_use,
            "GPU allocations remain after the renders: {before:?} -> {after:?}"
        );
        assert!(
            after.gpu_reserved <= before.gpu_reserved,
            "GPU pools grew: {before:?} -> {after:?}"
        );
    }
}

/// The CPU path (flex in wasm): 30 renders of 2 steps.
#[tokio::test]
async fn thirty_cpu_renders_in_one_page_keep_memory_flat() {
    repeated_renders("memory-cpu", "cpu", "blocks.2:3", 2, 30).await;
}

/// The WebGPU path on SwiftShader: a step costs seconds there, so these renders are of one
/// step with an objective on `blocks.0` (the network stops early), still thirty of them.
#[tokio::test]
async fn repeated_webgpu_renders_in_one_page_keep_memory_flat() {
    repeated_renders("memory-webgpu", "webgpu", "blocks.0:3", 1, 30).await;
}
