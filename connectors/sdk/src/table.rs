//! The connector-neutral result table: what any chart's data looks like once
//! read. Value selection works on this, never on a source's own format.

use std::collections::HashMap;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Dimension,
    Measure,
    TableCalculation,
}

/// The period a time dimension groups by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timeframe {
    /// A full timestamp.
    Raw,
    Time,
    Date,
    Week,
    Month,
    Quarter,
    Year,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The stable name, e.g. `orders.created_month`.
    pub name: String,
    pub label: String,
    pub label_short: Option<String>,
    pub kind: FieldKind,
    /// The source's own type name (e.g. `date_month`, `sum`, `number`).
    pub source_type: Option<String>,
    pub is_numeric: bool,
    /// Excel-style format, e.g. `0.0%` or `$#,##0`.
    pub value_format: Option<String>,
    /// Set for time dimensions.
    pub timeframe: Option<Timeframe>,
    /// Its cells are per pivot column.
    pub pivoted: bool,
    /// For table calculations: whether it is based on a measure.
    pub measure_based: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotColumn {
    pub key: String,
    pub label: String,
    /// The row-total column.
    pub is_total: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    /// The number exactly as the source wrote it.
    Number(String),
    Text(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub value: Value,
    pub rendered: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellSet {
    Single(Cell),
    /// By pivot key.
    Pivoted(HashMap<String, Cell>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub cells: HashMap<String, CellSet>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultTable {
    /// Dimensions, measures and table calculations in the query's order.
    pub fields: Vec<Field>,
    pub pivots: Vec<PivotColumn>,
    pub rows: Vec<Row>,
    /// Column totals, when the query computes them.
    pub totals: Option<Row>,
    /// When the source computed the data.
    pub data_as_of: Option<SystemTime>,
    pub from_cache: bool,
}

impl ResultTable {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }
}
