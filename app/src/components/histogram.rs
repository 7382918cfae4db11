//! The activation histogram as an SVG bar chart, with a value marked on it when asked (the
//! visitor's photo).

use leptos::prelude::*;
use microscope_core::atlas::{Histogram, Statistic};

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;

/// What one histogram sample is, in words.
fn statistic_words(statistic: &Statistic) -> &'static str {
    match statistic {
        Statistic::SpatialMax => "the largest activation in each photo",
        Statistic::SpatialMean => "the mean activation over each photo",
        Statistic::Positions => "the activation at every position of every photo",
        Statistic::Other => "activations",
    }
}

/// The histogram chart; `mark` draws a line at that value (at the edge when outside the
/// range); `id` replaces the figure's id (`histogram`).
#[component]
pub fn HistogramChart(
    histogram: Histogram,
    #[prop(optional)] mark: Option<f32>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let peak = histogram.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bins = histogram.counts.len().max(1) as f64;
    let bar = WIDTH / bins;
    let total: u64 = histogram.counts.iter().sum();
    let bars = histogram
        .counts
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let h = (*count as f64 / peak) * (HEIGHT - 4.0);
            let low = histogram.min + (histogram.max - histogram.min) * (i as f32) / bins as f32;
            view! {
                <rect x=format!("{:.2}", i as f64 * bar) y=format!("{:.2}", HEIGHT - h)
                    width=format!("{:.2}", (bar - 1.0).max(0.5)) height=format!("{h:.2}")>
                    <title>{format!("from {low:.3}: {count}")}</title>
                </rect>
            }
        })
        .collect_view();
    let zero = (histogram.min < 0.0 && histogram.max > 0.0).then(|| {
        let x = WIDTH * f64::from(-histogram.min) / f64::from(histogram.max - histogram.min);
        view! { <line class="zero" x1=format!("{x:.2}") x2=format!("{x:.2}") y1="0" y2=HEIGHT.to_string()/> }
    });
    let span = f64::from(histogram.max - histogram.min);
    let marked = mark.map(|value| {
        let x = if span > 0.0 {
            (WIDTH * f64::from(value - histogram.min) / span).clamp(0.0, WIDTH)
        } else {
            WIDTH / 2.0
        };
        view! {
            <line class="mark" x1=format!("{x:.2}") x2=format!("{x:.2}") y1="0" y2=HEIGHT.to_string()>
                <title>{format!("your photo: {value:.3}")}</title>
            </line>
        }
    });
    let beyond = mark
        .filter(|v| *v < histogram.min || *v > histogram.max)
        .map(|_| " (your photo lies beyond that range: marked at the edge)")
        .unwrap_or_default();
    let caption = format!(
        "{total} samples of {}, from {:.3} to {:.3}{}{beyond}",
        statistic_words(&histogram.statistic),
        histogram.min,
        histogram.max,
        mark.map(|v| format!("; your photo: {v:.3}")).unwrap_or_default(),
    );
    view! {
        <figure class="chart" id=id.unwrap_or("histogram") data-mark=mark.map(|v| v.to_string())>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=caption.clone() preserveAspectRatio="none">
                {bars}
                {zero}
                {marked}
            </svg>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}
