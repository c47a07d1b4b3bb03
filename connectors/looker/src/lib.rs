//! The Looker connector of kpilink.

mod settings;

pub use settings::{KIND, LookerFactory};
