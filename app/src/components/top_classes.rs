//! The classes a unit drives most, as an SVG bar chart with class names.

use leptos::prelude::*;
use microscope_core::atlas::ClassScore;

const ROW: f64 = 22.0;
const WIDTH: f64 = 320.0;

/// The top-classes chart; `names` are the model's class labels, if any.
#[component]
pub fn TopClassesChart(classes: Vec<ClassScore>, names: Vec<String>) -> impl IntoView {
    let shown: Vec<ClassScore> = classes.into_iter().take(10).collect();
    let peak = shown.iter().map(|c| c.score.abs()).fold(0.0_f32, f32::max).max(f32::MIN_POSITIVE);
    let height = ROW * shown.len().max(1) as f64;
    let rows = shown
        .iter()
        .enumerate()
        .map(|(i, class)| {
            let name = names
                .get(class.class as usize)
                .map(|name| name.split(',').next().unwrap_or(name).to_owned())
                .unwrap_or_else(|| format!("class {}", class.class));
            let w = f64::from(class.score.abs() / peak) * (WIDTH * 0.45);
            let y = i as f64 * ROW;
            view! {
                <g class="class-row">
                    <text x="0" y=format!("{:.1}", y + 15.0)>{name.clone()}</text>
                    <rect class=if class.score < 0.0 { "negative" } else { "" } x=format!("{:.1}", WIDTH * 0.5)
                        y=format!("{:.1}", y + 4.0) width=format!("{w:.2}") height="14">
                        <title>{format!("{name}: {:.4}", class.score)}</title>
                    </rect>
                    <text class="value" x=format!("{:.1}", WIDTH * 0.5 + w + 4.0) y=format!("{:.1}", y + 15.0)>
                        {format!("{:.3}", class.score)}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" id="top-classes">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label="Top classes">{rows}</svg>
            <figcaption>"Classes this unit drives most through the rest of the network."</figcaption>
        </figure>
    }
}
