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

/// Reads a `json_detail` query result into a [`kpilink_connector::ResultTable`]
/// (exposed for the extraction benchmark).
pub fn parse_json_detail(
    bytes: &[u8],
) -> Result<kpilink_connector::ResultTable, kpilink_connector::ConnectorError> {
    json_detail::parse(bytes)
}
