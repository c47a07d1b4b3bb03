//! What a tile's visualization says: its chart type, whether a number can be
//! read from it, and its custom labels.

use kpilink_connector::ChartInfo;
use serde_json::Value;

use crate::models::{DashboardElement, Look};

/// Looker shows a table when a query has no visualization type.
const DEFAULT_CHART_TYPE: &str = "table";

/// `result_maker.vis_config`, else the query's, else the Look query's.
pub(crate) fn element_vis_config(element: &DashboardElement) -> Option<&Value> {
    element
        .result_maker
        .as_ref()
        .and_then(|maker| maker.vis_config.as_ref())
        .or_else(|| element.query.as_ref().and_then(|q| q.vis_config.as_ref()))
        .or_else(|| {
            element
                .look
                .as_ref()
                .and_then(|look| look.query.as_ref())
                .and_then(|q| q.vis_config.as_ref())
        })
}

pub(crate) fn look_vis_config(look: &Look) -> Option<&Value> {
    look.query.as_ref().and_then(|q| q.vis_config.as_ref())
}

fn vis_type(vis: Option<&Value>) -> Option<String> {
    vis?.get("type")?
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn is_button(element: &DashboardElement) -> bool {
    matches!(
        element.element_type.as_deref(),
        Some("button") | Some("extension")
    ) || element.rich_content_json.is_some()
        || element.extension_id.is_some()
}

pub(crate) fn element_chart_type(element: &DashboardElement) -> String {
    if element.element_type.as_deref() == Some("text") {
        return "text".to_owned();
    }
    if is_button(element) {
        return element
            .element_type
            .clone()
            .filter(|t| t != "vis")
            .unwrap_or_else(|| "button".to_owned());
    }
    vis_type(element_vis_config(element)).unwrap_or_else(|| DEFAULT_CHART_TYPE.to_owned())
}

/// Why no number can be read from the tile; `None` when one can.
pub(crate) fn element_unsupported_reason(element: &DashboardElement) -> Option<String> {
    if element.element_type.as_deref() == Some("text") {
        return Some("text tiles show text, not data".to_owned());
    }
    if is_button(element) {
        return Some("button and extension tiles have no data".to_owned());
    }
    if let Some(reason) = chart_type_reason(&element_chart_type(element)) {
        return Some(reason);
    }
    if element.merge_result_id.is_some()
        || element
            .result_maker
            .as_ref()
            .is_some_and(|maker| maker.merge_result_id.is_some())
    {
        return Some("merged-results tiles are not supported yet".to_owned());
    }
    if element.look_id.is_none() && query_id_of(element).is_none() {
        return Some("the tile has no query".to_owned());
    }
    None
}

/// Chart types that never hold a number to read.
pub(crate) fn chart_type_reason(chart_type: &str) -> Option<String> {
    (chart_type == "looker_timeline")
        .then(|| "timeline charts show time spans, not a number to read".to_owned())
}

/// The query behind a (non-Look) tile.
pub(crate) fn query_id_of(element: &DashboardElement) -> Option<String> {
    element
        .query_id
        .clone()
        .or_else(|| {
            element
                .result_maker
                .as_ref()
                .and_then(|m| m.query_id.clone())
        })
        .or_else(|| element.query.as_ref().and_then(|q| q.id.clone()))
}

/// Labels and hidden fields from a vis config.
pub(crate) fn chart_info(
    title: String,
    chart_type: String,
    unsupported_reason: Option<String>,
    vis: Option<&Value>,
) -> ChartInfo {
    let text = |value: &Value| {
        value
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let x_axis_label = vis.and_then(|v| v.get("x_axis_label")).and_then(text);
    let y_axis_labels = vis
        .and_then(|v| v.get("y_axes"))
        .and_then(Value::as_array)
        .map(|axes| {
            axes.iter()
                .map(|axis| axis.get("label").and_then(text).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    let hidden_fields = vis
        .and_then(|v| v.get("hidden_fields"))
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let series_labels = vis
        .and_then(|v| v.get("series_labels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| text(v).map(|label| (k.clone(), label)))
                .collect()
        })
        .unwrap_or_default();
    ChartInfo {
        title,
        chart_type,
        unsupported_reason,
        x_axis_label,
        y_axis_labels,
        hidden_fields,
        series_labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn element(value: Value) -> DashboardElement {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn chart_types_and_support() {
        let text = element(json!({"id": "1", "type": "text", "title_text": "Notes"}));
        assert_eq!(element_chart_type(&text), "text");
        assert!(element_unsupported_reason(&text).unwrap().contains("text"));

        let line = element(json!({"id": "2", "type": "vis", "query_id": "9",
            "result_maker": {"vis_config": {"type": "looker_line"}}}));
        assert_eq!(element_chart_type(&line), "looker_line");
        assert_eq!(element_unsupported_reason(&line), None);

        let timeline = element(json!({"id": "3", "type": "vis", "query_id": "9",
            "query": {"vis_config": {"type": "looker_timeline"}}}));
        assert!(
            element_unsupported_reason(&timeline)
                .unwrap()
                .contains("timeline")
        );

        let merged = element(json!({"id": "4", "type": "vis", "merge_result_id": "m1",
            "result_maker": {"merge_result_id": "m1", "vis_config": {"type": "looker_column"}}}));
        assert!(
            element_unsupported_reason(&merged)
                .unwrap()
                .contains("merged")
        );

        let plain = element(json!({"id": "5", "type": "vis", "query_id": "9"}));
        assert_eq!(element_chart_type(&plain), "table");
    }

    #[test]
    fn labels_come_from_the_vis_config() {
        let vis = json!({"type": "looker_line", "x_axis_label": "Month", "y_axes": [{"label": ""}, {"label": "Revenue ($)"}],
            "hidden_fields": ["orders.count"], "series_labels": {"orders.total": "Total"}});
        let info = chart_info("t".into(), "looker_line".into(), None, Some(&vis));
        assert_eq!(info.x_axis_label.as_deref(), Some("Month"));
        assert_eq!(info.y_axis_labels, ["", "Revenue ($)"]);
        assert_eq!(info.hidden_fields, ["orders.count"]);
        assert_eq!(info.series_labels["orders.total"], "Total");
    }
}
