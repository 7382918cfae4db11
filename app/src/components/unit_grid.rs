//! The grid of a layer's units, virtualised: only the rows near the viewport exist in the DOM,
//! so a layer of 1,280 (or 65,536) units scrolls smoothly. Thumbnails are tiles of the layer's
//! sprite sheets; units without the technique show a placeholder.

use std::sync::Arc;

use leptos::html::Div;
use leptos::prelude::*;
use microscope_core::atlas::{LayerManifest, Technique};

use crate::components::sprite::tile_style;

/// Thumbnail size in pixels.
const THUMB: u32 = 96;
/// A cell's width and height in pixels (thumbnail, caption, gap).
const CELL_W: f64 = 108.0;
const CELL_H: f64 = 132.0;
/// Rows drawn above and below the visible ones.
const OVERSCAN: f64 = 3.0;

/// What the grid draws.
#[derive(Clone)]
pub struct GridSource {
    /// The model whose layer this is.
    pub model: String,
    /// The layer whose units these are.
    pub layer: String,
    /// The layer manifest, when the atlas has one.
    pub manifest: Option<Arc<LayerManifest>>,
    /// Query appended to unit links (e.g. `?checkpoint=step-100`), or empty.
    pub query: String,
}

/// Where the grid is relative to the window.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Viewport {
    /// Scroll offset of the window minus the grid's top in the document.
    offset: f64,
    /// Window height.
    height: f64,
    /// Grid width.
    width: f64,
}

/// Measures the grid's position in the window.
fn measure(grid: &web_sys::HtmlDivElement) -> Option<Viewport> {
    let window = web_sys::window()?;
    let rect = grid.get_bounding_client_rect();
    let height = window.inner_height().ok()?.as_f64()?;
    Some(Viewport { offset: -rect.top(), height, width: f64::from(grid.client_width()) })
}

/// The virtualised grid over `units` (already filtered), thumbnails of `technique`.
#[component]
pub fn UnitGrid(
    source: GridSource,
    units: Memo<Vec<u32>>,
    technique: Signal<Technique>,
) -> impl IntoView {
    let grid = NodeRef::<Div>::new();
    let viewport = RwSignal::new(Viewport { offset: 0.0, height: 900.0, width: 1000.0 });
    let update = move || {
        if let Some(element) = grid.get_untracked()
            && let Some(measured) = measure(&element)
            && measured != viewport.get_untracked()
        {
            viewport.set(measured);
        }
    };
    Effect::new(move |_| {
        if grid.get().is_some() {
            update();
        }
    });
    let scroll = window_event_listener(leptos::ev::scroll, move |_| update());
    let resize = window_event_listener(leptos::ev::resize, move |_| update());
    on_cleanup(move || {
        scroll.remove();
        resize.remove();
    });

    let columns = Memo::new(move |_| ((viewport.get().width / CELL_W).floor() as usize).max(1));
    let rows = move || units.with(Vec::len).div_ceil(columns.get());
    let visible = Memo::new(move |_| {
        let view = viewport.get();
        let columns = columns.get();
        let count = units.with(Vec::len);
        let first_row = ((view.offset / CELL_H).floor() - OVERSCAN).max(0.0) as usize;
        let last_row = ((view.offset + view.height) / CELL_H).ceil() + OVERSCAN;
        let last_row = last_row.max(0.0) as usize;
        let start = (first_row * columns).min(count);
        let end = (last_row * columns).min(count);
        (start, end)
    });
    let cells = move || {
        let (start, end) = visible.get();
        let columns = columns.get();
        units
            .with(|units| {
                units[start..end]
                    .iter()
                    .enumerate()
                    .map(|(i, unit)| (start + i, *unit))
                    .collect::<Vec<_>>()
            })
            .into_iter()
            .map(|(position, unit)| (position, unit, columns))
            .collect::<Vec<_>>()
    };
    let source = Arc::new(source);
    view! {
        <div class="unit-grid" id="unit-grid" node_ref=grid
            data-units=move || units.with(Vec::len).to_string()
            data-rendered=move || { let (s, e) = visible.get(); (e - s).to_string() }
            style=move || format!("height:{:.0}px", rows() as f64 * CELL_H)>
            <For each=cells key=|(position, unit, columns)| (*position, *unit, *columns) let:cell>
                {
                    let (position, unit, columns) = cell;
                    let top = (position / columns) as f64 * CELL_H;
                    let left = (position % columns) as f64 * CELL_W;
                    let source = Arc::clone(&source);
                    let href = format!(
                        "{}{}",
                        crate::links::unit(&source.model, &source.layer, unit as usize),
                        source.query
                    );
                    let thumb = move || {
                        let technique = technique.get();
                        match source.manifest.as_ref().and_then(|m| m.thumbnail(technique, unit)) {
                            Some((sheet, tile)) => view! {
                                <div class="sprite" style=tile_style(sheet, tile, THUMB)></div>
                            }.into_any(),
                            None => view! {
                                <div class="sprite empty" title="Not in the atlas yet: the in-browser renderer will fill it">
                                    "not built"
                                </div>
                            }.into_any(),
                        }
                    };
                    view! {
                        <a class="grid-cell" href=href data-grid-unit=unit.to_string()
                            style=format!("top:{top:.0}px;left:{left:.0}px")
                            aria-label=format!("Unit {unit}")>
                            {thumb}
                            <span class="grid-caption">{unit.to_string()}</span>
                        </a>
                    }
                }
            </For>
        </div>
    }
}
