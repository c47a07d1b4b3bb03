//! Looker filter expressions (the values of `Query.filters`) for the field kinds the demo uses:
//! strings (`EMEA`, `EMEA,APAC`, `-LATAM`, `%ware`, `NULL`), numbers (`>100`, `[1,5]`, `NOT 3`)
//! and dates (`2026`, `2026-05`, `2026-Q2`, `2026/01/01 to 2026/04/01`, `after 2026/01/01`,
//! `6 months`, `this year`, `last month`).

use crate::dates::Date;
use crate::like::like_cs;
use crate::model::{Cell, DimType, FieldDef, FieldKind, Val};

#[derive(Debug)]
pub(crate) enum Matcher {
    /// Empty expression: Looker ignores the filter.
    Any,
    Text {
        include: Vec<TextTerm>,
        exclude: Vec<TextTerm>,
    },
    Number(Vec<NumTerm>),
    Dates(Vec<DateTerm>),
}

#[derive(Debug)]
pub(crate) enum TextTerm {
    Equals(String),
    Like(String),
    Null,
    Empty,
}

#[derive(Debug)]
pub(crate) enum NumTerm {
    Null,
    NotNull,
    Cmp(&'static str, f64),
    Range {
        low: f64,
        low_inclusive: bool,
        high: f64,
        high_inclusive: bool,
    },
}

#[derive(Debug)]
pub(crate) enum DateTerm {
    Null,
    NotNull,
    /// Half-open range of days; `None` = unbounded.
    Range(Option<Date>, Option<Date>),
}

impl Matcher {
    /// Parses `expr` for `field`; `today` anchors relative dates.
    pub(crate) fn parse(field: &FieldDef, expr: &str, today: Date) -> Result<Matcher, String> {
        let expr = expr.trim();
        if expr.is_empty() {
            return Ok(Matcher::Any);
        }
        let invalid = || {
            format!(
                "Invalid filter expression {expr:?} for field {}",
                field.name
            )
        };
        match &field.kind {
            FieldKind::Dimension {
                dim: DimType::Time { .. },
                ..
            } => split_terms(expr)
                .iter()
                .map(|t| parse_date_term(t, today).ok_or_else(invalid))
                .collect::<Result<_, _>>()
                .map(Matcher::Dates),
            FieldKind::Measure { .. }
            | FieldKind::Dimension {
                dim: DimType::Number,
                ..
            } => parse_number_terms(expr)
                .map(Matcher::Number)
                .ok_or_else(invalid),
            FieldKind::Dimension {
                dim: DimType::String,
                ..
            } => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for term in split_terms(expr) {
                    let (negated, body) = match term.strip_prefix('-') {
                        Some(rest) => (true, rest.to_string()),
                        None => (false, term.clone()),
                    };
                    let parsed = match body.as_str() {
                        "NULL" => TextTerm::Null,
                        "EMPTY" => TextTerm::Empty,
                        b if b.contains('%') || b.contains('_') => TextTerm::Like(b.to_string()),
                        b => TextTerm::Equals(b.to_string()),
                    };
                    if negated {
                        exclude.push(parsed)
                    } else {
                        include.push(parsed)
                    }
                }
                Ok(Matcher::Text { include, exclude })
            }
        }
    }

    /// The numbers of a number filter made only of `= x` terms (`7`, `1,5`), else `None`.
    pub(crate) fn number_equalities(&self) -> Option<Vec<f64>> {
        let Matcher::Number(terms) = self else {
            return None;
        };
        terms
            .iter()
            .map(|t| match t {
                NumTerm::Cmp("=", x) => Some(*x),
                _ => None,
            })
            .collect::<Option<Vec<f64>>>()
            .filter(|xs| !xs.is_empty())
    }

    /// Matches a dimension against a table row (dates use the raw day, not the timeframe text).
    pub(crate) fn matches_row(&self, field: &FieldDef, row: &[Cell]) -> bool {
        match self {
            Matcher::Dates(terms) => {
                let FieldKind::Dimension { column, .. } = &field.kind else {
                    return false;
                };
                let day = match &row[*column] {
                    Cell::Day(d) => Some(*d),
                    _ => None,
                };
                terms.iter().any(|t| match t {
                    DateTerm::Null => day.is_none(),
                    DateTerm::NotNull => day.is_some(),
                    DateTerm::Range(lo, hi) => day
                        .is_some_and(|d| lo.is_none_or(|lo| d >= lo) && hi.is_none_or(|hi| d < hi)),
                })
            }
            _ => self.matches_val(&field.dimension_value(row)),
        }
    }

    pub(crate) fn matches_val(&self, value: &Val) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Text { include, exclude } => {
                let hit = |t: &TextTerm| match (t, value) {
                    (TextTerm::Null, Val::Null) => true,
                    (TextTerm::Null, _) => false,
                    (TextTerm::Empty, Val::Null) => true,
                    (TextTerm::Empty, v) => v.key_text().is_empty(),
                    (_, Val::Null) => false,
                    (TextTerm::Equals(s), v) => &v.key_text() == s,
                    (TextTerm::Like(p), v) => like_cs(p, &v.key_text()),
                };
                (include.is_empty() || include.iter().any(hit)) && !exclude.iter().any(hit)
            }
            Matcher::Number(terms) => {
                let n = value.as_f64();
                let (negated, positive): (Vec<&NumTerm>, Vec<&NumTerm>) = terms
                    .iter()
                    .partition(|t| matches!(t, NumTerm::Cmp("!=", _)));
                let hit = |t: &&NumTerm| match (t, n) {
                    (NumTerm::Null, n) => n.is_none(),
                    (NumTerm::NotNull, n) => n.is_some(),
                    (_, None) => false,
                    (NumTerm::Cmp(op, x), Some(n)) => match *op {
                        "=" => n == *x,
                        "!=" => n != *x,
                        ">" => n > *x,
                        ">=" => n >= *x,
                        "<" => n < *x,
                        _ => n <= *x,
                    },
                    (
                        NumTerm::Range {
                            low,
                            low_inclusive,
                            high,
                            high_inclusive,
                        },
                        Some(n),
                    ) => {
                        (if *low_inclusive { n >= *low } else { n > *low })
                            && (if *high_inclusive {
                                n <= *high
                            } else {
                                n < *high
                            })
                    }
                };
                (positive.is_empty() || positive.iter().any(hit)) && negated.iter().all(hit)
            }
            Matcher::Dates(terms) => match value {
                Val::Null => terms.iter().any(|t| matches!(t, DateTerm::Null)),
                v => Date::parse(&v.key_text()).is_some_and(|d| {
                    terms.iter().any(|t| match t {
                        DateTerm::Range(lo, hi) => {
                            lo.is_none_or(|lo| d >= lo) && hi.is_none_or(|hi| d < hi)
                        }
                        DateTerm::NotNull => true,
                        DateTerm::Null => false,
                    })
                }),
            },
        }
    }
}

/// Splits on commas, honouring Looker's `^,` escape and `"quoted"` terms.
fn split_terms(expr: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut chars = expr.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '^' if chars.peek().is_some() => current.push(chars.next().unwrap_or('^')),
            '"' => quoted = !quoted,
            ',' if !quoted => terms.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    terms.push(current);
    terms
        .into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn parse_number_terms(expr: &str) -> Option<Vec<NumTerm>> {
    let mut terms = Vec::new();
    let mut rest = expr.trim();
    while !rest.is_empty() {
        if rest.starts_with('[') || rest.starts_with('(') {
            let end = rest.find([']', ')'])?;
            let (inner, close) = (&rest[1..end], &rest[end..=end]);
            let (low, high) = inner.split_once(',')?;
            terms.push(NumTerm::Range {
                low: low.trim().parse().ok()?,
                low_inclusive: rest.starts_with('['),
                high: high.trim().parse().ok()?,
                high_inclusive: close == "]",
            });
            rest = rest[end + 1..]
                .trim_start()
                .trim_start_matches(',')
                .trim_start();
            continue;
        }
        let (term, tail) = rest.split_once(',').unwrap_or((rest, ""));
        rest = tail.trim();
        let term = term.trim();
        let upper = term.to_ascii_uppercase();
        let parsed = if upper == "NULL" {
            NumTerm::Null
        } else if upper == "NOT NULL" {
            NumTerm::NotNull
        } else if let Some(x) = upper.strip_prefix("NOT ") {
            NumTerm::Cmp("!=", x.trim().parse().ok()?)
        } else {
            let ops = [">=", "<=", "!=", "<>", ">", "<", "="];
            let op = ops.iter().find(|op| term.starts_with(**op));
            match op {
                Some(op) => {
                    let canonical = if *op == "<>" { "!=" } else { op };
                    NumTerm::Cmp(canonical, term[op.len()..].trim().parse().ok()?)
                }
                None => NumTerm::Cmp("=", term.parse().ok()?),
            }
        };
        terms.push(parsed);
    }
    Some(terms)
}

fn parse_date_term(term: &str, today: Date) -> Option<DateTerm> {
    let lower = term.trim().to_ascii_lowercase();
    match lower.as_str() {
        "null" => return Some(DateTerm::Null),
        "not null" => return Some(DateTerm::NotNull),
        "today" => {
            return Some(DateTerm::Range(
                Some(today),
                Some(Date::from_days(today.days() + 1)),
            ));
        }
        _ => {}
    }
    if let Some((a, b)) = lower.split_once(" to ") {
        let (start, _) = period(a, today)?;
        let (end, _) = period(b, today)?;
        return Some(DateTerm::Range(Some(start), Some(end)));
    }
    if let Some(a) = lower.strip_prefix("after ") {
        return Some(DateTerm::Range(Some(period(a, today)?.0), None));
    }
    if let Some(a) = lower.strip_prefix("before ") {
        return Some(DateTerm::Range(None, Some(period(a, today)?.0)));
    }
    if let Some(rest) = lower.strip_prefix("this ") {
        let (start, end) = current_unit(rest, today, 0)?;
        return Some(DateTerm::Range(Some(start), Some(end)));
    }
    if let Some(rest) = lower.strip_prefix("last ") {
        let (start, end) = current_unit(rest, today, -1)?;
        return Some(DateTerm::Range(Some(start), Some(end)));
    }
    // "6 months": the current month and the five before it, through today.
    let mut words = lower.split_whitespace();
    if let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next())
        && let Ok(n) = n.parse::<i32>()
        && (1..=10_000).contains(&n)
    {
        let (start, _) = current_unit(unit.trim_end_matches('s'), today, -(n - 1))?;
        return Some(DateTerm::Range(
            Some(start),
            Some(Date::from_days(today.days() + 1)),
        ));
    }
    let (start, end) = period(&lower, today)?;
    Some(DateTerm::Range(Some(start), Some(end)))
}

/// Start and end (exclusive) of an absolute period: a year, month, quarter or day.
fn period(text: &str, _today: Date) -> Option<(Date, Date)> {
    let text = text.trim();
    if let Some(day) = Date::parse(text) {
        return Some((day, Date::from_days(day.days() + 1)));
    }
    if let Some((y, q)) = text.split_once("-q") {
        let (y, q): (i32, u32) = (y.parse().ok()?, q.parse().ok()?);
        if !(1..=4).contains(&q) || !(1..=9999).contains(&y) {
            return None;
        }
        let start = Date::from_ymd(y, (q - 1) * 3 + 1, 1);
        return Some((start, start.add_months(3)));
    }
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    match parts.as_slice() {
        [y] if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()) => {
            let y: i32 = y.parse().ok()?;
            Some((Date::from_ymd(y, 1, 1), Date::from_ymd(y + 1, 1, 1)))
        }
        [y, m] => {
            let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
            if !(1..=12).contains(&m) || !(1..=9999).contains(&y) {
                return None;
            }
            let start = Date::from_ymd(y, m, 1);
            Some((start, start.add_months(1)))
        }
        _ => None,
    }
}

/// The unit containing `today`, shifted by `offset` units (`this month`, `last year`).
fn current_unit(unit: &str, today: Date, offset: i32) -> Option<(Date, Date)> {
    let (y, m, _) = today.ymd();
    match unit.trim_end_matches('s') {
        "day" => {
            let d = Date::from_days(today.days() + offset);
            Some((d, Date::from_days(d.days() + 1)))
        }
        "week" => {
            let d = Date::from_days(today.week_start().days() + 7 * offset);
            Some((d, Date::from_days(d.days() + 7)))
        }
        "month" => {
            let d = Date::from_ymd(y, m, 1).add_months(offset);
            Some((d, d.add_months(1)))
        }
        "quarter" => {
            let d = Date::from_ymd(y, (m - 1) / 3 * 3 + 1, 1).add_months(3 * offset);
            Some((d, d.add_months(3)))
        }
        "year" => Some((
            Date::from_ymd(y + offset, 1, 1),
            Date::from_ymd(y + offset + 1, 1, 1),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExploreBuilder;

    fn fields() -> Vec<FieldDef> {
        ExploreBuilder::new("t", "T")
            .string("region", "Region", 0)
            .number("n", "N", 1)
            .time_group("created", "Created", 2)
            .build("m", "t", "T", Vec::new(), false)
            .fields
    }

    #[test]
    fn text_number_and_date_filters() {
        let f = fields();
        let today = Date::from_ymd(2026, 6, 15);
        let row = |r: &str, n: f64, d: Date| vec![Cell::Text(r.into()), Cell::Num(n), Cell::Day(d)];
        let emea = row("EMEA", 5.0, Date::from_ymd(2026, 5, 3));
        let apac = row("APAC", 50.0, Date::from_ymd(2025, 12, 31));
        let text = |e: &str| Matcher::parse(&f[0], e, today).unwrap();
        assert!(text("EMEA").matches_row(&f[0], &emea));
        assert!(!text("EMEA").matches_row(&f[0], &apac));
        assert!(text("EMEA,APAC").matches_row(&f[0], &apac));
        assert!(!text("-APAC").matches_row(&f[0], &apac));
        assert!(text("%PA%").matches_row(&f[0], &apac));
        let num = |e: &str| Matcher::parse(&f[1], e, today).unwrap();
        assert!(num(">10").matches_row(&f[1], &apac));
        assert!(num("[1,5]").matches_row(&f[1], &emea));
        assert!(!num("(1,5)").matches_row(&f[1], &emea));
        assert!(num("NOT 50").matches_row(&f[1], &emea));
        assert!(Matcher::parse(&f[1], "abc", today).is_err());
        let month = &f[4];
        let date = |e: &str| Matcher::parse(month, e, today).unwrap();
        assert!(date("2026-05").matches_row(month, &emea));
        assert!(date("2026").matches_row(month, &emea));
        assert!(!date("2026").matches_row(month, &apac));
        assert!(date("2025-Q4").matches_row(month, &apac));
        assert!(date("2026/01/01 to 2026/06/01").matches_row(month, &emea));
        assert!(date("6 months").matches_row(month, &emea));
        assert!(!date("this month").matches_row(month, &emea));
        assert!(date("last month").matches_row(month, &emea));
        assert!(date("before 2026/01/01").matches_row(month, &apac));
    }
}
