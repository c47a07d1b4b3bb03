//! Result formats of the run endpoints and query tasks: `json_detail`, `json`, `csv`, `txt`
//! and `sql`. JSON formats are sent as `application/json` (the Python SDK then returns str).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::errors::{ApiError, json_response};
use crate::executor::Execution;
use crate::json_detail::{self, RunInfo};
use crate::model::Val;
use crate::query::QueryDef;
use crate::query_engine::QueryResult;

pub(crate) const SUPPORTED: [&str; 5] = ["json_detail", "json", "csv", "txt", "sql"];

/// Formats Looker accepts that the fake does not produce (it answers 400 for them).
pub(crate) const KNOWN: [&str; 16] = [
    "json_detail",
    "json",
    "csv",
    "txt",
    "sql",
    "json_bi",
    "json_fe",
    "inline_json",
    "html",
    "md",
    "xlsx",
    "gsxml",
    "odc",
    "png",
    "jpg",
    "jpeg",
];

pub(crate) fn check(format: &str) -> Result<(), ApiError> {
    if SUPPORTED.contains(&format) {
        Ok(())
    } else if KNOWN.contains(&format) {
        Err(ApiError::BadRequest(format!(
            "Result format {format:?} is not served by the fake Looker; use one of {}",
            SUPPORTED.join(", ")
        )))
    } else {
        Err(ApiError::BadRequest(format!(
            "Unknown result format {format:?}"
        )))
    }
}

/// The result as a JSON value (for `json`/`json_detail`) or text; used by multi_results too.
pub(crate) fn body(
    format: &str,
    exec: &Execution,
    from_cache: bool,
    query_id: &str,
    def: &QueryDef,
) -> Result<Body, ApiError> {
    check(format)?;
    let result = &exec.result;
    Ok(match format {
        "json_detail" => Body::Json(json_detail::render(
            result,
            &RunInfo {
                query_id,
                query: def,
                explore_label: &exec.explore_label,
                from_cache,
                ran_at: &exec.ran_at,
                runtime_secs: exec.runtime_secs,
            },
        )),
        "json" => match &result.error {
            Some(message) => Body::Json(json!([{"looker_error": message}])),
            None => Body::Json(plain_json(result)),
        },
        "sql" => Body::Text(result.sql.clone(), "text/plain; charset=utf-8"),
        "csv" | "txt" if result.error.is_some() => {
            return Err(ApiError::BadRequest(
                result.error.clone().unwrap_or_default(),
            ));
        }
        "csv" => Body::Text(delimited(result, ','), "text/csv; charset=utf-8"),
        _ => Body::Text(delimited(result, '\t'), "text/plain; charset=utf-8"),
    })
}

pub(crate) enum Body {
    Json(Value),
    Text(String, &'static str),
}

impl Body {
    pub(crate) fn into_value(self) -> Value {
        match self {
            Body::Json(v) => v,
            Body::Text(t, _) => Value::String(t),
        }
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        match self {
            Body::Json(v) => json_response(StatusCode::OK, &v),
            Body::Text(text, content_type) => {
                let mut response = (StatusCode::OK, text).into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                response
            }
        }
    }
}

/// `json`: one object per row keyed by field name; pivoted measures nest by pivot key (the
/// real layout for pivots is undocumented, Looker's API docs).
fn plain_json(result: &QueryResult) -> Value {
    let column = |values: &Vec<Val>, pivoted: bool| -> Value {
        if result.is_pivoted() && pivoted {
            Value::Object(
                result
                    .pivot_cols
                    .iter()
                    .zip(values)
                    .map(|(c, v)| (c.key.clone(), v.to_json()))
                    .collect(),
            )
        } else {
            values.first().map_or(Value::Null, Val::to_json)
        }
    };
    Value::Array(
        result
            .rows
            .iter()
            .map(|row| {
                let mut out = Map::new();
                for (f, v) in result.dimensions.iter().zip(&row.dims) {
                    out.insert(f.def.name.clone(), v.to_json());
                }
                for (f, v) in result.measures.iter().zip(&row.measures) {
                    out.insert(f.def.name.clone(), column(v, true));
                }
                for (c, v) in result.calcs.iter().zip(&row.calcs) {
                    out.insert(c.calc.name.clone(), column(v, c.pivoted));
                }
                Value::Object(out)
            })
            .collect(),
    )
}

fn delimited(result: &QueryResult, sep: char) -> String {
    let quote = |s: String| {
        if s.contains(sep) || s.contains('"') || s.contains('\n') {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let pivot_suffixes: Vec<String> = if result.is_pivoted() {
        result
            .pivot_cols
            .iter()
            .map(|c| {
                format!(
                    " {}",
                    if c.is_total {
                        "Row Total".into()
                    } else {
                        c.key.clone()
                    }
                )
            })
            .collect()
    } else {
        vec![String::new()]
    };
    let mut header: Vec<String> = result.dimensions.iter().map(|f| f.def.label()).collect();
    for m in &result.measures {
        header.extend(
            pivot_suffixes
                .iter()
                .map(|s| format!("{}{s}", m.def.label())),
        );
    }
    for c in &result.calcs {
        if c.pivoted {
            header.extend(
                pivot_suffixes
                    .iter()
                    .map(|s| format!("{}{s}", c.calc.label)),
            );
        } else {
            header.push(c.calc.label.clone());
        }
    }
    let mut lines = vec![
        header
            .into_iter()
            .map(quote)
            .collect::<Vec<_>>()
            .join(&sep.to_string()),
    ];
    for row in &result.rows {
        let cells: Vec<String> = row
            .dims
            .iter()
            .chain(row.measures.iter().flatten())
            .chain(row.calcs.iter().flatten())
            .map(|v| quote(v.key_text()))
            .collect();
        lines.push(cells.join(&sep.to_string()));
    }
    lines.join("\n") + "\n"
}
