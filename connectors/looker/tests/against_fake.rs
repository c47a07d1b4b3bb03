//! The Looker connector against the fake Looker over real HTTP: every operation
//! and every error mapping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kpilink_connector::{
    CellSet, CheckFailure, ConnectionConfig, Connector, ConnectorFactory, FieldKind, QueryRef,
    Reason, ResultTable, RunMode, SearchPage, SourcePolicy, SourceRef, Timeframe, Value,
};
use kpilink_looker::LookerFactory;
use kpilink_looker_fake::{FakeLooker, FakeLookerConfig, Fault, FaultKind};
use secrecy::SecretString;

const DEADLINE: Duration = Duration::from_secs(10);
const PAGE: SearchPage = SearchPage {
    offset: 0,
    limit: 50,
};

async fn fake(config: FakeLookerConfig) -> FakeLooker {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeLooker::start(config, listener).await.unwrap()
}

fn connect(fake: &FakeLooker, secret: &str, body_cap: usize) -> Arc<dyn Connector> {
    let settings = BTreeMap::from([
        ("server_url".to_owned(), fake.base_url()),
        ("client_id".to_owned(), "demo-client-id".to_owned()),
    ]);
    let secrets = BTreeMap::from([(
        "client_secret".to_owned(),
        SecretString::from(secret.to_owned()),
    )]);
    LookerFactory
        .connect(ConnectionConfig {
            settings,
            secrets,
            policy: SourcePolicy {
                allow_http: true,
                allowed_cidrs: vec!["127.0.0.1/32".parse().unwrap()],
            },
            body_cap,
            observer: None,
        })
        .unwrap()
}

async fn demo() -> (FakeLooker, Arc<dyn Connector>) {
    let fake = fake(FakeLookerConfig::default()).await;
    let connector = connect(&fake, "demo-client-secret", 64 << 20);
    (fake, connector)
}

fn tile(dashboard_id: &str, tile_id: &str) -> SourceRef {
    SourceRef::DashboardTile {
        dashboard_id: dashboard_id.into(),
        tile_id: tile_id.into(),
    }
}

async fn run_source(connector: &Arc<dyn Connector>, source: &SourceRef) -> ResultTable {
    let resolved = connector.resolve(source, DEADLINE).await.unwrap();
    connector
        .run(
            resolved.query.as_ref().expect("supported"),
            RunMode::Interactive,
            DEADLINE,
        )
        .await
        .unwrap()
}

/// The single (unpivoted) cell of `field` in row `index`.
fn cell_value(table: &ResultTable, index: usize, field: &str) -> Value {
    match &table.rows[index].cells[field] {
        CellSet::Single(cell) => cell.value.clone(),
        CellSet::Pivoted(_) => panic!("{field} is pivoted"),
    }
}

#[tokio::test]
async fn check_logs_in_and_reports_bad_credentials() {
    let (fake, good) = demo().await;
    let info = good.check(DEADLINE).await.unwrap();
    assert!(info.version.is_some());
    let bad = connect(&fake, "wrong-secret", 64 << 20);
    let error = bad.check(DEADLINE).await.unwrap_err();
    assert_eq!(error.failure, CheckFailure::BadCredentials);
    assert_eq!(error.error.reason, Reason::SourceAuthFailed);
    assert!(!error.error.message.contains("wrong-secret"));
    // Calls with bad credentials fail the same way.
    let error = bad.list_tiles("1", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::SourceAuthFailed);
}

#[tokio::test]
async fn dashboard_search_is_partial_case_insensitive_ranked_and_hides_deleted() {
    let (_fake, connector) = demo().await;
    let titles = |found: Vec<kpilink_connector::DashboardSummary>| -> Vec<String> {
        found.into_iter().map(|d| d.title).collect()
    };
    let found = titles(
        connector
            .search_dashboards("revenue overview", PAGE, DEADLINE)
            .await
            .unwrap(),
    );
    assert_eq!(
        found,
        ["Revenue Overview", "Revenue Overview - Finance Team"]
    );
    let found = titles(
        connector
            .search_dashboards("REVENUE", PAGE, DEADLINE)
            .await
            .unwrap(),
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        &found[..2],
        ["Revenue Overview", "Revenue Overview - Finance Team"],
        "prefix matches first"
    );
    assert!(
        !found.iter().any(|t| t.contains("Archived")),
        "deleted dashboards are hidden"
    );
    let found = titles(
        connector
            .search_dashboards("revenue region", PAGE, DEADLINE)
            .await
            .unwrap(),
    );
    assert_eq!(found, ["Quarterly Revenue by Region"]);
    let page = connector
        .search_dashboards(
            "revenue",
            SearchPage {
                offset: 1,
                limit: 2,
            },
            DEADLINE,
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].title, "Revenue Overview - Finance Team");
    // A LookML id finds its dashboard although search never returns LookML ones.
    let found = connector
        .search_dashboards("demo_model::kpi_overview", PAGE, DEADLINE)
        .await
        .unwrap();
    assert_eq!(found[0].title, "KPI Overview");
    assert_eq!(found[0].folder.as_deref(), Some("LookML Dashboards"));
}

#[tokio::test]
async fn tiles_show_chart_types_and_why_some_are_unsupported() {
    let (_fake, connector) = demo().await;
    let tiles = connector.list_tiles("1", DEADLINE).await.unwrap();
    assert_eq!(tiles.title, "Revenue Overview");
    let by_id: BTreeMap<&str, &kpilink_connector::TileSummary> =
        tiles.tiles.iter().map(|t| (t.id.as_str(), t)).collect();
    assert_eq!(by_id["101"].chart_type, "single_value");
    assert_eq!(by_id["102"].chart_type, "looker_line");
    assert_eq!(by_id["102"].look_id.as_deref(), Some("1"));
    assert_eq!(by_id["106"].chart_type, "looker_single_record");
    assert!(by_id["101"].unsupported_reason.is_none());
    assert_eq!(by_id["107"].chart_type, "text");
    assert!(
        by_id["107"]
            .unsupported_reason
            .as_deref()
            .unwrap()
            .contains("text")
    );
    assert!(
        by_id["108"]
            .unsupported_reason
            .as_deref()
            .unwrap()
            .contains("button")
    );
    let roadmap = connector.list_tiles("8", DEADLINE).await.unwrap();
    let timeline = roadmap.tiles.iter().find(|t| t.id == "171").unwrap();
    assert!(
        timeline
            .unsupported_reason
            .as_deref()
            .unwrap()
            .contains("timeline")
    );
    let regional = connector.list_tiles("6", DEADLINE).await.unwrap();
    let filtered = regional.tiles.iter().find(|t| t.id == "151").unwrap();
    assert_eq!(filtered.listens_to_filters, ["Region", "Category"]);
    let lookml = connector
        .list_tiles("demo_model::kpi_overview", DEADLINE)
        .await
        .unwrap();
    assert_eq!(lookml.tiles.len(), 2);
}

#[tokio::test]
async fn look_search_and_look_charts() {
    let (_fake, connector) = demo().await;
    let looks = connector
        .search_looks("revenue", PAGE, DEADLINE)
        .await
        .unwrap();
    let titles: Vec<&str> = looks.iter().map(|l| l.title.as_str()).collect();
    assert!(
        titles.contains(&"Monthly Revenue") && titles.contains(&"Total Revenue 2025"),
        "{titles:?}"
    );
    assert!(
        !titles.contains(&"Revenue Forecast (old)"),
        "deleted Looks are hidden"
    );
    let by_id = connector.search_looks("7", PAGE, DEADLINE).await.unwrap();
    assert_eq!(by_id[0].title, "Total Revenue 2025");

    let resolved = connector
        .resolve(
            &SourceRef::Look {
                look_id: "1".into(),
            },
            DEADLINE,
        )
        .await
        .unwrap();
    assert_eq!(resolved.chart.chart_type, "looker_line");
    let table = connector
        .run(&resolved.query.unwrap(), RunMode::Interactive, DEADLINE)
        .await
        .unwrap();
    let month = table.field("orders.created_month").unwrap();
    assert_eq!(month.timeframe, Some(Timeframe::Month));
    let june = table
        .rows
        .iter()
        .position(|r| matches!(&r.cells["orders.created_month"], CellSet::Single(c) if c.value == Value::Text("2026-06".into())))
        .expect("a June row");
    assert_eq!(
        cell_value(&table, june, "orders.total_revenue"),
        Value::Null
    );
}

#[tokio::test]
async fn charts_read_as_result_tables_with_labels_pivots_and_totals() {
    let (_fake, connector) = demo().await;
    let resolved = connector
        .resolve(&tile("1", "101"), DEADLINE)
        .await
        .unwrap();
    assert_eq!(resolved.chart.hidden_fields, ["orders.count"]);
    let table = connector
        .run(
            resolved.query.as_ref().unwrap(),
            RunMode::Interactive,
            DEADLINE,
        )
        .await
        .unwrap();
    assert_eq!(table.rows.len(), 1);
    assert_eq!(
        cell_value(&table, 0, "orders.total_revenue"),
        Value::Number("29320299.79".into())
    );

    let line = connector
        .resolve(&tile("1", "102"), DEADLINE)
        .await
        .unwrap();
    assert_eq!(line.chart.x_axis_label.as_deref(), Some("Month"));
    assert_eq!(line.chart.y_axis_labels[0], "Revenue (USD)");

    let table = run_source(&connector, &tile("2", "112")).await;
    assert!(
        table
            .pivots
            .iter()
            .any(|p| p.is_total && p.key == "$$$_row_total_$$$")
    );
    assert!(table.totals.is_some(), "column totals");
    let revenue = table
        .fields
        .iter()
        .find(|f| f.kind == FieldKind::Measure)
        .unwrap();
    assert!(revenue.pivoted);

    let calc = run_source(&connector, &tile("2", "117")).await;
    assert!(
        calc.fields
            .iter()
            .any(|f| f.kind == FieldKind::TableCalculation)
    );

    // Unsupported charts resolve without a query.
    for (dashboard, id) in [("1", "107"), ("1", "108"), ("8", "171"), ("2", "116")] {
        let resolved = connector
            .resolve(&tile(dashboard, id), DEADLINE)
            .await
            .unwrap();
        assert!(resolved.query.is_none(), "{id}");
        assert!(resolved.chart.unsupported_reason.is_some(), "{id}");
    }
}

#[tokio::test]
async fn a_tile_listening_to_a_dashboard_filter_gets_its_default_applied() {
    let (_fake, connector) = demo().await;
    let filtered = run_source(&connector, &tile("6", "151")).await;
    let unfiltered = run_source(&connector, &tile("6", "153")).await;
    let revenue = |table: &ResultTable| {
        let field = table
            .fields
            .iter()
            .find(|f| f.name.ends_with("total_revenue"))
            .unwrap()
            .name
            .clone();
        cell_value(table, 0, &field)
    };
    assert_eq!(revenue(&filtered), Value::Number("8172303.74".into()));
    assert_eq!(revenue(&unfiltered), Value::Number("29320299.79".into()));
}

#[tokio::test]
async fn missing_content_has_typed_reasons() {
    let (_fake, connector) = demo().await;
    let error = connector.list_tiles("999", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::DashboardNotFound);
    let error = connector
        .resolve(&tile("1", "999"), DEADLINE)
        .await
        .unwrap_err();
    assert_eq!(error.reason, Reason::TileNotFound);
    let error = connector
        .resolve(
            &SourceRef::Look {
                look_id: "999".into(),
            },
            DEADLINE,
        )
        .await
        .unwrap_err();
    assert_eq!(error.reason, Reason::LookNotFound);
    let error = connector
        .run(
            &QueryRef {
                key: "query:999999".into(),
            },
            RunMode::Interactive,
            DEADLINE,
        )
        .await
        .unwrap_err();
    assert_eq!(error.reason, Reason::SourceRejected);
}

#[tokio::test]
async fn the_token_is_cached_and_a_401_triggers_exactly_one_relogin() {
    let (fake, connector) = demo().await;
    for _ in 0..3 {
        connector.list_tiles("1", DEADLINE).await.unwrap();
    }
    assert_eq!(
        fake.control().route_count("login"),
        1,
        "one login serves many calls"
    );

    fake.control().expire_tokens();
    connector.list_tiles("1", DEADLINE).await.unwrap();
    assert_eq!(
        fake.control().route_count("login"),
        2,
        "an expired token means one new login"
    );

    // 401 again after the new login: the credentials are no good.
    fake.control().add_fault(Fault::next(
        "dashboard",
        2,
        FaultKind::Status { status: 401 },
    ));
    let error = connector.list_tiles("1", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::SourceAuthFailed);
    assert_eq!(
        fake.control().route_count("login"),
        3,
        "exactly one re-login"
    );

    connector.close().await;
    assert_eq!(fake.control().route_count("logout"), 1);
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires() {
    // Looker says the token lives 61 s: renewed 60 s early, so every call logs in.
    let fake = fake(FakeLookerConfig {
        token_ttl: Duration::from_secs(61),
        ..FakeLookerConfig::default()
    })
    .await;
    let connector = connect(&fake, "demo-client-secret", 64 << 20);
    connector.list_tiles("1", DEADLINE).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    connector.list_tiles("1", DEADLINE).await.unwrap();
    assert_eq!(fake.control().route_count("login"), 2);
}

#[tokio::test]
async fn source_faults_map_to_their_reasons() {
    let (fake, connector) = demo().await;
    let control = fake.control();

    control.add_fault(Fault::next(
        "dashboard",
        1,
        FaultKind::RateLimit {
            retry_after_secs: 7,
        },
    ));
    let error = connector.list_tiles("1", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::SourceRateLimited);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));

    for status in [500, 502, 503] {
        control.add_fault(Fault::next("dashboard", 1, FaultKind::Status { status }));
        let error = connector.list_tiles("1", DEADLINE).await.unwrap_err();
        assert_eq!(error.reason, Reason::SourceUnreachable, "{status}");
        assert!(error.message.contains(&status.to_string()));
    }

    control.add_fault(Fault::next("dashboard", 1, FaultKind::Malformed));
    let error = connector.list_tiles("1", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::SourceResponseInvalid);

    control.add_fault(Fault::next("dashboard", 1, FaultKind::Reset));
    let error = connector.list_tiles("1", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::SourceUnreachable);

    control.add_fault(Fault::next("dashboard", 1, FaultKind::Latency { ms: 1500 }));
    let started = Instant::now();
    let error = connector
        .list_tiles("1", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(error.reason, Reason::SourceTimeout);
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );

    // After the faults the connector works again.
    connector.list_tiles("1", DEADLINE).await.unwrap();
}

#[tokio::test]
async fn an_oversized_body_is_refused_past_the_cap() {
    let fake = fake(FakeLookerConfig::default()).await;
    let connector = connect(&fake, "demo-client-secret", 1 << 20);
    fake.control()
        .add_fault(Fault::next("dashboard", 1, FaultKind::Oversized { mib: 3 }));
    let error = connector.list_tiles("1", DEADLINE).await.unwrap_err();
    assert_eq!(error.reason, Reason::SourceResponseInvalid);
    assert!(
        error.message.contains("larger than 1 MiB"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_slow_query_times_out_keeps_running_and_is_then_served_from_cache() {
    let fake = fake(FakeLookerConfig {
        slow_query: Duration::from_millis(1500),
        ..FakeLookerConfig::default()
    })
    .await;
    let connector = connect(&fake, "demo-client-secret", 64 << 20);
    let resolved = connector
        .resolve(&tile("7", "161"), DEADLINE)
        .await
        .unwrap();
    let query = resolved.query.unwrap();
    let started = Instant::now();
    let error = connector
        .run(&query, RunMode::Interactive, Duration::from_millis(400))
        .await
        .unwrap_err();
    assert_eq!(error.reason, Reason::SourceTimeout);
    assert!(error.message.contains("keeps running"), "{}", error.message);
    assert!(started.elapsed() < Duration::from_millis(1000));

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    let table = connector
        .run(&query, RunMode::Interactive, Duration::from_millis(400))
        .await
        .unwrap();
    assert!(table.from_cache);
    assert!(started.elapsed() < Duration::from_millis(400));
    assert_eq!(
        fake.control().query_runs(),
        1,
        "the timed-out run was not abandoned or repeated"
    );
}

#[tokio::test]
async fn background_runs_use_one_blocking_run_query_and_read_the_same_table() {
    let (fake, connector) = demo().await;
    let resolved = connector
        .resolve(&tile("1", "102"), DEADLINE)
        .await
        .unwrap();
    let query = resolved.query.unwrap();
    let interactive = connector
        .run(&query, RunMode::Interactive, DEADLINE)
        .await
        .unwrap();
    let background = connector
        .run(&query, RunMode::Background, DEADLINE)
        .await
        .unwrap();
    assert_eq!(background.rows, interactive.rows);
    assert_eq!(background.fields, interactive.fields);
    assert_eq!(fake.control().route_count("run_query"), 1);
    assert_eq!(fake.control().route_count("create_query_task"), 1);
    let error = connector
        .run(
            &QueryRef {
                key: "query:999999".into(),
            },
            RunMode::Background,
            DEADLINE,
        )
        .await
        .unwrap_err();
    assert_eq!(error.reason, Reason::SourceRejected);
}

#[tokio::test]
async fn resolving_many_reads_each_dashboard_once_and_answers_in_order() {
    let (fake, connector) = demo().await;
    let sources = [
        tile("1", "101"),
        tile("6", "151"),
        tile("1", "102"),
        tile("1", "999"),
        SourceRef::Look {
            look_id: "1".into(),
        },
        tile("1", "107"),
    ];
    fake.control().reset_counters();
    let many = connector.resolve_many(&sources, DEADLINE).await;
    assert_eq!(
        fake.control().route_count("dashboard"),
        2,
        "one read of dashboards 1 and 6"
    );
    assert_eq!(many.len(), sources.len());
    for (source, resolved) in sources.iter().zip(&many) {
        let one = connector.resolve(source, DEADLINE).await;
        match (resolved, &one) {
            (Ok(many), Ok(one)) => {
                assert_eq!(many.query, one.query, "{source:?}");
                assert_eq!(many.chart.title, one.chart.title, "{source:?}");
                assert_eq!(
                    many.chart.unsupported_reason, one.chart.unsupported_reason,
                    "{source:?}"
                );
            }
            (Err(many), Err(one)) => assert_eq!(many.reason, one.reason, "{source:?}"),
            _ => panic!("{source:?}: resolve_many {resolved:?}, resolve {one:?}"),
        }
    }
    assert_eq!(
        many[3].as_ref().unwrap_err().reason,
        Reason::TileNotFound,
        "a missing tile fails alone"
    );
    assert!(
        many[5].as_ref().unwrap().query.is_none(),
        "unsupported chart"
    );
}
