//! DiscoveryService and TestConnection through a real daemon against the fake
//! Looker's demo instance.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kpilink::proto::selection::X;
use kpilink::proto::*;
use kpilink_looker_fake::{FakeLookerConfig, Fault, FaultKind};
use tonic::Code;

struct Env {
    daemon: TestDaemon,
    fake: kpilink_looker_fake::FakeLooker,
    connection_id: String,
}

async fn env() -> Env {
    env_with(FakeLookerConfig::default(), None).await
}

async fn env_with(config: FakeLookerConfig, query_timeout: Option<Duration>) -> Env {
    let fake = fake_looker(config).await;
    let daemon = local_daemon().await;
    let connection_id = connect_fake(&daemon, &fake, "demo-client-secret", query_timeout).await;
    Env {
        daemon,
        fake,
        connection_id,
    }
}

impl Env {
    async fn preview(
        &self,
        source: Source,
        selection: Selection,
    ) -> Result<PreviewValueResponse, tonic::Status> {
        self.daemon
            .clients
            .discovery()
            .preview_value(PreviewValueRequest {
                org_id: "acme".into(),
                connection_id: self.connection_id.clone(),
                source: Some(source),
                selection: Some(selection),
            })
            .await
            .map(|r| r.into_inner())
    }

    async fn describe(&self, source: Source) -> Result<DescribeChartResponse, tonic::Status> {
        self.daemon
            .clients
            .discovery()
            .describe_chart(DescribeChartRequest {
                org_id: "acme".into(),
                connection_id: self.connection_id.clone(),
                source: Some(source),
            })
            .await
            .map(|r| r.into_inner())
    }
}

fn latest(y_field: &str, pivot_key: &str, format: ResultFormat) -> Selection {
    Selection {
        x: Some(X::Latest(true)),
        y_field: y_field.into(),
        pivot_key: pivot_key.into(),
        format: format as i32,
        ..Default::default()
    }
}

fn at(x_value: &str, y_field: &str, pivot_key: &str) -> Selection {
    Selection {
        x: Some(X::XValue(x_value.into())),
        y_field: y_field.into(),
        pivot_key: pivot_key.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn test_connection_reports_success_and_bad_credentials() {
    let env = env().await;
    let mut api = env.daemon.clients.connections();
    let result = api
        .test_connection(TestConnectionRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(result.success, "{result:?}");
    assert_eq!(result.outcome(), ConnectionTestOutcome::Success);
    assert!(!result.source_version.is_empty());
    let stored = api
        .get_connection(GetConnectionRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert!(
        stored.last_test.unwrap().success,
        "the outcome is kept as last_test"
    );

    let wrong = connect_fake(&env.daemon, &env.fake, "not-the-secret", None).await;
    let result = api
        .test_connection(TestConnectionRequest {
            org_id: "acme".into(),
            connection_id: wrong.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(!result.success);
    assert_eq!(result.reason, "SOURCE_AUTH_FAILED");
    assert_eq!(result.outcome(), ConnectionTestOutcome::BadCredentials);

    // Fixing the secret fixes the connection; the old session logs out.
    let logouts = env.fake.control().route_count("logout");
    api.update_connection(UpdateConnectionRequest {
        org_id: "acme".into(),
        connection_id: env.connection_id.clone(),
        display_name: "renamed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        env.fake.control().route_count("logout"),
        logouts + 1,
        "update logs the old session out"
    );
    api.update_connection(UpdateConnectionRequest {
        org_id: "acme".into(),
        connection_id: wrong.clone(),
        secrets: [("client_secret".to_owned(), "demo-client-secret".to_owned())].into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let result = api
        .test_connection(TestConnectionRequest {
            org_id: "acme".into(),
            connection_id: wrong.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(result.success, "{result:?}");

    // Deleting a connection ends its Looker session too.
    let logouts = env.fake.control().route_count("logout");
    api.delete_connection(DeleteConnectionRequest {
        org_id: "acme".into(),
        connection_id: wrong,
        force: false,
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        env.fake.control().route_count("logout"),
        logouts + 1,
        "delete logs the session out"
    );
}

#[tokio::test]
async fn search_dashboards_and_looks_by_partial_title() {
    let env = env().await;
    let mut api = env.daemon.clients.discovery();
    let search = |query: &str, page_size: i32, page_token: String| SearchDashboardsRequest {
        org_id: "acme".into(),
        connection_id: env.connection_id.clone(),
        query: query.into(),
        page_size,
        page_token,
    };
    let found = api
        .search_dashboards(search("revenue", 0, String::new()))
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<&str> = found.dashboards.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert!(!titles.iter().any(|t| t.contains("Archived")));
    assert_eq!(found.dashboards[0].folder, "Finance");

    let exact = api
        .search_dashboards(search("Revenue Overview", 0, String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        exact.dashboards[0].title, "Revenue Overview",
        "the exact title comes first"
    );
    assert_eq!(exact.dashboards[0].id, "1");

    // Paging through the ranked results.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = api
            .search_dashboards(search("REVENUE", 3, token))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.dashboards.into_iter().map(|d| d.title));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, titles);

    let looks = api
        .search_looks(SearchLooksRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
            query: "monthly rev".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .looks;
    assert_eq!(looks[0].title, "Monthly Revenue");
}

#[tokio::test]
async fn list_tiles_shows_types_and_support() {
    let env = env().await;
    let tiles = env
        .daemon
        .clients
        .discovery()
        .list_tiles(ListTilesRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
            dashboard_id: "1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tiles.dashboard_title, "Revenue Overview");
    let text = tiles.tiles.iter().find(|t| t.id == "107").unwrap();
    assert!(!text.supported && text.unsupported_reason.contains("text"));
    let line = tiles.tiles.iter().find(|t| t.id == "102").unwrap();
    assert!(line.supported);
    assert_eq!(
        (line.chart_type.as_str(), line.look_id.as_str()),
        ("looker_line", "1")
    );
}

/// Every chart type of the demo: described, and its default selection previews.
#[tokio::test]
async fn every_numeric_chart_type_describes_and_previews() {
    let env = env().await;
    let supported = [
        ("1", "101", "single_value"),
        ("1", "102", "looker_line"),
        ("1", "103", "looker_column"),
        ("1", "104", "looker_area"),
        ("1", "106", "looker_single_record"),
        ("2", "111", "looker_bar"),
        ("2", "112", "looker_table"),
        ("2", "113", "looker_grid"),
        ("2", "114", "table"),
        ("2", "115", "looker_donut_multiples"),
        ("4", "131", "looker_pie"),
        ("4", "132", "looker_funnel"),
        ("4", "133", "looker_waterfall"),
        ("4", "134", "looker_wordcloud"),
        ("4", "135", "looker_boxplot"),
        ("4", "136", "looker_scatter"),
        (
            "4",
            "137",
            "marketplace_viz_radial_gauge::radial_gauge-marketplace",
        ),
        ("5", "141", "looker_map"),
        ("5", "142", "looker_google_map"),
        ("5", "143", "looker_geo_coordinates"),
        ("5", "144", "looker_geo_choropleth"),
        ("9", "181", "looker_line"),
        ("9", "182", "looker_column"),
        ("9", "183", "looker_column"),
    ];
    for (dashboard, tile, chart_type) in supported {
        let description = env.describe(tile_source(dashboard, tile)).await.unwrap();
        assert_eq!(description.chart_type, chart_type, "tile {tile}");
        assert!(description.supported, "tile {tile}");
        let y_axis = description.y_axis.clone().unwrap();
        assert!(!y_axis.fields.is_empty(), "tile {tile} has y fields");
        let default = description
            .default_selection
            .clone()
            .expect("a default selection");
        let preview = env
            .preview(tile_source(dashboard, tile), default)
            .await
            .unwrap_or_else(|e| panic!("tile {tile} ({chart_type}): {e:?}"));
        assert!(preview.value.is_finite(), "tile {tile}");
        assert!(!preview.exact_value.is_empty());
        assert!(!preview.explanation.unwrap().text.is_empty());
    }
    // The single record tile shows the newest month, whose revenue is not booked yet.
    let unbooked = Selection {
        y_field: "orders.total_revenue".into(),
        ..Default::default()
    };
    let error = env
        .preview(tile_source("1", "106"), unbooked)
        .await
        .unwrap_err();
    assert_error(&error, Code::FailedPrecondition, "VALUE_MISSING");

    for (dashboard, tile, reason) in [
        ("1", "107", "text"),
        ("1", "108", "button"),
        ("8", "171", "timeline"),
        ("2", "116", "merged"),
    ] {
        let description = env.describe(tile_source(dashboard, tile)).await.unwrap();
        assert!(!description.supported, "tile {tile}");
        assert!(
            description.unsupported_reason.contains(reason),
            "{}",
            description.unsupported_reason
        );
        let error = env
            .preview(tile_source(dashboard, tile), Selection::default())
            .await
            .unwrap_err();
        assert_error(&error, Code::FailedPrecondition, "CHART_UNSUPPORTED");
    }
}

#[tokio::test]
async fn describe_shows_axes_labels_values_and_pivots() {
    let env = env().await;
    let line = env.describe(tile_source("1", "102")).await.unwrap();
    let x_axis = line.x_axis.unwrap();
    assert_eq!(x_axis.label, "Month", "the custom x label");
    assert!(x_axis.fields[0].is_time);
    assert_eq!(x_axis.fields[0].timeframe, "month");
    assert!(x_axis.values.iter().any(|v| v.key == "2026-05"));
    assert_eq!(
        line.y_axis.unwrap().label,
        "Revenue (USD)",
        "the custom y label"
    );
    assert!(line.latest_supported);
    assert_eq!(line.default_selection.unwrap().x, Some(X::Latest(true)));

    let column = env.describe(tile_source("1", "103")).await.unwrap();
    let y_axis = column.y_axis.unwrap();
    assert_eq!(
        y_axis.label, y_axis.fields[0].label,
        "no custom label: the first field's"
    );
    assert!(y_axis.fields[0].is_pivoted);
    let pivots: Vec<&str> = column.pivots.iter().map(|p| p.key.as_str()).collect();
    assert!(pivots.contains(&"EMEA"), "{pivots:?}");

    let percent = env.describe(tile_source("1", "105")).await.unwrap();
    assert!(
        percent
            .y_axis
            .unwrap()
            .fields
            .iter()
            .any(|f| f.is_percent && f.value_format == "0.0%")
    );

    let pie = env.describe(tile_source("4", "131")).await.unwrap();
    assert!(!pie.latest_supported);
}

#[tokio::test]
async fn previews_explain_the_value_and_warn() {
    let env = env().await;
    // Latest skips the unbooked month.
    let monthly = env
        .preview(tile_source("1", "102"), latest("", "", ResultFormat::Exact))
        .await
        .unwrap();
    assert_eq!(monthly.exact_value, "3060725.83");
    let explanation = monthly.explanation.unwrap();
    assert_eq!(explanation.x_value, "2026-05");
    assert_eq!(explanation.skipped_periods, ["2026-06"]);
    assert!(explanation.text.contains("2026-05"), "{}", explanation.text);
    let resolved = monthly.resolved_selection.unwrap();
    assert_eq!(resolved.y_field, "orders.total_revenue");

    // A fixed month; the same through the Look.
    let april = env
        .preview(look_source("1"), at("2026-04", "", ""))
        .await
        .unwrap();
    assert_eq!(april.exact_value, "2843386.24");

    // Single value: the shown field skips hidden_fields.
    let single = env
        .preview(tile_source("1", "101"), Selection::default())
        .await
        .unwrap();
    assert_eq!(single.exact_value, "29320299.79");

    // A percent field read as Exact warns; as Percentage it is scaled exactly.
    let exact = env
        .preview(tile_source("1", "105"), Selection::default())
        .await
        .unwrap();
    assert!(
        exact
            .warnings
            .iter()
            .any(|w| w.code == "PERCENT_FORMAT_READ_AS_EXACT"),
        "{:?}",
        exact.warnings
    );
    let fraction: f64 = exact.exact_value.parse().unwrap();
    assert!(fraction > 0.0 && fraction < 1.0);
    let percent = env
        .preview(
            tile_source("1", "105"),
            Selection {
                format: ResultFormat::Percentage as i32,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!((percent.value - fraction * 100.0).abs() < 1e-9);
    assert!(percent.explanation.unwrap().text.contains('%'));

    // Pivots, row totals and the totals row.
    let emea = env
        .preview(
            tile_source("1", "103"),
            latest("", "EMEA", ResultFormat::Exact),
        )
        .await
        .unwrap();
    assert_eq!(emea.explanation.unwrap().pivot_key, "EMEA");
    let table = env.describe(tile_source("2", "112")).await.unwrap();
    let quarter = table.x_axis.unwrap().values[0].key.clone();
    let row_total = env
        .preview(
            tile_source("2", "112"),
            at(&quarter, "", "$$$_row_total_$$$"),
        )
        .await
        .unwrap();
    let column_total = env
        .preview(
            tile_source("2", "112"),
            at("$$$_totals_$$$", "", "$$$_row_total_$$$"),
        )
        .await
        .unwrap();
    assert!(
        column_total.value > row_total.value,
        "the grand total exceeds one quarter's total"
    );

    // The filter-listening tile equals what the dashboard shows (Region = EMEA).
    let filtered = env
        .preview(tile_source("6", "151"), Selection::default())
        .await
        .unwrap();
    assert_eq!(filtered.exact_value, "8172303.74");
    let unfiltered = env
        .preview(tile_source("6", "153"), Selection::default())
        .await
        .unwrap();
    assert_eq!(unfiltered.exact_value, "29320299.79");
}

#[tokio::test]
async fn each_error_reason_through_the_daemon() {
    let env = env().await;
    let mut api = env.daemon.clients.discovery();
    let error = api
        .list_tiles(ListTilesRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
            dashboard_id: "999".into(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "DASHBOARD_NOT_FOUND");
    let cases: Vec<(Source, Selection, Code, &str)> = vec![
        (
            tile_source("1", "999"),
            Selection::default(),
            Code::NotFound,
            "TILE_NOT_FOUND",
        ),
        (
            look_source("999"),
            Selection::default(),
            Code::NotFound,
            "LOOK_NOT_FOUND",
        ),
        (
            tile_source("1", "102"),
            at("1999-01", "", ""),
            Code::NotFound,
            "ROW_NOT_FOUND",
        ),
        (
            tile_source("1", "102"),
            latest("orders.nope", "", ResultFormat::Exact),
            Code::NotFound,
            "FIELD_NOT_FOUND",
        ),
        (
            tile_source("1", "103"),
            latest("", "Mars", ResultFormat::Exact),
            Code::NotFound,
            "PIVOT_NOT_FOUND",
        ),
        (
            tile_source("1", "103"),
            latest("", "", ResultFormat::Exact),
            Code::InvalidArgument,
            "FIELD_REQUIRED",
        ),
        (
            tile_source("4", "131"),
            latest("", "", ResultFormat::Exact),
            Code::InvalidArgument,
            "FIELD_INVALID",
        ),
        (
            tile_source("1", "102"),
            at("2026-06", "", ""),
            Code::FailedPrecondition,
            "VALUE_MISSING",
        ),
        (
            tile_source("1", "102"),
            at("2026-05", "orders.created_month", ""),
            Code::FailedPrecondition,
            "VALUE_NOT_NUMERIC",
        ),
    ];
    for (source, selection, code, reason) in cases {
        let error = env.preview(source, selection).await.unwrap_err();
        assert_error(&error, code, reason);
        assert!(!error.message().is_empty());
    }
    let error = env
        .preview(
            tile_source("1", "103"),
            latest("", "Mars", ResultFormat::Exact),
        )
        .await
        .unwrap_err();
    assert!(
        error.message().contains("EMEA"),
        "names pivots that exist: {}",
        error.message()
    );

    env.fake.control().add_fault(Fault::next(
        "dashboard",
        1,
        FaultKind::Status { status: 503 },
    ));
    let error = env
        .preview(tile_source("1", "101"), Selection::default())
        .await
        .unwrap_err();
    assert_error(&error, Code::Unavailable, "SOURCE_UNREACHABLE");
    env.fake.control().add_fault(Fault::next(
        "dashboard",
        1,
        FaultKind::RateLimit {
            retry_after_secs: 3,
        },
    ));
    let error = env
        .preview(tile_source("1", "101"), Selection::default())
        .await
        .unwrap_err();
    assert_error(&error, Code::ResourceExhausted, "SOURCE_RATE_LIMITED");

    let wrong = connect_fake(&env.daemon, &env.fake, "bad-secret", None).await;
    let error = api
        .list_tiles(ListTilesRequest {
            org_id: "acme".into(),
            connection_id: wrong,
            dashboard_id: "1".into(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::FailedPrecondition, "SOURCE_AUTH_FAILED");
    let error = api
        .list_tiles(ListTilesRequest {
            org_id: "acme".into(),
            connection_id: "con_nope".into(),
            dashboard_id: "1".into(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "CONNECTION_NOT_FOUND");
}

#[tokio::test]
async fn a_slow_dashboard_times_out_then_is_served_from_cache() {
    let env = env_with(
        FakeLookerConfig {
            slow_query: Duration::from_millis(2500),
            ..FakeLookerConfig::default()
        },
        Some(Duration::from_secs(1)),
    )
    .await;
    let started = Instant::now();
    let error = env
        .preview(tile_source("7", "161"), Selection::default())
        .await
        .unwrap_err();
    assert_error(&error, Code::DeadlineExceeded, "SOURCE_TIMEOUT");
    assert!(
        error.message().contains("keeps running"),
        "{}",
        error.message()
    );
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "answered within the 1 s deadline: {:?}",
        started.elapsed()
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let preview = env
        .preview(tile_source("7", "161"), Selection::default())
        .await
        .unwrap();
    assert!(preview.from_cache);
    assert_eq!(
        env.fake.control().query_runs(),
        1,
        "the first run finished in Looker and served the retry"
    );
}
