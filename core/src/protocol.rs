//! Messages between the viewer and the renderer worker, serialised with serde on both sides
//! (serde-wasm-bindgen in the browser). Every request carries a job number that its events
//! repeat, so the viewer can tell the answers to concurrent or cancelled jobs apart.
//!
//! A feature-visualization job ([`RendererRequest::Render`]) names its model by where the
//! worker fetches the weights ([`ModelRef`]), carries its objective as a typed
//! [`Objective`] (never as text) within [`RenderLimits`], and is answered by
//! [`RendererEvent::RenderProgress`] events (some with a preview [`Picture`]), then
//! [`RendererEvent::RenderDone`] (also after a cancel, with `cancelled` set) or
//! [`RendererEvent::Failed`] with a typed [`RenderFailure`]. It may carry the visitor's photo
//! ([`RenderPhoto`]): the reference of a caricature or an inversion, the image a DeepDream
//! starts from, or both; the worker decodes it within
//! [`PhotoLimits::BROWSER`](crate::photo_query::PhotoLimits) with the CLI's code.
//!
//! A photo job ([`RendererRequest::Photo`]) carries the visitor's photo file and a
//! [`PhotoQuery`] (classes, a layer's ranking, a unit's map), and is answered by
//! [`RendererEvent::PhotoProgress`] events, then [`RendererEvent::PhotoDone`] or
//! [`RendererEvent::Failed`] (with [`RenderFailure::Cancelled`] after a cancel).
//!
//! An import job ([`RendererRequest::ImportOnnx`]) carries a visitor's ONNX file and is
//! answered by [`RendererEvent::ImportProgress`] events, then [`RendererEvent::ImportDone`]
//! with the model's layers, or [`RendererEvent::Failed`] with [`RenderFailure::Import`]; its
//! units then render like any other, named by [`ModelRef::Visitor`].

use serde::{Deserialize, Serialize};

use crate::atlas::Sha256Hex;
use crate::model_import::{ImportError, ImportSettings, ImportStage, ModelSummary, OnnxFile};
use crate::objective::{Objective, ParseError};
use crate::photo_query::{PhotoAnswer, PhotoError, PhotoFile, PhotoQuery, PhotoStage};

/// Which compute path the renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComputePath {
    /// burn's WebGPU backend on the visitor's GPU.
    Webgpu,
    /// burn's pure-Rust CPU backend (flex) inside wasm.
    Cpu,
}

impl ComputePath {
    /// Short name used in URLs and messages (`webgpu` or `cpu`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webgpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

/// Which model a job runs on: a file the atlas ships (fetched by URL), or a model the
/// visitor imported into the worker ([`RendererRequest::ImportOnnx`]), named by its file's
/// sha256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ModelRef {
    /// A model file the atlas ships.
    Atlas(ModelFile),
    /// The visitor's own ONNX model, imported into this worker (nothing is fetched).
    Visitor {
        /// sha256 of the imported file.
        sha256: Sha256Hex,
        /// The file's name (the model's id in messages).
        name: String,
    },
}

impl ModelRef {
    /// The model's id: an atlas model's id, or the visitor's file name.
    pub fn id(&self) -> &str {
        match self {
            Self::Atlas(file) => &file.id,
            Self::Visitor { name, .. } => name,
        }
    }
}

/// Where the worker fetches an atlas model: a URL of its weights and their format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// The model's id (a built-in organism's name such as `efficientnet-lite0`, or an
    /// imported model's id).
    pub id: String,
    /// Where the weights are, absolute or relative to the worker script.
    pub url: String,
    /// What the file holds.
    pub format: WeightsFormat,
    /// sha256 of the file at `url`, when the atlas records it: the
    /// worker checks the download against it and caches the file under it, so a rebuilt
    /// atlas's new weights are never mistaken for the old ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Hex>,
}

/// The format of a [`ModelFile`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightsFormat {
    /// The converted checkpoint of a built-in organism (safetensors, lukemelas names); the
    /// architecture comes from the model id.
    Safetensors,
    /// An ONNX model, with how it wants its input (see `network::InputSpec`).
    Onnx {
        /// Height of the input, in pixels.
        height_px: u32,
        /// Width of the input, in pixels.
        width_px: u32,
        /// Input channels (3 or 1).
        channels: u32,
        /// Per channel: the model sees `(x * 255 - offset) / scale`.
        offset: [f32; 3],
        /// See `offset`.
        scale: [f32; 3],
    },
}

/// The settings of one feature visualization, as a deep link carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderSettings {
    /// What to maximise (its text form is what links show, e.g. `-blocks.8:50 - tv(0.1)`).
    pub objective: Objective,
    /// Side of the image in pixels.
    pub size_px: u32,
    /// Optimisation steps.
    pub steps: u32,
    /// Seed of the initial image and of the transforms.
    pub seed: u64,
    /// Images optimised together (diversity needs several).
    #[serde(default = "one")]
    pub batch: u32,
    /// Send a preview every this many steps (0: none).
    #[serde(default)]
    pub preview_every: u32,
}

fn one() -> u32 {
    1
}

/// The visitor's photo in a render, and what the render does with it. A link never carries it
/// (the photo never leaves the visitor's machine): a link names the technique, and the page
/// asks for the photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderPhoto {
    /// The photo file, within [`PhotoLimits::BROWSER`](crate::photo_query::PhotoLimits).
    pub file: PhotoFile,
    /// What it is for.
    pub role: PhotoRole,
}

/// What a render does with a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRole {
    /// The reference that `caricature(...)` and `invert(...)` compare with (the render starts
    /// from noise).
    Reference,
    /// The image the render starts from instead of noise (DeepDream from a photo).
    Start,
    /// Both: a caricature or an inversion that starts from the photo itself.
    ReferenceAndStart,
}

impl PhotoRole {
    /// The role of a photo that is the reference when `reference` and the start when
    /// `start`; `None` when it is neither (no photo is needed).
    pub fn of(reference: bool, start: bool) -> Option<Self> {
        match (reference, start) {
            (true, true) => Some(Self::ReferenceAndStart),
            (true, false) => Some(Self::Reference),
            (false, true) => Some(Self::Start),
            (false, false) => None,
        }
    }

    /// Whether the objective compares with the photo.
    pub fn is_reference(self) -> bool {
        matches!(self, Self::Reference | Self::ReferenceAndStart)
    }

    /// Whether the render starts from the photo.
    pub fn is_start(self) -> bool {
        matches!(self, Self::Start | Self::ReferenceAndStart)
    }
}

/// The bounds of a render's settings. One definition, used by the worker (which refuses a job
/// outside them), the pages (which clamp what a link asks for) and the forms (their `min` and
/// `max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Smallest side of the image, in pixels.
    pub min_size_px: u32,
    /// Largest side of the image, in pixels.
    pub max_size_px: u32,
    /// Most optimisation steps (at least 1).
    pub max_steps: u32,
    /// Most images optimised together (at least 1).
    pub max_batch: u32,
}

impl RenderLimits {
    /// The browser's limits: a tab must not be made to run for hours or allocate gigabytes by
    /// a crafted link.
    pub const BROWSER: Self =
        Self { min_size_px: 16, max_size_px: 512, max_steps: 8192, max_batch: 16 };

    /// `size_px` brought within the limits.
    pub fn clamp_size_px(self, size_px: u32) -> u32 {
        size_px.clamp(self.min_size_px, self.max_size_px)
    }

    /// `steps` brought within the limits.
    pub fn clamp_steps(self, steps: u32) -> u32 {
        steps.clamp(1, self.max_steps)
    }

    /// `batch` brought within the limits.
    pub fn clamp_batch(self, batch: u32) -> u32 {
        batch.clamp(1, self.max_batch)
    }

    /// Whether `settings` are within the limits; the first setting outside them otherwise.
    pub fn check(self, settings: &RenderSettings) -> Result<(), LimitError> {
        let outside = |setting, value, min, max| {
            (!(min..=max).contains(&value)).then_some(LimitError { setting, value, min, max })
        };
        let problem =
            outside(Setting::SizePx, settings.size_px, self.min_size_px, self.max_size_px)
                .or_else(|| outside(Setting::Steps, settings.steps, 1, self.max_steps))
                .or_else(|| outside(Setting::Batch, settings.batch, 1, self.max_batch));
        problem.map_or(Ok(()), Err)
    }
}

/// A setting that [`RenderLimits`] bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// The side of the image.
    SizePx,
    /// The optimisation steps.
    Steps,
    /// The images optimised together.
    Batch,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::SizePx => "the size in pixels",
            Self::Steps => "the number of steps",
            Self::Batch => "the batch",
        })
    }
}

/// A setting outside [`RenderLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{setting} must be {min} to {max}, not {value}")]
pub struct LimitError {
    /// Which setting.
    pub setting: Setting,
    /// What was asked for.
    pub value: u32,
    /// The smallest allowed.
    pub min: u32,
    /// The largest allowed.
    pub max: u32,
}

/// Why a job failed, typed so that a page can act on the cause (show an objective's mistake
/// under its box, offer the CPU after a GPU failure, say that an atlas lacks weights) instead
/// of reading messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum RenderFailure {
    /// The objective's text does not parse: where, and what the grammar expected there. The
    /// page parses before any worker starts, so this never has to come from the worker.
    #[error("the objective does not parse: {error}")]
    ObjectiveSyntax {
        /// Position, expectation and what was found.
        error: ParseError,
    },
    /// The objective does not fit the model or the render (an unknown layer, a unit out of
    /// range, diversity with one image ...).
    #[error("{message}")]
    Objective {
        /// The mismatch, in the model's terms.
        message: String,
    },
    /// A setting outside the worker's [`RenderLimits`].
    #[error("{error}")]
    Settings {
        /// Which setting, and its bounds.
        error: LimitError,
    },
    /// The model's file could not be downloaded or is not what it should be.
    #[error("could not download {url}: {message}")]
    Download {
        /// The file.
        url: String,
        /// The HTTP status when the server answered with an error (404: the atlas does not
        /// ship the file); `None` when the network failed or the answer was unusable.
        status: Option<u16>,
        /// What went wrong, in words.
        message: String,
    },
    /// The model's file arrived but could not be read as a model.
    #[error("the model at {url} cannot be loaded: {message}")]
    Model {
        /// The file.
        url: String,
        /// Why.
        message: String,
    },
    /// The GPU device was lost (a driver reset, a poisoned device): later work on it fails.
    #[error("the GPU device was lost: {message}")]
    DeviceLost {
        /// What the backend said.
        message: String,
    },
    /// The device or the worker ran out of memory.
    #[error("out of memory: {message}")]
    OutOfMemory {
        /// What the backend or the browser said.
        message: String,
    },
    /// The worker itself died (a panic or an abort); the next job starts a new one.
    #[error("the renderer stopped: {message}")]
    Crashed {
        /// What the browser reported.
        message: String,
    },
    /// The visitor's photo cannot be used (too large, not an image).
    #[error("{error}")]
    Photo {
        /// What is wrong with it.
        error: PhotoError,
    },
    /// The visitor's ONNX file cannot be imported (too large, malformed, unsupported
    /// operators: all of them listed).
    #[error("{error}")]
    Import {
        /// What is wrong with it, as `microscope import-onnx` says it.
        error: ImportError,
    },
    /// A render names a visitor's model that this worker has not imported (a new worker
    /// after a crash): the page imports the file again.
    #[error("the model {name} is not imported in this renderer; import it again")]
    NotImported {
        /// The model's file name.
        name: String,
    },
    /// The job was cancelled before it started (a photo job: before it ended).
    #[error("cancelled")]
    Cancelled,
    /// Anything else.
    #[error("{message}")]
    Other {
        /// What went wrong, in words.
        message: String,
    },
}

/// An RGBA image, row-major, 8 bits per channel; sent as a byte array (a `Uint8Array` in
/// the browser).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Picture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    #[serde(with = "serde_bytes")]
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Picture({}x{}, {} bytes)", self.width, self.height, self.rgba.len())
    }
}

/// The worker's memory after a job: what a page that renders many times watches to see that
/// nothing accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkerMemory {
    /// Bytes of the worker's wasm linear memory (it grows and never shrinks, so a leak shows
    /// as growth once the allocator's free lists stop absorbing it).
    pub wasm_bytes: u64,
    /// What the GPU allocator holds, on the WebGPU path (`None` on the CPU path, or when the
    /// backend does not report it).
    #[serde(default)]
    pub gpu: Option<GpuMemory>,
}

/// What burn's GPU memory pools hold on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GpuMemory {
    /// Live allocations (not pages).
    pub allocations: u64,
    /// Bytes those allocations use, padding excluded.
    pub bytes_in_use: u64,
    /// Bytes reserved on the device: in use, plus pages kept for reuse.
    pub bytes_reserved: u64,
}

/// A request from the viewer to the renderer worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "one message per job, sent once through postMessage: its size in memory does not matter"
)]
pub enum RendererRequest {
    /// Run the smoke computation: a few gradient-ascent steps through a tiny conv net.
    Smoke {
        /// Job number repeated by every event of this job.
        job: u32,
        /// Compute path to run on.
        path: ComputePath,
        /// Number of gradient steps.
        steps: u32,
    },
    /// Render a feature visualization.
    Render {
        /// Job number repeated by every event of this job.
        job: u32,
        /// Compute path to run on.
        path: ComputePath,
        /// The model.
        model: ModelRef,
        /// What to render and how.
        settings: RenderSettings,
        /// The visitor's photo, when the render compares with it or starts from it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        photo: Option<RenderPhoto>,
    },
    /// Measure the visitor's photo: what [`PhotoQuery`] asks, on the model.
    Photo {
        /// Job number repeated by every event of this job.
        job: u32,
        /// Compute path to run on.
        path: ComputePath,
        /// The model.
        model: ModelRef,
        /// The photo file, within [`PhotoLimits::BROWSER`](crate::photo_query::PhotoLimits).
        photo: PhotoFile,
        /// What to compute.
        query: PhotoQuery,
    },
    /// Import the visitor's ONNX file: checked within
    /// [`OnnxLimits::BROWSER`](crate::model_import::OnnxLimits), imported as
    /// `microscope import-onnx` does, built on the path's device and run once; then renders
    /// name it with [`ModelRef::Visitor`]. The worker keeps the last one imported.
    ImportOnnx {
        /// Job number repeated by every event of this job.
        job: u32,
        /// Compute path to build it on.
        path: ComputePath,
        /// The file.
        file: OnnxFile,
        /// Input size and normalisation.
        settings: ImportSettings,
    },
    /// Stop a job as soon as its current step ends; a render answers with its images so far.
    Cancel {
        /// The job to stop.
        job: u32,
    },
}

/// An event from the renderer worker to the viewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RendererEvent {
    /// The worker has loaded and listens for requests.
    Ready,
    /// One step of a job finished.
    Progress {
        /// Job number.
        job: u32,
        /// Steps done so far (1-based).
        step: u32,
        /// Steps in the job.
        steps: u32,
        /// Objective value before this step's update.
        objective: f32,
    },
    /// The smoke computation finished.
    SmokeDone {
        /// Job number.
        job: u32,
        /// Compute path that ran.
        path: ComputePath,
        /// Objective value at every step, in order.
        objectives: Vec<f32>,
        /// Wall time of the steps (device start-up excluded), in milliseconds.
        elapsed_ms: f64,
    },
    /// A step of a render finished.
    RenderProgress {
        /// Job number.
        job: u32,
        /// Steps done so far (1-based).
        step: u32,
        /// Steps in the job.
        steps: u32,
        /// The objective's value before this step's update.
        objective: f32,
        /// Milliseconds since the first step began (model loading excluded).
        elapsed_ms: f64,
        /// The first image as it is now, every `preview_every` steps.
        preview: Option<Picture>,
    },
    /// A render finished, or stopped after a cancel.
    RenderDone {
        /// Job number.
        job: u32,
        /// Compute path that ran.
        path: ComputePath,
        /// One image per batch element.
        images: Vec<Picture>,
        /// The objective's value at every step run, in order.
        objectives: Vec<f32>,
        /// Wall time of the steps (model loading excluded), in milliseconds.
        elapsed_ms: f64,
        /// Stopped by [`RendererRequest::Cancel`] before the last step.
        cancelled: bool,
        /// What the worker's memory held once the job had ended (absent from older
        /// workers' messages).
        #[serde(default)]
        memory: Option<WorkerMemory>,
    },
    /// A photo job moved on to its next stage.
    PhotoProgress {
        /// Job number.
        job: u32,
        /// What it does now.
        stage: PhotoStage,
        /// Stages begun so far (1-based).
        step: u32,
        /// Stages in the job.
        steps: u32,
    },
    /// A photo job finished.
    PhotoDone {
        /// Job number.
        job: u32,
        /// Compute path that ran.
        path: ComputePath,
        /// What the query asked for.
        answer: PhotoAnswer,
        /// Wall time of the job (model loading included), in milliseconds.
        elapsed_ms: f64,
    },
    /// An import job moved on to its next stage.
    ImportProgress {
        /// Job number.
        job: u32,
        /// What it does now.
        stage: ImportStage,
        /// Stages begun so far (1-based).
        step: u32,
        /// Stages in the job.
        steps: u32,
    },
    /// An import job finished: the model, ready to render.
    ImportDone {
        /// Job number.
        job: u32,
        /// Compute path it was built on.
        path: ComputePath,
        /// The model and its layers.
        model: ModelSummary,
        /// Wall time of the job, in milliseconds.
        elapsed_ms: f64,
    },
    /// A job failed.
    Failed {
        /// Job number.
        job: u32,
        /// Why.
        failure: RenderFailure,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json() {
        let request = RendererRequest::Smoke { job: 7, path: ComputePath::Webgpu, steps: 5 };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(text, r#"{"kind":"smoke","job":7,"path":"webgpu","steps":5}"#);
        assert_eq!(serde_json::from_str::<RendererRequest>(&text).unwrap(), request);

        let event = RendererEvent::Progress { job: 7, step: 1, steps: 5, objective: 0.5 };
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<RendererEvent>(&text).unwrap(), event);
    }

    #[test]
    fn render_requests_carry_model_settings_and_default_batch() {
        let text = r#"{"kind":"render","job":3,"path":"cpu",
            "model":{"source":"atlas","id":"efficientnet-lite0","url":"atlas/w.safetensors","format":{"kind":"safetensors"}},
            "settings":{"objective":{"channel":{"layer":"blocks.8","unit":50,"batch":null}},
                "size_px":128,"steps":64,"seed":3}}"#;
        let RendererRequest::Render { job, path, model, settings, photo } =
            serde_json::from_str::<RendererRequest>(text).unwrap()
        else {
            panic!("not a render request")
        };
        assert_eq!(photo, None, "a render without a photo");
        let ModelRef::Atlas(model) = model else { panic!("not an atlas model") };
        assert_eq!((job, path, model.format), (3, ComputePath::Cpu, WeightsFormat::Safetensors));
        assert_eq!(model.sha256, None);
        assert_eq!(settings.objective, Objective::channel("blocks.8", 50));
        assert_eq!((settings.batch, settings.preview_every, settings.seed), (1, 0, 3));
        let cancel: RendererRequest = serde_json::from_str(r#"{"kind":"cancel","job":3}"#).unwrap();
        assert_eq!(cancel, RendererRequest::Cancel { job: 3 });
    }

    #[test]
    fn render_events_round_trip_with_pictures() {
        let picture = Picture { width: 1, height: 2, rgba: vec![1, 2, 3, 255, 4, 5, 6, 255] };
        let event = RendererEvent::RenderDone {
            job: 1,
            path: ComputePath::Webgpu,
            images: vec![picture.clone()],
            objectives: vec![0.1, 0.2],
            elapsed_ms: 12.5,
            cancelled: false,
            memory: Some(WorkerMemory {
                wasm_bytes: 1 << 20,
                gpu: Some(GpuMemory { allocations: 3, bytes_in_use: 100, bytes_reserved: 4096 }),
            }),
        };
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<RendererEvent>(&text).unwrap(), event);
        assert_eq!(format!("{picture:?}"), "Picture(1x2, 8 bytes)");
    }

    #[test]
    fn photo_jobs_round_trip_typed() {
        use crate::UnitId;
        use crate::photo_query::{ClassScore, UnitValue};
        let request = RendererRequest::Photo {
            job: 4,
            path: ComputePath::Cpu,
            model: ModelRef::Atlas(ModelFile {
                id: "efficientnet-lite0".into(),
                url: "w.safetensors".into(),
                format: WeightsFormat::Safetensors,
                sha256: None,
            }),
            photo: PhotoFile { bytes: vec![0xff, 0xd8, 0xff] },
            query: PhotoQuery {
                classes: true,
                layer: Some("blocks.2".into()),
                unit: Some(UnitId::new("blocks.2", 3)),
            },
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<RendererRequest>(&text).unwrap(), request);
        let only_classes: PhotoQuery = serde_json::from_str(r#"{"classes":true}"#).unwrap();
        assert_eq!(only_classes, PhotoQuery { classes: true, ..PhotoQuery::default() });

        let answer = PhotoAnswer {
            width: 600,
            height: 400,
            classes: Some(vec![ClassScore { class: 967, probability: 0.5 }]),
            ranking: Some(crate::photo_query::LayerRanking {
                layer: "blocks.2".into(),
                units: vec![UnitValue { unit: 3, value: 1.5 }],
            }),
            unit: None,
        };
        let event =
            RendererEvent::PhotoDone { job: 4, path: ComputePath::Cpu, answer, elapsed_ms: 3.0 };
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<RendererEvent>(&text).unwrap(), event);
        let failure = RenderFailure::Photo { error: PhotoError::Empty };
        let text = serde_json::to_string(&failure).unwrap();
        assert_eq!(text, r#"{"cause":"photo","error":{"problem":"empty"}}"#);
        assert_eq!(serde_json::from_str::<RenderFailure>(&text).unwrap(), failure);
    }

    #[test]
    fn objectives_and_failures_cross_the_boundary_typed() {
        let objective: Objective =
            "blocks.8:50 + 0.5 * neuron(\"a b\":3, 1, 2)@1 - tv(0.1) + diversity(head)"
                .parse()
                .unwrap();
        let request = RendererRequest::Render {
            job: 1,
            path: ComputePath::Webgpu,
            model: ModelRef::Atlas(ModelFile {
                id: "m".into(),
                url: "w".into(),
                format: WeightsFormat::Safetensors,
                sha256: Sha256Hex::parse(&"ab".repeat(32)),
            }),
            settings: RenderSettings {
                objective,
                size_px: 64,
                steps: 8,
                seed: 1,
                batch: 2,
                preview_every: 2,
            },
            photo: Some(RenderPhoto {
                file: PhotoFile { bytes: vec![0x89, b'P', b'N', b'G'] },
                role: PhotoRole::ReferenceAndStart,
            }),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert!(text.contains(r#""role":"reference_and_start""#), "{text}");
        assert_eq!(serde_json::from_str::<RendererRequest>(&text).unwrap(), request);

        let error = "blocks.8:".parse::<Objective>().unwrap_err();
        for failure in [
            RenderFailure::ObjectiveSyntax { error },
            RenderFailure::Download { url: "w".into(), status: Some(404), message: "x".into() },
            RenderFailure::Settings {
                error: LimitError { setting: Setting::Steps, value: 0, min: 1, max: 8 },
            },
            RenderFailure::DeviceLost { message: "reset".into() },
            RenderFailure::Cancelled,
        ] {
            let event = RendererEvent::Failed { job: 4, failure };
            let text = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<RendererEvent>(&text).unwrap(), event, "{text}");
        }
    }

    #[test]
    fn a_photo_role_says_what_the_render_does_with_the_photo() {
        assert_eq!(PhotoRole::of(false, false), None);
        for (reference, start) in [(true, false), (false, true), (true, true)] {
            let role = PhotoRole::of(reference, start).unwrap();
            assert_eq!((role.is_reference(), role.is_start()), (reference, start), "{role:?}");
        }
    }

    #[test]
    fn render_limits_bound_every_setting() {
        let limits = RenderLimits::BROWSER;
        let settings = |size_px, steps, batch| RenderSettings {
            objective: Objective::channel("x", 0),
            size_px,
            steps,
            seed: 0,
            batch,
            preview_every: 0,
        };
        assert_eq!(limits.check(&settings(16, 1, 1)), Ok(()));
        assert_eq!(limits.check(&settings(512, 8192, 16)), Ok(()));
        let setting = |s: &RenderSettings| limits.check(s).unwrap_err().setting;
        assert_eq!(setting(&settings(15, 1, 1)), Setting::SizePx);
        assert_eq!(setting(&settings(513, 1, 1)), Setting::SizePx);
        assert_eq!(setting(&settings(64, 0, 1)), Setting::Steps);
        assert_eq!(setting(&settings(64, 8193, 1)), Setting::Steps);
        assert_eq!(setting(&settings(64, 8, 0)), Setting::Batch);
        assert_eq!(setting(&settings(64, 8, 17)), Setting::Batch);
        assert_eq!(
            limits.check(&settings(64, 9000, 1)).unwrap_err().to_string(),
            "the number of steps must be 1 to 8192, not 9000"
        );
        assert_eq!(
            (limits.clamp_size_px(4), limits.clamp_steps(0), limits.clamp_batch(99)),
            (16, 1, 16)
        );
    }

    #[test]
    fn render_done_without_memory_still_parses() {
        let text = r#"{"kind":"render_done","job":2,"path":"cpu","images":[],
            "objectives":[1.5],"elapsed_ms":3.0,"cancelled":true}"#;
        let RendererEvent::RenderDone { memory, cancelled, .. } =
            serde_json::from_str::<RendererEvent>(text).unwrap()
        else {
            panic!("not a render_done event")
        };
        assert_eq!((memory, cancelled), (None, true));
        let cpu: WorkerMemory = serde_json::from_str(r#"{"wasm_bytes":65536}"#).unwrap();
        assert_eq!(cpu, WorkerMemory { wasm_bytes: 65536, gpu: None });
    }

    #[test]
    fn import_jobs_round_trip_typed_and_visitor_models_render() {
        use crate::model_import::LayerSummary;
        let request = RendererRequest::ImportOnnx {
            job: 5,
            path: ComputePath::Cpu,
            file: OnnxFile { name: "net.onnx".into(), bytes: vec![8, 7, 18] },
            settings: ImportSettings::imagenet(Some([96, 128])),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert!(text.starts_with(r#"{"kind":"import_onnx","job":5"#), "{text}");
        assert_eq!(serde_json::from_str::<RendererRequest>(&text).unwrap(), request);
        let sha256 = Sha256Hex::of(b"net");
        let model = ModelSummary {
            name: "net.onnx".into(),
            sha256: sha256.clone(),
            bytes: 3,
            opset: 17,
            channels: 3,
            height_px: 96,
            width_px: 128,
            parameters: 10,
            outputs: 4,
            layers: vec![LayerSummary {
                name: "conv".into(),
                op: "Conv".into(),
                channels: 4,
                height: 48,
                width: 64,
            }],
        };
        for event in [
            RendererEvent::ImportProgress { job: 5, stage: ImportStage::Build, step: 2, steps: 3 },
            RendererEvent::ImportDone { job: 5, path: ComputePath::Cpu, model, elapsed_ms: 1.0 },
            RendererEvent::Failed {
                job: 5,
                failure: RenderFailure::Import {
                    error: ImportError::TooManyNodes { nodes: 9, max_nodes: 8 },
                },
            },
        ] {
            let text = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<RendererEvent>(&text).unwrap(), event, "{text}");
        }
        let visitor = ModelRef::Visitor { sha256, name: "net.onnx".into() };
        let text = serde_json::to_string(&visitor).unwrap();
        assert!(text.starts_with(r#"{"source":"visitor","sha256":""#), "{text}");
        assert_eq!(serde_json::from_str::<ModelRef>(&text).unwrap(), visitor);
        assert_eq!(visitor.id(), "net.onnx");
    }
}
