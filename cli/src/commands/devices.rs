//! `microscope devices`: what this build can compute on — the CPU always, then every GPU
//! adapter per API (hardware or software), with the `--device` spelling of each.

use anyhow::Result;

use crate::device;

/// Arguments of `microscope devices`.
#[derive(clap::Args)]
pub struct DevicesArgs {
    /// Print JSON: one object per device (`id`, `backend`, `name`, `kind`, `driver`,
    /// `refused`).
    #[arg(long)]
    json: bool,
}

/// Lists the devices.
pub fn run(args: &DevicesArgs) -> Result<()> {
    let devices = device::available();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&devices)?);
        return Ok(());
    }
    for listed in &devices {
        match &listed.refused {
            None => println!("{}", listed.info),
            Some(reason) => println!("{}  REFUSED: {reason}", listed.info),
        }
    }
    if !cfg!(feature = "gpu") {
        println!("(built without the `gpu` feature: the CPU only)");
    }
    Ok(())
}
