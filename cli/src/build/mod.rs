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
//! - [`selection`]: which layers, units and techniques a build covers, and sharding;
//! - [`plan`]: a build decided once from its arguments (`BuildRequest -> BuildPlan`);
//! - [`settings`]: the build settings `model.json` records, serialised from the plan, and
//!   each technique's fingerprint that units record;
//! - [`survey`]: what is left to build at a checkpoint;
//! - [`content`]: a unit's examples, histogram, classes and circuits from the passes;
//! - [`execute`]: the plan executed in named steps;
//! - [`lock`]: one build or merge at a time per atlas folder (`.build.lock`);
//! - [`halt`]: a point where the chaos tests stop a build to kill it.

pub mod content;
pub mod corpus;
pub mod encode;
pub mod execute;
pub mod finish;
pub mod folder;
pub mod halt;
pub mod lock;
pub mod model_files;
pub mod plan;
pub mod selection;
pub mod settings;
pub mod stats;
pub mod survey;
pub mod unit_files;
pub mod visualize;
pub mod wallpapers;
