//! kpilink: links OKR key results to numbers in BI tools and keeps them current.

pub mod api;
pub mod bindings;
pub mod config;
pub mod connections;
pub mod connectors;
pub mod demo;
pub mod discovery;
pub mod error;
pub mod logging;
pub mod metrics;
pub mod paging;
pub mod proto;
pub mod security;
pub mod selection;
pub mod server;
pub mod sources;
pub mod store;
pub mod sync;
pub mod time;
pub mod validate;
