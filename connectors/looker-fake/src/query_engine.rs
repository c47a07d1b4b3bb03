//! Runs a Looker query against an in-memory explore: filters, group-by, measures, pivots,
//! row and column totals, sorts, limits and table calculations, the way Looker's SQL would.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::dates::Date;
use crate::filters::Matcher;
use crate::model::{Agg, Cell, Explore, FieldDef, FieldKind, Val};
use crate::query::QueryDef;
use crate::table_calcs::{self, CalcContext, TableCalc};

/// The pivot key Looker uses for the row-total column.
pub(crate) const ROW_TOTAL_KEY: &str = "$$$_row_total_$$$";
/// How Looker joins the values of several pivot fields into one key (unverified; Looker's API docs).
const PIVOT_KEY_SEPARATOR: &str = "|FIELD|";
const DEFAULT_ROW_LIMIT: usize = 500;
const DEFAULT_COLUMN_LIMIT: usize = 50;

#[derive(Clone, Debug)]
pub(crate) struct ResultField {
    pub(crate) def: FieldDef,
    /// (sort_index, desc) when the query sorts on this field.
    pub(crate) sorted: Option<(usize, bool)>,
}

#[derive(Clone, Debug)]
pub(crate) struct CalcColumn {
    pub(crate) calc: TableCalc,
    pub(crate) is_measure: bool,
    pub(crate) pivoted: bool,
    pub(crate) sorted: Option<(usize, bool)>,
}

#[derive(Clone, Debug)]
pub(crate) struct PivotCol {
    pub(crate) key: String,
    pub(crate) values: Vec<Val>,
    pub(crate) is_total: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct ResultRow {
    pub(crate) dims: Vec<Val>,
    /// Per measure: one value, or one per pivot column (row total last).
    pub(crate) measures: Vec<Vec<Val>>,
    pub(crate) calcs: Vec<Vec<Val>>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct QueryResult {
    pub(crate) dimensions: Vec<ResultField>,
    pub(crate) measures: Vec<ResultField>,
    pub(crate) pivots: Vec<ResultField>,
    pub(crate) calcs: Vec<CalcColumn>,
    pub(crate) pivot_cols: Vec<PivotCol>,
    pub(crate) rows: Vec<ResultRow>,
    pub(crate) totals: Option<Vec<Vec<Val>>>,
    pub(crate) has_row_totals: bool,
    pub(crate) sql: String,
    /// A "database" error: json_detail reports it in `errors` with empty data.
    pub(crate) error: Option<String>,
}

impl QueryResult {
    pub(crate) fn is_pivoted(&self) -> bool {
        !self.pivots.is_empty()
    }

    fn failed(sql: String, message: String) -> QueryResult {
        QueryResult {
            sql,
            error: Some(message),
            ..QueryResult::default()
        }
    }
}

/// Row limit and the anchor date for relative date filters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunOptions {
    pub(crate) limit_override: Option<i64>,
    pub(crate) today: Date,
}

struct Filter<'a> {
    field: &'a FieldDef,
    matcher: Matcher,
}

pub(crate) fn run(explore: &Explore, def: &QueryDef, options: RunOptions) -> QueryResult {
    let sql = sql_text(explore, def);
    match run_inner(explore, def, options) {
        Ok(mut result) => {
            result.sql = sql;
            result
        }
        Err(message) => QueryResult::failed(sql, message),
    }
}

fn run_inner(
    explore: &Explore,
    def: &QueryDef,
    options: RunOptions,
) -> Result<QueryResult, String> {
    let calcs = table_calcs::parse_dynamic_fields(def.dynamic_fields.as_deref().unwrap_or(""))?;
    let resolve = |name: &str| {
        explore.field(name).ok_or_else(|| {
            format!(
                "Unknown or inaccessible field \"{name}\" referenced in \"{}\"",
                explore.name
            )
        })
    };
    let pivot_defs: Vec<&FieldDef> = def
        .pivots
        .iter()
        .map(|p| resolve(p))
        .collect::<Result<_, _>>()?;
    if let Some(m) = pivot_defs.iter().find(|f| f.is_measure()) {
        return Err(format!("Measures cannot be pivoted: {}", m.name));
    }
    let (mut dims, mut measures) = (Vec::new(), Vec::new());
    for name in &def.fields {
        if calcs.iter().any(|c| &c.name == name) || def.pivots.contains(name) {
            continue;
        }
        let field = resolve(name)?;
        if field.is_measure() {
            measures.push(field)
        } else {
            dims.push(field)
        }
    }
    let (mut dim_filters, mut measure_filters) = (Vec::new(), Vec::new());
    for (name, expr) in &def.filters {
        let field = resolve(name)?;
        let matcher = Matcher::parse(field, expr, options.today)?;
        let filter = Filter { field, matcher };
        if field.is_measure() {
            measure_filters.push(filter)
        } else {
            dim_filters.push(filter)
        }
    }
    let pivoted = !pivot_defs.is_empty();
    let row_totals = pivoted && def.row_total.as_deref().is_some_and(|r| !r.is_empty());

    // Group the filtered table rows at every grain the result needs.
    let aggs: Vec<&Agg> = measures
        .iter()
        .map(|m| match &m.kind {
            FieldKind::Measure { agg, .. } => agg,
            FieldKind::Dimension { .. } => unreachable!("measures only"),
        })
        .collect();
    let new_accs = || aggs.iter().map(|a| Acc::new(a)).collect::<Vec<_>>();
    let mut cells: HashMap<(Vec<Val>, Vec<Val>), Vec<Acc>> = HashMap::new();
    let mut by_row: HashMap<Vec<Val>, Vec<Acc>> = HashMap::new();
    let mut by_col: HashMap<Vec<Val>, Vec<Acc>> = HashMap::new();
    let mut grand = new_accs();
    // An indexed explore answers an equality filter on its key column without a scan. Every
    // filter still applies to the candidate rows, which come in table order: same result.
    let candidates = explore.row_index.as_ref().and_then(|index| {
        dim_filters
            .iter()
            .find_map(|f| index.candidates(f.field, &f.matcher.number_equalities()?))
    });
    let table_rows: Box<dyn Iterator<Item = &Vec<Cell>>> = match &candidates {
        Some(positions) => Box::new(positions.iter().map(|&i| &explore.rows[i])),
        None => Box::new(explore.rows.iter()),
    };
    for row in table_rows {
        if !dim_filters
            .iter()
            .all(|f| f.matcher.matches_row(f.field, row))
        {
            continue;
        }
        let rk: Vec<Val> = dims.iter().map(|d| d.dimension_value(row)).collect();
        let pk: Vec<Val> = pivot_defs.iter().map(|d| d.dimension_value(row)).collect();
        let add = |accs: &mut Vec<Acc>| {
            accs.iter_mut()
                .zip(&aggs)
                .for_each(|(acc, agg)| acc.add(agg, row))
        };
        add(cells
            .entry((rk.clone(), pk.clone()))
            .or_insert_with(new_accs));
        if row_totals {
            add(by_row.entry(rk).or_insert_with(new_accs));
        }
        if def.total {
            add(by_col.entry(pk).or_insert_with(new_accs));
            add(&mut grand);
        }
    }
    let finish = |accs: &Vec<Acc>| -> Vec<Val> {
        accs.iter().zip(&aggs).map(|(a, g)| a.finish(g)).collect()
    };
    let mut cell_values: HashMap<(Vec<Val>, Vec<Val>), Vec<Val>> = cells
        .iter()
        .map(|(k, accs)| (k.clone(), finish(accs)))
        .collect();
    // HAVING: measure filters drop the groups (cells) they reject.
    if !measure_filters.is_empty() {
        cell_values.retain(|_, values| {
            measure_filters.iter().all(|f| {
                let i = measures.iter().position(|m| m.name == f.field.name);
                // A filter on a measure outside `fields` is evaluated as Looker would (HAVING), but
                // the fake only computes selected measures, so it is skipped.
                i.is_none_or(|i| f.matcher.matches_val(&values[i]))
            })
        });
    }

    let sorts = parse_sorts(def, &dims, &measures, &calcs, &pivot_defs);
    // Pivot columns: distinct pivot values, ordered by the pivot fields (desc if sorted so).
    let mut pivot_keys: Vec<Vec<Val>> = {
        let set: HashSet<&Vec<Val>> = cell_values.keys().map(|(_, pk)| pk).collect();
        set.into_iter().cloned().collect()
    };
    pivot_keys.sort_by(|a, b| {
        for (i, field) in pivot_defs.iter().enumerate() {
            let desc = sorts.iter().any(|s| s.field == field.name && s.desc);
            let ord = a[i].compare(&b[i]);
            let ord = if desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    let column_limit = def
        .column_limit
        .as_deref()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_COLUMN_LIMIT);
    pivot_keys.truncate(column_limit);
    let mut pivot_cols: Vec<PivotCol> = if pivoted {
        pivot_keys
            .iter()
            .map(|pk| PivotCol {
                key: pk
                    .iter()
                    .map(pivot_key_part)
                    .collect::<Vec<_>>()
                    .join(PIVOT_KEY_SEPARATOR),
                values: pk.clone(),
                is_total: false,
            })
            .collect()
    } else {
        vec![PivotCol {
            key: String::new(),
            values: Vec::new(),
            is_total: false,
        }]
    };

    let row_keys: Vec<Vec<Val>> = {
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for (rk, _) in cell_values.keys() {
            if seen.insert(rk) {
                keys.push(rk.clone());
            }
        }
        // A fixed starting order keeps ties in the requested sort deterministic.
        keys.sort_by(|a: &Vec<Val>, b: &Vec<Val>| {
            a.iter()
                .zip(b)
                .map(|(x, y)| x.compare(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        keys
    };
    let mut rows: Vec<ResultRow> = row_keys
        .into_iter()
        .map(|rk| {
            let measures_cells = (0..measures.len())
                .map(|mi| {
                    let mut values: Vec<Val> = pivot_keys_or_empty(pivoted, &pivot_keys)
                        .iter()
                        .map(|pk| {
                            cell_values
                                .get(&(rk.clone(), pk.clone()))
                                .map(|v| v[mi].clone())
                                .unwrap_or(Val::Null)
                        })
                        .collect();
                    if row_totals {
                        values.push(
                            by_row
                                .get(&rk)
                                .map(|a| finish(a)[mi].clone())
                                .unwrap_or(Val::Null),
                        );
                    }
                    values
                })
                .collect();
            ResultRow {
                dims: rk,
                measures: measures_cells,
                calcs: Vec::new(),
            }
        })
        .collect();
    if row_totals {
        pivot_cols.push(PivotCol {
            key: ROW_TOTAL_KEY.into(),
            values: Vec::new(),
            is_total: true,
        });
    }

    // Table calculations run after the query, like Looker's front end does, but sorting on one
    // needs its values, so they are computed before sorting and again after the limit.
    let mut calc_columns: Vec<CalcColumn> = Vec::new();
    for calc in &calcs {
        let refs = calc.references();
        let is_measure = refs.iter().any(|r| {
            measures.iter().any(|m| &m.name == r)
                || calc_columns
                    .iter()
                    .any(|c| &c.calc.name == r && c.is_measure)
        });
        let calc_pivoted = pivoted && is_measure;
        calc_columns.push(CalcColumn {
            calc: calc.clone(),
            is_measure,
            pivoted: calc_pivoted,
            sorted: None,
        });
    }
    let ncols = pivot_cols.len();
    compute_calcs(&mut rows, &dims, &measures, &calc_columns, ncols);
    sort_rows(&mut rows, &sorts, pivoted);
    let limit = options
        .limit_override
        .or_else(|| def.limit.as_deref().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(DEFAULT_ROW_LIMIT as i64);
    if limit >= 0 {
        rows.truncate(limit as usize);
    }
    compute_calcs(&mut rows, &dims, &measures, &calc_columns, ncols);

    let totals = def.total.then(|| {
        (0..measures.len())
            .map(|mi| {
                let mut values: Vec<Val> = if pivoted {
                    pivot_keys
                        .iter()
                        .map(|pk| {
                            by_col
                                .get(pk)
                                .map(|a| finish(a)[mi].clone())
                                .unwrap_or(Val::Null)
                        })
                        .collect()
                } else {
                    vec![finish(&grand)[mi].clone()]
                };
                if row_totals {
                    values.push(finish(&grand)[mi].clone());
                }
                values
            })
            .collect()
    });

    let sorted_of = |name: &str| {
        sorts
            .iter()
            .position(|s| s.field == name)
            .map(|i| (i, sorts[i].desc))
    };
    for column in &mut calc_columns {
        column.sorted = sorted_of(&column.calc.name);
    }
    let wrap = |fields: &[&FieldDef]| -> Vec<ResultField> {
        fields
            .iter()
            .map(|f| ResultField {
                def: (*f).clone(),
                sorted: sorted_of(&f.name),
            })
            .collect()
    };
    Ok(QueryResult {
        dimensions: wrap(&dims),
        measures: wrap(&measures),
        pivots: wrap(&pivot_defs),
        calcs: calc_columns,
        pivot_cols: if pivoted { pivot_cols } else { Vec::new() },
        rows,
        totals,
        has_row_totals: row_totals,
        sql: String::new(),
        error: None,
    })
}

fn pivot_keys_or_empty(pivoted: bool, keys: &[Vec<Val>]) -> Vec<Vec<Val>> {
    if pivoted {
        keys.to_vec()
    } else {
        vec![Vec::new()]
    }
}

fn pivot_key_part(v: &Val) -> String {
    match v {
        Val::Null => "null".into(),
        other => other.key_text(),
    }
}

struct SortSpec {
    field: String,
    desc: bool,
    pivot_index: usize,
    target: SortTarget,
}

enum SortTarget {
    Dim(usize),
    Measure(usize),
    Calc(usize),
    Pivot,
}

fn parse_sorts(
    def: &QueryDef,
    dims: &[&FieldDef],
    measures: &[&FieldDef],
    calcs: &[TableCalc],
    pivots: &[&FieldDef],
) -> Vec<SortSpec> {
    let mut specs = Vec::new();
    for sort in &def.sorts {
        let mut words = sort.split_whitespace();
        let Some(field) = words.next() else { continue };
        let mut desc = false;
        let mut pivot_index = 0;
        for word in words {
            match word.to_ascii_lowercase().as_str() {
                "desc" => desc = true,
                "asc" => desc = false,
                n => pivot_index = n.parse().unwrap_or(0),
            }
        }
        let target = if let Some(i) = dims.iter().position(|d| d.name == field) {
            SortTarget::Dim(i)
        } else if let Some(i) = measures.iter().position(|m| m.name == field) {
            SortTarget::Measure(i)
        } else if let Some(i) = calcs.iter().position(|c| c.name == field) {
            SortTarget::Calc(i)
        } else if pivots.iter().any(|p| p.name == field) {
            SortTarget::Pivot
        } else {
            continue;
        };
        specs.push(SortSpec {
            field: field.to_string(),
            desc,
            pivot_index,
            target,
        });
    }
    if specs.iter().all(|s| matches!(s.target, SortTarget::Pivot)) {
        // Looker's default: the first time dimension descending, else the first measure
        // descending, else the first dimension ascending.
        let default = if let Some(i) = dims.iter().position(|d| d.timeframe().is_some()) {
            Some(SortSpec {
                field: dims[i].name.clone(),
                desc: true,
                pivot_index: 0,
                target: SortTarget::Dim(i),
            })
        } else if !measures.is_empty() {
            Some(SortSpec {
                field: measures[0].name.clone(),
                desc: true,
                pivot_index: 0,
                target: SortTarget::Measure(0),
            })
        } else if !dims.is_empty() {
            Some(SortSpec {
                field: dims[0].name.clone(),
                desc: false,
                pivot_index: 0,
                target: SortTarget::Dim(0),
            })
        } else {
            None
        };
        specs.extend(default);
    }
    specs
}

fn sort_rows(rows: &mut [ResultRow], sorts: &[SortSpec], pivoted: bool) {
    let value = |row: &ResultRow, spec: &SortSpec| -> Val {
        let col = if pivoted { spec.pivot_index } else { 0 };
        let pick = |cells: &Vec<Val>| {
            cells
                .get(col)
                .or(cells.first())
                .cloned()
                .unwrap_or(Val::Null)
        };
        match spec.target {
            SortTarget::Dim(i) => row.dims[i].clone(),
            SortTarget::Measure(i) => pick(&row.measures[i]),
            SortTarget::Calc(i) => row.calcs.get(i).map(pick).unwrap_or(Val::Null),
            SortTarget::Pivot => Val::Null,
        }
    };
    rows.sort_by(|a, b| {
        for spec in sorts {
            let ord = value(a, spec).compare(&value(b, spec));
            let ord = if spec.desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
}

struct RowsContext<'a> {
    rows: &'a [ResultRow],
    dims: &'a [&'a FieldDef],
    measures: &'a [&'a FieldDef],
    calcs: &'a [CalcColumn],
}

impl CalcContext for RowsContext<'_> {
    fn value(&self, field: &str, row: usize, col: usize) -> Val {
        let Some(r) = self.rows.get(row) else {
            return Val::Null;
        };
        let pick = |cells: &Vec<Val>| {
            cells
                .get(col)
                .or(cells.first())
                .cloned()
                .unwrap_or(Val::Null)
        };
        if let Some(i) = self.dims.iter().position(|d| d.name == field) {
            return r.dims[i].clone();
        }
        if let Some(i) = self.measures.iter().position(|m| m.name == field) {
            return pick(&r.measures[i]);
        }
        if let Some(i) = self.calcs.iter().position(|c| c.calc.name == field) {
            return r.calcs.get(i).map(pick).unwrap_or(Val::Null);
        }
        Val::Null
    }

    fn row_count(&self) -> usize {
        self.rows.len()
    }
}

fn compute_calcs(
    rows: &mut Vec<ResultRow>,
    dims: &[&FieldDef],
    measures: &[&FieldDef],
    calcs: &[CalcColumn],
    ncols: usize,
) {
    for row in rows.iter_mut() {
        row.calcs.clear();
    }
    for (ci, column) in calcs.iter().enumerate() {
        let cols = if column.pivoted { ncols } else { 1 };
        let values: Vec<Vec<Val>> = {
            let ctx = RowsContext {
                rows,
                dims,
                measures,
                calcs: &calcs[..ci],
            };
            (0..rows.len())
                .map(|r| {
                    (0..cols)
                        .map(|c| {
                            table_calcs::eval(&column.calc.expr, &ctx, r, c)
                                .map_or(Val::Null, Val::Num)
                        })
                        .collect()
                })
                .collect()
        };
        for (row, v) in rows.iter_mut().zip(values) {
            row.calcs.push(v);
        }
    }
}

/// Aggregation state for one measure in one group; NULL handling follows SQL.
enum Acc {
    Sum(Option<f64>),
    Avg(f64, u32),
    Min(Option<f64>),
    Max(Option<f64>),
    Values(Vec<f64>),
    Distinct(HashSet<String>),
    Pair(Option<f64>, f64),
}

impl Acc {
    fn new(agg: &Agg) -> Acc {
        match agg {
            Agg::Count(_) | Agg::Sum(_) => Acc::Sum(None),
            Agg::Average(_) => Acc::Avg(0.0, 0),
            Agg::Min(_) => Acc::Min(None),
            Agg::Max(_) => Acc::Max(None),
            Agg::Median(_) | Agg::Percentile(..) => Acc::Values(Vec::new()),
            Agg::CountDistinct(_) => Acc::Distinct(HashSet::new()),
            Agg::Ratio(..) | Agg::Margin(..) => Acc::Pair(None, 0.0),
        }
    }

    fn add(&mut self, agg: &Agg, row: &[Cell]) {
        let num = |c: usize| row[c].num();
        match (self, agg) {
            (Acc::Sum(s), Agg::Count(c) | Agg::Sum(c)) => {
                if let Some(v) = num(*c) {
                    *s = Some(s.unwrap_or(0.0) + v);
                }
            }
            (Acc::Avg(sum, n), Agg::Average(c)) => {
                if let Some(v) = num(*c) {
                    *sum += v;
                    *n += 1;
                }
            }
            (Acc::Min(m), Agg::Min(c)) => {
                if let Some(v) = num(*c) {
                    *m = Some(m.map_or(v, |m| m.min(v)));
                }
            }
            (Acc::Max(m), Agg::Max(c)) => {
                if let Some(v) = num(*c) {
                    *m = Some(m.map_or(v, |m| m.max(v)));
                }
            }
            (Acc::Values(vs), Agg::Median(c) | Agg::Percentile(c, _)) => vs.extend(num(*c)),
            (Acc::Distinct(set), Agg::CountDistinct(c)) => match &row[*c] {
                Cell::Null => {}
                Cell::Text(t) => {
                    set.insert(t.to_string());
                }
                other => {
                    set.insert(format!("{other:?}"));
                }
            },
            (Acc::Pair(a, b), Agg::Ratio(x, y) | Agg::Margin(x, y)) => {
                if let Some(v) = num(*x) {
                    *a = Some(a.unwrap_or(0.0) + v);
                }
                *b += num(*y).unwrap_or(0.0);
            }
            _ => {}
        }
    }

    fn finish(&self, agg: &Agg) -> Val {
        let num = |v: Option<f64>| v.map_or(Val::Null, Val::Num);
        match (self, agg) {
            // Sums are rounded to 1e-6 like a DECIMAL column would sum, hiding float noise.
            (Acc::Sum(s), Agg::Count(_)) => Val::Num(round6(s.unwrap_or(0.0))),
            (Acc::Sum(s), _) => num(s.map(round6)),
            (Acc::Avg(sum, n), _) => num((*n > 0).then(|| sum / f64::from(*n))),
            (Acc::Min(m) | Acc::Max(m), _) => num(*m),
            (Acc::Values(vs), Agg::Percentile(_, p)) => num(percentile(vs, *p)),
            (Acc::Values(vs), _) => num(percentile(vs, 50.0)),
            (Acc::Distinct(set), _) => Val::Num(set.len() as f64),
            (Acc::Pair(a, b), Agg::Ratio(..)) => num(a.filter(|_| *b != 0.0).map(|a| a / b)),
            (Acc::Pair(rev, cost), _) => num(rev.filter(|r| *r != 0.0).map(|r| (r - cost) / r)),
        }
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// PERCENTILE_CONT: linear interpolation between the closest ranks.
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

/// Plausible SQL for `sql` in results; it documents the query, nothing parses it.
fn sql_text(explore: &Explore, def: &QueryDef) -> String {
    let alias = |name: &str| name.replace('.', "_");
    let select: Vec<String> = def
        .fields
        .iter()
        .map(|f| format!("    {f} AS {}", alias(f)))
        .collect();
    let mut sql = format!(
        "SELECT\n{}\nFROM {} AS {}\n",
        select.join(",\n"),
        explore.sql_table,
        explore.name
    );
    let filters: BTreeMap<&String, &String> = def.filters.iter().collect();
    if !filters.is_empty() {
        let conds: Vec<String> = filters
            .iter()
            .map(|(k, v)| format!("({k} matches '{v}')"))
            .collect();
        sql.push_str(&format!("WHERE {}\n", conds.join(" AND ")));
    }
    let groups: Vec<String> = (1..=def.fields.len()).map(|i| i.to_string()).collect();
    if !groups.is_empty() {
        sql.push_str(&format!("GROUP BY {}\n", groups.join(", ")));
    }
    if !def.sorts.is_empty() {
        sql.push_str(&format!("ORDER BY {}\n", def.sorts.join(", ")));
    }
    sql.push_str(&format!("LIMIT {}", def.limit.as_deref().unwrap_or("500")));
    sql
}

/// The table rows behind one result cell: used by the control endpoint to change a value so
/// that every query over the same data agrees with it.
pub(crate) fn rows_behind_cell(
    explore: &Explore,
    def: &QueryDef,
    today: Date,
    dims: &[(String, Val)],
) -> Result<Vec<usize>, String> {
    let mut filters = Vec::new();
    for (name, expr) in &def.filters {
        let field = explore
            .field(name)
            .ok_or_else(|| format!("unknown field {name}"))?;
        if !field.is_measure() {
            filters.push((field, Matcher::parse(field, expr, today)?));
        }
    }
    let dim_fields: Vec<(&FieldDef, &Val)> = dims
        .iter()
        .map(|(n, v)| {
            explore
                .field(n)
                .map(|f| (f, v))
                .ok_or_else(|| format!("unknown field {n}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(explore
        .rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            filters.iter().all(|(f, m)| m.matches_row(f, row))
                && dim_fields
                    .iter()
                    .all(|(f, v)| &f.dimension_value(row) == *v)
        })
        .map(|(i, _)| i)
        .collect())
}
