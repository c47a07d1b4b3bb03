//! What a source has: dashboards, their tiles, saved charts.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSummary {
    pub id: String,
    pub title: String,
    pub folder: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookSummary {
    pub id: String,
    pub title: String,
    pub folder: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileSummary {
    pub id: String,
    pub title: String,
    pub chart_type: String,
    /// Why no number can be read from this tile; `None` when supported.
    pub unsupported_reason: Option<String>,
    pub look_id: Option<String>,
    /// Names of the dashboard filters the tile listens to.
    pub listens_to_filters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardTiles {
    pub dashboard_id: String,
    pub title: String,
    pub tiles: Vec<TileSummary>,
}
