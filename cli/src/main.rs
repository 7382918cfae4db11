//! `microscope`: the native command-line tool over microscope-core.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod smoke;

/// Microscope: feature visualizations and dataset examples for every unit of vision models.
#[derive(Parser)]
#[command(name = "microscope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the smoke computation (gradient ascent through a tiny conv net) on the CPU backend.
    Smoke(smoke::SmokeArgs),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Smoke(args) => smoke::run(&args),
    }
}
