//! The parts of Looker API 4.0 objects the connector reads. Every field is
//! optional: Looker omits or nulls many, and unknown ones are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(crate) struct AccessToken {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Folder {
    pub(crate) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Dashboard {
    pub(crate) id: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) folder: Option<Folder>,
    pub(crate) dashboard_elements: Option<Vec<DashboardElement>>,
    pub(crate) dashboard_filters: Option<Vec<DashboardFilter>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DashboardFilter {
    pub(crate) name: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) default_value: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct DashboardElement {
    pub(crate) id: Option<String>,
    pub(crate) dashboard_id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) element_type: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) title_text: Option<String>,
    pub(crate) look_id: Option<String>,
    pub(crate) look: Option<Look>,
    pub(crate) query_id: Option<String>,
    pub(crate) query: Option<EmbeddedQuery>,
    pub(crate) merge_result_id: Option<String>,
    pub(crate) result_maker: Option<ResultMaker>,
    pub(crate) rich_content_json: Option<String>,
    pub(crate) extension_id: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct ResultMaker {
    pub(crate) query_id: Option<String>,
    pub(crate) query: Option<EmbeddedQuery>,
    pub(crate) merge_result_id: Option<String>,
    pub(crate) vis_config: Option<Value>,
    pub(crate) filterables: Option<Vec<Filterable>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Filterable {
    pub(crate) listen: Option<Vec<FilterListen>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct FilterListen {
    pub(crate) dashboard_filter_name: Option<String>,
    pub(crate) field: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Look {
    pub(crate) id: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) folder: Option<Folder>,
    pub(crate) query_id: Option<String>,
    pub(crate) query: Option<EmbeddedQuery>,
    pub(crate) deleted: Option<bool>,
}

/// A query embedded in a tile or a Look: only what resolving a chart reads
/// (the rest of the definition is skipped, which makes reading a big
/// dashboard several times cheaper).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct EmbeddedQuery {
    pub(crate) id: Option<String>,
    pub(crate) vis_config: Option<Value>,
}

/// A Looker query. Only the definition is typed; it is re-sent as is when a
/// filtered copy is created, so unknown keys are kept.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub(crate) struct Query {
    #[serde(default, skip_serializing)]
    pub(crate) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) filters: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vis_config: Option<Value>,
    #[serde(flatten)]
    pub(crate) rest: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct QueryTask {
    pub(crate) id: Option<String>,
    pub(crate) status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiVersion {
    pub(crate) looker_release_version: Option<String>,
}

/// A Looker error body, `{message, documentation_url}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub(crate) message: Option<String>,
}
