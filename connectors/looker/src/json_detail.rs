//! Reads a `json_detail` result into the connector-neutral [`ResultTable`].
//!
//! Shapes follow Looker's own fixtures: `fields {dimensions, measures,
//! table_calculations, pivots}`, rows of `{value, rendered}` cells, pivoted
//! cells nested one level by pivot key, row totals as the
//! `$$$_row_total_$$$` pivot, column totals in `totals_data`.

use std::collections::HashMap;
use std::time::SystemTime;

use kpilink_connector::{
    Cell, CellSet, ConnectorError, Field, FieldKind, PivotColumn, Reason, ResultTable, Row,
    Timeframe, Value,
};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[derive(Deserialize)]
struct Detail {
    #[serde(default)]
    fields: Fields,
    #[serde(default)]
    pivots: Vec<RawPivot>,
    #[serde(default)]
    data: Vec<Map<String, Json>>,
    #[serde(default)]
    totals_data: Option<Map<String, Json>>,
    #[serde(default)]
    from_cache: Option<bool>,
    #[serde(default)]
    ran_at: Option<String>,
    #[serde(default)]
    errors: Option<Vec<Json>>,
}

#[derive(Default, Deserialize)]
struct Fields {
    #[serde(default)]
    dimensions: Vec<RawField>,
    #[serde(default)]
    measures: Vec<RawField>,
    #[serde(default)]
    table_calculations: Vec<RawField>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    label_short: Option<String>,
    #[serde(default, rename = "type")]
    field_type: Option<String>,
    #[serde(default)]
    is_numeric: Option<bool>,
    #[serde(default)]
    value_format: Option<String>,
    #[serde(default)]
    is_timeframe: Option<bool>,
    /// Table calculations: whether based on a measure.
    #[serde(default)]
    measure: Option<bool>,
    #[serde(default)]
    is_measure: Option<bool>,
}

#[derive(Deserialize)]
struct RawPivot {
    key: String,
    #[serde(default)]
    is_total: Option<bool>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    data: Option<Map<String, Json>>,
}

pub(crate) const ROW_TOTAL_KEY: &str = "$$$_row_total_$$$";

pub(crate) fn parse(bytes: &[u8]) -> Result<ResultTable, ConnectorError> {
    let detail: Detail = serde_json::from_slice(bytes).map_err(|e| {
        ConnectorError::new(
            Reason::SourceResponseInvalid,
            format!("looker's query result is not json_detail: {e}"),
        )
    })?;
    if let Some(first) = detail.errors.as_ref().and_then(|errors| errors.first()) {
        let message = first
            .get("message")
            .and_then(Json::as_str)
            .unwrap_or("the query failed");
        return Err(ConnectorError::new(
            Reason::SourceRejected,
            format!("looker could not run the query: {}", message.to_lowercase()),
        ));
    }
    let pivoted = !detail.pivots.is_empty();
    let mut fields = Vec::new();
    for raw in detail.fields.dimensions {
        fields.push(field(raw, FieldKind::Dimension, false));
    }
    for raw in detail.fields.measures {
        fields.push(field(raw, FieldKind::Measure, pivoted));
    }
    for raw in detail.fields.table_calculations {
        fields.push(field(raw, FieldKind::TableCalculation, pivoted));
    }
    let pivots = detail
        .pivots
        .into_iter()
        .map(|pivot| PivotColumn {
            label: pivot_label(&pivot),
            is_total: pivot.is_total.unwrap_or(false) || pivot.key == ROW_TOTAL_KEY,
            key: pivot.key,
        })
        .collect();
    let rows = detail.data.into_iter().map(row).collect();
    Ok(ResultTable {
        fields,
        pivots,
        rows,
        totals: detail.totals_data.map(row),
        data_as_of: detail.ran_at.as_deref().and_then(parse_time),
        from_cache: detail.from_cache.unwrap_or(false),
    })
}

fn field(raw: RawField, kind: FieldKind, pivoted: bool) -> Field {
    let timeframe = match kind {
        FieldKind::Dimension => timeframe(&raw),
        _ => None,
    };
    let is_numeric = raw.is_numeric.unwrap_or(match kind {
        FieldKind::Dimension => false,
        // Measures and table calcs are numbers unless Looker says otherwise.
        FieldKind::Measure | FieldKind::TableCalculation => true,
    });
    Field {
        label: raw.label.clone().unwrap_or_else(|| raw.name.clone()),
        label_short: raw.label_short,
        kind,
        is_numeric,
        value_format: raw.value_format.filter(|f| !f.is_empty()),
        timeframe,
        pivoted,
        measure_based: raw.measure.or(raw.is_measure).unwrap_or(false),
        source_type: raw.field_type,
        name: raw.name,
    }
}

/// Time dimensions are typed `date_<timeframe>` (`date_month`, `date_date`, …).
fn timeframe(raw: &RawField) -> Option<Timeframe> {
    let field_type = raw.field_type.as_deref()?;
    let timeframe = match field_type.strip_prefix("date_") {
        Some("raw") => Timeframe::Raw,
        Some("time") => Timeframe::Time,
        Some("date") => Timeframe::Date,
        Some("week") => Timeframe::Week,
        Some("month") => Timeframe::Month,
        Some("quarter") => Timeframe::Quarter,
        Some("year") => Timeframe::Year,
        Some(other) => Timeframe::Other(other.to_owned()),
        None if matches!(field_type, "date" | "time" | "date_time" | "timestamp") => {
            Timeframe::Date
        }
        None if raw.is_timeframe == Some(true) => Timeframe::Other(field_type.to_owned()),
        None => return None,
    };
    Some(timeframe)
}

fn pivot_label(pivot: &RawPivot) -> String {
    if pivot.key == ROW_TOTAL_KEY {
        return "Row Total".to_owned();
    }
    if let Some(label) = pivot.label.as_ref().filter(|l| !l.is_empty()) {
        return label.clone();
    }
    match &pivot.data {
        Some(data) if !data.is_empty() => data
            .values()
            .map(|value| match value {
                Json::String(text) => text.clone(),
                Json::Null => "∅".to_owned(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => pivot.key.clone(),
    }
}

fn row(raw: Map<String, Json>) -> Row {
    let cells = raw
        .into_iter()
        .filter_map(|(name, value)| cell_set(value).map(|cells| (name, cells)))
        .collect();
    Row { cells }
}

/// `{value, rendered}` is one cell; an object of such objects is pivoted.
fn cell_set(value: Json) -> Option<CellSet> {
    let Json::Object(object) = value else {
        // A bare value (seen in plain `json`): a cell without rendering.
        return Some(CellSet::Single(Cell {
            value: scalar(value),
            rendered: None,
        }));
    };
    if object.contains_key("value") && !object["value"].is_object() {
        return Some(CellSet::Single(cell(object)));
    }
    let pivoted: HashMap<String, Cell> = object
        .into_iter()
        .filter_map(|(key, value)| match value {
            Json::Object(inner) => Some((key, cell(inner))),
            _ => None,
        })
        .collect();
    Some(CellSet::Pivoted(pivoted))
}

fn cell(mut object: Map<String, Json>) -> Cell {
    let rendered = match object.remove("rendered") {
        Some(Json::String(text)) => Some(text),
        _ => None,
    };
    Cell {
        value: scalar(object.remove("value").unwrap_or(Json::Null)),
        rendered,
    }
}

fn scalar(value: Json) -> Value {
    match value {
        Json::Null => Value::Null,
        // With arbitrary_precision the text is exactly what Looker sent.
        Json::Number(number) => Value::Number(number.to_string()),
        Json::String(text) => Value::Text(text),
        Json::Bool(flag) => Value::Bool(flag),
        other => Value::Text(other.to_string()),
    }
}

/// Looker writes `ran_at` as RFC 3339 or `YYYY-MM-DD HH:MM:SS`; both are UTC here.
fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim().trim_end_matches(" +0000")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shapes of Looker's own fixtures (see the shared examples).
    const PIVOTED: &str = r#"{
      "fields": {
        "dimensions": [{"name": "orders.created_month", "label": "Orders Created Month", "label_short": "Created Month", "type": "date_month", "is_timeframe": true, "is_numeric": false}],
        "measures": [{"name": "orders.conversion", "label": "Orders Conversion", "type": "number", "is_numeric": true, "value_format": "0.0%"}],
        "table_calculations": [{"name": "share", "label": "Share", "value_format": null, "is_table_calculation": true, "measure": true}],
        "pivots": [{"name": "orders.region", "label": "Orders Region"}]
      },
      "pivots": [
        {"key": "EU", "data": {"orders.region": "EU"}, "is_total": false},
        {"key": "US", "data": {"orders.region": "US"}, "is_total": false},
        {"key": "$$$_row_total_$$$", "data": {}, "is_total": true}
      ],
      "data": [
        {"orders.created_month": {"value": "2026-05"},
         "orders.conversion": {"EU": {"value": 0.253, "rendered": "25.3%"}, "US": {"value": null}, "$$$_row_total_$$$": {"value": 0.31}},
         "share": {"EU": {"value": 12345678901234567890.125}, "US": {"value": "7"}, "$$$_row_total_$$$": {"value": 1}}}
      ],
      "totals_data": {"orders.conversion": {"EU": {"value": 0.2}}},
      "from_cache": true,
      "ran_at": "2026-05-31 10:00:00"
    }"#;

    #[test]
    fn reads_pivots_totals_nulls_and_exact_numbers() {
        let table = parse(PIVOTED.as_bytes()).unwrap();
        let names: Vec<&str> = table.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["orders.created_month", "orders.conversion", "share"]
        );
        assert_eq!(table.fields[0].timeframe, Some(Timeframe::Month));
        assert!(!table.fields[0].pivoted && table.fields[1].pivoted);
        assert_eq!(table.fields[1].value_format.as_deref(), Some("0.0%"));
        assert!(table.fields[2].measure_based);
        assert_eq!(table.pivots.len(), 3);
        assert!(table.pivots[2].is_total && !table.pivots[0].is_total);
        assert_eq!(table.pivots[0].label, "EU");
        assert!(table.from_cache);
        assert!(table.data_as_of.is_some());

        let row = &table.rows[0];
        let CellSet::Pivoted(conversion) = &row.cells["orders.conversion"] else {
            panic!("pivoted");
        };
        assert_eq!(conversion["EU"].value, Value::Number("0.253".into()));
        assert_eq!(conversion["EU"].rendered.as_deref(), Some("25.3%"));
        assert_eq!(conversion["US"].value, Value::Null);
        let CellSet::Pivoted(share) = &row.cells["share"] else {
            panic!("pivoted")
        };
        assert_eq!(
            share["EU"].value,
            Value::Number("12345678901234567890.125".into())
        );
        assert_eq!(share["US"].value, Value::Text("7".into()));
        assert!(table.totals.is_some());
    }

    #[test]
    fn query_errors_and_garbage_are_typed_errors() {
        let error =
            parse(br#"{"errors": [{"message": "Unknown field"}], "data": []}"#).unwrap_err();
        assert_eq!(error.reason, Reason::SourceRejected);
        let error = parse(b"<html>").unwrap_err();
        assert_eq!(error.reason, Reason::SourceResponseInvalid);
    }
}
