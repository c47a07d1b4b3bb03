//! The Looker API routes of the fake over real HTTP: auth, search, content, queries,
//! json_detail shapes, filters, query tasks with the slow dashboard, control and counters.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{SLOW, config, ids, start, start_with};
use kpilink_looker_fake::{FakeLookerConfig, SetValue};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NOT_FOUND: &str = r#"{"documentation_url":"http://docs.looker.com/","message":"Not found"}"#;

#[tokio::test]
async fn login_takes_a_form_or_query_params_and_bad_credentials_get_404() {
    let h = start().await;
    let form = h
        .http
        .post(format!("{}/login", h.api))
        .form(&[
            ("client_id", "demo-client-id"),
            ("client_secret", "demo-client-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.headers()["content-type"], "application/json");
    let body: Value = form.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["access_token"].as_str().unwrap().len(), 40);
    let query = h
        .http
        .post(format!("{}/login", h.api))
        .query(&[
            ("client_id", "demo-client-id"),
            ("client_secret", "demo-client-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::OK);
    let bad = h
        .http
        .post(format!("{}/login", h.api))
        .form(&[("client_id", "demo-client-id"), ("client_secret", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
    assert_eq!(bad.text().await.unwrap(), NOT_FOUND);
    h.fake.shutdown().await;
}

#[tokio::test]
async fn tokens_accept_both_schemes_and_fail_with_401_when_missing_expired_or_logged_out() {
    let h = start().await;
    let url = format!("{}/looks/1", h.api);
    let with = |auth: Option<String>| {
        let mut request = h.http.get(&url);
        if let Some(a) = auth {
            request = request.header("Authorization", a);
        }
        request.send()
    };
    let missing = with(None).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "Requires authentication.", "documentation_url": "http://docs.looker.com/"})
    );
    assert_eq!(
        with(Some(format!("token {}", h.token)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        with(Some(format!("Bearer {}", h.token)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        with(Some("Bearer nope".into())).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with(Some(h.token.clone())).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "scheme required"
    );

    let logout = h
        .auth(h.http.delete(format!("{}/logout", h.api)))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        h.get("/looks/1").await.0,
        StatusCode::UNAUTHORIZED,
        "logged-out token"
    );

    // The Python SDK logs out at the unversioned /api/logout.
    let h = start().await;
    let logout = h
        .auth(h.http.delete(format!("{}/api/logout", h.base)))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.get("/looks/1").await.0, StatusCode::UNAUTHORIZED);

    let h = start().await;
    h.fake.control().expire_tokens();
    assert_eq!(
        h.get("/looks/1").await.0,
        StatusCode::UNAUTHORIZED,
        "expired by control"
    );

    let h = start_with(FakeLookerConfig {
        token_ttl: Duration::from_millis(1500),
        ..config()
    })
    .await;
    assert_eq!(h.get("/looks/1").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        h.get("/looks/1").await.0,
        StatusCode::UNAUTHORIZED,
        "ttl elapsed"
    );
}

#[tokio::test]
async fn alive_versions_and_wrong_paths() {
    let h = start().await;
    let alive = h
        .http
        .get(format!("{}/alive", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), StatusCode::OK);
    assert_eq!(alive.text().await.unwrap(), "");
    let versions: Value = h
        .http
        .get(format!("{}/versions", h.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["current_version"]["version"], "4.0");
    assert_eq!(versions["api_server_url"], h.base);
    let outside = h
        .http
        .post(format!("{}/login", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        outside.status(),
        StatusCode::FORBIDDEN,
        "Looker answers 403 outside /api/<version>/"
    );
    let (status, body) = h.get("/no_such_endpoint").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("Not found"))
    );
    let me = h.ok("/user?fields=id,display_name").await;
    assert_eq!(me, json!({"id": "1", "display_name": "Demo Admin"}));
}

#[tokio::test]
async fn search_dashboards_follows_looker_matching_rules() {
    let h = start().await;
    let titles = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["title"].as_str().unwrap().to_string())
            .collect()
    };
    let partial = h.ok("/dashboards/search?title=%25REVENUE%25").await;
    assert_eq!(
        ids(&partial),
        ["1", "2", "10", "11"],
        "partial, case-insensitive, deleted hidden"
    );
    let whole = h.ok("/dashboards/search?title=revenue%20overview").await;
    assert_eq!(
        titles(&whole),
        ["Revenue Overview"],
        "no wildcard: whole title, any case"
    );
    assert_eq!(
        h.ok("/dashboards/search?title=revenue").await,
        json!([]),
        "a plain word is not a substring search"
    );
    let underscore = h.ok("/dashboards/search?title=Revenue%20Overvie_").await;
    assert_eq!(ids(&underscore), ["1"], "_ matches one character");
    assert_eq!(
        h.ok("/dashboards/search?title=Revenue%20Overvi_").await,
        json!([])
    );
    let prefix = h.ok("/dashboards/search?title=revenue%25").await;
    assert_eq!(ids(&prefix), ["1", "11"]);
    let deleted = h
        .ok("/dashboards/search?title=%25revenue%25&deleted=true")
        .await;
    assert_eq!(ids(&deleted), ["3"]);
    assert_eq!(deleted[0]["deleted"], true);
    assert_eq!(
        h.ok("/dashboards/search?title=KPI%20Overview").await,
        json!([]),
        "LookML dashboards are not searchable"
    );
    let anded = h
        .ok("/dashboards/search?title=Revenue%20Overview&folder_id=7")
        .await;
    assert_eq!(anded, json!([]));
    let ored = h
        .ok("/dashboards/search?title=Revenue%20Overview&folder_id=7&filter_or=true")
        .await;
    assert_eq!(ids(&ored), ["1", "7", "8"]);
    let listed = h.ok("/dashboards/search?id=2,9").await;
    assert_eq!(ids(&listed), ["2", "9"], "comma lists on id params");
    let page = h.ok("/dashboards/search?title=%25revenue%25&sorts=title%20desc&limit=2&offset=1&fields=id,title").await;
    assert_eq!(
        page,
        json!([{"id": "1", "title": "Revenue Overview"}, {"id": "2", "title": "Quarterly Revenue by Region"}])
    );
    let (status, body) = h.get("/dashboards/search?deleted=yes").await;
    assert_eq!(
        (status, body["message"].is_string()),
        (StatusCode::BAD_REQUEST, true)
    );
    assert_eq!(
        h.get("/dashboards/search?limit=ten").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.get("/dashboards/search?sorts=secret").await.0,
        StatusCode::BAD_REQUEST
    );
    let all = h.ok("/dashboards").await;
    assert!(
        ids(&all).contains(&"demo_model::kpi_overview".to_string())
            && !ids(&all).contains(&"3".to_string())
    );

    let looks = h.ok("/looks/search?title=%25revenue%25").await;
    assert_eq!(ids(&looks), ["1", "2", "7"]);
    let deleted_looks = h.ok("/looks/search?title=%25revenue%25&deleted=true").await;
    assert_eq!(ids(&deleted_looks), ["5"]);
    let by_folder = h.ok("/looks/search?folder_id=6&fields=id").await;
    assert_eq!(by_folder, json!([{"id": "2"}, {"id": "4"}, {"id": "6"}]));
}

#[tokio::test]
async fn dashboards_tiles_and_looks_cover_every_chart_type() {
    let h = start().await;
    let d = h.ok("/dashboards/1").await;
    assert_eq!(
        (d["title"].as_str(), d["folder"]["name"].as_str()),
        (Some("Revenue Overview"), Some("Finance"))
    );
    assert_eq!(
        ids(&d["dashboard_elements"]),
        ["101", "102", "103", "104", "105", "106", "107", "108"]
    );
    let lookml = h.ok("/dashboards/demo_model::kpi_overview").await;
    assert_eq!(
        (lookml["readonly"].as_bool(), lookml["model"]["id"].as_str()),
        (Some(true), Some("demo_model"))
    );
    assert_eq!(h.get("/dashboards/999").await.1.to_string(), NOT_FOUND);
    assert_eq!(
        h.get("/dashboard_elements/999").await.0,
        StatusCode::NOT_FOUND
    );

    let mut types = BTreeSet::new();
    for dashboard in ids(&h.ok("/dashboards").await) {
        for e in h
            .ok(&format!("/dashboards/{dashboard}/dashboard_elements"))
            .await
            .as_array()
            .unwrap()
        {
            let vis = e["result_maker"]["vis_config"].clone();
            let vis = if vis.is_null() {
                e["look"]["query"]["vis_config"].clone()
            } else {
                vis
            };
            types.insert(
                vis["type"]
                    .as_str()
                    .map_or_else(|| e["type"].as_str().unwrap().to_string(), String::from),
            );
        }
    }
    for expected in [
        "single_value",
        "looker_single_record",
        "looker_column",
        "looker_bar",
        "looker_line",
        "looker_area",
        "looker_scatter",
        "looker_pie",
        "looker_donut_multiples",
        "looker_funnel",
        "looker_waterfall",
        "looker_wordcloud",
        "looker_boxplot",
        "looker_grid",
        "table",
        "looker_table",
        "looker_map",
        "looker_google_map",
        "looker_geo_coordinates",
        "looker_geo_choropleth",
        "looker_timeline",
        "text",
        "button",
        "marketplace_viz_radial_gauge::radial_gauge-marketplace",
    ] {
        assert!(
            types.contains(expected),
            "{expected} missing from {types:?}"
        );
    }

    let single = h.ok("/dashboard_elements/101").await;
    assert_eq!(single["type"], "vis");
    assert_eq!(single["query_id"], "201");
    assert_eq!(single["result_maker"]["query_id"], "201");
    assert_eq!(
        single["query"]["vis_config"],
        single["result_maker"]["vis_config"]
    );
    assert_eq!(
        single["result_maker"]["vis_config"]["hidden_fields"],
        json!(["orders.count"])
    );
    let text = h.ok("/dashboard_elements/107").await;
    assert_eq!(
        (
            text["type"].as_str(),
            text["query"].is_null(),
            text["result_maker"].is_null()
        ),
        (Some("text"), true, true)
    );
    assert_eq!(
        text["body_text_as_html"]
            .as_str()
            .map(|s| s.starts_with("<p>")),
        Some(true)
    );
    let look_tile = h.ok("/dashboard_elements/102").await;
    assert_eq!(
        (
            look_tile["look_id"].as_str(),
            look_tile["query_id"].is_null()
        ),
        (Some("1"), true)
    );
    assert_eq!(
        look_tile["look"]["query"]["vis_config"]["x_axis_label"],
        "Month"
    );
    assert_eq!(
        look_tile["look"]["query"]["vis_config"]["y_axes"][0]["label"],
        "Revenue (USD)"
    );
    let unlabelled = h.ok("/dashboard_elements/103").await;
    assert!(
        unlabelled["result_maker"]["vis_config"]
            .get("x_axis_label")
            .is_none()
    );
    assert_eq!(
        unlabelled["result_maker"]["vis_config"]["y_axes"][0]["label"],
        ""
    );

    let merged = h.ok("/dashboard_elements/116").await;
    let merge_id = merged["merge_result_id"].as_str().unwrap().to_string();
    assert!(
        merged["query"].is_null() && merged["query_id"].is_null() && merged["look_id"].is_null()
    );
    assert_eq!(merged["result_maker"]["merge_result_id"], merge_id.as_str());
    assert_eq!(
        merged["result_maker"]["vis_config"]["type"],
        "looker_column"
    );
    let merge = h.ok(&format!("/merge_queries/{merge_id}")).await;
    let sources: Vec<&str> = merge["source_queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["query_id"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["216", "217"]);
    assert_eq!(
        merge["source_queries"][1]["merge_fields"],
        json!([{"field_name": "orders.region", "source_field_name": "targets.region"}])
    );

    let listening = h.ok("/dashboard_elements/151").await;
    assert_eq!(
        listening["result_maker"]["filterables"][0]["listen"][0],
        json!({"dashboard_filter_name": "Region", "field": "orders.region"})
    );
    let filters = &h.ok("/dashboards/6").await["dashboard_filters"];
    assert_eq!(
        (
            filters[0]["name"].as_str(),
            filters[0]["default_value"].as_str()
        ),
        (Some("Region"), Some("EMEA"))
    );

    let look = h.ok("/looks/1").await;
    assert_eq!(
        (
            look["title"].as_str(),
            look["query_id"].as_str(),
            look["query"]["id"].as_str()
        ),
        (Some("Monthly Revenue"), Some("501"), Some("501"))
    );
    assert_eq!(h.ok("/looks/5").await["deleted"], true);
    let projected = h.ok("/looks/1?fields=id,title").await;
    assert_eq!(projected, json!({"id": "1", "title": "Monthly Revenue"}));
}

#[tokio::test]
async fn json_detail_has_looker_shapes_pivots_totals_nulls_and_table_calcs() {
    let h = start().await;
    let table = h.ok("/queries/212/run/json_detail").await;
    for key in [
        "id",
        "from_cache",
        "ran_at",
        "runtime",
        "sql",
        "has_totals",
        "has_row_totals",
        "applied_filters",
        "timezone",
        "null_sort_treatment",
        "fields",
        "pivots",
        "data",
        "totals_data",
    ] {
        assert!(table.get(key).is_some(), "top-level {key}");
    }
    let dim = &table["fields"]["dimensions"][0];
    assert_eq!(dim["name"], "orders.created_quarter");
    assert_eq!(
        (dim["is_timeframe"].as_bool(), dim["type"].as_str()),
        (Some(true), Some("date_quarter"))
    );
    assert_eq!(dim["time_interval"], json!({"name": "month", "count": 3}));
    assert_eq!(dim["sorted"], json!({"sort_index": 0, "desc": true}));
    let revenue = &table["fields"]["measures"][0];
    assert_eq!(
        (
            revenue["label"].as_str(),
            revenue["label_short"].as_str(),
            revenue["value_format"].as_str(),
            revenue["is_numeric"].as_bool()
        ),
        (
            Some("Orders Total Revenue"),
            Some("Total Revenue"),
            Some("$#,##0"),
            Some(true)
        )
    );
    assert_eq!(table["fields"]["pivots"][0]["name"], "orders.region");
    let keys: Vec<&str> = table["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "APAC",
            "EMEA",
            "LATAM",
            "North America",
            "$$$_row_total_$$$"
        ]
    );
    assert_eq!(table["pivots"][1]["data"], json!({"orders.region": "EMEA"}));
    assert_eq!(table["pivots"][4]["is_total"], true);
    let row = &table["data"][1];
    let cells = row["orders.total_revenue"].as_object().unwrap();
    let sum: f64 = keys[..4]
        .iter()
        .map(|k| cells[*k]["value"].as_f64().unwrap())
        .sum();
    let total = cells["$$$_row_total_$$$"]["value"].as_f64().unwrap();
    assert!(
        (sum - total).abs() < 0.01,
        "row total {total} = sum of pivots {sum}"
    );
    assert!(cells["EMEA"]["rendered"].as_str().unwrap().starts_with('$'));
    let column_total = table["totals_data"]["orders.count"]["EMEA"]["value"]
        .as_f64()
        .unwrap();
    let rows_sum: f64 = table["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["orders.count"]["EMEA"]["value"].as_f64().unwrap_or(0.0))
        .sum();
    assert_eq!(column_total, rows_sum);

    let monthly = h.ok("/queries/501/run/json_detail").await;
    assert_eq!(
        monthly["data"][0]["orders.created_month"],
        json!({"value": "2026-06"})
    );
    assert_eq!(
        monthly["data"][0]["orders.total_revenue"],
        json!({"value": null}),
        "null without rendered"
    );
    assert_eq!(
        monthly["data"][0]["orders.count"]["value"]
            .as_f64()
            .map(|c| c > 0.0),
        Some(true)
    );
    assert_eq!(monthly["pivots"], json!([]));
    assert_eq!(
        (
            monthly["has_totals"].as_bool(),
            monthly["has_row_totals"].as_bool()
        ),
        (Some(false), Some(false))
    );

    let calc = h.ok("/queries/218/run/json_detail").await;
    let tc = &calc["fields"]["table_calculations"][0];
    assert_eq!(
        (
            tc["name"].as_str(),
            tc["is_table_calculation"].as_bool(),
            tc["measure"].as_bool(),
            tc["value_format"].as_str()
        ),
        (Some("mom_growth"), Some(true), Some(true), Some("0.0%"))
    );
    assert!(tc["expression"].as_str().unwrap().contains("offset("));
    let (may, april) = (&calc["data"][1], &calc["data"][2]);
    let growth = may["orders.total_revenue"]["value"].as_f64().unwrap()
        / april["orders.total_revenue"]["value"].as_f64().unwrap()
        - 1.0;
    assert!((may["mom_growth"]["value"].as_f64().unwrap() - growth).abs() < 1e-9);
    assert!(
        may["mom_growth"]["rendered"]
            .as_str()
            .unwrap()
            .ends_with('%')
    );

    let percent = h.ok("/queries/205/run/json_detail").await;
    let margin = &percent["data"][0]["orders.gross_margin"];
    let value = margin["value"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&value), "a fraction: {value}");
    assert_eq!(margin["rendered"], format!("{:.1}%", value * 100.0));
    let year = h.ok("/queries/283/run/json_detail").await;
    assert_eq!(
        year["data"][0]["orders.created_year"]["value"], 2026,
        "year values are numbers"
    );
    let weeks = h.ok("/queries/282/run/json").await;
    assert_eq!(
        weeks[0]["orders.created_week"], "2026-06-08",
        "weeks start on Monday"
    );
    let days = h.ok("/queries/281/run/json").await;
    assert_eq!(days[0]["orders.created_date"], "2026-06-14");
}

#[tokio::test]
async fn filters_sorts_and_limits_change_results() {
    let h = start().await;
    let tile = h.ok("/queries/251").await;
    let mut filtered = tile.clone();
    filtered["filters"]["orders.region"] = json!("EMEA");
    let (status, emea_query) = h.post("/queries", &filtered).await;
    assert_eq!(status, StatusCode::OK);
    let emea_id = emea_query["id"].as_str().unwrap().to_string();
    assert_ne!(emea_id, "251");
    assert_eq!(
        h.post("/queries", &filtered).await.1["id"],
        emea_id.as_str(),
        "same parameters, same query"
    );
    let all = h
        .first_value("251", "orders.total_revenue")
        .await
        .as_f64()
        .unwrap();
    let emea = h
        .first_value(&emea_id, "orders.total_revenue")
        .await
        .as_f64()
        .unwrap();
    assert!(emea > 0.0 && emea < all, "EMEA {emea} < all {all}");
    filtered["filters"]["orders.region"] = json!("EMEA,APAC");
    let both_id = h.post("/queries", &filtered).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let both = h
        .first_value(&both_id, "orders.total_revenue")
        .await
        .as_f64()
        .unwrap();
    let by_region = h.ok("/queries/502/run/json").await;
    let region = |name: &str| {
        by_region
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["orders.region"] == name)
            .unwrap()["orders.total_revenue"]
            .as_f64()
            .unwrap()
    };
    assert!((both - region("EMEA") - region("APAC")).abs() < 0.01);
    assert!((emea - region("EMEA")).abs() < 0.01);

    let inline = json!({"model": "demo_model", "view": "orders", "fields": ["orders.region", "orders.count"],
                        "filters": {"orders.region": "-LATAM"}, "sorts": ["orders.count"], "limit": "2"});
    let (status, rows) = h.post("/queries/run/json", &inline).await;
    assert_eq!(status, StatusCode::OK);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "limit");
    assert!(
        rows[0]["orders.count"].as_f64() < rows[1]["orders.count"].as_f64(),
        "ascending"
    );
    assert!(rows.iter().all(|r| r["orders.region"] != "LATAM"));
    let desc = h.post("/queries/run/json", &json!({"model": "demo_model", "view": "orders", "fields": ["orders.region", "orders.count"], "sorts": ["orders.count desc"]})).await.1;
    assert_eq!(desc[0]["orders.region"], "North America");
    let limited = h.ok("/queries/501/run/json?limit=3").await;
    assert_eq!(limited.as_array().unwrap().len(), 3, "run-time limit");

    let (status, error) = h.post("/queries", &json!({"view": "orders"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (
            error["message"].as_str(),
            error["errors"][0]["field"].as_str()
        ),
        (Some("Validation Failed"), Some("model"))
    );
    assert_eq!(
        h.post("/queries", &json!({"model": "demo_model", "view": "nope"}))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let unknown = h
        .post(
            "/queries/run/json_detail",
            &json!({"model": "demo_model", "view": "orders", "fields": ["orders.nope"]}),
        )
        .await;
    assert_eq!(
        unknown.0,
        StatusCode::OK,
        "database errors come back inside json_detail"
    );
    assert!(
        unknown.1["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("orders.nope")
    );
    assert_eq!(unknown.1["data"], json!([]));
    let looker_error = h
        .post(
            "/queries/run/json",
            &json!({"model": "demo_model", "view": "orders", "fields": ["orders.nope"]}),
        )
        .await
        .1;
    assert!(looker_error[0]["looker_error"].is_string());

    let csv = h.get_raw("/looks/2/run/csv").await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.text()
            .await
            .unwrap()
            .starts_with("Orders Region,Orders Total Revenue\n")
    );
    let (status, body) = h.get("/queries/212/run/png").await;
    assert_eq!(
        (status, body["documentation_url"].as_str()),
        (StatusCode::BAD_REQUEST, Some("http://docs.looker.com/"))
    );
}

#[tokio::test]
async fn slow_dashboard_runs_as_a_task_then_is_served_from_cache() {
    let h = start().await;
    let control = h.fake.control();
    // Cold: the task keeps running for `slow_query`, results answer 202 meanwhile.
    let started = Instant::now();
    let (status, task) = h
        .post(
            "/query_tasks?cache=true",
            &json!({"query_id": "261", "result_format": "json_detail", "dashboard_id": "7"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ["added", "running"].contains(&task["status"].as_str().unwrap()),
        "{task}"
    );
    assert_eq!(task["dashboard_id"], "7");
    let id = task["id"].as_str().unwrap().to_string();
    let (status, _) = h.get(&format!("/query_tasks/{id}/results")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        h.ok(&format!("/query_tasks/{id}")).await["status"],
        "running"
    );
    loop {
        let status = h.ok(&format!("/query_tasks/{id}")).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        if status == "complete" {
            break;
        }
        assert!(started.elapsed() < SLOW * 10, "task never completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() >= SLOW, "the cold query took slow_query");
    let results = h.ok(&format!("/query_tasks/{id}/results")).await;
    assert_eq!(results["from_cache"], false);
    assert!(
        results["data"][0]["etl_jobs.total_rows_loaded"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(control.query_runs(), 1);

    // Hot: a new task completes at creation, from cache, and runs nothing.
    let hot = h
        .post(
            "/query_tasks?cache=true",
            &json!({"query_id": "261", "result_format": "json_detail"}),
        )
        .await
        .1;
    assert_eq!(hot["status"], "complete");
    assert_eq!(hot["result_source"], "cache");
    let hot_id = hot["id"].as_str().unwrap();
    assert_eq!(
        h.ok(&format!("/query_tasks/{hot_id}/results")).await["from_cache"],
        true
    );
    let started = Instant::now();
    assert_eq!(
        h.ok("/queries/261/run/json_detail?cache=true").await["from_cache"],
        true
    );
    assert!(started.elapsed() < SLOW / 2);
    assert_eq!(control.query_runs(), 1, "cache hits are not query runs");

    let multi = h
        .ok(&format!(
            "/query_tasks/multi_results?query_task_ids={id},{hot_id},nope"
        ))
        .await;
    assert_eq!(multi[&id]["status"], "complete");
    assert!(multi[&id]["data"]["data"].is_array());
    assert_eq!(multi["nope"], json!({"status": "missing"}));

    // Without cache=true a synchronous run blocks for the slow runtime again.
    let started = Instant::now();
    assert!(h.ok("/queries/261/run/json").await[0]["etl_jobs.total_rows_loaded"].is_number());
    assert!(started.elapsed() >= SLOW);
    assert_eq!(control.query_runs(), 2);

    // cache_only never runs: 404 when nothing is cached.
    control.clear_query_cache();
    assert_eq!(
        h.get("/queries/262/run/json?cache_only=true").await.0,
        StatusCode::NOT_FOUND
    );

    control.expire_query_tasks();
    assert_eq!(
        h.get(&format!("/query_tasks/{id}/results")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.ok(&format!("/query_tasks/{id}")).await["status"],
        "expired"
    );
    assert_eq!(
        h.get("/query_tasks/nope/results").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, error) = h.post("/query_tasks", &json!({"query_id": "261"})).await;
    assert_eq!(
        (status, error["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("result_format"))
    );
    assert_eq!(
        h.post(
            "/query_tasks",
            &json!({"query_id": "0", "result_format": "json"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn identical_cold_queries_share_one_run() {
    let h = start().await;
    let (a, b) = tokio::join!(
        h.get("/queries/262/run/json"),
        h.get("/queries/262/run/json")
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(a.1, b.1);
    assert_eq!(h.fake.control().query_runs(), 1);
}

#[tokio::test]
async fn control_changes_values_and_tiles_and_counts_requests() {
    let h = start().await;
    let control = h.fake.control();
    let before = h.ok("/looks/1/run/json").await;
    assert_eq!(before[0]["orders.total_revenue"], Value::Null);
    let outcome = control
        .set_value(SetValue {
            dashboard_element_id: Some("102".into()),
            value: Some(1234567.0),
            ..SetValue::default()
        })
        .unwrap();
    assert_eq!(
        (
            outcome.query_id.as_str(),
            outcome.row.as_str(),
            outcome.field.as_str()
        ),
        ("501", "2026-05", "orders.total_revenue")
    );
    assert_eq!(outcome.previous, before[1]["orders.total_revenue"].as_f64());
    let after = h.ok("/looks/1/run/json?cache=true").await;
    assert_eq!(
        after[1]["orders.total_revenue"], 1234567,
        "the newest non-null month changed; the cache is stale"
    );
    assert_eq!(after[2], before[2], "other months unchanged");
    // Every query over the same rows agrees (the change is in the data, not the query).
    let quarter = h.post("/queries/run/json", &json!({"model": "demo_model", "view": "orders", "fields": ["orders.created_month", "orders.total_revenue"], "filters": {"orders.created_month": "2026-05"}})).await.1;
    assert_eq!(quarter[0]["orders.total_revenue"], 1234567);

    // Over HTTP, on a pivoted tile, and the percentage measure.
    let (status, outcome) = h.control_post("/values", &json!({"dashboard_element_id": "103", "pivot": "EMEA", "row": "2026-04", "value": 42.5})).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let pivoted = h.ok("/queries/203/run/json_detail").await;
    let april = pivoted["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["orders.created_month"]["value"] == "2026-04")
        .unwrap();
    assert_eq!(april["orders.total_revenue"]["EMEA"]["value"], 42.5);
    let (status, _) = h
        .control_post(
            "/values",
            &json!({"dashboard_element_id": "105", "value": 0.5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let margin = h
        .first_value("205", "orders.gross_margin")
        .await
        .as_f64()
        .unwrap();
    assert!((margin - 0.5).abs() < 1e-9, "{margin}");
    assert_eq!(
        h.control_post(
            "/values",
            &json!({"dashboard_element_id": "107", "value": 1})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        h.control_post(
            "/values",
            &json!({"dashboard_element_id": "103", "value": 1})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "pivot required"
    );
    assert_eq!(
        h.control_post("/values", &json!({"query_id": "nope", "value": 1}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    control.remove_tile("103").unwrap();
    assert_eq!(
        h.get("/dashboard_elements/103").await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!ids(&h.ok("/dashboards/1/dashboard_elements").await).contains(&"103".to_string()));
    assert_eq!(
        h.control_post("/tiles/103/restore", &json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(h.get("/dashboard_elements/103").await.0, StatusCode::OK);
    assert!(control.remove_tile("nope").is_err());

    let counters = h.control_get("/counters").await;
    assert_eq!(counters["routes"]["dashboard_element"], 2);
    assert_eq!(counters["routes"]["login"], 1);
    assert!(counters["query_runs"].as_u64().unwrap() >= 4);
    assert_eq!(control.route_count("run_look"), 2);
    h.control_post("/counters/reset", &json!({})).await;
    assert_eq!(control.counters().routes.len(), 0);
    assert_eq!(control.query_runs(), 0);

    control.reset();
    let h2 = common::Harness {
        token: String::new(),
        ..h
    };
    assert_eq!(
        h2.get("/looks/1").await.0,
        StatusCode::UNAUTHORIZED,
        "reset revokes tokens"
    );
    let index = h2.control_get("").await;
    assert!(index["endpoints"]["POST /control/values"].is_string());
}

#[tokio::test]
async fn reset_restores_the_demo_data() {
    let h = start().await;
    let original = h.first_value("205", "orders.gross_margin").await;
    h.fake
        .control()
        .set_value(SetValue {
            query_id: Some("205".into()),
            value: Some(0.9),
            ..SetValue::default()
        })
        .unwrap();
    assert_ne!(h.first_value("205", "orders.gross_margin").await, original);
    h.fake.control().reset();
    let token: Value = h
        .http
        .post(format!("{}/login", h.api))
        .form(&[
            ("client_id", "demo-client-id"),
            ("client_secret", "demo-client-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let h = common::Harness {
        token: token["access_token"].as_str().unwrap().into(),
        ..h
    };
    assert_eq!(h.first_value("205", "orders.gross_margin").await, original);
}

async fn ok_text(h: &common::Harness, path: &str) -> String {
    let response = h.get_raw(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.expect("body")
}

/// Dashboard responses are cached until the content changes: a removed tile leaves them at
/// once, with or without `fields`, and comes back on restore and on reset.
#[tokio::test]
async fn cached_dashboards_follow_removed_and_restored_tiles() {
    let h = start().await;
    let control = h.fake.control();
    let paths = [
        "/dashboards/1",
        "/dashboards/1?fields=id,dashboard_elements,dashboard_layouts",
        "/dashboards/1/dashboard_elements",
        "/dashboards/1/dashboard_elements?fields=id,title",
    ];
    let tile_ids = |body: &str| -> Vec<String> {
        let value: Value = serde_json::from_str(body).expect("json");
        let tiles = match value.get("dashboard_elements") {
            Some(tiles) => tiles.clone(),
            None => value,
        };
        ids(&tiles)
    };
    let mut before = Vec::new();
    for path in paths {
        let first = ok_text(&h, path).await;
        assert_eq!(
            ok_text(&h, path).await,
            first,
            "served again from the cache: {path}"
        );
        assert!(tile_ids(&first).contains(&"103".to_string()), "{path}");
        before.push(first);
    }

    assert_eq!(
        h.control_post("/tiles/103/remove", &json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    for path in paths {
        let body = ok_text(&h, path).await;
        let tiles = tile_ids(&body);
        assert_eq!(tiles.len(), 7, "{path}: {tiles:?}");
        assert!(!tiles.contains(&"103".to_string()), "{path}");
        assert!(
            !body.contains(r#""dashboard_element_id":"103""#),
            "layout: {path}"
        );
    }

    assert_eq!(
        h.control_post("/tiles/103/restore", &json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    for (path, before) in paths.iter().zip(&before) {
        assert_eq!(&ok_text(&h, path).await, before, "{path}");
    }

    // Data changes and create_query leave the rendering alone; reset brings tiles back.
    control
        .set_value(SetValue {
            dashboard_element_id: Some("101".into()),
            value: Some(1.0),
            ..SetValue::default()
        })
        .unwrap();
    let created = h
        .post(
            "/queries",
            &json!({"model": "demo_model", "view": "orders", "fields": ["orders.count"], "limit": "7"}),
        )
        .await;
    assert_eq!(created.0, StatusCode::OK, "{}", created.1);
    control.remove_tile("103").unwrap();
    assert!(!tile_ids(&ok_text(&h, paths[0]).await).contains(&"103".to_string()));
    control.reset();
    let token: Value = h
        .http
        .post(format!("{}/login", h.api))
        .form(&[
            ("client_id", "demo-client-id"),
            ("client_secret", "demo-client-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let h = common::Harness {
        token: token["access_token"].as_str().unwrap().into(),
        ..h
    };
    for (path, before) in paths.iter().zip(&before) {
        assert_eq!(&ok_text(&h, path).await, before, "{path}");
    }
}

#[tokio::test]
async fn without_the_demo_there_is_no_content() {
    let h = start_with(FakeLookerConfig {
        demo: false,
        ..config()
    })
    .await;
    assert_eq!(h.ok("/dashboards/search").await, json!([]));
    assert_eq!(h.get("/dashboards/1").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_input_gets_looker_errors_and_never_breaks_the_server() {
    let h = start().await;
    let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    let calc = json!([{"table_calculation": "x", "label": "X", "expression": deep}]).to_string();
    let cases = [
        json!({"model": "demo_model", "view": "orders", "fields": ["orders.count", "x"], "dynamic_fields": calc}),
        json!({"model": "demo_model", "view": "orders", "fields": ["orders.count"], "filters": {"orders.created_date": "2147483647-01-01"}}),
        json!({"model": "demo_model", "view": "orders", "fields": ["orders.count"], "filters": {"orders.created_date": "99999999 months"}}),
        json!({"model": "demo_model", "view": "orders", "fields": ["orders.count"], "filters": {"orders.count": "[1,"}}),
        json!({"model": "demo_model", "view": "orders", "fields": ["orders.count"], "pivots": ["orders.count"]}),
        json!({"model": "demo_model", "view": "orders", "fields": ["orders.count"], "limit": "-99999999999999999999"}),
    ];
    for body in &cases {
        let (status, result) = h.post("/queries/run/json_detail", body).await;
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{status} for {body}"
        );
        if status == StatusCode::OK {
            assert!(
                result["errors"].is_array() || result["data"].is_array(),
                "{result}"
            );
        }
    }
    let garbage = h
        .auth(h.http.post(format!("{}/queries", h.api)))
        .body("{\"model\":")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        h.post("/queries", &json!(["not", "an", "object"])).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        h.post(
            "/query_tasks",
            &json!({"query_id": 5, "result_format": ["json"]})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        h.get("/dashboards/search?title=%ZZ").await.0,
        StatusCode::OK,
        "undecodable escapes are taken literally"
    );
    assert_eq!(h.ok("/looks/1").await["id"], "1", "still serving");
}
