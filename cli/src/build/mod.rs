//! Building atlases: the I/O around `microscope_core::atlas` (manifests, paths, verify) and
//! `microscope_core::examples` / `circuits` / `fv` (the math). One concept per file:
//!
//! - [`folder`]: an atlas folder as an `AtlasSource`, atomic file and unit-folder writes;
//! - [`corpus`]: the photo corpus (bundled photos, Debian wallpapers, `--images`) in memory
//!   at a working size, with provenance;
//! - [`wallpapers`]: the curated photographs of Debian wallpaper packages;
//! - [`stats`]: one streamed pass of the corpus crops through the model: top and bottom
//!   examples, histograms and class correlations per unit;
//! - [`visualize`]: feature visualizations of many units in one batch, seeded per image;
//! - [`unit_files`]: a unit's images and manifest, written as one folder;
//! - [`model_files`]: `atlas.json`, `model.json` and `photos/photos.json`;
//! - [`finish`]: the derived files (`layer.json` and sprite sheets) from unit files;
//! - [`selection`]: which layers, units and techniques a build covers, and sharding.

pub mod corpus;
pub mod finish;
pub mod folder;
pub mod model_files;
pub mod selection;
pub mod stats;
pub mod unit_files;
pub mod visualize;
pub mod wallpapers;
