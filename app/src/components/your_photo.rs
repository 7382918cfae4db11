//! "Try your own photo": the visitor picks or drops a photo, which never leaves the machine
//! (the renderer worker in this tab measures it); the unit page shows the unit's activation
//! map over it and its value against the unit's histogram, the layer page the units that fire
//! most on it, the model page the model's top classes. The chosen photo is kept for the
//! session (an app-level signal), so a visitor can walk from model to layer to unit with it.

pub mod classes;
pub mod picker;
pub mod ranking;
pub mod run;
pub mod unit_map;

use std::sync::Arc;

use leptos::prelude::*;

/// The photo the visitor chose.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenPhoto {
    /// The file's name, as the visitor's system gave it.
    pub name: String,
    /// The file's bytes (decoded in the worker).
    pub bytes: Arc<Vec<u8>>,
    /// A `blob:` URL of the file, to show it.
    pub url: String,
    /// Which choice this is in the session (a new photo, a new number).
    pub serial: u32,
}

/// The session's chosen photo, shared by every page.
#[derive(Debug, Clone, Copy)]
pub struct PhotoSlot(pub RwSignal<Option<ChosenPhoto>>);

/// Makes the session's photo slot available to every page (called once, by the app).
pub fn provide_photo_slot() {
    provide_context(PhotoSlot(RwSignal::new(None)));
}

/// The session's photo slot.
pub fn photo_slot() -> RwSignal<Option<ChosenPhoto>> {
    use_context::<PhotoSlot>().map_or_else(|| RwSignal::new(None), |slot| slot.0)
}

/// What the pages say about where the photo goes.
pub const PRIVACY_NOTE: &str = "Your photo never leaves this computer: it is read and measured \
    in this browser tab, by the same model code as the atlas, and never uploaded.";
