//! A layer's units on a photo, measured as `microscope activation` measures a unit: the whole
//! picture stretched to the model's input ([`picture_input`]), one forward pass to the layer,
//! then each unit's channel objective (its mean activation over positions). One unit also gets
//! its activation map and extremes ([`crate::examples::spatial`], as the atlas's histograms
//! and dataset examples summarise a unit).

use burn::prelude::*;
use image::RgbImage;

use super::error::PhotoQueryError;
use super::messages::{ActivationMap, PhotoQuery, UnitOnPhoto, UnitValue};
use super::overlay::activation_overlay;
use crate::UnitId;
use crate::examples::spatial::summarise;
use crate::fv::RenderError;
use crate::fv::measure::{picture_input, values_on};
use crate::fv::validate::ObjectiveError;
use crate::network::Network;
use crate::objective::Objective;

/// Checks that the layer and unit a query names are in `network` (before any work).
pub fn check_query(network: &dyn Network, query: &PhotoQuery) -> Result<(), ObjectiveError> {
    if let Some(layer) = &query.layer
        && network.layer(layer).is_none()
    {
        return Err(ObjectiveError::UnknownLayer {
            model: network.id().to_owned(),
            layer: layer.clone(),
            suggestion: None,
        });
    }
    if let Some(unit) = &query.unit {
        Objective::channel(unit.layer.clone(), unit.unit).validate(network, 1, false)?;
    }
    Ok(())
}

/// A layer's activations on a photo, with the input they came from.
pub struct LayerActivations {
    /// The layer's name.
    pub layer: String,
    /// The normalised input: `[1, channels, S, S]`.
    pub input: Tensor<4>,
    /// The layer's activations: `[1, C, H, W]`.
    pub activations: Tensor<4>,
}

/// Runs `network` on `photo` (stretched to its input, as `microscope activation` does) up to
/// `layer`.
pub fn layer_activations(
    network: &dyn Network,
    photo: &RgbImage,
    layer: &str,
    device: &Device,
) -> Result<LayerActivations, PhotoQueryError> {
    let input = picture_input(photo, &network.input_spec(), device);
    let activations = network
        .forward_layers(input.clone(), &[layer])
        .map_err(RenderError::from)?
        .into_iter()
        .next()
        .ok_or_else(|| RenderError::Options(format!("no activations for layer `{layer}`")))?;
    Ok(LayerActivations { layer: layer.to_owned(), input, activations })
}

/// Reads `[1, C, H, W]` (or a part of it) back as host values.
async fn read(tensor: Tensor<4>) -> Result<Vec<f32>, RenderError> {
    let data = tensor.into_data_async().await?;
    data.try_to_vec::<f32>().map_err(|e| RenderError::Readback(format!("{e:?}")))
}

/// Every unit of the layer by value, strongest first (ties: the lower unit first). The value
/// is the unit's mean over positions, the channel objective (a test checks it against
/// [`values_on`] unit by unit), computed for all units in one readback.
pub async fn rank_units(layer: &LayerActivations) -> Result<Vec<UnitValue>, PhotoQueryError> {
    let [_, channels, height, width] = layer.activations.dims();
    let values = read(layer.activations.clone()).await?;
    let plane = height * width;
    let mut units: Vec<UnitValue> = (0..channels)
        .filter_map(|c| {
            let summary = summarise(values.get(c * plane..(c + 1) * plane)?, width)?;
            Some(UnitValue { unit: u32::try_from(c).ok()?, value: summary.mean })
        })
        .collect();
    units.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.unit.cmp(&b.unit)));
    Ok(units)
}

/// Unit `unit` of the layer: its value (the channel objective, through the same evaluation as
/// `microscope activation`), its map, extremes and overlay.
pub async fn unit_on_photo(
    layer: &LayerActivations,
    unit: usize,
) -> Result<UnitOnPhoto, PhotoQueryError> {
    let [_, channels, height, width] = layer.activations.dims();
    if unit >= channels {
        return Err(RenderError::Options(format!(
            "{} has {channels} units; unit {unit} is out of range",
            layer.layer
        ))
        .into());
    }
    let objective = Objective::channel(layer.layer.clone(), unit);
    let layers = [layer.layer.clone()];
    let values =
        values_on(&objective, &layers, std::slice::from_ref(&layer.activations), &layer.input)
            .await?;
    let value = values
        .first()
        .copied()
        .ok_or_else(|| RenderError::Options("the objective gave no value".to_owned()))?;
    let plane = read(layer.activations.clone().narrow(1, unit, 1)).await?;
    let summary = summarise(&plane, width)
        .ok_or_else(|| RenderError::Options(format!("{} has no positions", layer.layer)))?;
    let map = ActivationMap {
        width: u32::try_from(width).unwrap_or(u32::MAX),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        values: plane,
    };
    Ok(UnitOnPhoto {
        unit: UnitId::new(&layer.layer, unit),
        value,
        max: summary.max,
        min: summary.min,
        overlay: activation_overlay(&map),
        map,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use image::Rgb;

    use super::*;
    use crate::fv::measure::objective_values;
    use crate::fv::testnet::TinyNet;

    fn photo() -> RgbImage {
        RgbImage::from_fn(45, 31, |x, y| Rgb([(x * 5) as u8, (y * 8) as u8, ((x * y) % 256) as u8]))
    }

    /// What `microscope activation` prints for `layer:unit` on `photo`.
    fn cli_value(network: &TinyNet, photo: &RgbImage, layer: &str, unit: usize) -> f32 {
        let device = Device::flex();
        let input = picture_input(photo, &network.input_spec(), &device);
        let objective = Objective::channel(layer, unit);
        pollster::block_on(objective_values(network, &objective, input)).unwrap()[0]
    }

    #[test]
    fn unit_values_equal_the_clis_activation() {
        let device = Device::flex();
        let network = TinyNet::new(3, 16, &device);
        let photo = photo();
        for layer in ["conv1", "conv2"] {
            let activations = layer_activations(&network, &photo, layer, &device).unwrap();
            let ranking = pollster::block_on(rank_units(&activations)).unwrap();
            let channels = network.layer(layer).unwrap().channels;
            assert_eq!(ranking.len(), channels);
            assert!(ranking.windows(2).all(|w| w[0].value >= w[1].value), "{ranking:?}");
            for entry in &ranking {
                let want = cli_value(&network, &photo, layer, entry.unit as usize);
                assert!(
                    (entry.value - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{entry:?} {want}"
                );
            }
            let unit = pollster::block_on(unit_on_photo(&activations, 2)).unwrap();
            assert_eq!(unit.value, cli_value(&network, &photo, layer, 2), "the same evaluation");
            let [h, w] = network.layer(layer).unwrap().spatial;
            assert_eq!((unit.map.width as usize, unit.map.height as usize), (w, h));
            assert_eq!(unit.map.values.len(), w * h);
            let mean = unit.map.values.iter().sum::<f32>() / unit.map.values.len() as f32;
            assert!((mean - unit.value).abs() < 1e-4, "the value is the map's mean");
            assert!(unit.min <= unit.value && unit.value <= unit.max);
            assert_eq!(unit.overlay.rgba.len(), w * h * 4);
        }
    }

    #[test]
    fn queries_naming_what_the_model_lacks_are_refused() {
        let network = TinyNet::new(3, 16, &Device::flex());
        let ok = PhotoQuery {
            classes: true,
            layer: Some("conv2".into()),
            unit: Some(UnitId::new("conv1", 7)),
        };
        assert!(check_query(&network, &ok).is_ok());
        let layer = PhotoQuery { layer: Some("conv9".into()), ..PhotoQuery::default() };
        assert!(matches!(check_query(&network, &layer), Err(ObjectiveError::UnknownLayer { .. })));
        let unit = PhotoQuery { unit: Some(UnitId::new("conv1", 8)), ..PhotoQuery::default() };
        assert!(matches!(check_query(&network, &unit), Err(ObjectiveError::UnitOutOfRange { .. })));
    }
}
