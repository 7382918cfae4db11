//! A small but complete atlas built in memory, shared by the atlas tests: one model with two
//! checkpoints and two layers, a photo corpus, annotations, real PNG and JPEG images, and the
//! float16 weights of the final checkpoint. Some units and a layer are deliberately missing
//! (missing data is data).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use microscope_core::atlas::paths::{self, UnitImage};
use microscope_core::atlas::*;

/// A valid PNG of `width` x `height` RGBA pixels of one colour (stored deflate, no library).
pub fn png(width: u32, height: u32, rgba: [u8; 4]) -> Vec<u8> {
    // Each row: filter byte 0 (none), then the pixels.
    let row: Vec<u8> = std::iter::once(0).chain((0..width).flat_map(|_| rgba)).collect();
    let raw: Vec<u8> = (0..height).flat_map(|_| row.iter().copied()).collect();
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend(*block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend((data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend(&data);
        out.extend(&chunk);
        out.extend(crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub fn name(text: &str) -> Name {
    Name::new(text).unwrap()
}

/// A valid JPEG (quality 90) of `width` x `height` pixels: a gradient from `rgb`.
pub fn jpeg(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let step = (x * 7 + y * 5) as u8;
        image::Rgb([rgb[0].wrapping_add(step), rgb[1], rgb[2].wrapping_sub(step)])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&image)
        .unwrap();
    bytes
}

/// The final checkpoint's weights as the atlas ships them (float16 kernels), and their record.
pub fn weights() -> (FileAsset, Vec<u8>) {
    let mut tensors = microscope_core::weights::TensorMap::new();
    let kernel = (0..12).map(|i| i as f32 * 0.25 - 1.0).collect();
    tensors.insert(
        "conv1.weight",
        microscope_core::weights::NamedTensor::new(vec![4, 3], kernel).unwrap(),
    );
    tensors.insert(
        "conv1.bias",
        microscope_core::weights::NamedTensor::new(vec![4], vec![0.5; 4]).unwrap(),
    );
    let bytes = microscope_core::weights::write_safetensors_f16(&tensors).unwrap();
    let path = paths::checkpoint_weights(&name(MODEL), &name(FINAL));
    (FileAsset::describe(path, &bytes), bytes)
}

/// Writes an image into the atlas and returns its record.
fn image(atlas: &mut MemorySource, path: AssetPath, content: Vec<u8>) -> ImageAsset {
    let asset = ImageAsset::describe(path.clone(), &content).unwrap();
    atlas.insert(path.into_string(), content);
    asset
}

pub const MODEL: &str = "tiny";
pub const LAYER1: &str = "conv1";
pub const LAYER2: &str = "conv2";
pub const FINAL: &str = "final";
pub const EARLY: &str = "step-100";

pub fn index() -> AtlasIndex {
    AtlasIndex {
        title: "Test atlas".into(),
        description: Some("A tiny atlas for the format's tests.".into()),
        generator: Some("microscope tests".into()),
        models: vec![ModelEntry {
            id: name(MODEL),
            title: "Tiny".into(),
            summary: Some("Two conv layers.".into()),
            building: false,
        }],
        photos: true,
        annotations: true,
    }
}

pub fn model() -> ModelManifest {
    let layer = |layer: &str, units: u32, size: u32, rf: f64, jump: f64| LayerInfo {
        name: name(layer),
        op: Some("Conv".into()),
        shape: vec![1, units, size, size],
        units,
        receptive_field: Some(ReceptiveField {
            height: AxisField { size: rf, jump, centre: 0.5 },
            width: AxisField { size: rf, jump, centre: 0.5 },
        }),
    };
    let mut settings = BTreeMap::new();
    settings.insert("steps".to_owned(), serde_json::json!(512));
    settings.insert("top_k".to_owned(), serde_json::json!(2));
    settings.insert(
        "fv".to_owned(),
        serde_json::json!({"param": "fft", "decorrelate": true, "scales": [1.0, 1.1]}),
    );
    ModelManifest {
        id: name(MODEL),
        title: "Tiny".into(),
        summary: Some("Two conv layers, trained here.".into()),
        input: InputSpec {
            width: 16,
            height: 16,
            channels: 3,
            offset: vec![127.0; 3],
            scale: vec![128.0; 3],
            framing: Framing::CentreCrop,
            crop_padding: Some(32),
            resize: Some("bicubic, as Pillow".into()),
        },
        graph: GraphSummary {
            parameters: Some(1234),
            layers: vec![layer(LAYER1, 4, 8, 3.0, 2.0), layer(LAYER2, 3, 4, 7.0, 4.0)],
        },
        labels: Some(Labels {
            source: "made up".into(),
            names: vec![
                "cat".into(),
                "dog, hound".into(),
                "cup".into(),
                "car".into(),
                "tree".into(),
            ],
        }),
        provenance: Provenance {
            weights: WeightsProvenance {
                source: "trained by the tests".into(),
                license: "CC0-1.0".into(),
                url: Some("https://example.org/tiny".into()),
                sha256: Some(Sha256Hex::of(b"weights")),
            },
            build: BuildInfo { tool: "microscope tests".into(), seed: Some(7), settings },
        },
        checkpoints: vec![
            Checkpoint {
                id: name(EARLY),
                step: Some(100),
                test_accuracy: Some(0.25),
                test_set: Some("made-up test set".into()),
                weights_sha256: None,
                weights: None,
            },
            Checkpoint {
                id: name(FINAL),
                step: Some(800),
                test_accuracy: Some(0.75),
                test_set: None,
                weights_sha256: None,
                weights: None,
            },
        ],
        default_checkpoint: name(FINAL),
    }
}

pub fn photos(atlas: &mut MemorySource) -> PhotosManifest {
    let coffee_path = paths::photo(&name("coffee"), ImageFormat::Png);
    let coffee = image(atlas, coffee_path, png(40, 30, [120, 80, 40, 255]));
    PhotosManifest {
        corpus: Some("two test photos".into()),
        photos: vec![
            PhotoEntry {
                id: name("chelsea"),
                width: 451,
                height: 300,
                source: "PyPI scikit-image 0.26.0, skimage/data/chelsea.png".into(),
                url: None,
                license: "CC0-1.0".into(),
                credit: "Stefan van der Walt".into(),
                file: None,
            },
            PhotoEntry {
                id: name("coffee"),
                width: 40,
                height: 30,
                source: "painted by the tests".into(),
                url: Some("https://example.org/coffee".into()),
                license: "CC0-1.0".into(),
                credit: "the tests".into(),
                file: Some(coffee),
            },
        ],
    }
}

pub fn annotations() -> AnnotationsManifest {
    AnnotationsManifest {
        annotations: vec![
            Annotation {
                model: name(MODEL),
                checkpoint: None,
                layer: name(LAYER1),
                unit: Some(0),
                kind: AnnotationKind::Label,
                text: "brown things".into(),
                author: "ada".into(),
                date: "2026-03-21".into(),
            },
            Annotation {
                model: name(MODEL),
                checkpoint: Some(name(EARLY)),
                layer: name(LAYER1),
                unit: None,
                kind: AnnotationKind::Note,
                text: "Early in training this layer\nlooks like colour blobs.".into(),
                author: "grace".into(),
                date: "2026-03-22".into(),
            },
        ],
    }
}

/// A unit with everything (`full`) or only a histogram.
pub fn unit(
    atlas: &mut MemorySource,
    checkpoint: &str,
    layer: &str,
    unit: u32,
    full: bool,
) -> UnitManifest {
    let (m, c, l) = (name(MODEL), name(checkpoint), name(layer));
    let mut manifest = UnitManifest::new(m.clone(), c.clone(), l.clone(), unit);
    manifest.histogram = Some(Histogram {
        statistic: Statistic::SpatialMax,
        min: -1.5,
        max: 6.25,
        counts: vec![1, 0, 3, 9, 2],
    });
    if !full {
        return manifest;
    }
    let shade = (unit * 50) as u8;
    let mut render = |kind: UnitImage, seed: u64| {
        let path = paths::unit_image(&m, &c, &l, unit, kind, ImageFormat::Png);
        Rendering {
            image: image(atlas, path, png(8, 8, [shade, seed as u8, 0, 255])),
            objective: Some(format!("{layer}:{unit}")),
            seed: Some(seed),
            steps: Some(512),
        }
    };
    let channel = render(UnitImage::Channel, 1);
    let negative = render(UnitImage::Negative, 2);
    let diversity = (0..4).map(|i| render(UnitImage::Diversity(i), 10 + u64::from(i))).collect();
    manifest.label = Some(format!("unit {unit} label"));
    manifest.feature_visualizations = FeatureVisualizations {
        channel: Some(channel),
        neuron: None,
        negative: Some(negative),
        diversity,
    };
    let crops = paths::unit_image(&m, &c, &l, unit, UnitImage::TopExamples, ImageFormat::Jpeg);
    let crops = image(atlas, crops, jpeg(12, 6, [40, 90, shade]));
    manifest.dataset_examples = Some(DatasetExamples {
        top: Some(ExampleList {
            sheet: Some(Sheet {
                image: crops,
                tile_width: 6,
                tile_height: 6,
                columns: 2,
                first: 0,
                count: 2,
            }),
            examples: vec![
                Example {
                    photo: name("coffee"),
                    crop: PixelBox { x: 0, y: 0, width: 20, height: 20 },
                    activation: 5.5,
                    class: None,
                },
                Example {
                    photo: name("chelsea"),
                    crop: PixelBox { x: 400, y: 250, width: 51, height: 50 },
                    activation: 2.0,
                    class: None,
                },
            ],
        }),
        bottom: Some(ExampleList {
            sheet: None,
            examples: vec![Example {
                photo: name("chelsea"),
                crop: PixelBox { x: 1, y: 2, width: 3, height: 4 },
                activation: -1.25,
                class: None,
            }],
        }),
    });
    manifest.top_classes =
        Some(vec![ClassScore { class: 2, score: 0.5 }, ClassScore { class: 4, score: 0.125 }]);
    manifest.circuits = Some(Circuits {
        inputs: vec![],
        outputs: vec![Connection { layer: name(LAYER2), unit: 2, weight: -0.75 }],
    });
    manifest
}

/// The layer manifest derived from its units, with a channel sheet (PNG) and a dataset-example
/// sheet (JPEG) covering them all.
pub fn layer(
    atlas: &mut MemorySource,
    checkpoint: &str,
    layer: &str,
    units: u32,
    built: &[UnitManifest],
) -> LayerManifest {
    let (m, c, l) = (name(MODEL), name(checkpoint), name(layer));
    let size = Sheet::pixel_size(units, 2, [8, 8]).unwrap();
    let path = paths::layer_sheet(&m, &c, &l, Technique::Channel, 0, ImageFormat::Png);
    let sheet = image(atlas, path, png(size[0], size[1], [9, 9, 9, 255]));
    let path = paths::layer_sheet(&m, &c, &l, Technique::DatasetExamples, 0, ImageFormat::Jpeg);
    let examples = image(atlas, path, jpeg(size[0], size[1], [200, 100, 50]));
    LayerManifest {
        model: m,
        checkpoint: c,
        layer: l,
        units,
        coverage: Coverage::of_units(built),
        sheets: LayerSheets {
            channel: vec![Sheet {
                image: sheet,
                tile_width: 8,
                tile_height: 8,
                columns: 2,
                first: 0,
                count: units,
            }],
            dataset_examples: vec![Sheet {
                image: examples,
                tile_width: 8,
                tile_height: 8,
                columns: 2,
                first: 0,
                count: units,
            }],
            ..LayerSheets::default()
        },
        unit_classes: Vec::new(),
    }
}

/// The whole sample atlas. At `final`, conv1 has units 0 and 2 in full and unit 1 with only
/// a histogram (unit 3 missing), and conv2 is not built; at `step-100`, conv1 has unit 0 only.
pub fn atlas() -> MemorySource {
    let mut atlas = MemorySource::new();
    atlas.put(&index()).unwrap();
    let mut model = model();
    let (record, bytes) = weights();
    atlas.insert(record.path.as_str().to_owned(), bytes);
    model.checkpoints[1].weights = Some(record);
    atlas.put(&model).unwrap();
    let photos = photos(&mut atlas);
    atlas.put(&photos).unwrap();
    atlas.put(&annotations()).unwrap();
    let units = vec![
        unit(&mut atlas, FINAL, LAYER1, 0, true),
        unit(&mut atlas, FINAL, LAYER1, 1, false),
        unit(&mut atlas, FINAL, LAYER1, 2, true),
    ];
    for unit in &units {
        atlas.put(unit).unwrap();
    }
    let layer_manifest = layer(&mut atlas, FINAL, LAYER1, 4, &units);
    atlas.put(&layer_manifest).unwrap();
    let early = vec![unit(&mut atlas, EARLY, LAYER1, 0, true)];
    atlas.put(&early[0]).unwrap();
    let early_layer = layer(&mut atlas, EARLY, LAYER1, 4, &early);
    atlas.put(&early_layer).unwrap();
    atlas
}

/// The path of a unit manifest of the sample.
pub fn unit_path(checkpoint: &str, layer: &str, unit: u32) -> String {
    paths::unit_manifest(&name(MODEL), &name(checkpoint), &name(layer), unit).into_string()
}

/// The path of a layer manifest of the sample.
pub fn layer_path(checkpoint: &str, layer: &str) -> String {
    paths::layer_manifest(&name(MODEL), &name(checkpoint), &name(layer)).into_string()
}
