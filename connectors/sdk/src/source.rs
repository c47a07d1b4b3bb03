use serde::{Deserialize, Serialize};

/// Where a number comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceRef {
    DashboardTile {
        dashboard_id: String,
        tile_id: String,
    },
    Look {
        look_id: String,
    },
}

impl SourceRef {
    /// What a source is read from: sources with the same container (the tiles of
    /// one dashboard) can be resolved together with one call to the source.
    pub fn container(&self) -> (&'static str, &str) {
        match self {
            SourceRef::DashboardTile { dashboard_id, .. } => ("dashboard", dashboard_id),
            SourceRef::Look { look_id } => ("look", look_id),
        }
    }
}

/// Which part of a ranked search result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPage {
    pub offset: usize,
    pub limit: usize,
}
