//! Discovery: finding charts in a source and reading one number from them,
//! under the connection's interactive deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kpilink_connector::{
    ChartInfo, ConnectorError, DashboardSummary, DashboardTiles, LookSummary, Reason, ResultTable,
    RunMode, SearchPage, SourceRef,
};

use crate::connections::Connections;
use crate::error::{Error, Result, Violation};
use crate::paging::Page;
use crate::selection::{self, Description, Reading, Selection};
use crate::validate;

const MAX_QUERY_CHARS: usize = 200;
const DASHBOARD_LIST: &str = "dashboards";
const LOOK_LIST: &str = "looks";

pub struct Discovery {
    connections: Arc<Connections>,
}

/// A chart and, when supported, its data and description.
pub struct ChartView {
    pub chart: ChartInfo,
    pub description: Option<Description>,
    pub data_as_of: SystemTime,
}

/// A previewed value and the data it came from.
pub struct Preview {
    pub reading: Reading,
    pub data_as_of: SystemTime,
    pub from_cache: bool,
}

impl Discovery {
    pub fn new(connections: Arc<Connections>) -> Self {
        Discovery { connections }
    }

    pub async fn search_dashboards(
        &self,
        org_id: &str,
        connection_id: &str,
        query: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<DashboardSummary>, String)> {
        check_query(query)?;
        let (offset, page) = offset_page(DASHBOARD_LIST, page_size, page_token)?;
        let (connector, deadline) = self.connections.connector(org_id, connection_id).await?;
        let found = connector
            .search_dashboards(
                query,
                SearchPage {
                    offset,
                    limit: page.size + 1,
                },
                deadline,
            )
            .await?;
        Ok(next_page(DASHBOARD_LIST, found, offset, page.size))
    }

    pub async fn search_looks(
        &self,
        org_id: &str,
        connection_id: &str,
        query: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<LookSummary>, String)> {
        check_query(query)?;
        let (offset, page) = offset_page(LOOK_LIST, page_size, page_token)?;
        let (connector, deadline) = self.connections.connector(org_id, connection_id).await?;
        let found = connector
            .search_looks(
                query,
                SearchPage {
                    offset,
                    limit: page.size + 1,
                },
                deadline,
            )
            .await?;
        Ok(next_page(LOOK_LIST, found, offset, page.size))
    }

    pub async fn list_tiles(
        &self,
        org_id: &str,
        connection_id: &str,
        dashboard_id: &str,
    ) -> Result<DashboardTiles> {
        let mut violations = Vec::new();
        validate::id("dashboard_id", dashboard_id, &mut violations);
        validate::finish(violations)?;
        let (connector, deadline) = self.connections.connector(org_id, connection_id).await?;
        Ok(connector.list_tiles(dashboard_id, deadline).await?)
    }

    /// The chart, its data and what can be selected in it. An unsupported chart
    /// is described (with its reason), not refused.
    pub async fn describe(
        &self,
        org_id: &str,
        connection_id: &str,
        source: &SourceRef,
    ) -> Result<ChartView> {
        check_source(source)?;
        let (chart, table) = self.fetch(org_id, connection_id, source, false).await?;
        let Some(table) = table else {
            return Ok(ChartView {
                chart,
                description: None,
                data_as_of: SystemTime::now(),
            });
        };
        Ok(ChartView {
            description: Some(selection::describe(&chart, &table)),
            data_as_of: table.data_as_of.unwrap_or_else(SystemTime::now),
            chart,
        })
    }

    pub async fn preview(
        &self,
        org_id: &str,
        connection_id: &str,
        source: &SourceRef,
        selection: &Selection,
    ) -> Result<Preview> {
        let (reading, table) = self.read(org_id, connection_id, source, selection).await?;
        Ok(Preview {
            reading,
            data_as_of: table.data_as_of.unwrap_or_else(SystemTime::now),
            from_cache: table.from_cache,
        })
    }

    /// Reads the selected value under the connection's deadline, and returns the
    /// table it came from.
    pub async fn read(
        &self,
        org_id: &str,
        connection_id: &str,
        source: &SourceRef,
        selection: &Selection,
    ) -> Result<(Reading, ResultTable)> {
        check_source(source)?;
        let (chart, table) = self.fetch(org_id, connection_id, source, true).await?;
        let table = table.expect("fetch refuses unsupported charts when asked to");
        let reading = selection::select(&chart, &table, selection)?;
        Ok((reading, table))
    }

    /// Resolves the chart and runs its query, all within the connection's
    /// query timeout. `require_supported` turns an unsupported chart into
    /// `CHART_UNSUPPORTED`; otherwise it comes back without data.
    async fn fetch(
        &self,
        org_id: &str,
        connection_id: &str,
        source: &SourceRef,
        require_supported: bool,
    ) -> Result<(ChartInfo, Option<ResultTable>)> {
        let (connector, deadline) = self.connections.connector(org_id, connection_id).await?;
        let started = Instant::now();
        let resolved = connector.resolve(source, deadline).await?;
        let Some(query) = resolved.query else {
            if require_supported {
                let reason = resolved
                    .chart
                    .unsupported_reason
                    .clone()
                    .unwrap_or_else(|| "the chart has no data".to_owned());
                return Err(ConnectorError::new(Reason::ChartUnsupported, reason).into());
            }
            return Ok((resolved.chart, None));
        };
        let remaining = deadline
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        let table = connector
            .run(&query, RunMode::Interactive, remaining)
            .await?;
        Ok((resolved.chart, Some(table)))
    }
}

fn check_query(query: &str) -> Result<()> {
    if query.chars().count() > MAX_QUERY_CHARS || query.chars().any(char::is_control) {
        return Err(Error::field(
            "query",
            Reason::FieldInvalid,
            format!("must be at most {MAX_QUERY_CHARS} characters without control characters"),
        ));
    }
    Ok(())
}

fn check_source(source: &SourceRef) -> Result<()> {
    let mut violations = Vec::new();
    match source {
        SourceRef::DashboardTile {
            dashboard_id,
            tile_id,
        } => {
            validate::id(
                "source.dashboard_tile.dashboard_id",
                dashboard_id,
                &mut violations,
            );
            validate::id("source.dashboard_tile.tile_id", tile_id, &mut violations);
        }
        SourceRef::Look { look_id } => {
            validate::id("source.look.look_id", look_id, &mut violations)
        }
    }
    validate::finish(violations)
}

/// Search pages are ranked lists: the token carries the offset.
fn offset_page(list: &str, page_size: i32, page_token: &str) -> Result<(usize, Page)> {
    let page = Page::parse(list, page_size, page_token)?;
    let offset = match &page.after {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| {
            Error::invalid(vec![Violation::new(
                "page_token",
                Reason::PageTokenInvalid,
                "is not a token this list returned",
            )])
        })?,
    };
    Ok((offset, page))
}

/// Trims the one extra item fetched and makes the next token.
fn next_page<T>(list: &str, mut items: Vec<T>, offset: usize, size: usize) -> (Vec<T>, String) {
    if items.len() <= size {
        return (items, String::new());
    }
    items.truncate(size);
    (items, Page::token_after(list, &(offset + size).to_string()))
}
