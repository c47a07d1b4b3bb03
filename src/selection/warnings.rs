//! Warnings a preview shows before the user saves a selection.

use kpilink_connector::{CellSet, Field, ResultTable, Value};

use super::{ExactNumber, Format};

/// Columns whose nonzero values span this ratio or more get a warning.
const MAGNITUDE_SPREAD: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Stable, e.g. `PERCENT_FORMAT_READ_AS_EXACT`.
    pub code: &'static str,
    pub message: String,
}

pub(super) fn is_percent_format(value_format: Option<&str>) -> bool {
    value_format.is_some_and(|format| format.contains('%'))
}

pub(super) fn check(
    table: &ResultTable,
    y: &Field,
    pivot: Option<&str>,
    number: &ExactNumber,
    format: Format,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let value = number.to_f64();
    let percent_field = is_percent_format(y.value_format.as_deref());
    match format {
        Format::Exact if percent_field => warnings.push(Warning {
            code: "PERCENT_FORMAT_READ_AS_EXACT",
            message: format!(
                "{} is formatted as a percent ({}) but the format is Exact: {number} will be stored, not {} %",
                y.label,
                y.value_format.as_deref().unwrap_or_default(),
                number.times_100()
            ),
        }),
        Format::Exact if !number.is_zero() && value.abs() < 1.0 => warnings.push(Warning {
            code: "FRACTION_READ_AS_EXACT",
            message: format!(
                "{number} looks like a fraction; choose Percentage to store {} instead",
                number.times_100()
            ),
        }),
        Format::Percentage if value.abs() > 1.0 => warnings.push(Warning {
            code: "PERCENTAGE_OF_NON_FRACTION",
            message: format!(
                "{number} is more than 1, so Percentage stores {}; choose Exact if it is already a percent",
                number.times_100()
            ),
        }),
        _ => {}
    }
    if let Some((low, high)) = spread(table, y, pivot)
        && high / low >= MAGNITUDE_SPREAD
    {
        warnings.push(Warning {
            code: "MIXED_MAGNITUDES",
            message: format!(
                "values of this column range from {low} to {high}; check that the row is the one you mean"
            ),
        });
    }
    warnings
}

/// The smallest and largest nonzero magnitudes in the selected column.
fn spread(table: &ResultTable, y: &Field, pivot: Option<&str>) -> Option<(f64, f64)> {
    let mut low = f64::INFINITY;
    let mut high = 0.0_f64;
    for row in &table.rows {
        let cell = match (row.cells.get(&y.name), pivot) {
            (Some(CellSet::Single(cell)), _) => cell,
            (Some(CellSet::Pivoted(cells)), Some(key)) => match cells.get(key) {
                Some(cell) => cell,
                None => continue,
            },
            _ => continue,
        };
        let (Value::Number(text) | Value::Text(text)) = &cell.value else {
            continue;
        };
        let Some(magnitude) = ExactNumber::parse(text).map(|n| n.to_f64().abs()) else {
            continue;
        };
        if magnitude > 0.0 && magnitude.is_finite() {
            low = low.min(magnitude);
            high = high.max(magnitude);
        }
    }
    (high > 0.0).then_some((low, high))
}
