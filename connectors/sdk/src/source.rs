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

/// Which part of a ranked search result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPage {
    pub offset: usize,
    pub limit: usize,
}
