//! Views shared by several pages; one file each.

pub mod architecture;
pub mod clipboard;
pub mod histogram;
pub mod label_evidence;
pub mod live_render;
pub mod load_error;
pub mod model_import;
pub mod placeholder;
pub mod search_box;
pub mod sprite;
pub mod timeline;
pub mod top_classes;
pub mod unit_card;
pub mod unit_grid;
pub mod your_photo;
