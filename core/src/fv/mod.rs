//! Feature visualization (lucid's `optvis`): optimise an image so that a unit, a layer, a
//! direction or a class of any [`Network`](crate::network::Network) responds strongly to it.
//!
//! The pieces, each in its own file:
//! - [`param`]: the image as a Fourier spectrum with 1/f scaling and decorrelated colour
//!   ([`color`], [`dft`]), or as plain pixels;
//! - [`transform`] and [`resample`]: random pad, jitter, scale and rotate, composed into one
//!   bilinear warp per step, then upsampling to the model's input;
//! - [`validate`], [`evaluate`]: an [`Objective`](crate::objective::Objective) (what to
//!   maximise, with its text form, in [`crate::objective`]) checked against a model, and its
//!   value;
//! - [`adam`] and [`render`]: the optimisation loop, asynchronous so that it runs unchanged on
//!   WebGPU in the browser;
//! - [`image`], [`sheet`], [`measure`], [`spectrum`]: results on the host, contact sheets,
//!   measuring units on pictures, and the high-frequency measure of image quality.
//!
//! ```no_run
//! # async fn example(network: &dyn microscope_core::network::Network, device: &burn::prelude::Device)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use microscope_core::fv::{Objective, RenderOptions, render, render_unit};
//! // The easy call: unit 50 of blocks.8 with lucid's defaults.
//! let image = render_unit(network, "blocks.8", 50, device).await?;
//! // Any objective, any options.
//! let objective: Objective = "blocks.8:50 - tv(0.1)".parse()?;
//! let options = RenderOptions { steps: 256, ..RenderOptions::default() };
//! let rendering = render(network, &objective, &options, device, |_| std::ops::ControlFlow::Continue(())).await?;
//! # Ok(()) }
//! ```

pub mod adam;
pub mod chunk;
pub mod color;
pub mod dft;
pub mod evaluate;
pub mod image;
pub mod measure;
pub mod param;
pub mod render;
pub mod resample;
pub mod sheet;
pub mod spectrum;
pub mod transform;
pub mod validate;

#[cfg(test)]
mod properties;
#[cfg(test)]
pub(crate) mod testnet;

pub use crate::objective::{Expected, Objective, ParseError};
pub use image::RenderedImage;
pub use param::Parameterization;
pub use render::{
    Augmentation, CancelFlag, Progress, RenderError, RenderOptions, RenderSession, Rendering,
    Snapshot, read_values, render, render_unit, render_units,
};
pub use transform::{Transform, standard_transforms};
pub use validate::ObjectiveError;
