//! Objectives: what a feature visualization maximises. This module has no tensor code, so the
//! viewer builds, parses, checks and shows objectives itself, before any renderer starts; the
//! renderer (`fv`, behind the `ml` feature) checks them against a model and evaluates them.
//!
//! - [`algebra`]: the [`Objective`] type, composed with `+`, `-`, unary `-` and `* factor`
//!   (lucid's objectives), and its description in words;
//! - [`grammar`]: reading the text form (`blocks.8:50 - tv(0.1)`), bounded in length and
//!   nesting, with errors that say where and what was expected;
//! - [`text`]: writing the canonical text form;
//! - [`layer_name`]: when a layer name needs quotes in that text.
//!
//! ```
//! use microscope_core::objective::Objective;
//! let objective = Objective::channel("blocks.8", 50) + Objective::diversity("blocks.8");
//! assert_eq!(objective.to_string(), "blocks.8:50 + diversity(blocks.8)");
//! assert_eq!("blocks.8:50 + diversity(blocks.8)".parse::<Objective>(), Ok(objective));
//! ```

pub mod algebra;
pub mod grammar;
pub mod layer_name;
pub mod text;

pub use algebra::Objective;
pub use grammar::{Expected, MAX_DEPTH, MAX_TEXT_BYTES, ParseError};
pub use layer_name::LayerName;

/// Name of the layer that holds class logits (what `class(n)` reads).
pub const LOGITS_LAYER: &str = "logits";
