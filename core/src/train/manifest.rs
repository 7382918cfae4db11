//! The manifest of a training run (`manifest.json` beside its checkpoints): the data set, the
//! settings, and per checkpoint its step, file, sha256 and test-set accuracy. Checkpoints are
//! named `step-N`; their steps are log-spaced (early training changes fastest).

use serde::{Deserialize, Serialize};

use super::TrainError;

/// What determines a run's trajectory: same settings, same weights at every step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Seed of the initialisation and the data order.
    pub seed: u64,
    /// Images per step.
    pub batch: usize,
    /// Adam's step size.
    pub learning_rate: f32,
}

/// Where the data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// Name and origin.
    pub source: String,
    /// License.
    pub license: String,
    /// Training images used.
    pub train_images: usize,
    /// Test images accuracies are measured on.
    pub test_images: usize,
    /// Class names, by label.
    pub classes: Vec<String>,
}

/// One saved checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// Steps taken (0: the initialisation).
    pub step: usize,
    /// Its name, `step-N`.
    pub name: String,
    /// The weights' file (safetensors), beside the manifest.
    pub file: String,
    /// sha256 of the weights' file.
    pub sha256: String,
    /// The optimizer state's file, to resume from here.
    pub state_file: String,
    /// sha256 of the optimizer state's file.
    pub state_sha256: String,
    /// Accuracy on the test set.
    pub test_accuracy: f32,
    /// Mean training loss over the steps since the previous checkpoint (none at step 0).
    pub train_loss: Option<f32>,
    /// Training time so far, in seconds (summed over resumed sessions).
    pub train_seconds: f64,
}

/// A run's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainManifest {
    /// The model's id.
    pub model: String,
    /// The data.
    pub dataset: DatasetRecord,
    /// The settings.
    pub settings: TrainSettings,
    /// Finished checkpoints, by step.
    pub checkpoints: Vec<CheckpointRecord>,
}

impl TrainManifest {
    /// The checkpoint called `name`.
    pub fn checkpoint(&self, name: &str) -> Option<&CheckpointRecord> {
        self.checkpoints.iter().find(|c| c.name == name)
    }

    /// The last checkpoint.
    pub fn latest(&self) -> Option<&CheckpointRecord> {
        self.checkpoints.iter().max_by_key(|c| c.step)
    }

    /// Adds or replaces the checkpoint of `record.step`, keeping them sorted.
    pub fn record(&mut self, record: CheckpointRecord) {
        self.checkpoints.retain(|c| c.step != record.step);
        self.checkpoints.push(record);
        self.checkpoints.sort_by_key(|c| c.step);
    }

    /// Where a run that must produce the checkpoints `wanted` can start: the finished
    /// checkpoint with the largest step such that every wanted step up to it is finished
    /// (`None`: start from the initialisation).
    pub fn resume_point(&self, wanted: &[usize]) -> Option<&CheckpointRecord> {
        let finished = |step: usize| self.checkpoints.iter().any(|c| c.step == step);
        let first_missing = wanted.iter().copied().filter(|&s| !finished(s)).min();
        self.checkpoints
            .iter()
            .filter(|c| first_missing.is_none_or(|m| c.step < m))
            .max_by_key(|c| c.step)
    }
}

/// The name of the checkpoint after `step` steps: `step-300`.
pub fn checkpoint_name(step: usize) -> String {
    format!("step-{step}")
}

/// The weights' file of the checkpoint after `step` steps (zero-padded so files sort).
pub fn checkpoint_file(step: usize) -> String {
    format!("step-{step:07}.safetensors")
}

/// The step of a checkpoint name `step-N`.
pub fn parse_checkpoint_name(name: &str) -> Result<usize, TrainError> {
    name.strip_prefix("step-")
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| TrainError::CheckpointName(name.to_owned()))
}

/// Log-spaced checkpoint steps up to `steps`: 0, 10, 30, 100, 300, 1000, 3000 … and `steps`.
pub fn log_spaced_checkpoints(steps: usize) -> Vec<usize> {
    let mut out = vec![0];
    let mut decade = 10usize;
    while decade <= steps {
        out.push(decade);
        if decade.saturating_mul(3) <= steps {
            out.push(decade * 3);
        }
        decade = decade.saturating_mul(10);
    }
    if out.last() != Some(&steps) {
        out.push(steps);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: usize) -> CheckpointRecord {
        CheckpointRecord {
            step,
            name: checkpoint_name(step),
            file: checkpoint_file(step),
            sha256: "00".repeat(32),
            state_file: format!("state-{step}.safetensors"),
            state_sha256: "11".repeat(32),
            test_accuracy: 0.5,
            train_loss: (step > 0).then_some(1.5),
            train_seconds: step as f64,
        }
    }

    #[test]
    fn schedule_and_names() {
        assert_eq!(log_spaced_checkpoints(3000), [0, 10, 30, 100, 300, 1000, 3000]);
        assert_eq!(log_spaced_checkpoints(2500), [0, 10, 30, 100, 300, 1000, 2500]);
        assert_eq!(log_spaced_checkpoints(5), [0, 5]);
        assert_eq!(log_spaced_checkpoints(0), [0]);
        assert_eq!(checkpoint_name(300), "step-300");
        assert_eq!(parse_checkpoint_name("step-300").unwrap(), 300);
        for bad in ["step-", "step-3a", "300", "step--1", "step-99999999999999999999999"] {
            assert!(parse_checkpoint_name(bad).is_err(), "{bad}");
        }
        assert_eq!(checkpoint_file(30), "step-0000030.safetensors");
    }

    #[test]
    fn manifest_round_trips_and_finds_the_resume_point() {
        let mut manifest = TrainManifest {
            model: "fashion-cnn".into(),
            dataset: DatasetRecord {
                source: "s".into(),
                license: "MIT".into(),
                train_images: 60_000,
                test_images: 10_000,
                classes: vec!["a".into(), "b".into()],
            },
            settings: TrainSettings { seed: 0, batch: 64, learning_rate: 1e-3 },
            checkpoints: Vec::new(),
        };
        assert_eq!(manifest.resume_point(&[0, 10]), None);
        manifest.record(record(10));
        manifest.record(record(0));
        manifest.record(record(100));
        let json = serde_json::to_string_pretty(&manifest).unwrap();
        let back: TrainManifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, manifest);
        assert_eq!(back.checkpoints.iter().map(|c| c.step).collect::<Vec<_>>(), [0, 10, 100]);
        assert_eq!(back.latest().map(|c| c.step), Some(100));
        assert_eq!(back.checkpoint("step-10").map(|c| c.step), Some(10));
        // All wanted up to 100 are done: continue from 100.
        assert_eq!(back.resume_point(&[0, 10, 100, 300]).map(|c| c.step), Some(100));
        // Step 30 is missing: restart from 10, the last finished before it.
        assert_eq!(back.resume_point(&[0, 10, 30, 100]).map(|c| c.step), Some(10));
        // Re-recording replaces.
        manifest.record(CheckpointRecord { test_accuracy: 0.9, ..record(10) });
        assert_eq!(manifest.checkpoints.len(), 3);
        assert_eq!(manifest.checkpoint("step-10").map(|c| c.test_accuracy), Some(0.9));
    }
}
