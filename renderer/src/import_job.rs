//! Import jobs in the worker: the visitor's ONNX file checked and imported by core's
//! `model_import` within [`OnnxLimits::BROWSER`] (what `microscope import-onnx` runs), built
//! on the path's device and run once, then kept for renders; a progress event and a pause
//! (for a cancel) before each stage. Nothing leaves the worker.

use burn::prelude::Device;
use microscope_core::fv::CancelFlag;
use microscope_core::model_import::{
    ImportSettings, ImportStage, ModelSummary, OnnxFile, OnnxLimits, import_onnx,
};
use microscope_core::protocol::{ComputePath, RenderFailure, RendererEvent};

use crate::devices::device_for;
use crate::render_job::pause;

/// Runs an import job to its end, sending its events through `post`.
pub async fn run(
    job: u32,
    path: ComputePath,
    file: OnnxFile,
    settings: ImportSettings,
    post: impl Fn(&RendererEvent),
) {
    let flag = crate::jobs::begin(job);
    let started = js_sys::Date::now();
    let outcome = import(job, path, file, &settings, &flag, &post).await;
    crate::jobs::end(job);
    post(&match outcome {
        Ok(model) => RendererEvent::ImportDone {
            job,
            path,
            model,
            elapsed_ms: js_sys::Date::now() - started,
        },
        Err(failure) => RendererEvent::Failed { job, failure },
    });
}

const STAGES: [ImportStage; 2] = [ImportStage::Import, ImportStage::Build];

/// Lets queued messages run, stops on a cancel, and tells the page what comes next.
async fn enter(
    job: u32,
    stage: ImportStage,
    flag: &CancelFlag,
    post: &impl Fn(&RendererEvent),
) -> Result<(), RenderFailure> {
    pause().await;
    if flag.is_cancelled() {
        return Err(RenderFailure::Cancelled);
    }
    let step = STAGES.iter().position(|s| *s == stage).map_or(1, |i| i as u32 + 1);
    post(&RendererEvent::ImportProgress { job, stage, step, steps: STAGES.len() as u32 });
    Ok(())
}

async fn import(
    job: u32,
    path: ComputePath,
    file: OnnxFile,
    settings: &ImportSettings,
    flag: &CancelFlag,
    post: &impl Fn(&RendererEvent),
) -> Result<ModelSummary, RenderFailure> {
    let refused = |error| RenderFailure::Import { error };
    enter(job, ImportStage::Import, flag, post).await?;
    let imported = import_onnx(&file.bytes, settings, OnnxLimits::BROWSER).map_err(refused)?;
    // The file's bytes are not needed any more: the graph holds the weights.
    let OnnxFile { name, .. } = file;

    enter(job, ImportStage::Build, flag, post).await?;
    let device: Device =
        device_for(path).await.map_err(|message| RenderFailure::Other { message })?;
    let model = imported.model(&name, &device).map_err(refused)?;
    let summary = imported.summary(&name, &model);
    crate::models::keep_visitor(&imported.sha256, path, model);
    crate::visitor::keep(imported);
    Ok(summary)
}
