//! Executing a [`BuildPlan`], in small named steps: load the corpus, write the shared files
//! (`atlas.json`, `model.json`, `photos.json`), then per checkpoint survey what is left, run
//! the corpus pass and the circuits for those units only, render and write them; finally
//! derive every layer's files from the unit files.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use microscope_core::atlas::{ModelManifest, Name, Technique, parse_model, paths};
use microscope_core::circuits::{UnitLinks, circuits};
use microscope_core::model::Model;

use super::content::{FromStats, unit_circuits};
use super::corpus::{self, Corpus};
use super::finish::finish;
use super::folder::write_manifest;
use super::lock::FolderLock;
use super::model_files::{
    index, mark_built, merged_index, merged_photos, model_manifest, trained_manifest,
};
use super::plan::{BuildPlan, Target};
use super::selection::BuildTechnique;
use super::settings::BuildSettings;
use super::stats::{self, CorpusStats};
use super::survey::{LayerWork, Survey, UnitWork, survey};
use super::unit_files::{UnitContent, write_unit};
use super::visualize::{UnitRenders, render_units};

/// A checkpoint's weights for the in-browser renderer, in its folder.
const WEIGHTS_FILE: &str = "weights.safetensors";

/// Builds (or resumes) the atlas `plan` describes.
pub fn execute(plan: &BuildPlan) -> Result<()> {
    let started = Instant::now();
    let root = &plan.out;
    let _lock = FolderLock::acquire(root, "build")?;
    let corpus = load_corpus(plan)?;
    let settings = BuildSettings::new(plan, corpus.as_ref())?;
    let manifest = write_shared_files(plan, &settings, corpus.as_ref())?;
    let mut built = 0usize;
    for target in &plan.targets {
        built += build_checkpoint(plan, &manifest, &settings, target, corpus.as_ref(), started)?;
    }
    let layers = finish(root, Some(&manifest.id))?;
    mark_built(root, &manifest.id)?;
    eprintln!(
        "{}: {built} units built, {layers} layer manifests derived in {:.1} s",
        root.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A progress bar (hidden when quiet).
fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    let template =
        format!("{what:>9} {{bar:40}} {{pos}}/{{len}} {{elapsed_precise}} (eta {{eta}}) {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The corpus, when the plan needs one (also for `photos.json`, identical in every shard).
fn load_corpus(plan: &BuildPlan) -> Result<Option<Corpus>> {
    plan.corpus.as_ref().map(|c| corpus::load(c.kind, c.images.as_deref())).transpose()
}

/// Writes `atlas.json`, `model.json` and `photos.json` (joined with what the folder holds);
/// returns the model manifest.
fn write_shared_files(
    plan: &BuildPlan,
    settings: &BuildSettings,
    corpus: Option<&Corpus>,
) -> Result<ModelManifest> {
    let root = &plan.out;
    let previous = previous_model(root, &plan.model)?;
    let (mut manifest, title, summary) = model_manifest(
        &plan.model,
        plan.labels.as_ref(),
        plan.fv.seed,
        settings.to_map(previous.as_ref().map(|p| &p.provenance.build.settings))?,
    )?;
    if let Some(run) = &plan.trained {
        trained_manifest(&mut manifest, run, &plan.targets)?;
    }
    if let Some(previous) = &previous {
        keep_checkpoints(&mut manifest, previous);
    }
    // Listed as being built until `execute` finishes it (a viewer may show it meanwhile).
    let mut atlas_index = index(&manifest.id, &title, summary.as_deref(), corpus.is_some());
    for entry in &mut atlas_index.models {
        entry.building = true;
    }
    write_manifest(root, &merged_index(root, atlas_index)?)?;
    write_manifest(root, &manifest)?;
    if let Some(corpus) = corpus {
        write_manifest(root, &merged_photos(root, corpus.manifest())?)?;
    }
    Ok(manifest)
}

/// The `model.json` of `model` in `root`, if it is there.
fn previous_model(root: &Path, model: &Model) -> Result<Option<ModelManifest>> {
    let id = Name::new(model.id()).map_err(|e| anyhow::anyhow!("model id: {e}"))?;
    let path = paths::model_manifest(&id);
    let Ok(bytes) = std::fs::read(root.join(path.as_str())) else { return Ok(None) };
    let manifest = parse_model(path.as_str(), &bytes).with_context(|| {
        format!("{} is damaged; remove it to build afresh", root.join(path.as_str()).display())
    })?;
    Ok(Some(manifest))
}

/// Keeps the checkpoints an earlier build listed and this one does not build (their units
/// stay in the folder), in step order; the last becomes the default when steps order them.
fn keep_checkpoints(manifest: &mut ModelManifest, previous: &ModelManifest) {
    let kept: Vec<_> = previous
        .checkpoints
        .iter()
        .filter(|old| manifest.checkpoint(old.id.as_str()).is_none())
        .cloned()
        .collect();
    if kept.is_empty() {
        return;
    }
    let kept_ids: Vec<Name> = kept.iter().map(|c| c.id.clone()).collect();
    manifest.checkpoints.extend(kept);
    manifest.checkpoints.sort_by_key(|c| c.step);
    if manifest.checkpoints.iter().all(|c| c.step.is_some())
        && let Some(last) = manifest.checkpoints.last()
    {
        manifest.default_checkpoint = last.id.clone();
        // The provenance of the weights is the default checkpoint's.
        if kept_ids.contains(&last.id) {
            manifest.provenance.weights = previous.provenance.weights.clone();
        }
    }
}

/// Builds what is left of one checkpoint; returns the units written.
fn build_checkpoint(
    plan: &BuildPlan,
    manifest: &ModelManifest,
    settings: &BuildSettings,
    target: &Target,
    corpus: Option<&Corpus>,
    started: Instant,
) -> Result<usize> {
    let checkpoint = &target.checkpoint;
    let (model, weights) = plan.load(target)?;
    if let Some(bytes) = &weights {
        let dir = plan.out.join(paths::checkpoint_dir(&manifest.id, checkpoint).as_str());
        crate::cache::write_atomic(&dir.join(WEIGHTS_FILE), bytes)?;
    }
    let weights_sha =
        manifest.checkpoint(checkpoint.as_str()).and_then(|c| c.weights_sha256.as_ref());
    let fingerprints = settings.fingerprints(weights_sha)?;
    let work = survey(plan, &model, &manifest.id, checkpoint, &fingerprints)?;
    eprintln!("{}@{checkpoint}: {}", plan.model_id, work.summary());
    if work.is_empty() {
        return Ok(0);
    }
    let stats = corpus_pass(plan, &model, corpus, &work, started)?;
    let links = work
        .needs(BuildTechnique::Circuits)
        .then(|| circuits(model.graph(), model.layers(), plan.circuit_links));
    let writer = UnitWriter {
        plan,
        model: &model,
        model_name: &manifest.id,
        checkpoint,
        fingerprints: &fingerprints,
        stats: stats.as_ref().zip(corpus),
        links: links.as_deref(),
        bar: bar(plan.quiet, work.units() as u64, "units"),
    };
    for layer in &work.layers {
        writer.build_layer(layer)?;
    }
    writer.bar.finish_and_clear();
    Ok(work.units())
}

/// The corpus pass over the units that need examples or classes; none when no unit does.
fn corpus_pass(
    plan: &BuildPlan,
    model: &Model,
    corpus: Option<&Corpus>,
    work: &Survey,
    started: Instant,
) -> Result<Option<CorpusStats>> {
    let Some(corpus) = corpus else { return Ok(None) };
    let uses_corpus =
        |u: &UnitWork| u.needs(BuildTechnique::Examples) || u.needs(BuildTechnique::Classes);
    let tracked: Vec<(usize, Vec<u32>)> = work
        .layers
        .iter()
        .map(|layer| {
            (layer.layer, layer.units.iter().filter(|u| uses_corpus(u)).map(|u| u.unit).collect())
        })
        .filter(|(_, units): &(usize, Vec<u32>)| !units.is_empty())
        .collect();
    if tracked.is_empty() {
        return Ok(None);
    }
    let classes = if work.needs(BuildTechnique::Classes) {
        let output = model.graph().outputs().first().copied();
        model.layers().iter().position(|l| Some(l.value) == output)
    } else {
        None
    };
    let crops_bar = bar(plan.quiet, 0, "corpus");
    let stats =
        stats::run(model, corpus, &tracked, classes, &plan.stats, &plan.device, &crops_bar)?;
    crops_bar.finish_and_clear();
    eprintln!(
        "corpus: {} photos, {} crops in {:.0} s",
        corpus.photos.len(),
        stats.crops.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Some(stats))
}

/// Renders and writes the units of one checkpoint.
struct UnitWriter<'a> {
    plan: &'a BuildPlan,
    model: &'a Model,
    model_name: &'a Name,
    checkpoint: &'a Name,
    fingerprints: &'a BTreeMap<Technique, String>,
    stats: Option<(&'a CorpusStats, &'a Corpus)>,
    links: Option<&'a [Vec<UnitLinks>]>,
    bar: ProgressBar,
}

impl UnitWriter<'_> {
    /// Builds the units of `layer`: those with visualizations to render in batches of units
    /// that need the same ones, then the rest.
    fn build_layer(&self, layer: &LayerWork) -> Result<()> {
        let info = self.model.layers().get(layer.layer).context("layer index")?;
        let mut groups: BTreeMap<Vec<BuildTechnique>, Vec<&UnitWork>> = BTreeMap::new();
        for unit in &layer.units {
            let fv: Vec<BuildTechnique> =
                unit.techniques.iter().copied().filter(|t| t.is_visualization()).collect();
            groups.entry(fv).or_default().push(unit);
        }
        for (fv_techniques, units) in &groups {
            if fv_techniques.is_empty() {
                self.bar.set_message(info.name.clone());
                for unit in units {
                    self.write(layer, unit, UnitRenders::default())?;
                }
                continue;
            }
            for chunk in units.chunks(self.plan.fv_batch) {
                let numbers: Vec<u32> = chunk.iter().map(|u| u.unit).collect();
                let span = match (numbers.first(), numbers.last()) {
                    (Some(first), Some(last)) => format!("{} {first}..={last}", info.name),
                    _ => info.name.clone(),
                };
                self.bar.set_message(span.clone());
                let steps = self.plan.fv.steps;
                let mut renders = render_units(
                    self.model,
                    &info.name,
                    &numbers,
                    fv_techniques,
                    &self.plan.fv,
                    &self.plan.device,
                    &mut |step| {
                        if step % 16 == 0 || step == steps {
                            self.bar.set_message(format!("{span} step {step}/{steps}"));
                        }
                    },
                )?;
                for unit in chunk {
                    self.write(layer, unit, renders.remove(&unit.unit).unwrap_or_default())?;
                }
            }
        }
        Ok(())
    }

    /// Assembles one unit's new parts and writes it, keeping what it held.
    fn write(&self, layer: &LayerWork, work: &UnitWork, renders: UnitRenders) -> Result<()> {
        let unit = work.unit;
        let built = work
            .techniques
            .iter()
            .flat_map(|t| t.atlas_techniques())
            .filter_map(|part| self.fingerprints.get(part).map(|print| (*part, print.clone())))
            .collect();
        let mut content = UnitContent {
            techniques: work.techniques.iter().copied().collect(),
            built,
            renders,
            steps: u32::try_from(self.plan.fv.steps)?,
            ..UnitContent::default()
        };
        if let Some((stats, corpus)) = self.stats
            && let Some(tracked) = stats.layers.iter().find(|t| t.layer == layer.layer)
        {
            let from = FromStats {
                stats,
                tracked,
                corpus,
                examples: work.needs(BuildTechnique::Examples),
                classes: work.needs(BuildTechnique::Classes).then_some(self.plan.top_classes),
                short_names: self.plan.short_names.as_deref(),
            };
            from.fill(&mut content, unit)?;
        }
        if let Some(links) = self.links
            && work.needs(BuildTechnique::Circuits)
        {
            content.circuits = Some(unit_circuits(links, self.model.layers(), layer.layer, unit)?);
        }
        write_unit(
            &self.plan.out,
            self.model_name,
            self.checkpoint,
            &layer.name,
            unit,
            content,
            work.base.as_ref(),
        )?;
        self.bar.inc(1);
        Ok(())
    }
}
