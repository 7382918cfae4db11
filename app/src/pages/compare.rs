//! `/compare?a=model/layer/unit&b=model/layer/unit`: two units side by side; or
//! `/compare?class=<label>`: one class across every model ([`ClassCompare`]).

use leptos::prelude::*;
use microscope_core::atlas::Name;
use microscope_core::unit::parse_unit_index;

use crate::components::unit_card::UnitCard;
use crate::layout::Page;
use crate::pages::compare_class::ClassCompare;
use crate::pages::query_param;

/// A `model/layer/unit` reference from the query.
fn parse_ref(text: &str) -> Option<(String, String, usize)> {
    let mut parts = text.trim_matches('/').split('/');
    let (model, layer, unit) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || Name::new(model).is_err() || Name::new(layer).is_err() {
        return None;
    }
    Some((model.to_owned(), layer.to_owned(), parse_unit_index(unit).ok()?))
}

/// The compare page.
#[component]
pub fn ComparePage() -> impl IntoView {
    let a = query_param("a");
    let b = query_param("b");
    let side = move |which: &'static str, text: Option<String>| {
        match text.as_deref().and_then(parse_ref) {
        Some((model, layer, unit)) => view! {
            <div class="compare-side" data-side=which><UnitCard model=model layer=layer unit=unit/></div>
        }
        .into_any(),
        None => view! {
            <div class="compare-side" data-side=which>
                <p>{format!("Unit {which}: give it as ?{which}=model/layer/unit, for example ?{which}=efficientnet-lite0/blocks.8/50.")}</p>
            </div>
        }
        .into_any(),
    }
    };
    let class = query_param("class");
    let units = move || a.get().is_some() || b.get().is_some();
    view! {
        <Page>
            <main data-page="compare" class="page">
                {move || match class.get() {
                    Some(name) => view! {
                        <h1>"Compare models: one class"</h1>
                        <ClassCompare name=Some(name)/>
                    }.into_any(),
                    None => view! {
                        <h1>"Compare units"</h1>
                        <div class="compare">
                            {move || side("a", a.get())}
                            {move || side("b", b.get())}
                        </div>
                        {move || (!units()).then(|| view! {
                            <h2>"Or one class across models"</h2>
                            <ClassCompare name=None/>
                        })}
                    }.into_any(),
                }}
            </main>
        </Page>
    }
}
