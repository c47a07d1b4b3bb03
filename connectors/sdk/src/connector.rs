use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::{
    ConnectorError, DashboardSummary, DashboardTiles, LookSummary, QueryRef, ResolvedChart,
    ResultTable, SearchPage, SettingSpec, SourcePolicy, SourceRef,
};

/// What a connection gives its connector.
pub struct ConnectionConfig {
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretString>,
    pub policy: SourcePolicy,
    /// Largest response body accepted from the source.
    pub body_cap: usize,
    /// Told about every request to the source (metrics).
    pub observer: Option<Arc<dyn crate::http::HttpObserver>>,
}

/// Which way a connection check failed, for "Test connection".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFailure {
    BadCredentials,
    Unreachable,
    Tls,
    Timeout,
    /// Something answers at the URL, but it is not this kind of source.
    WrongUrl,
    NotAllowed,
    RateLimited,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub failure: CheckFailure,
    pub error: ConnectorError,
}

/// A successful check: what the source said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceInfo {
    pub version: Option<String>,
}

/// How a query is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Someone waits, under a short deadline: the source must keep working on a
    /// query that outlives it, so that a retry finds the result ready.
    Interactive,
    /// A background sync with a long budget: the fewest round trips win.
    Background,
}

/// A kind of data source: what it is called, which settings it needs, and how
/// to connect.
pub trait ConnectorFactory: Send + Sync {
    /// The stable kind name, e.g. `looker`.
    fn kind(&self) -> &'static str;
    fn display_name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn settings(&self) -> &'static [SettingSpec];

    fn setting(&self, name: &str) -> Option<&'static SettingSpec> {
        self.settings().iter().find(|spec| spec.name == name)
    }

    /// A connector for one connection. Does not call the source.
    fn connect(&self, config: ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError>;
}

/// One connection to a data source. Every call takes the time it may use.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Logs in (or otherwise proves the credentials) and reports what failed.
    async fn check(&self, deadline: Duration) -> Result<SourceInfo, CheckError>;

    /// Dashboards whose title matches `query` (partial, case-insensitive),
    /// ranked: exact title, then prefix, then substring.
    async fn search_dashboards(
        &self,
        query: &str,
        page: SearchPage,
        deadline: Duration,
    ) -> Result<Vec<DashboardSummary>, ConnectorError>;

    async fn list_tiles(
        &self,
        dashboard_id: &str,
        deadline: Duration,
    ) -> Result<DashboardTiles, ConnectorError>;

    async fn search_looks(
        &self,
        query: &str,
        page: SearchPage,
        deadline: Duration,
    ) -> Result<Vec<LookSummary>, ConnectorError>;

    /// The chart at `source` and the query behind it (with dashboard filter
    /// defaults applied). An unsupported chart is not an error: it comes back
    /// without a query and with its reason.
    async fn resolve(
        &self,
        source: &SourceRef,
        deadline: Duration,
    ) -> Result<ResolvedChart, ConnectorError>;

    /// Resolves several sources, answering in the order given, within one
    /// `deadline`. Connectors whose sources share a container (see
    /// [`SourceRef::container`]) override this to read each container once.
    async fn resolve_many(
        &self,
        sources: &[SourceRef],
        deadline: Duration,
    ) -> Vec<Result<ResolvedChart, ConnectorError>> {
        let started = std::time::Instant::now();
        let mut resolved = Vec::with_capacity(sources.len());
        for source in sources {
            let remaining = deadline.saturating_sub(started.elapsed());
            resolved.push(self.resolve(source, remaining).await);
        }
        resolved
    }

    /// Runs the query and reads its result, within `budget`.
    async fn run(
        &self,
        query: &QueryRef,
        mode: RunMode,
        budget: Duration,
    ) -> Result<ResultTable, ConnectorError>;

    /// Ends the session with the source (e.g. logs out). Best effort.
    async fn close(&self);
}
