//! A named point where a build stops and waits to be killed, so the chaos tests can kill it at
//! that exact moment (a kill at a random time rarely lands in the short `finish` step). Only
//! `MICROSCOPE_HALT_AT=<point>` in the environment makes a build stop; unset, nothing happens.

use std::time::Duration;

/// The environment variable naming the point to stop at.
pub const HALT_ENV: &str = "MICROSCOPE_HALT_AT";

/// A moment of a build the chaos tests kill it at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltPoint {
    /// In `finish`, once a layer's sheets are written and before its `layer.json` is.
    Finish,
}

impl HaltPoint {
    /// The point's name in [`HALT_ENV`].
    fn as_str(self) -> &'static str {
        match self {
            Self::Finish => "finish",
        }
    }
}

/// When [`HALT_ENV`] names `point`: says so on stderr and waits for good (to be killed).
pub fn halt_at(point: HaltPoint) {
    if std::env::var(HALT_ENV).is_ok_and(|name| name == point.as_str()) {
        eprintln!("halted at {} ({HALT_ENV}): waiting to be killed", point.as_str());
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}
