//! Value selection: which cell of a chart's result table a key result follows.
//!
//! Works on the connector-neutral [`ResultTable`] and [`ChartInfo`], never on a
//! source's own format: x field × (x value or latest) × y field × pivot, then
//! the result format. Every choice is explained and every miss names what
//! exists instead.

mod describe;
mod number;
mod period;
mod warnings;

use kpilink_connector::{
    Cell, CellSet, ChartInfo, ConnectorError, Field, FieldKind, Reason, ResultTable, Row, Value,
};

use crate::error::{Error, Result};

pub use describe::{Description, XFieldInfo, YFieldInfo, describe};
pub use number::ExactNumber;
pub use warnings::Warning;

/// Selects the column-totals row instead of a data row.
pub const TOTALS_ROW_KEY: &str = "$$$_totals_$$$";
/// How many existing names an error lists.
const NAMES_IN_ERRORS: usize = 5;

/// Which row to read.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XChoice {
    /// The chart's default: the latest period on a time axis, else the first row.
    #[default]
    Default,
    Value(String),
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Exact,
    Percentage,
}

/// A selection as the user gave it; empty parts take the chart's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    pub x_field: Option<String>,
    pub x: XChoice,
    pub y_field: Option<String>,
    pub pivot_key: Option<String>,
    pub format: Format,
}

/// The value read, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// After the format is applied.
    pub value: ExactNumber,
    /// The cell as received.
    pub raw: String,
    pub rendered: Option<String>,
    pub x_field: Option<String>,
    pub x_label: Option<String>,
    /// The row's x value; `None` for single-value charts read from the first row.
    pub x_value: Option<String>,
    pub y_field: String,
    pub y_label: String,
    pub pivot_key: Option<String>,
    pub pivot_label: Option<String>,
    pub format: Format,
    /// With `latest`: later periods skipped because their cell was empty, newest first.
    pub skipped_periods: Vec<String>,
    pub warnings: Vec<Warning>,
    /// The selection with every default filled in.
    pub resolved: Selection,
}

impl Reading {
    /// One line a person can read, e.g.
    /// `row Created Month=2026-05, column Orders Count, pivot Region=EU, 0.253 → 25.3 %`.
    pub fn explanation(&self) -> String {
        let mut parts = Vec::new();
        match (&self.x_label, &self.x_value) {
            (Some(label), Some(value)) if value == TOTALS_ROW_KEY => {
                parts.push(format!("totals row of {label}"))
            }
            (Some(label), Some(value)) => {
                let latest = if self.resolved.x == XChoice::Latest {
                    "latest "
                } else {
                    ""
                };
                parts.push(format!("{latest}row {label}={value}"));
            }
            _ => parts.push("first row".to_owned()),
        }
        parts.push(format!("column {}", self.y_label));
        if let (Some(key), Some(label)) = (&self.pivot_key, &self.pivot_label) {
            parts.push(if key == label {
                format!("pivot {key}")
            } else {
                format!("pivot {label} ({key})")
            });
        }
        let value = match self.format {
            Format::Exact => format!("{}", self.value),
            Format::Percentage => format!("{} → {} %", self.raw, self.value),
        };
        parts.push(value);
        let mut text = parts.join(", ");
        if !self.skipped_periods.is_empty() {
            text.push_str(&format!(
                " (skipped empty later {}: {})",
                if self.skipped_periods.len() == 1 {
                    "period"
                } else {
                    "periods"
                },
                self.skipped_periods.join(", ")
            ));
        }
        text
    }
}

/// Whether a field's values are periods in time (so `latest` and backfill work).
pub fn is_time_field(field: &Field) -> bool {
    period::is_time(field.timeframe.as_ref())
}

/// A row's period on the time axis `x`: its sortable key and its text.
pub fn row_period(row: &Row, x: &Field) -> Option<(Vec<i64>, String)> {
    let text = row_x_text(row, x)?;
    Some((period::key(&text)?, text))
}

/// The first day `(year, month, day)` of a period key on the time axis `x`.
pub fn period_start(key: &[i64], x: &Field) -> (i64, i64, i64) {
    let part = |index: usize| key.get(index).copied().unwrap_or(1);
    match x.timeframe {
        Some(kpilink_connector::Timeframe::Year) => (part(0), 1, 1),
        Some(kpilink_connector::Timeframe::Quarter) => (part(0), 3 * part(1) - 2, 1),
        _ => (part(0), part(1), part(2)),
    }
}

/// Looker's single-value charts show one field of the first row.
pub fn is_single_value(chart_type: &str) -> bool {
    matches!(chart_type, "single_value" | "looker_single_record")
}

/// Reads the selected cell.
pub fn select(chart: &ChartInfo, table: &ResultTable, selection: &Selection) -> Result<Reading> {
    let single = is_single_value(&chart.chart_type);
    let y = y_field(chart, table, selection.y_field.as_deref(), single)?;
    let x = x_field(table, selection, single)?;
    let pivot = pivot(table, y, selection.pivot_key.as_deref(), single)?;

    let mut skipped_periods = Vec::new();
    let (row, x_value, x_choice) = match (&x, &selection.x) {
        (None, XChoice::Latest) => {
            return Err(latest_needs_time("the chart has no x field"));
        }
        (None, XChoice::Value(value)) => {
            return Err(Error::field(
                "selection.x_value",
                Reason::FieldInvalid,
                format!("the chart has no x field to find {value:?} in"),
            ));
        }
        (None, XChoice::Default) => (first_row(table)?, None, XChoice::Default),
        (Some(x), XChoice::Value(value)) => {
            let row = find_row(table, x, value)?;
            (row, Some(value.clone()), XChoice::Value(value.clone()))
        }
        (Some(x), XChoice::Latest) => {
            let (row, value) = latest_row(table, x, y, pivot.as_deref(), &mut skipped_periods)?;
            (row, Some(value), XChoice::Latest)
        }
        (Some(x), XChoice::Default) if period::is_time(x.timeframe.as_ref()) && !single => {
            let (row, value) = latest_row(table, x, y, pivot.as_deref(), &mut skipped_periods)?;
            (row, Some(value), XChoice::Latest)
        }
        (Some(x), XChoice::Default) => {
            let row = first_row(table)?;
            let value = row_x_text(row, x);
            (
                row,
                value.clone(),
                value.map(XChoice::Value).unwrap_or_default(),
            )
        }
    };

    let cell = cell(row, y, pivot.as_deref())?;
    let number = read_number(cell, y)?;
    let value = match selection.format {
        Format::Exact => number.clone(),
        Format::Percentage => number.times_100(),
    };
    let raw = number.to_string();
    let warnings = warnings::check(table, y, pivot.as_deref(), &number, selection.format);
    let pivot_label = pivot.as_ref().map(|key| {
        table
            .pivots
            .iter()
            .find(|p| &p.key == key)
            .map(|p| p.label.clone())
            .unwrap_or_else(|| key.clone())
    });
    Ok(Reading {
        value,
        raw,
        rendered: cell.rendered.clone(),
        x_label: x.map(short_label),
        x_field: x.map(|f| f.name.clone()),
        x_value,
        y_label: y_label(chart, y),
        y_field: y.name.clone(),
        pivot_label,
        resolved: Selection {
            x_field: x.map(|f| f.name.clone()),
            x: x_choice,
            y_field: Some(y.name.clone()),
            pivot_key: pivot.clone(),
            format: selection.format,
        },
        pivot_key: pivot,
        format: selection.format,
        skipped_periods,
        warnings,
    })
}

fn field<'t>(table: &'t ResultTable, name: &str, what: &str) -> Result<&'t Field> {
    table.field(name).ok_or_else(|| {
        source_error(
            Reason::FieldNotFound,
            format!(
                "the chart has no {what} field {name:?}; it has {}",
                some(table.fields.iter().map(|f| f.name.as_str()))
            ),
        )
    })
}

fn y_field<'t>(
    chart: &ChartInfo,
    table: &'t ResultTable,
    named: Option<&str>,
    single: bool,
) -> Result<&'t Field> {
    if let Some(name) = named {
        return field(table, name, "y");
    }
    let visible = |f: &&Field| !chart.hidden_fields.contains(&f.name);
    let shown = if single {
        // Looker's single value rule: leftmost measure, then a measure-based table
        // calculation, then a dimension, then any other table calculation.
        let of = |kind: FieldKind, measure_based: Option<bool>| {
            table.fields.iter().filter(visible).find(move |f| {
                f.kind == kind && measure_based.is_none_or(|based| f.measure_based == based)
            })
        };
        of(FieldKind::Measure, None)
            .or_else(|| of(FieldKind::TableCalculation, Some(true)))
            .or_else(|| of(FieldKind::Dimension, None))
            .or_else(|| of(FieldKind::TableCalculation, None))
    } else {
        let numeric = |kind: FieldKind| {
            table
                .fields
                .iter()
                .filter(visible)
                .find(move |f| f.kind == kind && f.is_numeric)
        };
        numeric(FieldKind::Measure).or_else(|| numeric(FieldKind::TableCalculation))
    };
    shown.ok_or_else(|| {
        source_error(
            Reason::FieldNotFound,
            "the chart has no visible numeric field to read",
        )
    })
}

fn x_field<'t>(
    table: &'t ResultTable,
    selection: &Selection,
    single: bool,
) -> Result<Option<&'t Field>> {
    if let Some(name) = &selection.x_field {
        let field = field(table, name, "x")?;
        if field.kind != FieldKind::Dimension {
            return Err(Error::field(
                "selection.x_field",
                Reason::FieldInvalid,
                format!("{name:?} is not a dimension; the x axis is a dimension"),
            ));
        }
        return Ok(Some(field));
    }
    // Single-value charts read the first row unless the user picks a row.
    if single && selection.x == XChoice::Default {
        return Ok(None);
    }
    Ok(table.fields.iter().find(|f| f.kind == FieldKind::Dimension))
}

fn pivot(
    table: &ResultTable,
    y: &Field,
    key: Option<&str>,
    single: bool,
) -> Result<Option<String>> {
    if !y.pivoted {
        return match key {
            None => Ok(None),
            Some(_) => Err(Error::field(
                "selection.pivot_key",
                Reason::FieldInvalid,
                format!("{} is not pivoted; leave pivot_key empty", y.name),
            )),
        };
    }
    match key {
        Some(key) if table.pivots.iter().any(|p| p.key == key) => Ok(Some(key.to_owned())),
        Some(key) => Err(source_error(
            Reason::PivotNotFound,
            format!(
                "the chart has no pivot {key:?}; it has {}",
                some(table.pivots.iter().map(|p| p.key.as_str()))
            ),
        )),
        // A single value chart shows the first pivot column.
        None if single => Ok(table
            .pivots
            .iter()
            .find(|p| !p.is_total)
            .map(|p| p.key.clone())),
        None => Err(Error::field(
            "selection.pivot_key",
            Reason::FieldRequired,
            format!(
                "{} is pivoted; choose a pivot_key: {}",
                y.name,
                some(table.pivots.iter().map(|p| p.key.as_str()))
            ),
        )),
    }
}

fn first_row(table: &ResultTable) -> Result<&Row> {
    table
        .rows
        .first()
        .ok_or_else(|| source_error(Reason::RowNotFound, "the chart has no rows"))
}

/// The x value of a row as text (how `x_value` names it).
fn row_x_text(row: &Row, x: &Field) -> Option<String> {
    match row.cells.get(&x.name)? {
        CellSet::Single(cell) => scalar_text(&cell.value),
        CellSet::Pivoted(_) => None,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Number(text) | Value::Text(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
    }
}

fn find_row<'t>(table: &'t ResultTable, x: &Field, value: &str) -> Result<&'t Row> {
    if value == TOTALS_ROW_KEY {
        return table
            .totals
            .as_ref()
            .ok_or_else(|| source_error(Reason::RowNotFound, "the chart has no totals row"));
    }
    let by_value = table
        .rows
        .iter()
        .find(|row| row_x_text(row, x).as_deref() == Some(value));
    // A user may also type the value as the chart renders it.
    let by_rendered = || {
        table.rows.iter().find(|row| match row.cells.get(&x.name) {
            Some(CellSet::Single(cell)) => cell.rendered.as_deref() == Some(value),
            _ => false,
        })
    };
    by_value.or_else(by_rendered).ok_or_else(|| {
        let existing: Vec<String> = table.rows.iter().filter_map(|r| row_x_text(r, x)).collect();
        source_error(
            Reason::RowNotFound,
            format!(
                "no row has {}={value:?}; rows include {}",
                x.name,
                some(existing.iter().map(String::as_str))
            ),
        )
    })
}

/// The row of the greatest period whose selected cell is not empty.
fn latest_row<'t>(
    table: &'t ResultTable,
    x: &Field,
    y: &Field,
    pivot: Option<&str>,
    skipped: &mut Vec<String>,
) -> Result<(&'t Row, String)> {
    if !period::is_time(x.timeframe.as_ref()) {
        return Err(latest_needs_time(&format!(
            "{} is not a time field",
            x.name
        )));
    }
    let mut best: Option<(Vec<i64>, &Row, String)> = None;
    let mut empty: Vec<(Vec<i64>, String)> = Vec::new();
    for row in &table.rows {
        let Some(text) = row_x_text(row, x) else {
            continue;
        };
        let Some(key) = period::key(&text) else {
            continue;
        };
        let has_value = cell(row, y, pivot).is_ok_and(|cell| cell.value != Value::Null);
        if !has_value {
            empty.push((key, text));
        } else if best.as_ref().is_none_or(|(best_key, ..)| key > *best_key) {
            best = Some((key, row, text));
        }
    }
    let Some((best_key, row, text)) = best else {
        return Err(source_error(
            Reason::ValueMissing,
            format!("no period of {} has a value for {}", x.name, y.name),
        ));
    };
    empty.retain(|(key, _)| *key > best_key);
    empty.sort_by(|a, b| b.0.cmp(&a.0));
    skipped.extend(empty.into_iter().map(|(_, text)| text));
    skipped.dedup();
    Ok((row, text))
}

fn cell<'t>(row: &'t Row, y: &Field, pivot: Option<&str>) -> Result<&'t Cell> {
    let missing = || {
        source_error(
            Reason::ValueMissing,
            format!("the row has no value for {}", y.name),
        )
    };
    match (row.cells.get(&y.name), pivot) {
        (None, _) => Err(missing()),
        (Some(CellSet::Single(cell)), _) => Ok(cell),
        (Some(CellSet::Pivoted(cells)), Some(key)) => cells.get(key).ok_or_else(missing),
        (Some(CellSet::Pivoted(_)), None) => Err(missing()),
    }
}

fn read_number(cell: &Cell, y: &Field) -> Result<ExactNumber> {
    match &cell.value {
        Value::Null => Err(source_error(
            Reason::ValueMissing,
            format!("the cell of {} is empty (null)", y.name),
        )),
        Value::Number(text) | Value::Text(text) => ExactNumber::parse(text).ok_or_else(|| {
            source_error(
                Reason::ValueNotNumeric,
                format!(
                    "the cell of {} holds {:?}, not a number",
                    y.name,
                    truncate(text)
                ),
            )
        }),
        Value::Bool(flag) => Err(source_error(
            Reason::ValueNotNumeric,
            format!("the cell of {} holds {flag}, not a number", y.name),
        )),
    }
}

/// The y axis label: the chart's custom label for the first axis, else the field's.
fn y_label(chart: &ChartInfo, y: &Field) -> String {
    chart
        .series_labels
        .get(&y.name)
        .cloned()
        .unwrap_or_else(|| y.label.clone())
}

fn short_label(field: &Field) -> String {
    field
        .label_short
        .clone()
        .unwrap_or_else(|| field.label.clone())
}

fn latest_needs_time(why: &str) -> Error {
    Error::field(
        "selection.latest",
        Reason::FieldInvalid,
        format!("latest needs a time x axis: {why}"),
    )
}

fn source_error(reason: Reason, message: impl Into<String>) -> Error {
    Error::from(ConnectorError::new(reason, message))
}

/// A few names, for an error message.
fn some<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        return "none".to_owned();
    }
    let shown: Vec<String> = names
        .iter()
        .take(NAMES_IN_ERRORS)
        .map(|n| format!("{n:?}"))
        .collect();
    if names.len() > NAMES_IN_ERRORS {
        format!(
            "{} and {} more",
            shown.join(", "),
            names.len() - NAMES_IN_ERRORS
        )
    } else {
        shown.join(", ")
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests;
