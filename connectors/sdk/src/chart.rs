//! A chart as its visualization describes it, and the query behind it.

use std::collections::BTreeMap;

/// What the chart's visualization config says (labels, hidden fields), not its data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartInfo {
    pub title: String,
    /// The visualization type, e.g. `looker_line`, `single_value`.
    pub chart_type: String,
    /// Why no number can be read from this chart; `None` when supported.
    pub unsupported_reason: Option<String>,
    /// The custom x-axis label, when set.
    pub x_axis_label: Option<String>,
    /// The custom label of each y axis, in order; empty where not set.
    pub y_axis_labels: Vec<String>,
    /// Fields the visualization hides.
    pub hidden_fields: Vec<String>,
    /// Custom series labels by field name (or pivoted series key).
    pub series_labels: BTreeMap<String, String>,
}

/// The query a chart runs. `key` identifies it within one connection, so that
/// charts reading the same query can share one run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryRef {
    pub key: String,
}

/// A chart and the query that produces its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedChart {
    pub chart: ChartInfo,
    /// `None` when the chart is unsupported (`chart.unsupported_reason` says why).
    pub query: Option<QueryRef>,
}
