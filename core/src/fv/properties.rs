//! Property tests of the whole loop: every objective grows under a few steps of optimisation,
//! renders are deterministic for a seed, the Fourier parameterization beats pixels on
//! high-frequency noise, and objectives are checked against the model.

use std::ops::ControlFlow;

use burn::prelude::*;

use super::image::RenderedImage;
use super::render::{Augmentation, CancelFlag, RenderOptions, Rendering, render};
use super::testnet::TinyNet;
use super::validate::ObjectiveError;
use crate::network::Network;
use crate::objective::Objective;

fn run(network: &dyn Network, objective: &Objective, options: &RenderOptions) -> Rendering {
    let device = Device::flex();
    pollster::block_on(render(network, objective, options, &device, |_| ControlFlow::Continue(())))
        .unwrap_or_else(|e| panic!("{objective}: {e}"))
}

/// Without transforms the value is a deterministic function of the parameters, so the value
/// read before step 4 is the objective after three steps.
fn three_steps(batch: usize, reference: Option<RenderedImage>) -> RenderOptions {
    RenderOptions {
        size_px: 16,
        steps: 4,
        batch,
        augmentation: Augmentation::Custom(Vec::new()),
        reference,
        ..RenderOptions::default()
    }
}

fn photo(size: usize, channels: usize) -> RenderedImage {
    let data =
        (0..channels * size * size).map(|i| 0.2 + 0.6 * ((i * 7919 % 97) as f32 / 96.0)).collect();
    RenderedImage { width: size, height: size, channels, data }
}

pub(crate) fn assert_rises(network: &dyn Network, text: &str, options: &RenderOptions) {
    let objective: Objective = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    let values = run(network, &objective, options).values;
    let (first, last) = (values[0], values[values.len() - 1]);
    assert!(last > first, "{text} did not rise in three steps: {values:?}");
    eprintln!("{text}: {first} -> {last}");
}

#[test]
fn fv_every_objective_rises_in_three_steps() {
    let device = Device::flex();
    for channels in [3usize, 1] {
        let net = TinyNet::new(channels, 16, &device);
        let single = three_steps(1, None);
        for text in [
            "conv2:3",
            "channel(conv1:5)",
            "neuron(conv2:1)",
            "neuron(conv2:4, 1, 6)",
            "dream(conv1)",
            "direction(conv2, [1, -1, 0.5, 0, 2, -0.5])",
            "direction(conv2, [1, -1, 0.5, 0, 2, -0.5], cos)",
            "class(2)",
            "tv()",
            "l1(2)",
            "l2()",
            "-conv2:3",
            "2 * conv1:0 - 0.5 * conv2:1",
            "conv2:3 - tv(0.1) - l2(0.5)",
        ] {
            assert_rises(&net, text, &single);
        }
        let pair = three_steps(2, None);
        for text in ["diversity(conv1)", "conv2:0@0 + conv2:5@1", "conv2:3 + diversity(conv2, 10)"]
        {
            assert_rises(&net, text, &pair);
        }
        let with_photo = three_steps(1, Some(photo(16, channels)));
        for text in
            ["caricature(conv2)", "caricature(conv1, 2)", "invert(conv2)", "invert(conv1)@0"]
        {
            assert_rises(&net, text, &with_photo);
        }
    }
}

#[test]
fn fv_batched_elements_each_follow_their_own_unit() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let options = RenderOptions { size_px: 16, steps: 20, batch: 2, ..RenderOptions::default() };
    let rendering = run(&net, &"conv2:0@0 + conv2:5@1".parse().unwrap(), &options);
    let measure = |image: &RenderedImage, unit: usize| {
        let input =
            Tensor::<4>::from_data(TensorData::new(image.data.clone(), [1, 3, 16, 16]), &device);
        let input = net.input_spec().normalise(input);
        let act = net.forward_layers(input, &["conv2"]).unwrap().remove(0);
        act.narrow(1, unit, 1).mean().into_scalar::<f32>()
    };
    let [a, b] = [&rendering.images[0], &rendering.images[1]];
    assert!(measure(a, 0) > measure(b, 0), "image 0 should win on unit 0");
    assert!(measure(b, 5) > measure(a, 5), "image 1 should win on unit 5");
}

#[test]
fn fv_render_is_deterministic_for_a_seed() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let objective: Objective = "conv2:1 + diversity(conv2, 0.1)".parse().unwrap();
    let options =
        RenderOptions { size_px: 20, steps: 6, batch: 2, seed: 9, ..RenderOptions::default() };
    let a = run(&net, &objective, &options);
    let b = run(&net, &objective, &options);
    assert_eq!(a.images, b.images);
    assert_eq!(a.values, b.values);
    let c = run(&net, &objective, &RenderOptions { seed: 10, ..options });
    assert_ne!(a.images, c.images);
}

#[test]
fn fv_reading_back_in_bursts_changes_nothing_but_when() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let objective: Objective = "conv2:3 - tv(0.1)".parse().unwrap();
    let options =
        RenderOptions { size_px: 16, steps: 9, thresholds: vec![3], ..RenderOptions::default() };
    let every_step = run(&net, &objective, &options);
    let bursts = RenderOptions { readback_every: 4, ..options };
    let mut seen = Vec::new();
    let burst = pollster::block_on(render(&net, &objective, &bursts, &device, |p| {
        seen.push((p.step, p.value));
        ControlFlow::Continue(())
    }))
    .unwrap();
    assert_eq!(every_step.values.len(), 9);
    assert_eq!(burst.values, every_step.values);
    assert_eq!(burst.images, every_step.images);
    assert_eq!(burst.snapshots, every_step.snapshots);
    // Every step is reported once, in order, with its own value.
    let steps: Vec<usize> = seen.iter().map(|(step, _)| *step).collect();
    assert_eq!(steps, (1..=9).collect::<Vec<_>>());
    assert!(seen.iter().zip(&burst.values).all(|((_, a), b)| a == b));
    // Bursts: steps 1-3 (3 has a snapshot), 4-7, 8-9. A stop asked at step 5 ends the render
    // at the end of its burst, the burst's values kept.
    let stopped = pollster::block_on(render(&net, &objective, &bursts, &device, |p| {
        if p.step == 5 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }))
    .unwrap();
    assert!(stopped.cancelled);
    assert_eq!(stopped.values, every_step.values[..7].to_vec());
}

#[test]
fn fv_micro_batches_take_the_same_steps() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let objective: Objective =
        "conv2:0@0 + conv2:5@1 + conv1:2@2 + dream(conv1) - tv(0.2)".parse().unwrap();
    let options = RenderOptions { size_px: 20, steps: 5, batch: 4, ..RenderOptions::default() };
    let whole = run(&net, &objective, &options);
    for micro_batch in [1, 3] {
        let parts = run(
            &net,
            &objective,
            &RenderOptions { micro_batch: Some(micro_batch), ..options.clone() },
        );
        for (a, b) in whole.values.iter().zip(&parts.values) {
            assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "{micro_batch}: {a} vs {b}");
        }
        for (a, b) in whole.images.iter().zip(&parts.images) {
            let worst =
                a.data.iter().zip(&b.data).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-3, "{micro_batch}: pixels differ by {worst}");
        }
    }
}

#[test]
fn fv_render_reports_progress_snapshots_and_stops_when_asked() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let objective = Objective::channel("conv2", 2);
    let options = RenderOptions {
        size_px: 16,
        steps: 10,
        thresholds: vec![2, 5, 50],
        preview_every: 4,
        ..RenderOptions::default()
    };
    let mut seen = Vec::new();
    let rendering = pollster::block_on(render(&net, &objective, &options, &device, |p| {
        seen.push((p.step, p.preview.map(|images| images[0].rgb8().len())));
        if p.step == 7 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }))
    .unwrap();
    assert!(rendering.cancelled);
    assert_eq!(rendering.values.len(), 7);
    assert_eq!(rendering.snapshots.iter().map(|s| s.step).collect::<Vec<_>>(), vec![2, 5]);
    assert_eq!(seen[3], (4, Some(16 * 16 * 3)));
    assert_eq!(seen[2], (3, None));

    let flag = CancelFlag::new();
    flag.cancel();
    let options = RenderOptions { cancel: Some(flag), ..options };
    let rendering = pollster::block_on(render(&net, &objective, &options, &device, |_| {
        ControlFlow::Continue(())
    }))
    .unwrap();
    assert!(rendering.cancelled && rendering.values.is_empty());
    assert_eq!(rendering.images.len(), 1);
}

#[test]
fn fv_objectives_are_checked_against_the_model() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let check =
        |text: &str, batch: usize| text.parse::<Objective>().unwrap().validate(&net, batch, false);
    assert!(check("conv2:5 + neuron(conv2:0, 7, 7) + class(4)", 1).is_ok());
    assert!(matches!(
        check("conv3:1", 1),
        Err(ObjectiveError::UnknownLayer { suggestion: Some(s), .. }) if s == "conv1" || s == "conv2"
    ));
    assert!(matches!(
        check("conv2:6", 1),
        Err(ObjectiveError::UnitOutOfRange { unit: 6, channels: 6, .. })
    ));
    assert!(matches!(
        check("neuron(conv2:0, 8, 0)", 1),
        Err(ObjectiveError::PositionOutOfRange { .. })
    ));
    assert!(matches!(check("class(5)", 1), Err(ObjectiveError::UnitOutOfRange { .. })));
    assert!(matches!(
        check("conv2:1@1", 1),
        Err(ObjectiveError::BatchOutOfRange { index: 1, batch: 1 })
    ));
    assert!(matches!(
        check("diversity(conv2)", 1),
        Err(ObjectiveError::DiversityNeedsBatch { .. })
    ));
    assert!(matches!(check("invert(conv2)", 1), Err(ObjectiveError::NeedsReference { .. })));
    assert!(matches!(
        check("direction(conv2, [1, 2])", 1),
        Err(ObjectiveError::DirectionLength { .. })
    ));
    let error = check("conv2:9", 1).unwrap_err().to_string();
    assert_eq!(error, "conv2 of tiny has 6 units; unit 9 is out of range (0..6)");
}

/// EfficientNet-Lite0 with its real weights from the cache (`$MICROSCOPE_CACHE`, else
/// `~/.cache/microscope`), or `None` with a message when they are absent; absent weights
/// fail the test when `MICROSCOPE_REQUIRE_DATA=1`.
pub(crate) fn real_lite0(device: &Device) -> Option<crate::model::Model> {
    let root = std::env::var_os("MICROSCOPE_CACHE").map(std::path::PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache/microscope"))
    });
    let path = root.map(|r| r.join("weights/efficientnet-lite0.safetensors"));
    let Some(bytes) = path.as_ref().and_then(|p| std::fs::read(p).ok()) else {
        assert!(
            std::env::var("MICROSCOPE_REQUIRE_DATA").as_deref() != Ok("1"),
            "MICROSCOPE_REQUIRE_DATA=1 but the lite0 weights are missing ({path:?}); run `microscope fetch all`"
        );
        eprintln!(
            "skipped: no EfficientNet-Lite0 weights at {path:?} (run `microscope fetch all`)"
        );
        return None;
    };
    let tensors = crate::weights::read_safetensors(&bytes).expect("damaged weights");
    Some(
        crate::model::Model::from_tensor_map(
            crate::model::ModelId::EfficientNetLite0,
            &tensors,
            device,
        )
        .expect("lite0 does not load"),
    )
}

#[test]
fn fv_objectives_rise_on_the_real_lite0() {
    let device = Device::flex();
    let Some(lite0) = real_lite0(&device) else { return };
    let single = RenderOptions { size_px: 64, ..three_steps(1, None) };
    for text in [
        "blocks.8:50",
        "neuron(blocks.4.expand:3)",
        "dream(blocks.2)",
        "class(967)",
        "stem:3 - tv(0.1)",
        "-blocks.3.depthwise:7",
        "direction(blocks.1, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1], cos)",
    ] {
        assert_rises(&lite0, text, &single);
    }
    let pair = RenderOptions { size_px: 64, ..three_steps(2, None) };
    assert_rises(&lite0, "diversity(blocks.2)", &pair);
    let with_photo = RenderOptions { size_px: 64, ..three_steps(1, Some(photo(64, 3))) };
    assert_rises(&lite0, "invert(blocks.3)", &with_photo);
    assert_rises(&lite0, "caricature(blocks.3, 1)", &with_photo);
}

#[test]
fn fv_an_image_with_its_own_seed_does_not_depend_on_its_batch() {
    let device = Device::flex();
    let net = TinyNet::new(3, 16, &device);
    let base =
        RenderOptions { size_px: 16, steps: 4, micro_batch: Some(1), ..RenderOptions::default() };
    // Unit 3 alone, then as the second image beside unit 1.
    let alone = run(
        &net,
        &Objective::units("conv2", &[3]).unwrap(),
        &RenderOptions { batch: 1, image_seeds: vec![77], ..base.clone() },
    );
    let paired = run(
        &net,
        &Objective::units("conv2", &[1, 3]).unwrap(),
        &RenderOptions { batch: 2, image_seeds: vec![5, 77], ..base.clone() },
    );
    assert_eq!(alone.images[0], paired.images[1]);
    let reseeded = run(
        &net,
        &Objective::units("conv2", &[3]).unwrap(),
        &RenderOptions { batch: 1, image_seeds: vec![78], ..base.clone() },
    );
    assert_ne!(alone.images[0], reseeded.images[0]);
    let wrong = RenderOptions { batch: 2, image_seeds: vec![1], ..base };
    let objective = Objective::units("conv2", &[1, 3]).unwrap();
    assert!(
        pollster::block_on(render(&net, &objective, &wrong, &device, |_| {
            ControlFlow::Continue(())
        }))
        .is_err()
    );
}
