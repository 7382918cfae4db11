//! The limits of the format. Every list, count, text and file an atlas holds has a bound, so a
//! reader given a hostile or broken atlas spends bounded memory and time and says which limit
//! was passed. Limits are part of the format: raising one is a minor version bump (older readers
//! refuse only the files that pass their own limits).

/// Longest model, checkpoint, layer or photo name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Longest segment of an asset path, in bytes (a name plus an extension).
pub const MAX_SEGMENT_BYTES: usize = 160;
/// Longest asset path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// Most segments in an asset path.
pub const MAX_PATH_SEGMENTS: usize = 16;
/// Deepest nesting of JSON arrays and objects in any manifest (the deepest the format itself
/// needs is 6; free-form build settings get the rest).
pub const MAX_DEPTH: usize = 32;

/// Largest `atlas.json`.
pub const MAX_INDEX_BYTES: u64 = 1 << 20;
/// Largest `model.json` (it holds the class labels).
pub const MAX_MODEL_BYTES: u64 = 8 << 20;
/// Largest `layer.json` (a layer of 65,536 units with every other unit built stays below it).
pub const MAX_LAYER_BYTES: u64 = 16 << 20;
/// Largest `unit.json`.
pub const MAX_UNIT_BYTES: u64 = 1 << 20;
/// Largest `photos/photos.json`.
pub const MAX_PHOTOS_BYTES: u64 = 64 << 20;
/// Largest `annotations.json`.
pub const MAX_ANNOTATIONS_BYTES: u64 = 32 << 20;
/// Largest asset file (an image, or the weights a checkpoint records).
pub const MAX_ASSET_BYTES: u64 = 64 << 20;

/// Most models in an atlas.
pub const MAX_MODELS: usize = 1024;
/// Most checkpoints of a model.
pub const MAX_CHECKPOINTS: usize = 1024;
/// Most layers of a model.
pub const MAX_LAYERS: usize = 4096;
/// Most units in a layer.
pub const MAX_UNITS: u32 = 65_536;
/// Most axes of a layer's shape.
pub const MAX_RANK: usize = 8;
/// Most class labels of a model.
pub const MAX_CLASSES: usize = 32_768;
/// Most entries in a model's build settings.
pub const MAX_SETTINGS: usize = 256;
/// Most input channels (and so entries of the per-channel offsets and scales).
pub const MAX_INPUT_CHANNELS: u32 = 64;
/// Most entries in a unit's build record (`built`: one per technique a builder made).
pub const MAX_BUILD_RECORDS: usize = 64;

/// Most diversity images of a unit.
pub const MAX_DIVERSITY: usize = 16;
/// Most dataset examples in one list (top or bottom) of a unit.
pub const MAX_EXAMPLES: usize = 1024;
/// Most bins of an activation histogram.
pub const MAX_HISTOGRAM_BINS: usize = 4096;
/// Most top classes of a unit.
pub const MAX_TOP_CLASSES: usize = 1024;
/// Most circuit connections of a unit, in each direction.
pub const MAX_CONNECTIONS: usize = 1024;

/// Most sprite sheets of one technique in one layer.
pub const MAX_SHEETS: usize = 4096;
/// Most tiles in one sprite sheet.
pub const MAX_SHEET_TILES: u32 = 65_536;
/// Largest width or height of any image, in pixels (what browsers decode and GPUs texture).
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// Most ranges in one set of units.
pub const MAX_RANGES: usize = 65_536;

/// Most photos in the photos manifest.
pub const MAX_PHOTOS: usize = 250_000;
/// Most annotations in the annotations file.
pub const MAX_ANNOTATIONS: usize = 100_000;

/// Longest short text (titles, licenses, credits, authors, operator names, unit labels), in
/// bytes.
pub const MAX_SHORT_TEXT: usize = 256;
/// Longest long text (summaries, descriptions, sources, notes, objectives), in bytes.
pub const MAX_TEXT: usize = 16 * 1024;
/// Longest URL (photo and weights sources), in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Most errors one `verify` run keeps (a broken atlas of millions of files would otherwise
/// report millions); the rest are counted.
pub const MAX_REPORTED: usize = 10_000;
