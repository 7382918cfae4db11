//! Messages between the viewer and the renderer worker, serialised with serde on both sides
//! (serde-wasm-bindgen in the browser). Every request carries a job number that its events
//! repeat, so the viewer can tell the answers to concurrent or cancelled jobs apart.
//!
//! A feature-visualization job ([`RendererRequest::Render`]) names its model by where the
//! worker fetches the weights ([`ModelRef`]), carries its objective in the text form of
//! `fv::grammar`, and is answered by [`RendererEvent::RenderProgress`] events (some with a
//! preview [`Picture`]), then [`RendererEvent::RenderDone`] (also after a cancel, with
//! `cancelled` set) or [`RendererEvent::Failed`].

use serde::{Deserialize, Serialize};

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

/// How the worker gets a model: a URL of its weights and their format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    /// The model's id (a built-in organism's name such as `efficientnet-lite0`, or an
    /// imported model's id).
    pub id: String,
    /// Where the weights are, absolute or relative to the worker script.
    pub url: String,
    /// What the file holds.
    pub format: WeightsFormat,
}

/// The format of a [`ModelRef`]'s file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightsFormat {
    /// The converted checkpoint of a built-in organism (safetensors, lukemelas names); the
    /// architecture comes from the model id.
    Safetensors,
    /// An ONNX model, with how it wants its input (see `network::InputSpec`).
    Onnx {
        /// Side of the square input, in pixels.
        size_px: u32,
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
    /// The objective in its text form, e.g. `blocks.8:50` or `-blocks.8:50 - tv(0.1)`.
    pub objective: String,
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
    /// A job failed; the message is meant for people.
    Failed {
        /// Job number.
        job: u32,
        /// What went wrong.
        message: String,
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
            "model":{"id":"efficientnet-lite0","url":"atlas/w.safetensors","format":{"kind":"safetensors"}},
            "settings":{"objective":"blocks.8:50","size_px":128,"steps":64,"seed":3}}"#;
        let RendererRequest::Render { job, path, model, settings } =
            serde_json::from_str::<RendererRequest>(text).unwrap()
        else {
            panic!("not a render request")
        };
        assert_eq!((job, path, model.format), (3, ComputePath::Cpu, WeightsFormat::Safetensors));
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
}
