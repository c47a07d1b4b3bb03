//! The `json_detail` result format (Looker's API docs): field metadata, `{value, rendered}` cells,
//! pivoted measures nested by pivot key, the top-level `pivots` array and totals.

use serde_json::{Map, Value, json};

use crate::model::{DimType, FieldDef, FieldKind, Val};
use crate::query::QueryDef;
use crate::query_engine::{CalcColumn, QueryResult, ROW_TOTAL_KEY, ResultField};
use crate::value_format;

/// Facts about the run that are not part of the computed table.
pub(crate) struct RunInfo<'a> {
    pub(crate) query_id: &'a str,
    pub(crate) query: &'a QueryDef,
    pub(crate) explore_label: &'a str,
    pub(crate) from_cache: bool,
    pub(crate) ran_at: &'a str,
    pub(crate) runtime_secs: f64,
}

pub(crate) fn render(result: &QueryResult, info: &RunInfo<'_>) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(info.query_id));
    out.insert(
        "status".into(),
        json!(if result.error.is_some() {
            "error"
        } else {
            "complete"
        }),
    );
    out.insert("from_cache".into(), json!(info.from_cache));
    out.insert(
        "result_source".into(),
        json!(if info.from_cache { "cache" } else { "query" }),
    );
    out.insert("expired".into(), json!(false));
    out.insert("ran_at".into(), json!(info.ran_at));
    out.insert("runtime".into(), json!(format!("{:.3}", info.runtime_secs)));
    out.insert(
        "timezone".into(),
        json!(info.query.query_timezone.as_deref().unwrap_or("UTC")),
    );
    out.insert("sql".into(), json!(result.sql));
    out.insert("sql_explain".into(), Value::Null);
    out.insert("supports_pivot_in_db".into(), json!(true));
    out.insert("null_sort_treatment".into(), json!("low"));
    out.insert("aggregate_table_used_info".into(), Value::Null);
    out.insert("forecast_result".into(), Value::Null);
    out.insert(
        "explore".into(),
        json!({"name": info.query.view, "label": info.explore_label, "description": Value::Null}),
    );
    out.insert(
        "applied_filters".into(),
        applied_filters(result, info.query),
    );
    out.insert(
        "applied_filter_expression".into(),
        json!(info.query.filter_expression),
    );
    out.insert("always_filter".into(), json!([]));
    out.insert("fill_fields".into(), json!(info.query.fill_fields));
    out.insert("has_totals".into(), json!(result.totals.is_some()));
    out.insert("has_row_totals".into(), json!(result.has_row_totals));
    out.insert("has_subtotals".into(), json!(false));
    out.insert("number_format".into(), json!("1,234.56"));
    out.insert("drill_menu_build_time".into(), json!(0.0));
    out.insert(
        "added_params".into(),
        json!({"sorts": info.query.sorts, "limit": info.query.limit.as_deref().unwrap_or("500")}),
    );
    if let Some(message) = &result.error {
        out.insert(
            "errors".into(),
            json!([{"message": message, "message_details": Value::Null, "params": Value::Null,
                    "sql_error_loc": Value::Null, "level": "error"}]),
        );
        out.insert(
            "fields".into(),
            json!({"dimensions": [], "measures": [], "pivots": [], "table_calculations": []}),
        );
        out.insert("pivots".into(), json!([]));
        out.insert("data".into(), json!([]));
        return Value::Object(out);
    }
    let explore = &info.query.view;
    out.insert(
        "fields".into(),
        json!({
            "dimensions": result.dimensions.iter().map(|f| field_json(f, explore, false)).collect::<Vec<_>>(),
            "measures": result.measures.iter().map(|f| field_json(f, explore, false)).collect::<Vec<_>>(),
            "pivots": result.pivots.iter().map(|f| field_json(f, explore, true)).collect::<Vec<_>>(),
            "table_calculations": result.calcs.iter().map(calc_json).collect::<Vec<_>>(),
        }),
    );
    out.insert("pivots".into(), pivots_json(result));
    out.insert("data".into(), data_json(result));
    if let Some(totals) = &result.totals {
        let mut row = Map::new();
        for (field, values) in result.measures.iter().zip(totals) {
            row.insert(
                field.def.name.clone(),
                measure_cells(result, values, field.def.value_format.as_deref(), true),
            );
        }
        out.insert("totals_data".into(), Value::Object(row));
    }
    Value::Object(out)
}

fn applied_filters(result: &QueryResult, query: &QueryDef) -> Value {
    let all: Vec<&ResultField> = result
        .dimensions
        .iter()
        .chain(&result.measures)
        .chain(&result.pivots)
        .collect();
    let mut out = Map::new();
    for (name, expr) in &query.filters {
        let field = all
            .iter()
            .find(|f| &f.def.name == name)
            .map(|f| json!({"name": f.def.name, "label": f.def.label(), "type": f.def.looker_type()}))
            .unwrap_or_else(|| json!({"name": name}));
        out.insert(name.clone(), json!({"field": field, "value": expr}));
    }
    Value::Object(out)
}

pub(crate) fn cell(value: &Val, format: Option<&str>) -> Value {
    let mut cell = Map::new();
    cell.insert("value".into(), value.to_json());
    if let (Some(format), Some(n)) = (
        format,
        value.as_f64().filter(|_| matches!(value, Val::Num(_))),
    ) {
        cell.insert("rendered".into(), json!(value_format::render(format, n)));
    }
    Value::Object(cell)
}

/// One measure (or table calculation) column of a row: a cell, or `{pivot_key: cell}`.
fn measure_cells(
    result: &QueryResult,
    values: &[Val],
    format: Option<&str>,
    pivoted: bool,
) -> Value {
    if !(result.is_pivoted() && pivoted) {
        return cell(values.first().unwrap_or(&Val::Null), format);
    }
    let mut by_key = Map::new();
    for (col, value) in result.pivot_cols.iter().zip(values) {
        by_key.insert(col.key.clone(), cell(value, format));
    }
    Value::Object(by_key)
}

fn data_json(result: &QueryResult) -> Value {
    let rows: Vec<Value> = result
        .rows
        .iter()
        .map(|row| {
            let mut out = Map::new();
            for (field, value) in result.dimensions.iter().zip(&row.dims) {
                out.insert(
                    field.def.name.clone(),
                    cell(value, field.def.value_format.as_deref()),
                );
            }
            for (field, values) in result.measures.iter().zip(&row.measures) {
                out.insert(
                    field.def.name.clone(),
                    measure_cells(result, values, field.def.value_format.as_deref(), true),
                );
            }
            for (calc, values) in result.calcs.iter().zip(&row.calcs) {
                out.insert(
                    calc.calc.name.clone(),
                    measure_cells(
                        result,
                        values,
                        calc.calc.value_format.as_deref(),
                        calc.pivoted,
                    ),
                );
            }
            Value::Object(out)
        })
        .collect();
    Value::Array(rows)
}

fn title_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn pivots_json(result: &QueryResult) -> Value {
    let pivots: Vec<Value> = result
        .pivot_cols
        .iter()
        .map(|col| {
            if col.is_total {
                return json!({"key": ROW_TOTAL_KEY, "data": {}, "sort_values": {}, "is_total": true,
                              "labels": {}, "label": "Row Total", "metadata": {}});
            }
            let (mut data, mut labels, mut metadata) = (Map::new(), Map::new(), Map::new());
            for (field, value) in result.pivots.iter().zip(&col.values) {
                data.insert(field.def.name.clone(), value.to_json());
                labels.insert(field.def.name.clone(), json!(value.key_text()));
                metadata.insert(field.def.name.clone(), json!({"value": value.to_json()}));
            }
            let label = col
                .values
                .iter()
                .map(|v| title_case(&v.key_text()))
                .collect::<Vec<_>>()
                .join(", ");
            json!({"key": col.key, "data": data, "sort_values": data.clone(), "is_total": false,
                   "labels": labels, "label": label, "metadata": metadata})
        })
        .collect();
    Value::Array(pivots)
}

fn calc_json(column: &CalcColumn) -> Value {
    let calc = &column.calc;
    json!({
        "name": calc.name,
        "label": calc.label,
        "expression": calc.expression,
        "value_format": calc.value_format,
        "value_format_name": calc.value_format_name,
        "align": "right",
        "measure": column.is_measure,
        "is_table_calculation": true,
        "dynamic": true,
        "is_numeric": true,
        "is_disabled": false,
        "can_pivot": true,
        "sortable": true,
        "type": "number",
        "category": "table_calculation",
        "sorted": column.sorted.map(|(i, desc)| json!({"sort_index": i, "desc": desc})),
    })
}

fn field_json(field: &ResultField, explore: &str, is_pivot: bool) -> Value {
    let def: &FieldDef = &field.def;
    let measure = def.is_measure();
    let (group, interval, group_label, variant) = match &def.kind {
        FieldKind::Dimension {
            dim: DimType::Time { group, timeframe },
            ..
        } => {
            let (name, count) = timeframe.interval();
            let mut variant = timeframe.suffix().to_string();
            variant[..1].make_ascii_uppercase();
            // Looker labels a dimension group "<Label> Date" whatever the timeframe.
            let base = def.label_short.trim_end_matches(&format!(" {variant}"));
            let group_label = format!("{base} Date");
            (
                Some(group.clone()),
                Some(json!({"name": name, "count": count})),
                Some(group_label),
                variant,
            )
        }
        _ => (None, None, None, def.label_short.clone()),
    };
    let filter_types = match (measure, def.timeframe(), def.is_numeric()) {
        (_, Some(_), _) => json!(["datetime", "advanced_filter_datetime"]),
        (true, _, _) | (false, None, true) => json!(["number", "advanced_filter_number"]),
        _ => json!(["string", "advanced_filter_string"]),
    };
    let file = format!("views/{}.view.lkml", def.view);
    let mut out = json!({
        "align": if def.is_numeric() && def.timeframe().is_none() { "right" } else { "left" },
        "can_filter": true,
        "category": if measure { "measure" } else { "dimension" },
        "default_filter_value": Value::Null,
        "description": def.description,
        "enumerations": Value::Null,
        "field_group_label": group_label,
        "fill_style": if def.timeframe().is_some() { json!("range") } else { Value::Null },
        "fiscal_month_offset": 0,
        "has_allowed_values": false,
        "hidden": false,
        "is_filter": false,
        "is_numeric": def.is_numeric(),
        "label": def.label(),
        "label_from_parameter": Value::Null,
        "label_short": def.label_short,
        "map_layer": def.map_layer.as_ref().map(|l| json!({"name": l})),
        "name": def.name,
        "strict_value_format": false,
        "requires_refresh_on_sort": false,
        "sortable": true,
        "suggestions": Value::Null,
        "tags": [],
        "type": def.looker_type(),
        "user_attribute_filter_types": filter_types,
        "value_format": def.value_format,
        "view": def.view,
        "view_label": def.view_label,
        "dynamic": false,
        "week_start_day": "monday",
        "dimension_group": group,
        "error": Value::Null,
        "field_group_variant": variant,
        "measure": measure,
        "parameter": false,
        "primary_key": false,
        "project_name": "demo_project",
        "scope": def.view,
        "suggest_dimension": def.name,
        "suggest_explore": explore,
        "suggestable": !measure && def.timeframe().is_none(),
        "is_fiscal": false,
        "is_timeframe": def.timeframe().is_some(),
        "can_time_filter": false,
        "time_interval": interval,
        "lookml_link": format!("/projects/demo_project/files/views%2F{}.view.lkml", def.view),
        "permanent": Value::Null,
        "source_file": file,
        "source_file_path": format!("demo_project/{file}"),
        "sql_case": Value::Null,
        "filters": Value::Null,
    });
    if let Some((index, desc)) = field.sorted {
        out["sorted"] = json!({"sort_index": index, "desc": desc});
    }
    if is_pivot {
        out["original_view"] = json!(def.view);
        out["times_used"] = json!(1);
    }
    out
}
