//! The Looker connector of kpilink: a Looker API 4.0 client behind the
//! `Connector` trait.

mod client;
mod connector;
mod errors;
mod json_detail;
mod models;
mod search;
mod settings;
mod vis;

pub use settings::{KIND, LookerFactory};
