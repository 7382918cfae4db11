//! `microscope`: the native command-line tool over microscope-core.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod allocator;
mod build;
mod cache;
mod commands;
mod dataset;
mod device;
mod publish;
mod pypi;
mod store;

/// Microscope: feature visualizations and dataset examples for every unit of vision models.
#[derive(Parser)]
#[command(name = "microscope", version, about)]
struct Cli {
    /// Where to compute: auto (a hardware GPU if any, else the CPU), cpu, vulkan[:i] or
    /// wgpu[:i] (see `microscope devices`).
    #[arg(long, global = true, env = device::DEVICE_ENV, default_value = "auto")]
    device: device::DeviceRequest,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the model organisms and whether their weights are present.
    Models,
    /// Download, check and convert the weights of models (`all` for every one).
    Fetch(commands::fetch::FetchArgs),
    /// List every browsable layer of a model, in order.
    Layers(commands::layers::LayersArgs),
    /// Print the top-5 ImageNet classes of photos.
    Classify(commands::classify::ClassifyArgs),
    /// Check an ONNX model and store it in the cache as a model like the built-in ones.
    ImportOnnx(commands::import_onnx::ImportOnnxArgs),
    /// List the ONNX operators import supports (`--markdown`: docs/onnx-support.md).
    OnnxOps(commands::onnx_ops::OnnxOpsArgs),
    /// List the devices this build can compute on (CPU, GPU adapters), for `--device`.
    Devices(commands::devices::DevicesArgs),
    /// Measure forward-pass time on the chosen device (figures for BENCHMARKS.md).
    Bench(commands::bench::BenchArgs),
    /// Run the smoke computation (gradient ascent through a tiny conv net) on the chosen device.
    Smoke(commands::smoke::SmokeArgs),
    /// Render feature visualizations of an objective, or a contact sheet of units, as PNG.
    Render(commands::render::RenderArgs),
    /// Print how strongly a unit responds to pictures (photos or saved renders).
    Activation(commands::activation::ActivationArgs),
    /// Time feature-visualization steps on the chosen device (per batch and per unit).
    RenderBench(commands::render_bench::RenderBenchArgs),
    /// Train the fashion-cnn on Fashion-MNIST, saving log-spaced checkpoints with test accuracy.
    Train(commands::train::TrainArgs),
    /// Build (or resume) an atlas: visualizations, dataset examples, classes, circuits.
    Build(commands::build::BuildArgs),
    /// Check an atlas folder: manifests, every asset's size and sha256, cross-references.
    Verify(commands::verify::VerifyArgs),
    /// Print an atlas's coverage: units per technique per layer.
    Inspect(commands::inspect::InspectArgs),
    /// Join shards of a build into one atlas.
    Merge(commands::merge::MergeArgs),
    /// Write the deployable site of an atlas: viewer, atlas, and an entry per page that unfurls.
    Publish(commands::publish::PublishArgs),
    /// Make an atlas small enough to host, in place: JPEG example sheets, float16 weights.
    Compact(commands::compact::CompactArgs),
}

fn main() -> Result<()> {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    device::set_request(cli.device)?;
    match cli.command {
        Command::Models => commands::models::run(),
        Command::Fetch(args) => commands::fetch::run(&args),
        Command::Layers(args) => commands::layers::run(&args),
        Command::Classify(args) => commands::classify::run(&args),
        Command::ImportOnnx(args) => commands::import_onnx::run(&args),
        Command::OnnxOps(args) => commands::onnx_ops::run(&args),
        Command::Devices(args) => commands::devices::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Smoke(args) => commands::smoke::run(&args),
        Command::Render(args) => commands::render::run(&args),
        Command::Activation(args) => commands::activation::run(&args),
        Command::RenderBench(args) => commands::render_bench::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Build(args) => commands::build::run(&args),
        Command::Verify(args) => commands::verify::run(&args),
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Merge(args) => commands::merge::run(&args),
        Command::Publish(args) => commands::publish::run(&args),
        Command::Compact(args) => commands::compact::run(&args),
    }
}
