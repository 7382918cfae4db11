//! A unit's content from what the passes computed: dataset examples (cropped from the corpus),
//! the histogram and top classes from the corpus pass, circuits from the model's weights.

use anyhow::Result;
use image::imageops::{FilterType, crop_imm, resize};
use microscope_core::atlas::{Circuits, ClassScore, Connection, Histogram, Name, Statistic};
use microscope_core::circuits::{Link, UnitLinks};
use microscope_core::examples::label_rule;
use microscope_core::graph::LayerInfo;

use super::corpus::Corpus;
use super::stats::{CorpusStats, ExampleRef, TrackedLayer};
use super::unit_files::{EXAMPLE_TILE, ExampleOut, UnitContent};

/// What the corpus pass gives one unit, and what of it to keep.
pub struct FromStats<'a> {
    /// The pass.
    pub stats: &'a CorpusStats,
    /// The unit's layer in the pass.
    pub tracked: &'a TrackedLayer,
    /// The corpus it went over.
    pub corpus: &'a Corpus,
    /// Keep the examples and histogram.
    pub examples: bool,
    /// Keep the top classes (and the label the rule allows, with its evidence), this many.
    pub classes: Option<usize>,
    /// Short class names for the label.
    pub short_names: Option<&'a [String]>,
}

impl FromStats<'_> {
    /// Puts `unit`'s examples, histogram, classes and label into `content`.
    pub fn fill(&self, content: &mut UnitContent, unit: u32) -> Result<()> {
        let Ok(k) = self.tracked.units.binary_search(&unit) else { return Ok(()) };
        let Some(unit_stats) = self.tracked.stats.get(k) else { return Ok(()) };
        if self.examples {
            let top = self.examples_of(unit_stats.by_max.top());
            let bottom = self.examples_of(unit_stats.by_min.bottom());
            content.examples = Some((top, bottom));
            if let Some((min, max, counts)) = unit_stats.histogram.finish() {
                content.histogram =
                    Some(Histogram { statistic: Statistic::SpatialMax, min, max, counts });
            }
        }
        if let Some(count) = self.classes
            && let Some(top) = self.stats.top_classes(self.tracked, k, count)
        {
            let evidence = self.stats.label_evidence(self.tracked, k);
            content.label = evidence
                .filter(label_rule::is_strong)
                .and_then(|e| self.short_names.and_then(|n| n.get(e.class as usize)))
                .cloned();
            content.label_evidence = evidence;
            content.classes =
                Some(top.into_iter().map(|(class, score)| ClassScore { class, score }).collect());
        }
        Ok(())
    }

    /// The examples of a ranked list, each with its crop at [`EXAMPLE_TILE`] pixels.
    fn examples_of<'e>(
        &self,
        list: impl Iterator<Item = (f32, u32, &'e ExampleRef)>,
    ) -> Vec<ExampleOut> {
        list.filter_map(|(activation, _, example)| {
            let (photo, crop) = self.stats.example_box(self.corpus, self.tracked, *example)?;
            let (_, working) = self.stats.working_box(self.tracked, *example)?;
            let photo = self.corpus.photos.get(photo)?;
            let cut = crop_imm(&photo.image, working.x, working.y, working.width, working.height)
                .to_image();
            let tile = resize(&cut, EXAMPLE_TILE, EXAMPLE_TILE, FilterType::Triangle);
            Some(ExampleOut {
                photo: photo.entry.id.clone(),
                crop,
                activation,
                tile,
                class: photo.class,
            })
        })
        .collect()
    }
}

/// The circuits of `unit` of catalogue layer `layer`, from the links of every layer.
pub fn unit_circuits(
    links: &[Vec<UnitLinks>],
    catalogue: &[LayerInfo],
    layer: usize,
    unit: u32,
) -> Result<Circuits> {
    let Some(unit_links) = links.get(layer).and_then(|l| l.get(unit as usize)) else {
        return Ok(Circuits::default());
    };
    let convert = |list: &[Link]| -> Result<Vec<Connection>> {
        list.iter()
            .filter_map(|link| catalogue.get(link.layer).map(|info| (link, info)))
            .map(|(link, info)| {
                Ok(Connection {
                    layer: Name::new(info.name.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?,
                    unit: link.unit,
                    weight: link.weight,
                })
            })
            .collect()
    };
    Ok(Circuits { inputs: convert(&unit_links.inputs)?, outputs: convert(&unit_links.outputs)? })
}
