//! `.../checkpoints/<checkpoint>/layers/<layer>/layer.json`: what the atlas holds for one
//! layer at one checkpoint: which units have which techniques ([`Coverage`]) and the sprite
//! sheets of their thumbnails ([`LayerSheets`]) and each unit's strongest class ([`UnitClass`]).
//!
//! A layer manifest is derived: a builder regenerates it from the layer's unit manifests (and
//! the sheets from their images) at the end of a build or a merge, so no unit ever rewrites it
//! and shards never contend for it. Until then a layer without one simply shows placeholders.

use serde::{Deserialize, Serialize};

use super::asset_path::AssetPath;
use super::bounded;
use super::checker::Checker;
use super::error::AtlasError;
use super::limits::{MAX_SHEETS, MAX_UNITS};
use super::manifest::{ListedAsset, Manifest, ManifestKind, run_checks};
use super::name::Name;
use super::paths;
use super::ranges::RangeSet;
use super::sheet::{Sheet, Tile};
use super::technique::Technique;
use super::unit::UnitManifest;

/// The manifest of one layer at one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerManifest {
    /// The model.
    pub model: Name,
    /// The checkpoint.
    pub checkpoint: Name,
    /// The layer.
    pub layer: Name,
    /// Number of units of the layer (as in the model manifest).
    pub units: u32,
    /// Which units have a unit manifest, and which have each technique.
    #[serde(default)]
    pub coverage: Coverage,
    /// Thumbnails of the layer's units, per technique.
    #[serde(default)]
    pub sheets: LayerSheets,
    /// Each unit's strongest class (the first of its `top_classes`), by unit: class search
    /// reads these to find the units of every layer that go with a class without opening
    /// each unit. Optional (absent in older atlases, which read as before).
    #[serde(
        default,
        deserialize_with = "bounded::vec::<_, _, MAX_UNIT_CLASSES>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unit_classes: Vec<UnitClass>,
}

/// The most unit classes of a layer: one per unit.
const MAX_UNIT_CLASSES: usize = MAX_UNITS as usize;

/// A unit and its strongest class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitClass {
    /// The unit.
    pub unit: u32,
    /// The class (an index into the model's labels).
    pub class: u32,
    /// Its score, as in the unit's `top_classes`.
    pub score: f32,
}

impl UnitClass {
    /// The strongest class of each of `units` that has top classes, by unit.
    pub fn of_units(units: &[UnitManifest]) -> Vec<Self> {
        let mut out: Vec<Self> = units
            .iter()
            .filter_map(|unit| {
                let first = unit.top_classes.as_ref()?.first()?;
                Some(Self { unit: unit.unit, class: first.class, score: first.score })
            })
            .collect();
        out.sort_by_key(|c| c.unit);
        out.dedup_by_key(|c| c.unit);
        out
    }
}

/// Which units have what. A unit outside `built` has no `unit.json`; a unit in `built` but
/// outside a technique's set lacks that technique. Either way the viewer shows a placeholder
/// and may render it in the browser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Units with a `unit.json`.
    #[serde(default)]
    pub built: RangeSet,
    /// Units with a channel visualization.
    #[serde(default)]
    pub channel: RangeSet,
    /// Units with a neuron visualization.
    #[serde(default)]
    pub neuron: RangeSet,
    /// Units with a negative visualization.
    #[serde(default)]
    pub negative: RangeSet,
    /// Units with at least one diversity image.
    #[serde(default)]
    pub diversity: RangeSet,
    /// Units with dataset examples.
    #[serde(default)]
    pub dataset_examples: RangeSet,
    /// Units with an activation histogram.
    #[serde(default)]
    pub histogram: RangeSet,
    /// Units with top classes.
    #[serde(default)]
    pub top_classes: RangeSet,
    /// Units with circuits.
    #[serde(default)]
    pub circuits: RangeSet,
}

/// Sprite sheets of thumbnails, per technique, each list sorted by first unit and not
/// overlapping. Diversity sheets show each unit's first diversity image; dataset-example sheets
/// its top example's crop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSheets {
    /// Channel visualizations.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_SHEETS>")]
    pub channel: Vec<Sheet>,
    /// Neuron visualizations.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_SHEETS>")]
    pub neuron: Vec<Sheet>,
    /// Negative visualizations.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_SHEETS>")]
    pub negative: Vec<Sheet>,
    /// First diversity image.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_SHEETS>")]
    pub diversity: Vec<Sheet>,
    /// Top dataset example crop.
    #[serde(default, deserialize_with = "bounded::vec::<_, _, MAX_SHEETS>")]
    pub dataset_examples: Vec<Sheet>,
}

impl Coverage {
    /// The units with `technique`.
    pub fn get(&self, technique: Technique) -> &RangeSet {
        match technique {
            Technique::Channel => &self.channel,
            Technique::Neuron => &self.neuron,
            Technique::Negative => &self.negative,
            Technique::Diversity => &self.diversity,
            Technique::DatasetExamples => &self.dataset_examples,
            Technique::Histogram => &self.histogram,
            Technique::TopClasses => &self.top_classes,
            Technique::Circuits => &self.circuits,
        }
    }

    fn get_mut(&mut self, technique: Technique) -> &mut RangeSet {
        match technique {
            Technique::Channel => &mut self.channel,
            Technique::Neuron => &mut self.neuron,
            Technique::Negative => &mut self.negative,
            Technique::Diversity => &mut self.diversity,
            Technique::DatasetExamples => &mut self.dataset_examples,
            Technique::Histogram => &mut self.histogram,
            Technique::TopClasses => &mut self.top_classes,
            Technique::Circuits => &mut self.circuits,
        }
    }

    /// The coverage that unit manifests of one layer give (any order): what a builder writes
    /// when it derives the layer manifest.
    pub fn of_units<'a>(units: impl IntoIterator<Item = &'a UnitManifest>) -> Self {
        let mut units: Vec<&UnitManifest> = units.into_iter().collect();
        units.sort_by_key(|unit| unit.unit);
        let mut coverage = Self::default();
        for unit in units {
            coverage.built.push_sorted(unit.unit);
            for technique in Technique::ALL {
                if unit.has(technique) {
                    coverage.get_mut(technique).push_sorted(unit.unit);
                }
            }
        }
        coverage
    }
}

impl LayerSheets {
    /// The sheets of `technique` (none for techniques without thumbnails).
    pub fn get(&self, technique: Technique) -> &[Sheet] {
        match technique {
            Technique::Channel => &self.channel,
            Technique::Neuron => &self.neuron,
            Technique::Negative => &self.negative,
            Technique::Diversity => &self.diversity,
            Technique::DatasetExamples => &self.dataset_examples,
            Technique::Histogram | Technique::TopClasses | Technique::Circuits => &[],
        }
    }

    /// Every list of sheets with its technique.
    fn all(&self) -> [(Technique, &[Sheet]); 5] {
        Technique::THUMBNAILS.map(|technique| (technique, self.get(technique)))
    }
}

impl LayerManifest {
    /// The sheet and tile showing `unit`'s thumbnail of `technique`, when the unit has that
    /// technique and a sheet covers it.
    pub fn thumbnail(&self, technique: Technique, unit: u32) -> Option<(&Sheet, Tile)> {
        if !self.coverage.get(technique).contains(unit) {
            return None;
        }
        let sheets = self.sheets.get(technique);
        // Sheets are sorted by first unit and disjoint: the candidate is the last one starting
        // at or before the unit.
        let index = sheets.partition_point(|sheet| sheet.first <= unit).checked_sub(1)?;
        let sheet = sheets.get(index)?;
        sheet.tile(unit).map(|tile| (sheet, tile))
    }

    fn check(&self, c: &mut Checker) {
        let dir = paths::layer_dir(&self.model, &self.checkpoint, &self.layer);
        for listed in self.assets() {
            if !listed.asset.path.is_inside(&dir) {
                let message =
                    format!("{} lies outside the layer's folder {dir}", listed.asset.path);
                c.fail_at_path(
                    &format!("{}.path", listed.field),
                    super::error::Problem::Invalid(message),
                );
            }
        }
        c.within("units", u64::from(self.units), 1..=u64::from(MAX_UNITS));
        c.at("coverage", |c| {
            let built = &self.coverage.built;
            if built.max().is_some_and(|max| max >= self.units) {
                c.invalid("built", format!("names a unit past the layer's {} units", self.units));
            }
            for technique in Technique::ALL {
                let set = self.coverage.get(technique);
                if let Some(unit) = set.first_missing_from(built) {
                    c.invalid(
                        technique.as_str(),
                        format!("unit {unit} has {technique} but no unit manifest (it is not in `built`)"),
                    );
                }
            }
        });
        c.count("unit_classes", self.unit_classes.len(), MAX_UNIT_CLASSES);
        c.each("unit_classes", &self.unit_classes, |c, class| {
            c.finite("score", f64::from(class.score));
            if class.unit >= self.units {
                c.invalid(
                    "unit",
                    format!("unit {} is past the layer's {}", class.unit, self.units),
                );
            }
        });
        if let Some(i) =
            self.unit_classes.windows(2).position(|pair| matches!(pair, [a, b] if a.unit >= b.unit))
        {
            c.invalid("unit_classes", format!("entries {i} and {} are not sorted by unit", i + 1));
        }
        c.at("sheets", |c| {
            for (technique, sheets) in self.sheets.all() {
                let field = technique.as_str();
                c.count(field, sheets.len(), MAX_SHEETS);
                c.each(field, sheets, |c, sheet| {
                    sheet.check(c, technique.image_content());
                    if u64::from(sheet.first) + u64::from(sheet.count) > u64::from(self.units) {
                        c.invalid(
                            "count",
                            format!("the sheet passes the layer's {} units", self.units),
                        );
                    }
                });
                let overlapping = sheets.windows(2).position(|pair| match pair {
                    [a, b] => u64::from(b.first) < u64::from(a.first) + u64::from(a.count),
                    _ => false,
                });
                if let Some(i) = overlapping {
                    c.invalid(
                        field,
                        format!("sheets {i} and {} are not sorted by first unit or overlap", i + 1),
                    );
                }
            }
        });
    }
}

impl Manifest for LayerManifest {
    const KIND: ManifestKind = ManifestKind::Layer;

    fn path(&self) -> AssetPath {
        paths::layer_manifest(&self.model, &self.checkpoint, &self.layer)
    }

    fn assets(&self) -> Vec<ListedAsset<'_>> {
        let mut assets = Vec::new();
        for (field, sheets) in self.sheets.all() {
            for (i, sheet) in sheets.iter().enumerate() {
                assets.push(ListedAsset {
                    field: format!("sheets.{field}[{i}].image"),
                    asset: &sheet.image,
                });
            }
        }
        assets
    }

    fn validate(&self) -> Vec<AtlasError> {
        run_checks(&self.path(), |c| self.check(c))
    }
}
