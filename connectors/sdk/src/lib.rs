//! What every kpilink data source implements, and the types connectors share
//! with the daemon.
//!
//! A connector crate depends on this crate only; the daemon finds connectors
//! through a [`Registry`] keyed by kind.

mod error;
mod registry;
mod settings;

pub use error::{ConnectorError, ErrorClass, Reason};
pub use registry::{ConnectorFactory, Registry};
pub use settings::{SettingKind, SettingSpec};
