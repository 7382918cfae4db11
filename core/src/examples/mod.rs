//! Dataset examples: the math that turns activations over a corpus of photo crops into each
//! unit's top and bottom examples, its activation histogram and the classes it goes with.
//! Everything streams: memory is bounded by the number of units, never by the corpus.
//!
//! - [`crops`]: which square crops of a photo the model sees, at several scales, and where a
//!   layer position's receptive field lies in the photo's own pixels;
//! - [`extremes`]: the `k` largest and smallest values with their examples (bounded), at
//!   most [`diversity::MAX_CROPS_PER_PHOTO`] of one photo;
//! - [`diversity`]: that rule, and the greedy walk it equals;
//! - [`histogram`]: a fixed number of equal bins whose range grows to fit what streams in;
//! - [`correlation`]: Pearson correlation of every unit with every class logit, streamed;
//! - [`label_rule`]: when the most correlated class may be a unit's headline label, and the
//!   evidence recorded for it;
//! - [`spatial`]: one crop's activations of one unit reduced to max, min and mean with
//!   their positions.
//!
//! The CLI reads the photos and runs the model; this module does no I/O and needs no burn.

pub mod correlation;
pub mod crops;
pub mod diversity;
pub mod extremes;
pub mod histogram;
pub mod label_rule;
pub mod spatial;

pub use correlation::Correlation;
pub use crops::{SquareCrop, crops_of, field_box};
pub use diversity::MAX_CROPS_PER_PHOTO;
pub use extremes::Extremes;
pub use histogram::GrowingHistogram;
pub use spatial::{SpatialSummary, summarise};
