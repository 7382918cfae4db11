//! The pages a published site gives an entry of their own: home, every model, every layer and
//! every unit (of each model's default checkpoint), each with the words and the picture that
//! a link preview shows, read from the atlas. A unit's picture is its channel visualization,
//! else the sheet of its top dataset examples; a layer's, its first sheet of channel
//! thumbnails.

use anyhow::{Context, Result};
use microscope_core::UnitId;
use microscope_core::atlas::{
    AssetPath, AtlasSource, ImageAsset, LayerManifest, ModelManifest, UnitManifest, parse_index,
    parse_layer, parse_model, parse_unit, paths,
};
use microscope_core::unit::{layer_url_path, model_url_path};

/// The site's name, in titles and cards.
pub const SITE_NAME: &str = "Microscope";

/// How many of a unit's top classes its description names.
const CLASSES_NAMED: usize = 3;

/// One page of the site.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its path under the site (`/` for home), from core's URL shapes.
    pub path: String,
    /// What it shows, short: `blocks.8:50`.
    pub heading: String,
    /// The document title.
    pub title: String,
    /// One or two sentences for previews and search results.
    pub description: String,
    /// The picture of its link preview.
    pub image: Option<Preview>,
    /// The unit, for unit pages (they also get an oEmbed document).
    pub unit: Option<UnitPage>,
}

/// A link preview's picture: an image of the atlas.
#[derive(Debug, Clone)]
pub struct Preview {
    /// Where it is in the atlas.
    pub path: AssetPath,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Its text alternative.
    pub alt: String,
}

impl Preview {
    fn of(image: &ImageAsset, alt: String) -> Self {
        Self { path: image.path.clone(), width: image.width, height: image.height, alt }
    }
}

/// The unit a unit page shows.
#[derive(Debug, Clone)]
pub struct UnitPage {
    /// Model id.
    pub model: String,
    /// The unit.
    pub id: UnitId,
}

/// Reads a manifest if the atlas has it.
fn read<M>(
    source: &impl AtlasSource,
    path: &AssetPath,
    parse: fn(&str, &[u8]) -> Result<M, microscope_core::atlas::AtlasError>,
) -> Result<Option<M>> {
    let Some(bytes) = source.read(path)? else { return Ok(None) };
    Ok(Some(parse(path.as_str(), &bytes).with_context(|| format!("reading {path}"))?))
}

/// Every page of the site, home first, then each model with its layers and units in order.
pub fn collect(source: &impl AtlasSource) -> Result<Vec<Page>> {
    let index =
        read(source, &paths::index(), parse_index)?.context("the atlas has no atlas.json")?;
    let mut pages = vec![Page {
        path: "/".to_owned(),
        heading: index.title.clone(),
        title: index.title.clone(),
        description: index.description.clone().unwrap_or_else(|| {
            "Feature visualizations, dataset examples and circuits for every unit of vision \
             models."
                .to_owned()
        }),
        image: None,
        unit: None,
    }];
    for entry in &index.models {
        let path = paths::model_manifest(&entry.id);
        let model = read(source, &path, parse_model)?
            .with_context(|| format!("atlas.json lists {} but {path} is missing", entry.id))?;
        model_pages(source, &model, &mut pages)?;
    }
    Ok(pages)
}

/// The pages of one model: itself, its layers, their units.
fn model_pages(
    source: &impl AtlasSource,
    model: &ModelManifest,
    pages: &mut Vec<Page>,
) -> Result<()> {
    let id = model.id.as_str();
    let layers = &model.graph.layers;
    let units: u64 = layers.iter().map(|l| u64::from(l.units)).sum();
    pages.push(Page {
        path: model_url_path(id),
        heading: model.title.clone(),
        title: format!("{} — {SITE_NAME}", model.title),
        description: model.summary.clone().unwrap_or_else(|| {
            format!(
                "{}: {} layers, {units} units, each with feature visualizations and dataset \
                 examples.",
                model.title,
                layers.len()
            )
        }),
        image: None,
        unit: None,
    });
    let checkpoint = &model.default_checkpoint;
    for info in layers {
        let layer_path = paths::layer_manifest(&model.id, checkpoint, &info.name);
        let manifest: Option<LayerManifest> = read(source, &layer_path, parse_layer)?;
        let name = info.name.as_str();
        let image = manifest.as_ref().and_then(|m| m.sheets.channel.first()).map(|sheet| {
            Preview::of(&sheet.image, format!("Channel visualizations of the units of {name}"))
        });
        let op = info.op.as_deref().map(|op| format!(" ({op})")).unwrap_or_default();
        pages.push(Page {
            path: layer_url_path(id, name),
            heading: name.to_owned(),
            title: format!("{name} · {} — {SITE_NAME}", model.title),
            description: format!(
                "The {} units of layer {name}{op} of {}: feature visualizations and dataset \
                 examples.",
                info.units, model.title
            ),
            image,
            unit: None,
        });
        for unit in 0..info.units {
            let built = manifest.as_ref().is_some_and(|m| m.coverage.built.contains(unit));
            let unit_manifest = if built {
                let path = paths::unit_manifest(&model.id, checkpoint, &info.name, unit);
                read(source, &path, parse_unit)?
            } else {
                None
            };
            pages.push(unit_page(model, name, unit, unit_manifest.as_ref()));
        }
    }
    Ok(())
}

/// A unit's page; `manifest` is `None` for a unit the atlas has not built.
fn unit_page(
    model: &ModelManifest,
    layer: &str,
    unit: u32,
    manifest: Option<&UnitManifest>,
) -> Page {
    let id = UnitId::new(layer, unit as usize);
    let label = manifest.and_then(|m| m.label.clone());
    let named = match &label {
        Some(label) => format!("{id} “{label}”"),
        None => id.to_string(),
    };
    let image = manifest
        .and_then(UnitManifest::picture)
        .map(|picture| Preview::of(picture.image(), picture.alt(&id.to_string(), &model.title)));
    let names = model.labels.as_ref().map(|l| l.names.as_slice()).unwrap_or_default();
    let classes: Vec<String> = manifest
        .and_then(|m| m.top_classes.as_ref())
        .into_iter()
        .flatten()
        .take(CLASSES_NAMED)
        .map(|c| {
            names.get(c.class as usize).cloned().unwrap_or_else(|| format!("class {}", c.class))
        })
        .collect();
    let mut description = format!("Unit {unit} of layer {layer} in {}", model.title);
    description.push_str(match (manifest.is_some(), image.is_some()) {
        (true, true) => ": what it looks for, and the photographs that excite it most.",
        (true, false) => ": its dataset examples and statistics.",
        (false, _) => ": not in the atlas yet; the page renders it in your browser.",
    });
    if !classes.is_empty() {
        description.push_str(&format!(" It drives {}.", classes.join(", ")));
    }
    Page {
        path: id.url_path(model.id.as_str()),
        heading: named.clone(),
        title: format!("{named} · {} — {SITE_NAME}", model.title),
        description,
        image,
        unit: Some(UnitPage { model: model.id.as_str().to_owned(), id }),
    }
}
