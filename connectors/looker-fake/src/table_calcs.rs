//! Table calculations from a query's `dynamic_fields`: a small expression language with field
//! references (`${orders.total_revenue}`), arithmetic and a few of Looker's functions
//! (`offset`, `sum`, `mean`, `min`, `max`, `round`, `abs`, `coalesce`).

use serde_json::Value;

use crate::model::Val;

#[derive(Clone, Debug)]
pub(crate) struct TableCalc {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) expression: String,
    pub(crate) value_format: Option<String>,
    pub(crate) value_format_name: Option<String>,
    pub(crate) expr: Expr,
}

impl TableCalc {
    pub(crate) fn references(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.expr.collect_fields(&mut out);
        out
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Num(f64),
    Field(String),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

impl Expr {
    fn collect_fields(&self, out: &mut Vec<String>) {
        match self {
            Expr::Field(f) if !out.contains(f) => out.push(f.clone()),
            Expr::Neg(e) => e.collect_fields(out),
            Expr::Bin(_, a, b) => {
                a.collect_fields(out);
                b.collect_fields(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_fields(out)),
            _ => {}
        }
    }
}

/// Named formats Looker offers for table calculations (`value_format_name`).
pub(crate) fn named_format(name: &str) -> Option<&'static str> {
    Some(match name {
        "decimal_0" | "id" => "0",
        "decimal_1" => "0.0",
        "decimal_2" => "0.00",
        "percent_0" => "0%",
        "percent_1" => "0.0%",
        "percent_2" => "0.00%",
        "usd_0" => "$#,##0",
        "usd" => "$#,##0.00",
        "eur_0" => "€#,##0",
        "eur" => "€#,##0.00",
        _ => return None,
    })
}

/// Parses `dynamic_fields`, keeping the table calculations (custom fields are ignored).
pub(crate) fn parse_dynamic_fields(json: &str) -> Result<Vec<TableCalc>, String> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<Value> = serde_json::from_str(json)
        .map_err(|e| format!("dynamic_fields is not a JSON array: {e}"))?;
    let mut calcs = Vec::new();
    for item in items {
        let Some(name) = item.get("table_calculation").and_then(Value::as_str) else {
            continue;
        };
        let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let expression = text("expression").unwrap_or_default();
        let expr = Parser::new(&expression)
            .parse()
            .map_err(|e| format!("table calculation {name}: {e}"))?;
        calcs.push(TableCalc {
            name: name.to_string(),
            label: text("label").unwrap_or_else(|| name.to_string()),
            value_format: text("value_format").or_else(|| {
                text("value_format_name").and_then(|n| named_format(&n).map(String::from))
            }),
            value_format_name: text("value_format_name"),
            expression,
            expr,
        });
    }
    Ok(calcs)
}

/// What the evaluator reads: the value of a field at (row, pivot column).
pub(crate) trait CalcContext {
    fn value(&self, field: &str, row: usize, col: usize) -> Val;
    fn row_count(&self) -> usize;
}

pub(crate) fn eval(expr: &Expr, ctx: &dyn CalcContext, row: usize, col: usize) -> Option<f64> {
    match expr {
        Expr::Num(n) => Some(*n),
        Expr::Field(f) => ctx.value(f, row, col).as_f64(),
        Expr::Neg(e) => eval(e, ctx, row, col).map(|v| -v),
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, ctx, row, col)?, eval(b, ctx, row, col)?);
            match op {
                '+' => Some(a + b),
                '-' => Some(a - b),
                '*' => Some(a * b),
                _ if b == 0.0 => None,
                _ => Some(a / b),
            }
        }
        Expr::Call(name, args) => {
            let arg = |i: usize| args.get(i).and_then(|a| eval(a, ctx, row, col));
            let column = |i: usize| -> Vec<f64> {
                args.get(i)
                    .map(|a| {
                        (0..ctx.row_count())
                            .filter_map(|r| eval(a, ctx, r, col))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            match name.as_str() {
                "offset" => {
                    let target = (row as i64).saturating_add(arg(1)? as i64);
                    if target < 0 || target >= ctx.row_count() as i64 {
                        return None;
                    }
                    eval(args.first()?, ctx, target as usize, col)
                }
                "sum" => Some(column(0).iter().sum()),
                "mean" => {
                    let v = column(0);
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                }
                "max" => column(0).into_iter().reduce(f64::max),
                "min" => column(0).into_iter().reduce(f64::min),
                "abs" => arg(0).map(f64::abs),
                "round" => {
                    let factor = 10f64.powi(arg(1).unwrap_or(0.0) as i32);
                    arg(0).map(|v| (v * factor).round() / factor)
                }
                "coalesce" => (0..args.len()).find_map(arg),
                _ => None,
            }
        }
    }
}

/// Deeper expressions are refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            chars: text.chars().peekable(),
            depth: 0,
        }
    }

    fn parse(mut self) -> Result<Expr, String> {
        let expr = self.sum()?;
        self.skip_ws();
        match self.chars.next() {
            None => Ok(expr),
            Some(c) => Err(format!("unexpected {c:?}")),
        }
    }

    fn skip_ws(&mut self) {
        while self.chars.peek().is_some_and(|c| c.is_whitespace()) {
            self.chars.next();
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let result = self.sum_inner();
        self.depth -= 1;
        result
    }

    fn sum_inner(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        loop {
            self.skip_ws();
            match self.chars.peek() {
                Some(&op @ ('+' | '-')) => {
                    self.chars.next();
                    left = Expr::Bin(op, Box::new(left), Box::new(self.product()?));
                }
                _ => return Ok(left),
            }
        }
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            match self.chars.peek() {
                Some(&op @ ('*' | '/')) => {
                    self.chars.next();
                    left = Expr::Bin(op, Box::new(left), Box::new(self.unary()?));
                }
                _ => return Ok(left),
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.skip_ws();
        let mut negations = 0;
        while self.chars.next_if_eq(&'-').is_some() {
            negations += 1;
            self.skip_ws();
        }
        let mut expr = self.atom()?;
        if negations % 2 == 1 {
            expr = Expr::Neg(Box::new(expr));
        }
        Ok(expr)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        self.skip_ws();
        match self.chars.peek().copied() {
            Some('(') => {
                self.chars.next();
                let e = self.sum()?;
                self.expect(')')?;
                Ok(e)
            }
            Some('$') => {
                self.chars.next();
                self.expect('{')?;
                let name: String =
                    std::iter::from_fn(|| self.chars.next_if(|c| *c != '}')).collect();
                self.expect('}')?;
                Ok(Expr::Field(name.trim().to_string()))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let text: String =
                    std::iter::from_fn(|| self.chars.next_if(|c| c.is_ascii_digit() || *c == '.'))
                        .collect();
                text.parse()
                    .map(Expr::Num)
                    .map_err(|_| format!("bad number {text:?}"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let name: String = std::iter::from_fn(|| {
                    self.chars
                        .next_if(|c| c.is_ascii_alphanumeric() || *c == '_')
                })
                .collect();
                self.expect('(')?;
                let mut args = Vec::new();
                self.skip_ws();
                if self.chars.peek() != Some(&')') {
                    loop {
                        args.push(self.sum()?);
                        self.skip_ws();
                        if self.chars.next_if_eq(&',').is_none() {
                            break;
                        }
                    }
                }
                self.expect(')')?;
                Ok(Expr::Call(name.to_ascii_lowercase(), args))
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_ws();
        match self.chars.next() {
            Some(got) if got == c => Ok(()),
            got => Err(format!("expected {c:?}, found {got:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Column(Vec<f64>);
    impl CalcContext for Column {
        fn value(&self, _field: &str, row: usize, _col: usize) -> Val {
            Val::Num(self.0[row])
        }
        fn row_count(&self) -> usize {
            self.0.len()
        }
    }

    #[test]
    fn evaluates_arithmetic_and_functions() {
        let calcs = parse_dynamic_fields(
            r#"[{"table_calculation":"c","label":"C","expression":"(${a.x} - offset(${a.x}, 1)) / offset(${a.x}, 1)","value_format_name":"percent_1"},
                {"measure":"ignored","based_on":"a.x","type":"sum"}]"#,
        )
        .unwrap();
        assert_eq!(calcs.len(), 1);
        assert_eq!(calcs[0].value_format.as_deref(), Some("0.0%"));
        let ctx = Column(vec![120.0, 100.0]);
        assert_eq!(eval(&calcs[0].expr, &ctx, 0, 0), Some(0.2));
        assert_eq!(
            eval(&calcs[0].expr, &ctx, 1, 0),
            None,
            "offset past the end is null"
        );
        let share = Parser::new("${a.x} / sum(${a.x}) * -1").parse().unwrap();
        assert_eq!(eval(&share, &ctx, 1, 0), Some(-100.0 / 220.0));
        assert!(Parser::new("${a.x} +").parse().is_err());
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(Parser::new(&deep).parse().is_err(), "bounded nesting");
        assert_eq!(
            eval(&Parser::new("--2").parse().unwrap(), &ctx, 0, 0),
            Some(2.0)
        );
        let far = Parser::new("offset(${a.x}, 99999999999999999999)")
            .parse()
            .unwrap();
        assert_eq!(eval(&far, &ctx, 0, 0), None);
    }
}
