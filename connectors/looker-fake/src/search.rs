//! search_dashboards / search_looks semantics (Looker's API docs): case-insensitive SQL LIKE on string
//! params, comma lists on id params, `IS NULL`/`NOT NULL`, AND (or OR with `filter_or`),
//! soft-deleted content hidden unless `deleted=true`, then `sorts`, `offset`/`limit`, `fields`.

use std::cmp::Ordering;

use serde_json::Value;

use crate::errors::ApiError;
use crate::like::like_ci;
use crate::params::{Params, project};

type Predicate<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

pub(crate) struct SearchSpec {
    pub(crate) strings: &'static [&'static str],
    pub(crate) ids: &'static [&'static str],
    /// Accepted booleans that the fake validates but does not filter on (`curate`, …).
    pub(crate) ignored_bools: &'static [&'static str],
    pub(crate) sortable: &'static [&'static str],
}

pub(crate) const DASHBOARDS: SearchSpec = SearchSpec {
    strings: &["title", "description", "slug", "last_viewed_at"],
    ids: &[
        "id",
        "content_favorite_id",
        "folder_id",
        "space_id",
        "user_id",
        "view_count",
        "content_metadata_id",
    ],
    ignored_bools: &["curate", "not_owned_by"],
    sortable: &[
        "title",
        "user_id",
        "id",
        "created_at",
        "space_id",
        "folder_id",
        "description",
        "view_count",
        "favorite_count",
        "slug",
        "content_favorite_id",
        "content_metadata_id",
        "deleted",
        "deleted_at",
        "last_viewed_at",
        "last_accessed_at",
        "certification_status",
    ],
};

pub(crate) const LOOKS: SearchSpec = SearchSpec {
    strings: &["title", "description", "last_viewed_at"],
    ids: &[
        "id",
        "content_favorite_id",
        "folder_id",
        "space_id",
        "user_id",
        "view_count",
        "query_id",
    ],
    ignored_bools: &["curate"],
    sortable: &[
        "title",
        "user_id",
        "id",
        "created_at",
        "space_id",
        "folder_id",
        "description",
        "updated_at",
        "last_updater_id",
        "view_count",
        "favorite_count",
        "content_favorite_id",
        "deleted",
        "deleted_at",
        "last_viewed_at",
        "last_accessed_at",
        "query_id",
    ],
};

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `IS NULL` / `NOT NULL` tests, which most search params accept.
fn null_test(pattern: &str, value: &Value) -> Option<bool> {
    match pattern.trim().to_ascii_uppercase().as_str() {
        "IS NULL" => Some(value.is_null()),
        "NOT NULL" => Some(!value.is_null()),
        _ => None,
    }
}

pub(crate) fn search(
    items: Vec<Value>,
    params: &Params,
    spec: &SearchSpec,
) -> Result<Value, ApiError> {
    search_then_render(
        items.into_iter().map(|v| (v, ())).collect(),
        params,
        spec,
        |v, ()| v,
    )
}

/// Filters, sorts and pages `(view, item)` pairs on the views, then renders only the page's
/// items. Each view must hold every attribute a search reads (`spec`'s, `id`, `deleted`).
pub(crate) fn search_then_render<T>(
    items: Vec<(Value, T)>,
    params: &Params,
    spec: &SearchSpec,
    render: impl Fn(Value, T) -> Value,
) -> Result<Value, ApiError> {
    let filter_or = params.bool("filter_or")?.unwrap_or(false);
    let deleted = params.bool("deleted")?.unwrap_or(false);
    for key in spec.ignored_bools {
        params.bool(key)?;
    }
    let mut predicates: Vec<Predicate<'_>> = Vec::new();
    for &key in spec.strings {
        if let Some(pattern) = params.get(key).filter(|p| !p.is_empty()) {
            predicates.push(Box::new(move |item: &Value| {
                let value = &item[key];
                null_test(pattern, value)
                    .unwrap_or_else(|| text_of(value).is_some_and(|text| like_ci(pattern, &text)))
            }));
        }
    }
    for &key in spec.ids {
        if let Some(list) = params.get(key).filter(|p| !p.is_empty()) {
            // `space_id` is the legacy name of `folder_id`.
            let field = if key == "space_id" { "folder_id" } else { key };
            predicates.push(Box::new(move |item: &Value| {
                let value = &item[field];
                null_test(list, value).unwrap_or_else(|| {
                    text_of(value).is_some_and(|text| list.split(',').any(|id| id.trim() == text))
                })
            }));
        }
    }
    let mut found: Vec<(Value, T)> = items
        .into_iter()
        .filter(|(item, _)| item["deleted"].as_bool().unwrap_or(false) == deleted)
        .filter(|(item, _)| {
            if predicates.is_empty() {
                true
            } else if filter_or {
                predicates.iter().any(|p| p(item))
            } else {
                predicates.iter().all(|p| p(item))
            }
        })
        .collect();
    sort(&mut found, params.get("sorts"), spec)?;
    let (offset, limit) = match (params.int("offset")?, params.int("limit")?) {
        (None, None) => match (params.int("page")?, params.int("per_page")?) {
            (Some(page), Some(per_page)) if page >= 1 && per_page >= 1 => {
                (Some((page - 1) * per_page), Some(per_page))
            }
            _ => (None, None),
        },
        other => other,
    };
    if offset.is_some_and(|o| o < 0) || limit.is_some_and(|l| l < 0) {
        return Err(ApiError::BadRequest(
            "offset and limit must not be negative".into(),
        ));
    }
    let found: Vec<Value> = found
        .into_iter()
        .skip(offset.unwrap_or(0) as usize)
        .take(limit.map_or(usize::MAX, |l| l as usize))
        .map(|(view, item)| render(view, item))
        .collect();
    Ok(project(Value::Array(found), params.fields().as_deref()))
}

/// Compares ids numerically when both are numbers, strings case-insensitively.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (text_of(a), text_of(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.total_cmp(&q),
            _ => x.to_lowercase().cmp(&y.to_lowercase()),
        },
    }
}

fn sort<T>(
    items: &mut [(Value, T)],
    sorts: Option<&str>,
    spec: &SearchSpec,
) -> Result<(), ApiError> {
    let mut keys: Vec<(String, bool)> = Vec::new();
    for part in sorts
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        let desc = matches!(
            words.next().map(str::to_ascii_lowercase).as_deref(),
            Some("desc")
        );
        if !spec.sortable.contains(&field) {
            return Err(ApiError::BadRequest(format!("Cannot sort by {field:?}")));
        }
        let field = if field == "space_id" {
            "folder_id"
        } else {
            field
        };
        keys.push((field.to_string(), desc));
    }
    // Without sorts the order is by id, which keeps paging stable.
    keys.push(("id".into(), false));
    items.sort_by(|(a, _), (b, _)| {
        keys.iter()
            .map(|(field, desc)| {
                let ord = compare(&a[field.as_str()], &b[field.as_str()]);
                if *desc { ord.reverse() } else { ord }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    Ok(())
}
