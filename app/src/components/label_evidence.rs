//! What speaks for a unit's label, in words beside it: the class, its correlation with the
//! unit, and how many of the unit's strongest crops the model classifies as it, from how many
//! photos. The builder decides whether that makes a label (the label rule in the format
//! doc); this view only says what it recorded.

use leptos::prelude::*;
use microscope_core::atlas::LabelEvidence;

/// Counts in words: `1 crop`, `12 crops`.
fn count(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The evidence line; `labelled` says whether the builder made a label of it, `names` are the
/// model's class names.
#[component]
pub fn LabelEvidenceNote(
    evidence: LabelEvidence,
    labelled: bool,
    names: Vec<String>,
) -> impl IntoView {
    let name = names
        .get(evidence.class as usize)
        .map(|name| name.split(',').next().unwrap_or(name).to_owned())
        .unwrap_or_else(|| format!("class {}", evidence.class));
    let facts = format!(
        "r = {:.2}; {} of the unit's {} strongest {} classified as it, from {}",
        evidence.correlation,
        count(evidence.crops, "crop", "crops"),
        evidence.pool,
        if evidence.crops == 1 { "is" } else { "are" },
        count(evidence.photos, "photo", "photos"),
    );
    let text = if labelled {
        format!("label: {name} ({facts})")
    } else {
        format!("No label: the closest class, {name} ({facts}), is too weak to name the unit.")
    };
    view! {
        <p class="label-evidence muted" id="label-evidence" data-labelled=labelled.to_string()>{text}</p>
    }
}
