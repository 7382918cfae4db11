//! One module per subcommand.

pub mod classify;
pub mod fetch;
pub mod layers;
pub mod models;
pub mod smoke;
