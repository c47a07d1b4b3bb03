//! Looker `Query` objects: parsing create/inline bodies, identity for `create_query`'s "return
//! the existing query when the parameters match", and the cache key of the data they select.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::errors::FieldError;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct QueryDef {
    pub(crate) model: String,
    pub(crate) view: String,
    pub(crate) fields: Vec<String>,
    pub(crate) pivots: Vec<String>,
    pub(crate) fill_fields: Vec<String>,
    pub(crate) filters: BTreeMap<String, String>,
    pub(crate) filter_expression: Option<String>,
    pub(crate) sorts: Vec<String>,
    pub(crate) limit: Option<String>,
    pub(crate) column_limit: Option<String>,
    pub(crate) total: bool,
    pub(crate) row_total: Option<String>,
    pub(crate) subtotals: Vec<String>,
    pub(crate) vis_config: Option<Map<String, Value>>,
    pub(crate) filter_config: Option<Map<String, Value>>,
    pub(crate) visible_ui_sections: Option<String>,
    pub(crate) dynamic_fields: Option<String>,
    pub(crate) query_timezone: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct StoredQuery {
    pub(crate) id: String,
    pub(crate) slug: String,
    pub(crate) client_id: String,
    pub(crate) def: QueryDef,
}

impl QueryDef {
    /// Parses a `Query` body, collecting Looker-style validation errors.
    pub(crate) fn from_json(body: &Value) -> Result<QueryDef, Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(obj) = body.as_object() else {
            return Err(vec![FieldError::new(
                "body",
                "invalid",
                "Query must be a JSON object",
            )]);
        };
        let mut string = |key: &str, required: bool| -> Option<String> {
            match obj.get(key) {
                None | Some(Value::Null) => {
                    if required {
                        errors.push(FieldError::new(
                            key,
                            "missing_field",
                            "This field is required.",
                        ));
                    }
                    None
                }
                Some(Value::String(s)) if required && s.is_empty() => {
                    errors.push(FieldError::new(
                        key,
                        "missing_field",
                        "This field is required.",
                    ));
                    None
                }
                Some(Value::String(s)) => Some(s.clone()),
                // Lenient like Looker: a numeric limit is accepted and kept as a string.
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(_) => {
                    errors.push(FieldError::new(key, "invalid", "Must be a string."));
                    None
                }
            }
        };
        let model = string("model", true);
        let view = string("view", true);
        let filter_expression = string("filter_expression", false);
        let limit = string("limit", false);
        let column_limit = string("column_limit", false);
        let row_total = string("row_total", false);
        let visible_ui_sections = string("visible_ui_sections", false);
        let dynamic_fields = string("dynamic_fields", false);
        let query_timezone = string("query_timezone", false);
        let mut list = |key: &str| -> Vec<String> {
            match obj.get(key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Some(_) => {
                    errors.push(FieldError::new(
                        key,
                        "invalid",
                        "Must be an array of strings.",
                    ));
                    Vec::new()
                }
            }
        };
        let fields = list("fields");
        let pivots = list("pivots");
        let fill_fields = list("fill_fields");
        let sorts = list("sorts");
        let subtotals = list("subtotals");
        let mut filters = BTreeMap::new();
        match obj.get("filters") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    match v {
                        Value::String(s) => {
                            filters.insert(k.clone(), s.clone());
                        }
                        Value::Number(n) => {
                            filters.insert(k.clone(), n.to_string());
                        }
                        Value::Null => {}
                        _ => errors.push(FieldError::new(
                            "filters",
                            "invalid",
                            "Filter values must be strings.",
                        )),
                    }
                }
            }
            Some(_) => errors.push(FieldError::new("filters", "invalid", "Must be an object.")),
        }
        let mut object = |key: &str| match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => {
                errors.push(FieldError::new(key, "invalid", "Must be an object."));
                None
            }
        };
        let vis_config = object("vis_config");
        let filter_config = object("filter_config");
        let total = match obj.get("total") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                errors.push(FieldError::new("total", "invalid", "Must be a boolean."));
                false
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(QueryDef {
            model: model.unwrap_or_default(),
            view: view.unwrap_or_default(),
            fields,
            pivots,
            fill_fields,
            filters,
            filter_expression,
            sorts,
            limit,
            column_limit,
            total,
            row_total,
            subtotals,
            vis_config,
            filter_config,
            visible_ui_sections,
            dynamic_fields,
            query_timezone,
        })
    }

    /// Everything that defines the query, for create_query's deduplication.
    pub(crate) fn identity_key(&self) -> String {
        json!([
            self.data_key(),
            self.vis_config,
            self.filter_config,
            self.visible_ui_sections,
            self.fill_fields,
        ])
        .to_string()
    }

    /// Only what changes the data (the cache key): vis and UI state do not.
    pub(crate) fn data_key(&self) -> String {
        json!([
            self.model,
            self.view,
            self.fields,
            self.pivots,
            self.filters,
            self.filter_expression,
            self.sorts,
            self.limit,
            self.column_limit,
            self.total,
            self.row_total,
            self.subtotals,
            self.dynamic_fields,
            self.query_timezone,
        ])
        .to_string()
    }

    pub(crate) fn has_table_calculations(&self) -> bool {
        self.dynamic_fields
            .as_deref()
            .is_some_and(|d| d.contains("table_calculation"))
    }

    /// The relative explore URL Looker puts in `Query.url`.
    pub(crate) fn explore_url(&self) -> String {
        let mut params: Vec<(String, String)> = vec![("fields".into(), self.fields.join(","))];
        if !self.pivots.is_empty() {
            params.push(("pivots".into(), self.pivots.join(",")));
        }
        for (k, v) in &self.filters {
            params.push((format!("f[{k}]"), v.clone()));
        }
        if !self.sorts.is_empty() {
            params.push(("sorts".into(), self.sorts.join(",")));
        }
        if let Some(limit) = &self.limit {
            params.push(("limit".into(), limit.clone()));
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        format!("/explore/{}/{}?{query}", self.model, self.view)
    }
}

impl StoredQuery {
    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        let d = &self.def;
        let opt_list = |v: &Vec<String>| if v.is_empty() { Value::Null } else { json!(v) };
        let url = d.explore_url();
        let mut value = json!({
            "can": {"run": true, "see_results": true, "explore": true, "create": true, "show": true,
                    "cost_estimate": true, "index": true, "see_lookml": true, "see_aggregate_table_lookml": true,
                    "see_derived_table_lookml": true, "see_sql": true, "save": true, "generate_drill_links": true,
                    "download": true, "download_unlimited": true, "use_custom_fields": true},
            "id": self.id,
            "model": d.model,
            "view": d.view,
            "fields": opt_list(&d.fields),
            "pivots": opt_list(&d.pivots),
            "fill_fields": opt_list(&d.fill_fields),
            "filters": if d.filters.is_empty() { Value::Null } else { json!(d.filters) },
            "filter_expression": d.filter_expression,
            "sorts": opt_list(&d.sorts),
            "limit": d.limit,
            "column_limit": d.column_limit,
            "total": d.total,
            "row_total": d.row_total,
            "subtotals": opt_list(&d.subtotals),
            "visible_ui_sections": d.visible_ui_sections,
            "slug": self.slug,
            "dynamic_fields": d.dynamic_fields,
            "client_id": self.client_id,
            "share_url": format!("{base_url}/x/{}", self.client_id),
            "expanded_share_url": format!("{base_url}{url}"),
            "url": url,
            "query_timezone": d.query_timezone,
            "has_table_calculations": d.has_table_calculations(),
        });
        // Cloned and moved in: `json!` would copy them once more (through `to_value`).
        let object = |m: &Option<Map<String, Value>>| m.clone().map_or(Value::Null, Value::Object);
        if let Value::Object(map) = &mut value {
            map.insert("vis_config".into(), object(&d.vis_config));
            map.insert("filter_config".into(), object(&d.filter_config));
        }
        value
    }
}

/// A deterministic base62 slug (Looker's query slugs and client ids are 22 such characters).
pub(crate) fn slug(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // FNV-1a seeds a splitmix64 stream: stable across runs and platforms.
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ALPHABET[((z ^ (z >> 31)) % 62) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let q = QueryDef::from_json(
            &json!({"model": "m", "view": "v", "fields": ["a.b"], "limit": 10,
            "filters": {"a.c": "x"}, "vis_config": {"type": "table"}}),
        )
        .unwrap();
        assert_eq!(q.limit.as_deref(), Some("10"));
        let other = QueryDef {
            vis_config: None,
            ..q.clone()
        };
        assert_eq!(q.data_key(), other.data_key());
        assert_ne!(q.identity_key(), other.identity_key());
        let errs = QueryDef::from_json(&json!({"view": "v", "fields": "x"})).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["model", "fields"]);
        assert_eq!(slug("1", 22).len(), 22);
        assert_eq!(slug("1", 22), slug("1", 22));
    }
}
