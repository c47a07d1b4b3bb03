//! The LookML side of the fake: explores, their fields (dimensions and measures with Looker's
//! metadata) and the in-memory tables the query engine reads.

use std::collections::HashMap;
use std::sync::Arc;

use crate::dates::Date;

/// One value of a query result, as it lands in a json_detail cell.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Null,
    Num(f64),
    Str(String),
}

impl Val {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Val::Null => serde_json::Value::Null,
            Val::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                serde_json::Value::from(*n as i64)
            }
            Val::Num(n) => serde_json::Number::from_f64(*n)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Val::Str(s) => serde_json::Value::String(s.clone()),
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.parse().ok(),
            Val::Null => None,
        }
    }

    /// Text form used for pivot keys, filters and hashing.
    pub(crate) fn key_text(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Num(_) => self.to_json().to_string(),
            Val::Str(s) => s.clone(),
        }
    }

    /// SQL-like ordering with NULL lowest (Looker's `null_sort_treatment: "low"`).
    pub(crate) fn compare(&self, other: &Val) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Val::Null, Val::Null) => Ordering::Equal,
            (Val::Null, _) => Ordering::Less,
            (_, Val::Null) => Ordering::Greater,
            (Val::Num(a), Val::Num(b)) => a.total_cmp(b),
            (Val::Num(_), Val::Str(_)) => Ordering::Less,
            (Val::Str(_), Val::Num(_)) => Ordering::Greater,
            (Val::Str(a), Val::Str(b)) => a.cmp(b),
        }
    }
}

impl Eq for Val {}

impl std::hash::Hash for Val {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Val::Null => 0u8.hash(state),
            Val::Num(n) => {
                1u8.hash(state);
                n.to_bits().hash(state);
            }
            Val::Str(s) => {
                2u8.hash(state);
                s.hash(state);
            }
        }
    }
}

/// A stored table cell.
#[derive(Clone, Debug)]
pub(crate) enum Cell {
    Null,
    Num(f64),
    Text(Arc<str>),
    Day(Date),
}

impl Cell {
    pub(crate) fn num(&self) -> Option<f64> {
        match self {
            Cell::Num(n) => Some(*n),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timeframe {
    Date,
    Week,
    Month,
    Quarter,
    Year,
}

impl Timeframe {
    pub(crate) const ALL: [Timeframe; 5] = [
        Timeframe::Date,
        Timeframe::Week,
        Timeframe::Month,
        Timeframe::Quarter,
        Timeframe::Year,
    ];

    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Timeframe::Date => "date",
            Timeframe::Week => "week",
            Timeframe::Month => "month",
            Timeframe::Quarter => "quarter",
            Timeframe::Year => "year",
        }
    }

    /// Looker's json_detail `time_interval`.
    pub(crate) fn interval(self) -> (&'static str, u32) {
        match self {
            Timeframe::Date => ("day", 1),
            Timeframe::Week => ("day", 7),
            Timeframe::Month => ("month", 1),
            Timeframe::Quarter => ("month", 3),
            Timeframe::Year => ("year", 1),
        }
    }

    /// The value Looker returns for a date in this timeframe: `2026-05-17`, `2026-05-11`
    /// (week start, Monday), `2026-05`, `2026-Q2`, and the year as a number.
    pub(crate) fn value_of(self, date: Date) -> Val {
        let (y, m, _) = date.ymd();
        match self {
            Timeframe::Date => Val::Str(date.to_string()),
            Timeframe::Week => Val::Str(date.week_start().to_string()),
            Timeframe::Month => Val::Str(format!("{y:04}-{m:02}")),
            Timeframe::Quarter => Val::Str(format!("{y:04}-Q{}", (m - 1) / 3 + 1)),
            Timeframe::Year => Val::Num(f64::from(y)),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum DimType {
    String,
    Number,
    /// One timeframe of a dimension group (`orders.created` → `orders.created_month`).
    Time {
        group: String,
        timeframe: Timeframe,
    },
}

/// How a measure aggregates table columns. `Count` sums a pre-counted column, because the demo
/// tables are stored at a daily grain rather than one row per order.
#[derive(Clone, Debug)]
pub(crate) enum Agg {
    Count(usize),
    Sum(usize),
    Average(usize),
    Min(usize),
    Max(usize),
    Median(usize),
    Percentile(usize, f64),
    CountDistinct(usize),
    /// sum(num) / sum(den)
    Ratio(usize, usize),
    /// (sum(revenue) - sum(cost)) / sum(revenue)
    Margin(usize, usize),
}

#[derive(Clone, Debug)]
pub(crate) enum FieldKind {
    Dimension { column: usize, dim: DimType },
    Measure { agg: Agg, looker_type: &'static str },
}

#[derive(Clone, Debug)]
pub(crate) struct FieldDef {
    pub(crate) name: String,
    pub(crate) view: String,
    pub(crate) view_label: String,
    pub(crate) label_short: String,
    pub(crate) description: Option<String>,
    pub(crate) kind: FieldKind,
    pub(crate) value_format: Option<String>,
    pub(crate) map_layer: Option<String>,
}

impl FieldDef {
    pub(crate) fn is_measure(&self) -> bool {
        matches!(self.kind, FieldKind::Measure { .. })
    }

    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.view_label, self.label_short)
    }

    pub(crate) fn timeframe(&self) -> Option<Timeframe> {
        match &self.kind {
            FieldKind::Dimension {
                dim: DimType::Time { timeframe, .. },
                ..
            } => Some(*timeframe),
            _ => None,
        }
    }

    pub(crate) fn looker_type(&self) -> String {
        match &self.kind {
            FieldKind::Measure { looker_type, .. } => (*looker_type).to_string(),
            FieldKind::Dimension {
                dim: DimType::String,
                ..
            } => "string".into(),
            FieldKind::Dimension {
                dim: DimType::Number,
                ..
            } => "number".into(),
            FieldKind::Dimension {
                dim: DimType::Time { timeframe, .. },
                ..
            } => {
                format!("date_{}", timeframe.suffix())
            }
        }
    }

    pub(crate) fn is_numeric(&self) -> bool {
        match &self.kind {
            FieldKind::Measure { .. } => true,
            FieldKind::Dimension {
                dim: DimType::Number,
                ..
            } => true,
            FieldKind::Dimension {
                dim: DimType::Time { timeframe, .. },
                ..
            } => *timeframe == Timeframe::Year,
            FieldKind::Dimension {
                dim: DimType::String,
                ..
            } => false,
        }
    }

    /// The value of this dimension for one table row.
    pub(crate) fn dimension_value(&self, row: &[Cell]) -> Val {
        let FieldKind::Dimension { column, dim } = &self.kind else {
            return Val::Null;
        };
        match (&row[*column], dim) {
            (Cell::Null, _) => Val::Null,
            (Cell::Day(d), DimType::Time { timeframe, .. }) => timeframe.value_of(*d),
            (Cell::Day(d), _) => Val::Str(d.to_string()),
            (Cell::Num(n), _) => Val::Num(*n),
            (Cell::Text(t), _) => Val::Str(t.to_string()),
        }
    }
}

pub(crate) struct Explore {
    pub(crate) model: String,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) sql_table: String,
    pub(crate) fields: Vec<FieldDef>,
    pub(crate) rows: Vec<Vec<Cell>>,
    /// Queries on a slow explore take `slow_query` when not served from cache.
    pub(crate) slow: bool,
    /// Bumped whenever the data changes, which makes cached results stale.
    pub(crate) version: u64,
    /// Rows by the value of one number column, for explores too big to scan per query.
    pub(crate) row_index: Option<RowIndex>,
}

impl Explore {
    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Indexes the rows by `column`, a number column that no control operation rewrites
    /// (`set_value` only changes measure columns). No index if the column holds other than
    /// numbers and NULLs.
    pub(crate) fn with_row_index(mut self, column: usize) -> Self {
        self.row_index = RowIndex::new(&self.rows, column);
        self
    }
}

/// Row positions by the number in one column, for equality filters (`n == x`). NULL and NaN
/// cells never satisfy one, so they are left out.
#[derive(Clone, Debug)]
pub(crate) struct RowIndex {
    column: usize,
    rows: HashMap<u64, Vec<usize>>,
}

/// -0.0 == 0.0, so both map to one key.
fn number_key(n: f64) -> u64 {
    if n == 0.0 { 0 } else { n.to_bits() }
}

impl RowIndex {
    fn new(table: &[Vec<Cell>], column: usize) -> Option<RowIndex> {
        let mut rows: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, row) in table.iter().enumerate() {
            match row.get(column) {
                Some(Cell::Num(n)) if !n.is_nan() => {
                    rows.entry(number_key(*n)).or_default().push(i)
                }
                Some(Cell::Num(_) | Cell::Null) => {}
                // A text cell can still equal a number ("7"): only a scan is exact then.
                _ => return None,
            }
        }
        Some(RowIndex { column, rows })
    }

    /// The only rows that can pass a filter on `field` whose terms are all `= x`, in table
    /// order (so aggregation order, and thus the result, is that of a full scan); `None` when
    /// the filter is of another shape or on another column.
    pub(crate) fn candidates(&self, field: &FieldDef, equals: &[f64]) -> Option<Vec<usize>> {
        match &field.kind {
            FieldKind::Dimension {
                column,
                dim: DimType::Number,
            } if *column == self.column => {}
            _ => return None,
        }
        let mut out: Vec<usize> = equals
            .iter()
            .filter_map(|x| self.rows.get(&number_key(*x)))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

/// Builds an explore's fields tersely; used by the demo data set.
pub(crate) struct ExploreBuilder {
    view: String,
    view_label: String,
    fields: Vec<FieldDef>,
}

impl ExploreBuilder {
    pub(crate) fn new(view: &str, view_label: &str) -> Self {
        ExploreBuilder {
            view: view.into(),
            view_label: view_label.into(),
            fields: Vec::new(),
        }
    }

    /// Switch to a joined view: later fields belong to it.
    pub(crate) fn view(mut self, view: &str, view_label: &str) -> Self {
        self.view = view.into();
        self.view_label = view_label.into();
        self
    }

    fn push(&mut self, name: &str, label: &str, kind: FieldKind, format: Option<&str>) {
        self.fields.push(FieldDef {
            name: format!("{}.{}", self.view, name),
            view: self.view.clone(),
            view_label: self.view_label.clone(),
            label_short: label.into(),
            description: None,
            kind,
            value_format: format.map(str::to_string),
            map_layer: None,
        });
    }

    pub(crate) fn string(mut self, name: &str, label: &str, column: usize) -> Self {
        self.push(
            name,
            label,
            FieldKind::Dimension {
                column,
                dim: DimType::String,
            },
            None,
        );
        self
    }

    pub(crate) fn number(mut self, name: &str, label: &str, column: usize) -> Self {
        self.push(
            name,
            label,
            FieldKind::Dimension {
                column,
                dim: DimType::Number,
            },
            None,
        );
        self
    }

    pub(crate) fn map_layer(mut self, layer: &str) -> Self {
        if let Some(last) = self.fields.last_mut() {
            last.map_layer = Some(layer.into());
        }
        self
    }

    pub(crate) fn describe(mut self, text: &str) -> Self {
        if let Some(last) = self.fields.last_mut() {
            last.description = Some(text.into());
        }
        self
    }

    /// A dimension group with every timeframe (`created_date` … `created_year`).
    pub(crate) fn time_group(mut self, group: &str, label: &str, column: usize) -> Self {
        for timeframe in Timeframe::ALL {
            let suffix = timeframe.suffix();
            let mut title = suffix.to_string();
            title[..1].make_ascii_uppercase();
            let dim = DimType::Time {
                group: format!("{}.{}", self.view, group),
                timeframe,
            };
            self.push(
                &format!("{group}_{suffix}"),
                &format!("{label} {title}"),
                FieldKind::Dimension { column, dim },
                None,
            );
        }
        self
    }

    pub(crate) fn measure(
        mut self,
        name: &str,
        label: &str,
        looker_type: &'static str,
        agg: Agg,
        format: Option<&str>,
    ) -> Self {
        self.push(name, label, FieldKind::Measure { agg, looker_type }, format);
        self
    }

    pub(crate) fn build(
        self,
        model: &str,
        name: &str,
        label: &str,
        rows: Vec<Vec<Cell>>,
        slow: bool,
    ) -> Explore {
        Explore {
            model: model.into(),
            name: name.into(),
            label: label.into(),
            sql_table: format!("demo.{name}"),
            fields: self.fields,
            rows,
            slow,
            version: 1,
            row_index: None,
        }
    }
}
