//! Messages between the viewer and the renderer worker, serialised with serde on both sides
//! (serde-wasm-bindgen in the browser). Every request carries a job number that its events
//! repeat, so the viewer can tell the answers to concurrent or cancelled jobs apart.

use serde::{Deserialize, Serialize};

/// Which compute path the renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}
