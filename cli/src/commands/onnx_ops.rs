//! `microscope onnx-ops`: the ONNX operators import supports, as a table (`--markdown` writes
//! the content of docs/onnx-support.md, which a test keeps equal to this output).

use anyhow::Result;
use microscope_core::onnx::support::{OPERATORS, markdown};

/// Arguments of `microscope onnx-ops`.
#[derive(clap::Args)]
pub struct OnnxOpsArgs {
    /// Print the Markdown document (docs/onnx-support.md) instead of one line per operator.
    #[arg(long)]
    markdown: bool,
}

/// Prints the supported operators.
pub fn run(args: &OnnxOpsArgs) -> Result<()> {
    if args.markdown {
        print!("{}", markdown());
        return Ok(());
    }
    let width = OPERATORS.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for op in OPERATORS {
        println!("{:width$}  {}", op.name, op.lowering);
    }
    Ok(())
}
