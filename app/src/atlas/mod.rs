//! The atlas client: fetches atlas files over HTTP from `<base href>atlas/`, parses them with
//! `microscope_core::atlas` and keeps each parsed manifest for the session. Every path comes
//! from `microscope_core::atlas::paths`. There is no ML math here: the viewer only shows what
//! the atlas holds.

pub mod bounded;
pub mod class_units;
pub mod client;
pub mod error;
pub mod fetch;
pub mod lookup;

pub use class_units::{ClassUnit, class_units};
pub use client::{
    asset_url, load_annotations, load_index, load_layer, load_model, load_photos, load_unit,
};
pub use error::LoadError;
pub use lookup::{LayerCtx, Lookup, ModelCtx, UnitCtx, resolve_layer, resolve_model, resolve_unit};
