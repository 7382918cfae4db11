//! `microscope`: the native command-line tool over microscope-core.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod cache;
mod commands;
mod pypi;
mod store;

/// Microscope: feature visualizations and dataset examples for every unit of vision models.
#[derive(Parser)]
#[command(name = "microscope", version, about)]
struct Cli {
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
    /// Run the smoke computation (gradient ascent through a tiny conv net) on the CPU backend.
    Smoke(commands::smoke::SmokeArgs),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Models => commands::models::run(),
        Command::Fetch(args) => commands::fetch::run(&args),
        Command::Layers(args) => commands::layers::run(&args),
        Command::Classify(args) => commands::classify::run(&args),
        Command::Smoke(args) => commands::smoke::run(&args),
    }
}
