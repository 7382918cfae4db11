//! A model's architecture as a picture: its layers in forward order, grouped into stages at
//! every change of spatial resolution, each bar as tall as its channel count (log scale) and
//! each layer a link to its page.

use leptos::prelude::*;
use microscope_core::atlas::LayerInfo;

/// A layer's spatial size `H×W`, when it has one.
fn resolution(info: &LayerInfo) -> Option<(u32, u32)> {
    match info.shape.as_slice() {
        [_, _, h, w, ..] => Some((*h, *w)),
        _ => None,
    }
}

/// A stage while it is being collected: its resolution and layers.
type Run<'a> = (Option<(u32, u32)>, Vec<&'a LayerInfo>);

/// Splits layers into stages: runs of equal spatial resolution.
fn stages(layers: &[LayerInfo]) -> Vec<(String, Vec<&LayerInfo>)> {
    let mut stages: Vec<Run<'_>> = Vec::new();
    for info in layers {
        let res = resolution(info);
        match stages.last_mut() {
            Some((last, members)) if *last == res => members.push(info),
            _ => stages.push((res, vec![info])),
        }
    }
    stages
        .into_iter()
        .map(|(res, members)| {
            let title = res.map_or_else(|| "vector".to_owned(), |(h, w)| format!("{h}×{w}"));
            (title, members)
        })
        .collect()
}

/// The architecture diagram. `coverage(layer)` gives a layer's built units, if known.
#[component]
pub fn Architecture(
    model: String,
    layers: Vec<LayerInfo>,
    coverage: Signal<std::collections::HashMap<String, (u64, u32)>>,
) -> impl IntoView {
    let max_units = layers.iter().map(|info| info.units).max().unwrap_or(1).max(2);
    let height = move |units: u32| {
        let fraction = f64::from(units.max(1)).ln() / f64::from(max_units).ln();
        16.0 + 84.0 * fraction
    };
    let stage_views = stages(&layers)
        .into_iter()
        .enumerate()
        .map(|(index, (title, members))| {
            let bars = members
                .into_iter()
                .map(|info| {
                    let name = info.name.as_str().to_owned();
                    let href = crate::links::layer(&model, &name);
                    let res = resolution(info).map_or_else(String::new, |(h, w)| format!(" at {h}×{w}"));
                    let op = info.op.clone().unwrap_or_default();
                    let label = format!("{name}: {op} {} channels{res}", info.units);
                    let units = info.units;
                    let key = name.clone();
                    let built = move || {
                        coverage.with(|map| map.get(&key).map(|(built, total)| {
                            let state = if *built == 0 { "none" } else if *built >= u64::from(*total) { "full" } else { "partial" };
                            (state, format!("{built}/{total} built"))
                        }))
                    };
                    let built_for_state = built.clone();
                    view! {
                        <a class="arch-layer" href=href title=label.clone() aria-label=label data-layer=name.clone()
                            data-coverage=move || built_for_state().map_or("unknown", |(state, _)| state)>
                            <span class="arch-bar" style=format!("height:{:.0}px", height(units))></span>
                            <span class="arch-name">{name.clone()}</span>
                            <span class="arch-units">{units.to_string()}</span>
                            <span class="arch-built">{move || built().map(|(_, text)| text).unwrap_or_default()}</span>
                        </a>
                    }
                })
                .collect_view();
            view! {
                <section class="arch-stage" aria-label=format!("Stage {}: {title}", index + 1)>
                    <h3>{format!("Stage {} · {title}", index + 1)}</h3>
                    <div class="arch-layers">{bars}</div>
                </section>
            }
        })
        .collect_view();
    view! { <div class="architecture" id="architecture">{stage_views}</div> }
}
