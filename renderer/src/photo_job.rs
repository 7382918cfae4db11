//! Photo jobs in the worker: the visitor's photo decoded within core's limits and measured by
//! core's photo-query functions (the same as `microscope classify` and `microscope
//! activation`), one stage at a time, with a pause before each stage so that a cancel gets
//! through, and a progress event per stage.

use burn::prelude::Device;
use microscope_core::fv::CancelFlag;
use microscope_core::network::Network;
use microscope_core::photo_query::{
    LayerRanking, PhotoAnswer, PhotoFile, PhotoLimits, PhotoQuery, PhotoQueryError, PhotoStage,
    TOP_CLASSES, check_query, class_probabilities, classify_framing, decode_photo,
    layer_activations, rank_units, top_classes, unit_on_photo,
};
use microscope_core::protocol::{ComputePath, ModelRef, RenderFailure, RendererEvent};

use crate::devices::device_for;
use crate::models::model_for;
use crate::render_job::{failure, pause};

/// Runs a photo job to its end, sending its events through `post`.
pub async fn run(
    job: u32,
    path: ComputePath,
    model: ModelRef,
    photo: PhotoFile,
    query: PhotoQuery,
    post: impl Fn(&RendererEvent),
) {
    let flag = crate::jobs::begin(job);
    let outcome = answer(job, path, &model, &photo, &query, &flag, &post).await;
    crate::jobs::end(job);
    post(&match outcome {
        Ok(done) => done,
        Err(failure) => RendererEvent::Failed { job, failure },
    });
}

/// The stages of a job, counted for its progress events.
struct Stages<'a, P: Fn(&RendererEvent)> {
    job: u32,
    begun: u32,
    steps: u32,
    flag: &'a CancelFlag,
    post: &'a P,
}

impl<P: Fn(&RendererEvent)> Stages<'_, P> {
    /// Lets queued messages run, stops on a cancel, and tells the page what comes next.
    async fn enter(&mut self, stage: PhotoStage) -> Result<(), RenderFailure> {
        pause().await;
        if self.flag.is_cancelled() {
            return Err(RenderFailure::Cancelled);
        }
        self.begun += 1;
        (self.post)(&RendererEvent::PhotoProgress {
            job: self.job,
            stage,
            step: self.begun,
            steps: self.steps,
        });
        Ok(())
    }
}

async fn answer(
    job: u32,
    path: ComputePath,
    model_ref: &ModelRef,
    photo: &PhotoFile,
    query: &PhotoQuery,
    flag: &CancelFlag,
    post: &impl Fn(&RendererEvent),
) -> Result<RendererEvent, RenderFailure> {
    let started = js_sys::Date::now();
    // Model and decode, then what the query asks for; the unit shares the layer's pass when
    // it is of the ranked layer.
    let unit_layer = query.unit.as_ref().map(|unit| unit.layer.as_str());
    let separate_unit_pass = unit_layer.is_some() && unit_layer != query.layer.as_deref();
    let steps = 2
        + u32::from(query.classes)
        + u32::from(query.layer.is_some())
        + u32::from(query.unit.is_some());
    let mut stages = Stages { job, begun: 0, steps, flag, post };

    stages.enter(PhotoStage::Model).await?;
    let device: Device =
        device_for(path).await.map_err(|message| RenderFailure::Other { message })?;
    let model = model_for(model_ref, path, &device).await?;
    let network: &dyn Network = model.as_ref();
    check_query(network, query)
        .map_err(|error| RenderFailure::Objective { message: error.to_string() })?;

    stages.enter(PhotoStage::Decode).await?;
    let rgb = decode_photo(&photo.bytes, PhotoLimits::BROWSER)
        .map_err(|error| RenderFailure::Photo { error })?;
    let mut answer =
        PhotoAnswer { width: rgb.width(), height: rgb.height(), ..PhotoAnswer::default() };

    if query.classes {
        stages.enter(PhotoStage::Classes).await?;
        let framing = classify_framing(model_ref.id());
        let probabilities =
            class_probabilities(&model, &rgb, framing, &device).await.map_err(query_failure)?;
        answer.classes = Some(top_classes(&probabilities, TOP_CLASSES));
    }

    let mut shared = None;
    if let Some(layer) = &query.layer {
        stages.enter(PhotoStage::Layer).await?;
        let activations =
            layer_activations(network, &rgb, layer, &device).map_err(query_failure)?;
        let units = rank_units(&activations).await.map_err(query_failure)?;
        answer.ranking = Some(LayerRanking { layer: layer.clone(), units });
        shared = Some(activations);
    }

    if let Some(unit) = &query.unit {
        stages.enter(PhotoStage::Unit).await?;
        let activations = match shared {
            Some(activations) if !separate_unit_pass => activations,
            _ => layer_activations(network, &rgb, &unit.layer, &device).map_err(query_failure)?,
        };
        answer.unit = Some(unit_on_photo(&activations, unit.unit).await.map_err(query_failure)?);
    }

    Ok(RendererEvent::PhotoDone { job, path, answer, elapsed_ms: js_sys::Date::now() - started })
}

/// What a photo query's error means for the page.
fn query_failure(error: PhotoQueryError) -> RenderFailure {
    match error {
        PhotoQueryError::Photo(error) => RenderFailure::Photo { error },
        PhotoQueryError::Query(error) => RenderFailure::Objective { message: error.to_string() },
        PhotoQueryError::Measure(error) => failure(error),
        other @ (PhotoQueryError::Preprocess(_) | PhotoQueryError::Model(_)) => {
            RenderFailure::Other { message: other.to_string() }
        }
    }
}
