//! JSON shapes of Looker content objects (Dashboard, DashboardElement, Look, Folder, …), with
//! every property of the spec's schemas so clients and the OpenAPI test see complete objects.

use serde_json::{Value, json};

use crate::content::{Catalog, Dashboard, Element, Look, MergeQuery, Source};

/// Moves `parts` into `object`: `json!` would copy each embedded `Value` (through
/// `to_value`), which made large renderings (a dashboard's tiles) several times slower.
fn with<const N: usize>(mut object: Value, parts: [(&str, Value); N]) -> Value {
    if let Value::Object(map) = &mut object {
        map.extend(parts.map(|(k, v)| (k.to_string(), v)));
    }
    object
}

fn opt_object(map: Option<&serde_json::Map<String, Value>>) -> Value {
    map.map_or(Value::Null, |m| Value::Object(m.clone()))
}

fn can(keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), Value::Bool(true)))
            .collect(),
    )
}

pub(crate) fn folder(catalog: &Catalog, id: &str) -> Value {
    let Some(f) = catalog.folder(id) else {
        return Value::Null;
    };
    json!({
        "name": f.name, "parent_id": f.parent_id, "id": f.id, "content_metadata_id": format!("cm{}", f.id),
        "created_at": "2024-06-01T00:00:00.000+00:00", "creator_id": "1", "child_count": 0,
        "external_id": null, "is_embed": false, "is_embed_shared_root": false, "is_embed_users_root": false,
        "is_personal": false, "is_personal_descendant": false, "is_shared_root": f.parent_id.is_none(),
        "is_users_root": false, "can": can(&["index", "show", "create", "see_admin_spaces", "update", "destroy",
            "move_content", "edit_content"]),
    })
}

fn user_name(catalog: &Catalog, id: &str) -> Value {
    catalog.user(id).map_or(Value::Null, |u| {
        json!(format!("{} {}", u.first_name, u.last_name))
    })
}

fn model(id: &str) -> Value {
    json!({"id": id, "label": "Demo Model"})
}

/// `DashboardBase` fields, shared by `Dashboard` and `GET /dashboards`.
pub(crate) fn dashboard_base(catalog: &Catalog, d: &Dashboard) -> serde_json::Map<String, Value> {
    let value = json!({
        "can": can(&["index", "show", "create", "update", "destroy", "download", "see_lookml", "move",
                     "copy", "run", "recover", "explore"]),
        "content_favorite_id": null,
        "content_metadata_id": format!("dcm{}", d.id),
        "description": d.description,
        "hidden": false,
        "id": d.id,
        "model": d.lookml_model.as_deref().map_or(Value::Null, model),
        "query_timezone": null,
        "readonly": d.lookml_model.is_some(),
        "refresh_interval": d.refresh_interval,
        "refresh_interval_to_i": null,
        "folder": folder(catalog, &d.folder_id),
        "title": d.title,
        "user_id": d.user_id,
        "slug": crate::query::slug(&format!("dashboard:{}", d.id), 22),
        "preferred_viewer": "dashboards-next",
        "certification_metadata": null,
    });
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

pub(crate) fn dashboard(catalog: &Catalog, d: &Dashboard, base_url: &str) -> Value {
    dashboard_with(catalog, d, base_url, true)
}

/// A dashboard with empty `dashboard_elements` and layout components, otherwise complete:
/// enough to filter and sort a search on, without rendering every tile of every dashboard.
pub(crate) fn dashboard_without_tiles(catalog: &Catalog, d: &Dashboard, base_url: &str) -> Value {
    dashboard_with(catalog, d, base_url, false)
}

fn dashboard_with(catalog: &Catalog, d: &Dashboard, base_url: &str, tiles: bool) -> Value {
    let mut out = dashboard_base(catalog, d);
    let elements: Vec<&Element> = d
        .element_ids
        .iter()
        .filter(|_| tiles)
        .filter_map(|id| catalog.element(id))
        .collect();
    let layout_id = format!("{}1", d.id.replace("::", "_"));
    let components: Vec<Value> = elements
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({"can": can(&["index", "show", "update"]), "id": format!("{}{}", layout_id, e.id),
                   "dashboard_layout_id": layout_id, "dashboard_element_id": e.id,
                   "row": (i / 3) * 6, "column": (i % 3) * 8, "width": 8, "height": 6, "deleted": false,
                   "element_title": e.title, "element_title_hidden": false, "vis_type": vis_type(catalog, e),
                   "granular_row": null, "granular_column": null, "granular_width": null, "granular_height": null})
        })
        .collect();
    let layout = json!({
        "can": can(&["show", "update"]), "id": layout_id, "dashboard_id": d.id, "type": "newspaper",
        "active": true, "column_width": null, "width": null, "deleted": false,
        "dashboard_title": d.title, "label": null,
        "description": null, "order": 0, "lookml_link_id": null,
    });
    let layout = with(
        layout,
        [("dashboard_layout_components", Value::Array(components))],
    );
    let elements: Vec<Value> = elements
        .iter()
        .map(|e| element(catalog, e, base_url))
        .collect();
    let extra = json!({
        "alert_sync_with_dashboard_filter_enabled": false,
        "chat_enabled": false,
        "background_color": null,
        "created_at": d.created_at,
        "crossfilter_enabled": false,
        "dashboard_filters": d.filters.iter().enumerate().map(|(i, f)| json!({
            "can": can(&["show", "update"]), "id": f.id, "dashboard_id": d.id, "name": f.name,
            "title": f.title, "type": "field_filter", "default_value": f.default_value,
            "model": crate::dataset::MODEL, "explore": f.explore, "dimension": f.dimension,
            "field": {"name": f.dimension, "label": f.title, "type": "string", "category": "dimension"},
            "row": i, "listens_to_filters": [], "allow_multiple_values": f.allow_multiple_values,
            "required": false,
            "ui_config": {"type": "tag_list", "display": "popover", "options": []},
        })).collect::<Vec<_>>(),
        "deleted": d.deleted,
        "deleted_at": d.deleted_at,
        "deleter_id": if d.deleted { json!("1") } else { Value::Null },
        "edit_uri": if d.lookml_model.is_some() { json!(format!("/projects/demo_project/files/{}.dashboard.lookml", d.id.replace("::", "/"))) } else { Value::Null },
        "enable_viz_full_screen": true,
        "favorite_count": d.favorite_count,
        "filters_bar_collapsed": false,
        "filters_location_top": true,
        "last_accessed_at": d.last_viewed_at,
        "last_viewed_at": d.last_viewed_at,
        "updated_at": d.updated_at,
        "last_updater_id": d.user_id,
        "last_updater_name": user_name(catalog, &d.user_id),
        "user_name": user_name(catalog, &d.user_id),
        "load_configuration": "wait",
        "lookml_link_id": d.lookml_model.as_ref().map(|_| d.id.clone()),
        "show_filters_bar": true,
        "show_title": true,
        "folder_id": d.folder_id,
        "text_tile_text_color": null,
        "tile_background_color": null,
        "tile_text_color": null,
        "title_color": null,
        "view_count": d.view_count,
        "appearance": null,
        "usage_count": d.view_count,
        "is_owner_disabled": false,
        "url": format!("/dashboards/{}", d.id),
        "preserve_desktop_layout": false,
        "download_settings": null,
    });
    let extra = with(
        extra,
        [
            ("dashboard_elements", Value::Array(elements)),
            ("dashboard_layouts", Value::Array(vec![layout])),
        ],
    );
    if let Value::Object(extra) = extra {
        out.extend(extra);
    }
    Value::Object(out)
}

fn vis_type(catalog: &Catalog, e: &Element) -> Value {
    let vis = match &e.source {
        Source::Query(q) => catalog.query(q).and_then(|q| q.def.vis_config.as_ref()),
        Source::Look(l) => catalog
            .look(l)
            .and_then(|l| catalog.query(&l.query_id))
            .and_then(|q| q.def.vis_config.as_ref()),
        Source::Merge(_) => e.merge_vis_config.as_ref(),
        Source::Text { .. } => return json!("text"),
        Source::Button { .. } => return json!("button"),
    };
    vis.and_then(|v| v.get("type").cloned())
        .unwrap_or(Value::Null)
}

fn html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<p>{escaped}</p>")
}

pub(crate) fn element(catalog: &Catalog, e: &Element, base_url: &str) -> Value {
    let query_json = |id: &str| {
        catalog
            .query(id)
            .map_or(Value::Null, |q| q.to_json(base_url))
    };
    let filterables = |model: &str, view: &str| {
        let listen = e
            .listens
            .iter()
            .map(|(name, field)| json!({"dashboard_filter_name": name, "field": field}))
            .collect();
        let filterable = json!({"model": model, "view": view, "name": ""});
        Value::Array(vec![with(filterable, [("listen", Value::Array(listen))])])
    };
    let (kind, look_id, look, query_id, query, merge_id, result_maker) = match &e.source {
        Source::Query(q) => {
            let stored = catalog.query(q);
            let (model, view) =
                stored.map_or(("", ""), |s| (s.def.model.as_str(), s.def.view.as_str()));
            let query = query_json(q);
            let rm = json!({
                "id": format!("{}", 5000 + e.id.parse::<u64>().unwrap_or(0)),
                "dynamic_fields": stored.and_then(|s| s.def.dynamic_fields.clone()),
                "sorts": stored.map(|s| s.def.sorts.clone()).unwrap_or_default(),
                "merge_result_id": null,
                "total": stored.is_some_and(|s| s.def.total),
                "query_id": q,
                "sql_query_id": null,
            });
            let rm = with(
                rm,
                [
                    ("filterables", filterables(model, view)),
                    ("query", query.clone()),
                    (
                        "vis_config",
                        opt_object(stored.and_then(|s| s.def.vis_config.as_ref())),
                    ),
                ],
            );
            (
                "vis",
                Value::Null,
                Value::Null,
                json!(q),
                query,
                Value::Null,
                rm,
            )
        }
        Source::Look(l) => {
            let stored = catalog
                .look(l)
                .and_then(|look| catalog.query(&look.query_id));
            let (model, view) =
                stored.map_or(("", ""), |s| (s.def.model.as_str(), s.def.view.as_str()));
            let rm = json!({
                "id": format!("{}", 5000 + e.id.parse::<u64>().unwrap_or(0)),
                "dynamic_fields": stored.and_then(|s| s.def.dynamic_fields.clone()),
                "sorts": stored.map(|s| s.def.sorts.clone()).unwrap_or_default(),
                "merge_result_id": null,
                "total": stored.is_some_and(|s| s.def.total),
                "query_id": stored.map(|s| s.id.clone()),
                "sql_query_id": null,
            });
            let rm = with(
                rm,
                [
                    ("filterables", filterables(model, view)),
                    ("query", stored.map_or(Value::Null, |s| s.to_json(base_url))),
                    (
                        "vis_config",
                        opt_object(stored.and_then(|s| s.def.vis_config.as_ref())),
                    ),
                ],
            );
            let look = catalog
                .look(l)
                .map_or(Value::Null, |look| look_with_query(catalog, look, base_url));
            (
                "vis",
                json!(l),
                look,
                Value::Null,
                Value::Null,
                Value::Null,
                rm,
            )
        }
        Source::Merge(m) => {
            let rm = json!({
                "id": format!("{}", 5000 + e.id.parse::<u64>().unwrap_or(0)),
                "dynamic_fields": null,
                "sorts": catalog.merge(m).map(|mq| mq.sorts.clone()).unwrap_or_default(),
                "merge_result_id": m,
                "total": false,
                "query_id": null,
                "sql_query_id": null,
                "query": null,
            });
            let filterables = catalog.merge(m).map_or(Value::Null, |mq| {
                mq.sources
                    .iter()
                    .filter_map(|s| catalog.query(&s.query_id))
                    .map(|q| json!({"model": q.def.model, "view": q.def.view, "name": "", "listen": []}))
                    .collect()
            });
            let rm = with(
                rm,
                [
                    ("filterables", filterables),
                    ("vis_config", opt_object(e.merge_vis_config.as_ref())),
                ],
            );
            (
                "vis",
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                json!(m),
                rm,
            )
        }
        Source::Text { .. } => (
            "text",
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ),
        // The literal type of button tiles was not seen in public material (Looker's API docs).
        Source::Button { .. } => (
            "button",
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ),
    };
    let (title_text, subtitle_text, body_text, rich) = match &e.source {
        Source::Text {
            title_text,
            subtitle_text,
            body_text,
        } => (
            Some(title_text.clone()),
            subtitle_text.clone(),
            Some(body_text.clone()),
            None,
        ),
        Source::Button { rich_content_json } => (None, None, None, Some(rich_content_json.clone())),
        _ => (None, None, None, None),
    };
    let result_maker_id = result_maker.get("id").cloned().unwrap_or(Value::Null);
    let tile = json!({
        "can": can(&["create", "show", "update", "destroy", "index"]),
        "body_text": body_text,
        "body_text_as_html": body_text.as_deref().map(html),
        "dashboard_id": e.dashboard_id,
        "dashboard_layout_id": format!("{}1", e.dashboard_id.replace("::", "_")),
        "edit_uri": null,
        "id": e.id,
        "look_id": look_id,
        "lookml_link_id": null,
        "merge_result_id": merge_id,
        "note_display": e.note_text.as_ref().map(|_| "above"),
        "note_state": e.note_text.as_ref().map(|_| "collapsed"),
        "note_text": e.note_text,
        "note_text_as_html": e.note_text.as_deref().map(html),
        "query_id": query_id,
        "filter_id": null,
        "refresh_interval": null,
        "refresh_interval_to_i": null,
        "result_maker_id": result_maker_id,
        "subtitle_text": subtitle_text,
        "title": e.title,
        "title_hidden": false,
        "title_text": title_text,
        "type": kind,
        "alert_count": 0,
        "rich_content_json": rich,
        "title_text_as_html": title_text.as_deref().map(html),
        "subtitle_text_as_html": subtitle_text.as_deref().map(html),
        "extension_id": null,
        "aria_description": null,
        "certification_metadata": null,
    });
    with(
        tile,
        [
            ("look", look),
            ("query", query),
            ("result_maker", result_maker),
        ],
    )
}

pub(crate) fn look(catalog: &Catalog, l: &Look, base_url: &str) -> Value {
    let short = crate::query::slug(&format!("look:{}", l.id), 8);
    json!({
        "can": can(&["download", "download_unlimited", "index", "show", "copy", "run", "create", "move",
                     "update", "destroy", "recover", "see_aggregate_table_lookml", "see_lookml", "see_sql",
                     "explore", "find_and_replace", "schedule", "render"]),
        "content_metadata_id": format!("lcm{}", l.id),
        "id": l.id,
        "title": l.title,
        "user_id": l.user_id,
        "certification_metadata": null,
        "content_favorite_id": null,
        "created_at": l.created_at,
        "deleted": l.deleted,
        "deleted_at": if l.deleted { json!("2026-01-15T12:00:00.000+00:00") } else { Value::Null },
        "deleter_id": if l.deleted { json!("1") } else { Value::Null },
        "description": l.description,
        "embed_url": format!("{base_url}/embed/looks/{}", l.id),
        "excel_file_url": format!("{base_url}/looks/{}.xlsx", l.id),
        "favorite_count": l.favorite_count,
        "google_spreadsheet_formula": format!("=IMPORTDATA(\"{base_url}/looks/{}.csv\")", l.id),
        "image_embed_url": format!("{base_url}/looks/{}.png", l.id),
        "is_run_on_load": true,
        "last_accessed_at": l.updated_at,
        "last_updater_id": l.user_id,
        "last_viewed_at": l.updated_at,
        "model": catalog.query(&l.query_id).map_or(Value::Null, |q| model(&q.def.model)),
        "public": l.public,
        "public_slug": null,
        "public_url": null,
        "query_id": l.query_id,
        "short_url": format!("/x/{short}"),
        "folder": folder(catalog, &l.folder_id),
        "folder_id": l.folder_id,
        "updated_at": l.updated_at,
        "user_name": user_name(catalog, &l.user_id),
        "view_count": l.view_count,
        "usage_count": l.view_count,
        "is_owner_disabled": false,
        "url": format!("/looks/{}", l.id),
    })
}

pub(crate) fn look_with_query(catalog: &Catalog, l: &Look, base_url: &str) -> Value {
    let mut value = look(catalog, l, base_url);
    value["query"] = catalog
        .query(&l.query_id)
        .map_or(Value::Null, |q| q.to_json(base_url));
    value
}

pub(crate) fn merge_query(m: &MergeQuery, catalog: &Catalog) -> Value {
    json!({
        "can": can(&["show", "update"]),
        "column_limit": null,
        "dynamic_fields": null,
        "id": m.id,
        "pivots": null,
        "result_maker_id": null,
        "sorts": m.sorts,
        "source_queries": m.sources.iter().map(|s| json!({
            "merge_fields": s.merge_fields.iter().map(|(field, source)| json!({"field_name": field, "source_field_name": source})).collect::<Vec<_>>(),
            "name": s.name,
            "query_id": s.query_id,
            "query_slug": catalog.query(&s.query_id).map(|q| q.slug.clone()),
        })).collect::<Vec<_>>(),
        "total": false,
        "limit": "500",
        "vis_config": m.vis_config,
    })
}

pub(crate) fn me(client_id: &str) -> Value {
    json!({
        "can": can(&["show", "index", "show_details", "index_details", "sudo"]),
        "avatar_url": null, "avatar_url_without_sizing": null, "credentials_api3": [{"can": can(&["show"]),
            "id": "1", "client_id": client_id, "created_at": "2024-06-01T00:00:00.000+00:00", "is_disabled": false,
            "type": "api3", "purpose": "kpilink", "last_used_at": null, "url": "/api/4.0/users/1/credentials_api3/1"}],
        "credentials_email": null, "credentials_embed": [], "credentials_google": null, "credentials_ldap": null,
        "credentials_looker_openid": null, "credentials_oidc": null, "credentials_saml": null,
        "credentials_totp": null, "display_name": "Demo Admin", "email": "demo.admin@example.com",
        "embed_group_space_id": null, "first_name": "Demo", "group_ids": ["1"], "home_folder_id": "1",
        "id": "1", "is_disabled": false, "last_name": "Admin", "locale": "en", "looker_versions": ["26.12.3"],
        "models_dir_validated": null, "personal_folder_id": "9", "presumed_looker_employee": false,
        "role_ids": ["2"], "sessions": [], "ui_state": null, "verified_looker_employee": false,
        "roles_externally_managed": false, "allow_direct_roles": true, "allow_normal_group_membership": true,
        "allow_roles_from_normal_groups": true, "embed_group_folder_id": null, "is_iam_admin": false,
        "can_manage_api3_creds": true, "is_service_account": false, "service_account_name": null,
        "url": "/api/4.0/users/1",
    })
}
