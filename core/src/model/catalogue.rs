//! The curated layer catalogue of a model: which of its graph's values a user browses, with
//! channels, spatial size and receptive field at the model's input size.
//!
//! An imported graph shows every browsable value ([`Graph::layers`]); a built-in organism
//! shows only its stable layer names ([`Architecture::layer_ids`]), in forward order, not the
//! ReLU6, pooling and flattening nodes between them.

use super::{Architecture, ModelError, ModelId, efficientnet_graph};
use crate::graph::{Graph, GraphError, LayerInfo};

/// The layers of `graph` for inputs of `size` (`[height, width]`) pixels: all browsable
/// values, or only those named in `curated` (in graph order).
///
/// Fails when the graph cannot take the size, or when a curated name is not a browsable value
/// of the graph.
pub fn catalogue(
    graph: &Graph,
    size: [usize; 2],
    curated: Option<&[String]>,
) -> Result<Vec<LayerInfo>, ModelError> {
    let layers = graph.layers(size)?;
    let Some(names) = curated else { return Ok(layers) };
    if let Some(missing) = names.iter().find(|name| !layers.iter().any(|l| &l.name == *name)) {
        return Err(GraphError::UnknownLayer(missing.clone()).into());
    }
    Ok(layers.into_iter().filter(|layer| names.contains(&layer.name)).collect())
}

/// The stable layer names of a built-in model, in forward order.
pub fn builtin_layer_names(architecture: &Architecture) -> Vec<String> {
    architecture.layer_ids().iter().map(ToString::to_string).collect()
}

/// The catalogue of the built-in `model` at `size` pixels, from its graph with placeholder
/// weights: names, channels, sizes and receptive fields need no checkpoint.
pub fn builtin_catalogue(model: ModelId, size: usize) -> Result<Vec<LayerInfo>, ModelError> {
    let architecture = model.architecture();
    let graph = efficientnet_graph(model, &architecture.placeholder_weights())?;
    catalogue(&graph.fold_batch_norms()?, [size, size], Some(&builtin_layer_names(&architecture)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::graph::AxisField;
    use crate::model::LayerId;

    fn by(layers: &[LayerInfo], id: LayerId) -> &LayerInfo {
        let name = id.to_string();
        layers.iter().find(|l| l.name == name).unwrap_or_else(|| panic!("no {name}"))
    }

    /// The size, jump and centre of a square field.
    fn square(layer: &LayerInfo) -> (f64, f64, f64) {
        let AxisField { size, jump, centre } = layer.receptive_field.height;
        assert_eq!(layer.receptive_field.height, layer.receptive_field.width, "{}", layer.name);
        (size, jump, centre)
    }

    #[test]
    fn model_catalogue_lite0() {
        let model = ModelId::EfficientNetLite0;
        let layers = builtin_catalogue(model, 224).unwrap();
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        let expected: Vec<String> = builtin_layer_names(&model.architecture());
        assert_eq!(names, expected);
        let stem = &layers[0];
        assert_eq!((stem.channels, stem.spatial), (32, [112, 112]));
        assert_eq!(square(stem), (3.0, 2.0, 1.0));
        let get = |id| by(&layers, id);
        assert_eq!(
            (get(LayerId::Expand(1)).channels, get(LayerId::Expand(1)).spatial),
            (96, [112; 2])
        );
        assert_eq!(get(LayerId::Depthwise(1)).spatial, [56, 56]);
        assert_eq!(get(LayerId::Block(1)).channels, 24);
        assert_eq!(
            get(LayerId::Project(2)).receptive_field,
            get(LayerId::Block(2)).receptive_field
        );
        // Pre-ReLU6 taps: the folded convolutions, not the Clip after them.
        assert_eq!(get(LayerId::Stem).op, "Conv");
        assert_eq!(get(LayerId::Block(2)).op, "Add");
        assert_eq!(get(LayerId::Logits).op, "Gemm");
        // Receptive fields: stem 3 (jump 2); block 0 dw 3x3: 3 + 2*2 = 7; block 1 dw 3x3 s2:
        // 7 + 2*2 = 11 (jump 4).
        assert_eq!(square(get(LayerId::Block(0))).0, 7.0);
        assert_eq!(square(get(LayerId::Block(1))).0, 11.0);
        assert_eq!(square(get(LayerId::Block(1))).1, 4.0);
        let head = get(LayerId::Head);
        assert_eq!((head.channels, head.spatial, square(head).1), (1280, [7, 7], 32.0));
        let logits = get(LayerId::Logits);
        assert_eq!(
            (logits.channels, logits.spatial, logits.shape.clone()),
            (1000, [1, 1], vec![1, 1000])
        );
        assert_eq!(square(logits).1, 224.0);
        assert_eq!(square(logits).0, square(head).0 + 6.0 * 32.0);
        for (layer, spatial) in [
            (LayerId::Block(2), 56),
            (LayerId::Block(4), 28),
            (LayerId::Block(7), 14),
            (LayerId::Block(10), 14),
            (LayerId::Block(15), 7),
        ] {
            assert_eq!(get(layer).spatial, [spatial; 2], "{layer}");
        }
        for missing in
            [LayerId::Expand(0), LayerId::Project(1), LayerId::Project(8), LayerId::Block(16)]
        {
            assert!(!names.contains(&missing.to_string().as_str()), "{missing}");
        }
        // Receptive fields only grow, jumps never shrink.
        for pair in layers.windows(2) {
            assert!(square(&pair[1]).0 >= square(&pair[0]).0);
            assert!(square(&pair[1]).1 >= square(&pair[0]).1);
        }
    }

    #[test]
    fn model_catalogue_lite1_lite2() {
        for (model, blocks, sizes, last) in [
            (ModelId::EfficientNetLite1, 21, [120, 60, 30, 15, 8], 320),
            (ModelId::EfficientNetLite2, 21, [130, 65, 33, 17, 9], 352),
        ] {
            let layers = builtin_catalogue(model, model.input_size()).unwrap();
            assert_eq!(layers.len(), model.architecture().layer_ids().len());
            let mut spatial: Vec<usize> =
                layers.iter().map(|l| l.spatial[0]).filter(|&s| s > 1).collect();
            spatial.dedup();
            assert_eq!(spatial, sizes, "{model}");
            assert_eq!(by(&layers, LayerId::Block(blocks - 1)).channels, last);
            assert_eq!(layers.last().unwrap().name, "logits");
        }
    }

    #[test]
    fn model_catalogue_at_other_sizes() {
        let model = ModelId::EfficientNetLite0;
        let small = builtin_catalogue(model, 128).unwrap();
        assert_eq!(small.len(), builtin_catalogue(model, 224).unwrap().len());
        assert_eq!(small[0].spatial, [64, 64]);
        assert_eq!(by(&small, LayerId::Head).spatial, [4, 4]);
        let odd = builtin_catalogue(model, 225).unwrap();
        assert_eq!(odd[0].spatial, [113, 113]);
        // 225 with k3 s2 pads (1, 1): the first field is centred on pixel 0.
        assert_eq!(square(&odd[0]).2, 0.0);
    }

    #[test]
    fn model_parameter_count_matches_the_checkpoints() {
        for organism in crate::organisms::ORGANISMS {
            let model: ModelId = organism.id.parse().unwrap();
            let graph =
                efficientnet_graph(model, &model.architecture().placeholder_weights()).unwrap();
            assert_eq!(graph.parameter_count(), organism.parameters, "{model}");
        }
    }
}
