//! What every kpilink data source implements, and the types connectors share
//! with the daemon.
//!
//! A connector crate depends on this crate only; the daemon finds connectors
//! through a [`Registry`] keyed by kind.

mod catalog;
mod chart;
mod connector;
mod error;
pub mod http;
mod policy;
mod registry;
mod settings;
mod source;
mod table;

pub use catalog::{DashboardSummary, DashboardTiles, LookSummary, TileSummary};
pub use chart::{ChartInfo, QueryRef, ResolvedChart};
pub use connector::{
    CheckError, CheckFailure, ConnectionConfig, Connector, ConnectorFactory, RunMode, SourceInfo,
};
pub use error::{ConnectorError, ErrorClass, Reason};
pub use policy::SourcePolicy;
pub use registry::Registry;
pub use settings::{SettingKind, SettingSpec};
pub use source::{SearchPage, SourceRef};
pub use table::{Cell, CellSet, Field, FieldKind, PivotColumn, ResultTable, Row, Timeframe, Value};
