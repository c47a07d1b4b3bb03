//! What DescribeChart shows: axes, their fields and labels, x values, pivots,
//! and the default selection.

use kpilink_connector::{ChartInfo, FieldKind, PivotColumn, ResultTable, Timeframe};

use super::warnings::is_percent_format;
use super::{Selection, TOTALS_ROW_KEY, XChoice, is_single_value, period, row_x_text, select};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XFieldInfo {
    pub name: String,
    pub label: String,
    pub is_time: bool,
    pub timeframe: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YFieldInfo {
    pub name: String,
    pub label: String,
    pub value_format: Option<String>,
    pub is_percent: bool,
    /// `measure` or `table_calculation`.
    pub category: &'static str,
    pub is_pivoted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub x_label: String,
    pub x_fields: Vec<XFieldInfo>,
    /// `(key, label)` of each row of the first x field, plus the totals row.
    pub x_values: Vec<(String, String)>,
    pub y_label: String,
    pub y_fields: Vec<YFieldInfo>,
    pub pivots: Vec<PivotColumn>,
    pub latest_supported: bool,
    /// The selection an empty one stands for; `None` when the chart has nothing to read.
    pub default_selection: Option<Selection>,
}

pub fn describe(chart: &ChartInfo, table: &ResultTable) -> Description {
    let x_fields: Vec<XFieldInfo> = table
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Dimension)
        .map(|f| XFieldInfo {
            name: f.name.clone(),
            label: f.label.clone(),
            is_time: period::is_time(f.timeframe.as_ref()),
            timeframe: f.timeframe.as_ref().map(timeframe_name),
        })
        .collect();
    let y_fields: Vec<YFieldInfo> = table
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Dimension && f.is_numeric)
        .map(|f| YFieldInfo {
            name: f.name.clone(),
            label: f.label.clone(),
            value_format: f.value_format.clone(),
            is_percent: is_percent_format(f.value_format.as_deref()),
            category: match f.kind {
                FieldKind::Measure => "measure",
                _ => "table_calculation",
            },
            is_pivoted: f.pivoted,
        })
        .collect();
    let first_x = table.fields.iter().find(|f| f.kind == FieldKind::Dimension);
    let mut x_values: Vec<(String, String)> = match first_x {
        Some(x) => table
            .rows
            .iter()
            .filter_map(|row| {
                let key = row_x_text(row, x)?;
                let label = match row.cells.get(&x.name) {
                    Some(kpilink_connector::CellSet::Single(cell)) => cell.rendered.clone(),
                    _ => None,
                };
                Some((key.clone(), label.unwrap_or(key)))
            })
            .collect(),
        None => Vec::new(),
    };
    if table.totals.is_some() && first_x.is_some() {
        x_values.push((TOTALS_ROW_KEY.to_owned(), "Totals".to_owned()));
    }
    let latest_supported = first_x.is_some_and(|x| period::is_time(x.timeframe.as_ref()));

    let default_selection = default_selection(chart, table, latest_supported);
    let y_default = default_selection
        .as_ref()
        .and_then(|s| s.y_field.as_deref())
        .and_then(|name| table.field(name));
    let x_label = chart
        .x_axis_label
        .clone()
        .or_else(|| first_x.map(|x| x.label.clone()))
        .unwrap_or_default();
    let y_label = chart
        .y_axis_labels
        .first()
        .filter(|label| !label.is_empty())
        .cloned()
        .or_else(|| y_default.map(|y| y.label.clone()))
        .or_else(|| y_fields.first().map(|y| y.label.clone()))
        .unwrap_or_default();
    Description {
        x_label,
        x_fields,
        x_values,
        y_label,
        y_fields,
        pivots: table.pivots.clone(),
        latest_supported,
        default_selection,
    }
}

/// The defaults resolved against the table: the latest period on a time axis,
/// the first row otherwise; the shown y field; the first pivot column.
fn default_selection(chart: &ChartInfo, table: &ResultTable, time_axis: bool) -> Option<Selection> {
    let mut selection = Selection::default();
    if !is_single_value(&chart.chart_type) && !time_axis {
        let first = table.fields.iter().find(|f| f.kind == FieldKind::Dimension);
        if let (Some(x), Some(row)) = (first, table.rows.first()) {
            selection.x = row_x_text(row, x).map(XChoice::Value).unwrap_or_default();
        }
    }
    let single = is_single_value(&chart.chart_type);
    let y = super::y_field(chart, table, None, single).ok()?;
    if y.pivoted && !single {
        selection.pivot_key = table
            .pivots
            .iter()
            .find(|p| !p.is_total)
            .map(|p| p.key.clone());
    }
    match select(chart, table, &selection) {
        Ok(reading) => Some(reading.resolved),
        // The chart can be read, just not at the default cell (e.g. it is empty):
        // still offer the default fields.
        Err(_) => Some(Selection {
            x_field: table
                .fields
                .iter()
                .find(|f| f.kind == FieldKind::Dimension)
                .filter(|_| !single)
                .map(|f| f.name.clone()),
            x: if time_axis {
                XChoice::Latest
            } else {
                selection.x
            },
            y_field: Some(y.name.clone()),
            ..selection
        }),
    }
}

fn timeframe_name(timeframe: &Timeframe) -> String {
    match timeframe {
        Timeframe::Raw => "raw".to_owned(),
        Timeframe::Time => "time".to_owned(),
        Timeframe::Date => "date".to_owned(),
        Timeframe::Week => "week".to_owned(),
        Timeframe::Month => "month".to_owned(),
        Timeframe::Quarter => "quarter".to_owned(),
        Timeframe::Year => "year".to_owned(),
        Timeframe::Other(other) => other.clone(),
    }
}
