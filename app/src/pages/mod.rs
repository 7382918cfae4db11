//! One page per route.

pub mod compare;
pub mod compare_class;
pub mod diagnostics;
pub mod embed;
pub mod explain;
pub mod home;
pub mod lab;
pub mod layer;
pub mod live_settings;
pub mod model;
pub mod not_found;
pub mod search;
pub mod unit;
pub mod your_model;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use microscope_core::atlas::Name;
use microscope_core::unit::parse_unit_index;

/// Route parameters of a unit page, checked: a bad model or layer name, or a unit that is not
/// a non-negative integer, makes the route not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRoute {
    /// Model id.
    pub model: String,
    /// Layer name.
    pub layer: String,
    /// Unit index.
    pub unit: usize,
}

/// Reads a route parameter that must be a valid model or layer name.
pub fn name_param(key: &'static str) -> Memo<Option<String>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get(key).filter(|name| Name::new(name.as_str()).is_ok()))
}

/// Reads and checks the parameters of a unit route.
pub fn unit_route() -> Memo<Option<UnitRoute>> {
    let params = use_params_map();
    Memo::new(move |_| {
        let params = params.read();
        let model = params.get("model").filter(|n| Name::new(n.as_str()).is_ok())?;
        let layer = params.get("layer").filter(|n| Name::new(n.as_str()).is_ok())?;
        let unit = parse_unit_index(params.get_str("unit")?).ok()?;
        Some(UnitRoute { model, layer, unit })
    })
}

/// Reads a query parameter (`?technique=neuron`).
pub fn query_param(key: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get(key))
}
