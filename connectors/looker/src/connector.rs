//! The Looker implementation of the `Connector` trait.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kpilink_connector::{
    CheckError, CheckFailure, Connector, ConnectorError, DashboardSummary, DashboardTiles,
    LookSummary, QueryRef, Reason, ResolvedChart, ResultTable, RunMode, SearchPage, SourceInfo,
    SourceRef, TileSummary,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::client::{Call, LoginFailure, LookerClient};
use crate::errors::{self, Missing};
use crate::json_detail;
use crate::models::{ApiVersion, Dashboard, DashboardElement, Look, Query, QueryTask};
use crate::search::{like_pattern, rank_by_title};
use crate::vis;

/// Looker returns at most this many search results to rank locally.
const SEARCH_FETCH_LIMIT: usize = 1000;
const LOGOUT_DEADLINE: Duration = Duration::from_secs(5);
const FIRST_POLL: Duration = Duration::from_millis(25);
const MAX_POLL: Duration = Duration::from_secs(1);
/// Read-only query attributes Looker refuses in `create_query`.
const READ_ONLY_QUERY_KEYS: &[&str] = &[
    "id",
    "client_id",
    "slug",
    "share_url",
    "expanded_share_url",
    "url",
    "has_table_calculations",
    "can",
];

pub(crate) struct LookerConnector {
    client: LookerClient,
    /// Filtered copies of queries, by (query id, filters): Looker's create_query
    /// is idempotent, this only saves the round trip.
    filtered_queries: Mutex<HashMap<(String, String), String>>,
}

impl LookerConnector {
    pub(crate) fn new(client: LookerClient) -> Self {
        LookerConnector {
            client,
            filtered_queries: Mutex::new(HashMap::new()),
        }
    }

    async fn dashboard(
        &self,
        dashboard_id: &str,
        deadline: Duration,
    ) -> Result<Dashboard, ConnectorError> {
        let call = Call::get(
            format!("dashboards/{}", encode(dashboard_id)),
            format!("dashboard {dashboard_id}"),
            Missing::Dashboard,
        );
        self.client.json(&call, deadline).await
    }

    async fn look(&self, look_id: &str, deadline: Duration) -> Result<Look, ConnectorError> {
        let call = Call::get(
            format!("looks/{}", encode(look_id)),
            format!("look {look_id}"),
            Missing::Look,
        );
        self.client.json(&call, deadline).await
    }

    async fn tile_chart(
        &self,
        dashboard_id: &str,
        tile_id: &str,
        deadline: Duration,
    ) -> Result<ResolvedChart, ConnectorError> {
        let started = Instant::now();
        let dashboard = self.dashboard(dashboard_id, deadline).await?;
        let remaining = deadline.saturating_sub(started.elapsed());
        self.chart_on(&dashboard, dashboard_id, tile_id, remaining)
            .await
    }

    /// The chart of one tile of a fetched dashboard. Only a tile showing a
    /// Look, or listening to dashboard filters, costs another call.
    async fn chart_on(
        &self,
        dashboard: &Dashboard,
        dashboard_id: &str,
        tile_id: &str,
        deadline: Duration,
    ) -> Result<ResolvedChart, ConnectorError> {
        let started = Instant::now();
        let elements = dashboard.dashboard_elements.as_deref().unwrap_or_default();
        let Some(element) = elements.iter().find(|e| e.id.as_deref() == Some(tile_id)) else {
            return Err(ConnectorError::new(
                Reason::TileNotFound,
                format!("dashboard {dashboard_id} has no tile {tile_id}"),
            ));
        };
        let chart_type = vis::element_chart_type(element);
        let unsupported = vis::element_unsupported_reason(element);
        let chart = vis::chart_info(
            element_title(element),
            chart_type,
            unsupported.clone(),
            vis::element_vis_config(element),
        );
        if unsupported.is_some() {
            return Ok(ResolvedChart { chart, query: None });
        }
        let base_query = match (&element.look_id, vis::query_id_of(element)) {
            (_, Some(query_id)) => query_id,
            (Some(look_id), None) => {
                let remaining = deadline.saturating_sub(started.elapsed());
                self.look(look_id, remaining)
                    .await?
                    .query_id
                    .ok_or_else(|| no_query(&format!("look {look_id}")))?
            }
            (None, None) => return Err(no_query(&format!("tile {tile_id}"))),
        };
        let filters = listened_filters(dashboard, element);
        let query_id = if filters.is_empty() {
            base_query
        } else {
            let remaining = deadline.saturating_sub(started.elapsed());
            self.filtered_query(&base_query, &filters, remaining)
                .await?
        };
        Ok(ResolvedChart {
            chart,
            query: Some(QueryRef {
                key: format!("query:{query_id}"),
            }),
        })
    }

    /// A copy of `query_id` with the dashboard filters' values applied.
    async fn filtered_query(
        &self,
        query_id: &str,
        filters: &BTreeMap<String, String>,
        deadline: Duration,
    ) -> Result<String, ConnectorError> {
        let cache_key = (query_id.to_owned(), format!("{filters:?}"));
        if let Some(id) = self.filtered_queries.lock().await.get(&cache_key) {
            return Ok(id.clone());
        }
        let started = Instant::now();
        let call = Call::get(
            format!("queries/{}", encode(query_id)),
            format!("query {query_id}"),
            Missing::Query,
        );
        let mut query: Query = self.client.json(&call, deadline).await?;
        for key in READ_ONLY_QUERY_KEYS {
            query.rest.remove(*key);
        }
        let merged = query.filters.get_or_insert_with(BTreeMap::new);
        for (field, value) in filters {
            merged.insert(field.clone(), Value::String(value.clone()));
        }
        let body = serde_json::to_value(&query).map_err(|e| errors::malformed("query", &e))?;
        let call = Call::post(
            "queries",
            body,
            format!("a filtered copy of query {query_id}"),
            Missing::Query,
        );
        let created: Query = self
            .client
            .json(&call, deadline.saturating_sub(started.elapsed()))
            .await?;
        let id = created
            .id
            .ok_or_else(|| no_query("the filtered query Looker created"))?;
        self.filtered_queries
            .lock()
            .await
            .insert(cache_key, id.clone());
        Ok(id)
    }

    /// Runs a query with one blocking `run_query` (json_detail, Looker's cache
    /// first): the cheapest way when the budget is long.
    async fn run_query_sync(
        &self,
        query_id: &str,
        budget: Duration,
    ) -> Result<ResultTable, ConnectorError> {
        let call = Call::get(
            format!("queries/{}/run/json_detail", encode(query_id)),
            format!("query {query_id}"),
            Missing::Query,
        )
        .query("cache", "true");
        let response = self.client.send(&call, budget).await?;
        if !response.status.is_success() {
            return Err(errors::from_status(&response, Missing::Query, &call.what));
        }
        json_detail::parse(&response.body)
    }

    /// Runs a query as an async query task (reading Looker's cache first) and
    /// waits for its json_detail result within `budget`. Past the budget the
    /// task is left running, so a retry is served from Looker's cache.
    async fn run_query_task(
        &self,
        query_id: &str,
        budget: Duration,
    ) -> Result<ResultTable, ConnectorError> {
        let started = Instant::now();
        let call = Call::post(
            "query_tasks",
            json!({"query_id": query_id, "result_format": "json_detail"}),
            format!("query {query_id}"),
            Missing::Query,
        )
        .query("cache", "true");
        let task: QueryTask = self.client.json(&call, budget).await?;
        let task_id = task.id.ok_or_else(|| {
            ConnectorError::new(
                Reason::SourceResponseInvalid,
                "looker created a query task without an id",
            )
        })?;
        let results = Call::get(
            format!("query_tasks/{}/results", encode(&task_id)),
            format!("the results of query {query_id}"),
            Missing::Query,
        );
        let mut poll = FIRST_POLL;
        loop {
            let remaining = budget.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(still_running(budget));
            }
            let response = match self.client.send(&results, remaining).await {
                Ok(response) => response,
                Err(error) if error.reason == Reason::SourceTimeout => {
                    return Err(still_running(budget));
                }
                Err(error) => return Err(error),
            };
            match response.status.as_u16() {
                200 => return json_detail::parse(&response.body),
                // 202: still running or queued.
                202 => {}
                _ => {
                    return Err(errors::from_status(
                        &response,
                        Missing::Query,
                        &results.what,
                    ));
                }
            }
            let remaining = budget.saturating_sub(started.elapsed());
            tokio::time::sleep(poll.min(remaining)).await;
            poll = (poll * 2).min(MAX_POLL);
        }
    }
}

#[async_trait]
impl Connector for LookerConnector {
    async fn check(&self, deadline: Duration) -> Result<SourceInfo, CheckError> {
        let started = Instant::now();
        self.client.login(deadline).await.map_err(|failure| {
            let kind = match &failure {
                LoginFailure::BadCredentials(_) => CheckFailure::BadCredentials,
                LoginFailure::NotLooker(_) => CheckFailure::WrongUrl,
                LoginFailure::Other(error) => failure_kind(error),
            };
            CheckError {
                failure: kind,
                error: failure.into_error(),
            }
        })?;
        // The version is a courtesy; a failure to read it does not fail the check.
        let call = Call::get("versions", "versions", Missing::Other);
        let version = self
            .client
            .json::<ApiVersion>(&call, deadline.saturating_sub(started.elapsed()))
            .await
            .ok()
            .and_then(|v| v.looker_release_version);
        Ok(SourceInfo { version })
    }

    async fn search_dashboards(
        &self,
        query: &str,
        page: SearchPage,
        deadline: Duration,
    ) -> Result<Vec<DashboardSummary>, ConnectorError> {
        let started = Instant::now();
        let call = Call::get(
            "dashboards/search",
            format!("dashboard search {query:?}"),
            Missing::Other,
        )
        .query("title", like_pattern(query))
        .query("fields", "id,title,description,folder")
        .query("limit", SEARCH_FETCH_LIMIT.to_string());
        let mut found: Vec<Dashboard> = self.client.json(&call, deadline).await?;
        // A LookML or numeric id typed in the search box finds its dashboard too.
        if looks_like_id(query) && !found.iter().any(|d| d.id.as_deref() == Some(query.trim())) {
            match self
                .dashboard(query.trim(), deadline.saturating_sub(started.elapsed()))
                .await
            {
                Ok(dashboard) => found.insert(0, dashboard),
                Err(error) if error.reason == Reason::DashboardNotFound => {}
                Err(error) => return Err(error),
            }
        }
        let mut summaries: Vec<DashboardSummary> = found
            .into_iter()
            .filter_map(|d| {
                Some(DashboardSummary {
                    id: d.id?,
                    title: d.title.unwrap_or_default(),
                    folder: d.folder.and_then(|f| f.name),
                    description: d.description.filter(|s| !s.is_empty()),
                })
            })
            .collect();
        rank_by_title(query, &mut summaries, |d| (d.title.as_str(), d.id.as_str()));
        Ok(summaries
            .into_iter()
            .skip(page.offset)
            .take(page.limit)
            .collect())
    }

    async fn list_tiles(
        &self,
        dashboard_id: &str,
        deadline: Duration,
    ) -> Result<DashboardTiles, ConnectorError> {
        let dashboard = self.dashboard(dashboard_id, deadline).await?;
        let tiles = dashboard
            .dashboard_elements
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter_map(|element| {
                Some(TileSummary {
                    id: element.id.clone()?,
                    title: element_title(element),
                    chart_type: vis::element_chart_type(element),
                    unsupported_reason: vis::element_unsupported_reason(element),
                    look_id: element.look_id.clone(),
                    listens_to_filters: listened_filter_names(element),
                })
            })
            .collect();
        Ok(DashboardTiles {
            dashboard_id: dashboard.id.unwrap_or_else(|| dashboard_id.to_owned()),
            title: dashboard.title.unwrap_or_default(),
            tiles,
        })
    }

    async fn search_looks(
        &self,
        query: &str,
        page: SearchPage,
        deadline: Duration,
    ) -> Result<Vec<LookSummary>, ConnectorError> {
        let started = Instant::now();
        let call = Call::get(
            "looks/search",
            format!("look search {query:?}"),
            Missing::Other,
        )
        .query("title", like_pattern(query))
        .query("fields", "id,title,description,folder")
        .query("limit", SEARCH_FETCH_LIMIT.to_string());
        let mut found: Vec<Look> = self.client.json(&call, deadline).await?;
        // A Look id typed in the search box finds its Look.
        if looks_like_id(query) && !found.iter().any(|l| l.id.as_deref() == Some(query.trim())) {
            match self
                .look(query.trim(), deadline.saturating_sub(started.elapsed()))
                .await
            {
                Ok(look) if look.deleted != Some(true) => found.insert(0, look),
                Ok(_) => {}
                Err(error) if error.reason == Reason::LookNotFound => {}
                Err(error) => return Err(error),
            }
        }
        let mut summaries: Vec<LookSummary> = found
            .into_iter()
            .filter_map(|l| {
                Some(LookSummary {
                    id: l.id?,
                    title: l.title.unwrap_or_default(),
                    folder: l.folder.and_then(|f| f.name),
                    description: l.description.filter(|s| !s.is_empty()),
                })
            })
            .collect();
        rank_by_title(query, &mut summaries, |l| (l.title.as_str(), l.id.as_str()));
        Ok(summaries
            .into_iter()
            .skip(page.offset)
            .take(page.limit)
            .collect())
    }

    async fn resolve(
        &self,
        source: &SourceRef,
        deadline: Duration,
    ) -> Result<ResolvedChart, ConnectorError> {
        match source {
            SourceRef::DashboardTile {
                dashboard_id,
                tile_id,
            } => self.tile_chart(dashboard_id, tile_id, deadline).await,
            SourceRef::Look { look_id } => {
                let look = self.look(look_id, deadline).await?;
                let vis_config = vis::look_vis_config(&look);
                let chart_type = vis_config
                    .and_then(|v| v.get("type"))
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .unwrap_or("table")
                    .to_owned();
                let unsupported = vis::chart_type_reason(&chart_type);
                let chart = vis::chart_info(
                    look.title.clone().unwrap_or_default(),
                    chart_type,
                    unsupported.clone(),
                    vis_config,
                );
                if unsupported.is_some() {
                    return Ok(ResolvedChart { chart, query: None });
                }
                let query_id = look
                    .query_id
                    .or_else(|| look.query.as_ref().and_then(|q| q.id.clone()))
                    .ok_or_else(|| no_query(&format!("look {look_id}")))?;
                Ok(ResolvedChart {
                    chart,
                    query: Some(QueryRef {
                        key: format!("query:{query_id}"),
                    }),
                })
            }
        }
    }

    /// Reads each dashboard once for all of its tiles: a sync cycle's resolve
    /// costs one call per dashboard, not per tile.
    async fn resolve_many(
        &self,
        sources: &[SourceRef],
        deadline: Duration,
    ) -> Vec<Result<ResolvedChart, ConnectorError>> {
        let started = Instant::now();
        let mut dashboards: HashMap<&str, Result<Dashboard, ConnectorError>> = HashMap::new();
        let mut resolved = Vec::with_capacity(sources.len());
        for source in sources {
            let remaining = deadline.saturating_sub(started.elapsed());
            let chart = match source {
                SourceRef::DashboardTile {
                    dashboard_id,
                    tile_id,
                } => {
                    if !dashboards.contains_key(dashboard_id.as_str()) {
                        let fetched = self.dashboard(dashboard_id, remaining).await;
                        dashboards.insert(dashboard_id, fetched);
                    }
                    match &dashboards[dashboard_id.as_str()] {
                        Ok(dashboard) => {
                            let remaining = deadline.saturating_sub(started.elapsed());
                            self.chart_on(dashboard, dashboard_id, tile_id, remaining)
                                .await
                        }
                        Err(error) => Err(error.clone()),
                    }
                }
                SourceRef::Look { .. } => self.resolve(source, remaining).await,
            };
            resolved.push(chart);
        }
        resolved
    }

    async fn run(
        &self,
        query: &QueryRef,
        mode: RunMode,
        budget: Duration,
    ) -> Result<ResultTable, ConnectorError> {
        let Some(query_id) = query.key.strip_prefix("query:") else {
            return Err(ConnectorError::new(
                Reason::Internal,
                format!("not a looker query key: {}", query.key),
            ));
        };
        match mode {
            RunMode::Interactive => self.run_query_task(query_id, budget).await,
            RunMode::Background => self.run_query_sync(query_id, budget).await,
        }
    }

    async fn close(&self) {
        self.client.logout(LOGOUT_DEADLINE).await;
    }
}

fn element_title(element: &DashboardElement) -> String {
    element
        .title
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| element.title_text.clone().filter(|t| !t.is_empty()))
        .or_else(|| element.look.as_ref().and_then(|l| l.title.clone()))
        .unwrap_or_default()
}

fn listened_filter_names(element: &DashboardElement) -> Vec<String> {
    let mut names: Vec<String> = element
        .result_maker
        .iter()
        .flat_map(|maker| maker.filterables.iter().flatten())
        .flat_map(|filterable| filterable.listen.iter().flatten())
        .filter_map(|listen| listen.dashboard_filter_name.clone())
        .collect();
    names.dedup();
    names
}

/// Field → value for the dashboard filters the tile listens to that have a default.
fn listened_filters(dashboard: &Dashboard, element: &DashboardElement) -> BTreeMap<String, String> {
    let defaults: HashMap<&str, &str> = dashboard
        .dashboard_filters
        .iter()
        .flatten()
        .filter_map(|filter| {
            let value = filter.default_value.as_deref().filter(|v| !v.is_empty())?;
            Some((filter.name.as_deref().or(filter.title.as_deref())?, value))
        })
        .collect();
    element
        .result_maker
        .iter()
        .flat_map(|maker| maker.filterables.iter().flatten())
        .flat_map(|filterable| filterable.listen.iter().flatten())
        .filter_map(|listen| {
            let value = defaults.get(listen.dashboard_filter_name.as_deref()?)?;
            Some((listen.field.clone()?, value.to_string()))
        })
        .collect()
}

fn failure_kind(error: &ConnectorError) -> CheckFailure {
    match error.reason {
        Reason::SourceAuthFailed => CheckFailure::BadCredentials,
        Reason::SourceTimeout => CheckFailure::Timeout,
        Reason::SourceRateLimited => CheckFailure::RateLimited,
        Reason::UrlNotAllowed => CheckFailure::NotAllowed,
        Reason::SourceUnreachable if error.message.starts_with("tls failure") => CheckFailure::Tls,
        Reason::SourceUnreachable => CheckFailure::Unreachable,
        Reason::SourceResponseInvalid => CheckFailure::WrongUrl,
        _ => CheckFailure::Other,
    }
}

fn still_running(budget: Duration) -> ConnectorError {
    ConnectorError::new(
        Reason::SourceTimeout,
        format!(
            "the query is still running in looker after {}; it keeps running there and a retry will be served from looker's cache",
            humantime::format_duration(budget)
        ),
    )
}

fn no_query(what: &str) -> ConnectorError {
    ConnectorError::new(Reason::ChartUnsupported, format!("{what} has no query"))
}

/// Numeric ids and LookML ids (`model::name`) are worth a direct lookup.
fn looks_like_id(query: &str) -> bool {
    let query = query.trim();
    !query.is_empty()
        && !query.contains(char::is_whitespace)
        && (query.chars().all(|c| c.is_ascii_digit()) || query.contains("::"))
}

/// Ids go into URL paths: keep `::` readable, escape what must be.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace("%3A", ":")
}
