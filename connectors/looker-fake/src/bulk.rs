//! Generated content for benchmarks: many dashboards of single-value tiles, every tile with a
//! query of its own over the small `bulk_kpis` explore, so each tile is a separate cache miss
//! on its first run and costs microseconds to run. The crate README documents ids and values.

use serde_json::json;

use crate::BulkContent;
use crate::content::{Catalog, Dashboard, Element, Folder, Source, User};
use crate::dataset::MODEL;
use crate::demo::single_value;
use crate::model::{Agg, Cell, Explore, ExploreBuilder};
use crate::query::QueryDef;

pub(crate) const EXPLORE: &str = "bulk_kpis";
pub(crate) const FOLDER_ID: &str = "10";
const FIRST_DASHBOARD_ID: usize = 10_001;
const FIRST_ELEMENT_ID: usize = 1_000_001;
const FIRST_QUERY_ID: usize = 5_000_001;

/// One row per tile: (kpi_number k, dashboard_number, tile_number, value = k), indexed by k so
/// that a tile's query reads one row rather than scanning them all.
pub(crate) fn explore(bulk: &BulkContent) -> Option<Explore> {
    if bulk.dashboards == 0 {
        return None;
    }
    let per = bulk.tiles_per_dashboard;
    let rows = (1..=bulk.dashboards * per)
        .map(|k| {
            let num = |n: usize| Cell::Num(n as f64);
            vec![
                num(k),
                num((k - 1) / per + 1),
                num((k - 1) % per + 1),
                num(k),
            ]
        })
        .collect();
    Some(
        ExploreBuilder::new(EXPLORE, "Bulk KPIs")
            .number("kpi_number", "KPI Number", 0)
            .describe("Number of the generated tile, from 1 across all bulk dashboards.")
            .number("dashboard_number", "Dashboard Number", 1)
            .number("tile_number", "Tile Number", 2)
            .measure(
                "total_value",
                "Total Value",
                "sum",
                Agg::Sum(3),
                Some("#,##0"),
            )
            .build(MODEL, EXPLORE, "Bulk KPIs", rows, false)
            .with_row_index(0),
    )
}

/// One line for the startup banner: counts and id ranges.
pub(crate) fn describe(bulk: &BulkContent) -> String {
    let tiles = bulk.dashboards * bulk.tiles_per_dashboard;
    let range = |first: usize, n: usize| match n {
        0 => "none".to_string(),
        _ => format!("{first}-{}", first + n - 1),
    };
    format!(
        "{} dashboards x {} single-value tiles (dashboards {}, tiles {}, queries {}; tile k shows k)",
        bulk.dashboards,
        bulk.tiles_per_dashboard,
        range(FIRST_DASHBOARD_ID, bulk.dashboards),
        range(FIRST_ELEMENT_ID, tiles),
        range(FIRST_QUERY_ID, tiles),
    )
}

/// Adds the explore, a folder, and the dashboards, tiles and queries.
pub(crate) fn add(catalog: &mut Catalog, bulk: &BulkContent) {
    let Some(explore) = explore(bulk) else {
        return;
    };
    catalog.explores.push(explore);
    // Without the demo, the folder's parent and the dashboards' owner exist all the same.
    if catalog.folder("1").is_none() {
        catalog.add_folder(Folder {
            id: "1",
            name: "Shared",
            parent_id: None,
        });
    }
    catalog.add_folder(Folder {
        id: FOLDER_ID,
        name: "Bulk KPIs",
        parent_id: Some("1"),
    });
    if catalog.user("1").is_none() {
        catalog.add_user(User {
            id: "1",
            first_name: "Demo",
            last_name: "Admin",
        });
    }
    let per = bulk.tiles_per_dashboard;
    for d in 1..=bulk.dashboards {
        let dashboard_id = (FIRST_DASHBOARD_ID + d - 1).to_string();
        catalog.add_dashboard(Dashboard {
            id: dashboard_id.clone(),
            title: format!("Bulk KPIs {d:04}"),
            description: Some(format!(
                "Generated benchmark dashboard {d} of {}: {per} single-value tiles.",
                bulk.dashboards
            )),
            folder_id: FOLDER_ID.into(),
            lookml_model: None,
            deleted: false,
            created_at: format!(
                "2025-{:02}-{:02}T09:30:00.000+00:00",
                1 + d % 12,
                1 + d % 27
            ),
            updated_at: format!("2026-05-{:02}T14:05:00.000+00:00", 1 + d % 28),
            deleted_at: None,
            last_viewed_at: Some(format!("2026-06-{:02}T08:00:00.000+00:00", 1 + d % 14)),
            user_id: "1".into(),
            view_count: (d % 100) as i64,
            favorite_count: 0,
            refresh_interval: None,
            filters: Vec::new(),
            element_ids: Vec::with_capacity(per),
        });
        for t in 1..=per {
            let k = (d - 1) * per + t;
            let query_id = (FIRST_QUERY_ID + k - 1).to_string();
            let title = format!("Bulk KPI {d:04}-{t:02}");
            catalog.insert_query(
                &query_id,
                QueryDef::demo(EXPLORE, &["bulk_kpis.total_value"])
                    .filter("bulk_kpis.kpi_number", &k.to_string())
                    .vis(single_value(json!({"single_value_title": title}))),
            );
            catalog.add_element(Element {
                id: (FIRST_ELEMENT_ID + k - 1).to_string(),
                dashboard_id: dashboard_id.clone(),
                title: Some(title),
                source: Source::Query(query_id),
                listens: Vec::new(),
                note_text: None,
                merge_vis_config: None,
                removed: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset;
    use crate::model::Val;
    use crate::query_engine::{self, RunOptions};

    fn run(catalog: &Catalog, query_id: &str) -> query_engine::QueryResult {
        let def = &catalog.query(query_id).expect("query").def;
        let explore = catalog.explore(&def.model, &def.view).expect("explore");
        query_engine::run(
            explore,
            def,
            RunOptions {
                limit_override: None,
                today: dataset::today(),
            },
        )
    }

    #[test]
    fn every_tile_has_its_own_query_returning_its_number() {
        let bulk = BulkContent {
            dashboards: 7,
            tiles_per_dashboard: 3,
        };
        let catalog = crate::demo::catalog(true, Some(&bulk));
        let last = catalog.dashboard("10007").expect("last dashboard");
        assert_eq!(last.title, "Bulk KPIs 0007");
        assert_eq!(last.element_ids, ["1000019", "1000020", "1000021"]);
        assert!(catalog.dashboard("10008").is_none());
        assert!(catalog.element("1000022").is_none());
        let mut keys = std::collections::HashSet::new();
        for k in 1..=21usize {
            let element = catalog.element(&(1_000_000 + k).to_string()).expect("tile");
            let Source::Query(q) = &element.source else {
                panic!("query tile")
            };
            assert_eq!(q, &(5_000_000 + k).to_string());
            assert!(keys.insert(catalog.query(q).unwrap().def.data_key()));
            let result = run(&catalog, q);
            assert_eq!(result.error, None);
            assert_eq!(result.rows.len(), 1);
            assert_eq!(result.rows[0].measures, vec![vec![Val::Num(k as f64)]]);
        }
        // The demo is intact and comes first.
        assert_eq!(catalog.dashboards()[0].id, "1");
        assert!(catalog.element("101").is_some());
    }

    /// Engine + json_detail cost of one tile's query, printed (a measurement, not a check):
    /// `cargo test --release -p kpilink-looker-fake --lib bulk -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement"]
    fn query_cost() {
        let bulk = BulkContent {
            dashboards: 500,
            tiles_per_dashboard: 20,
        };
        let catalog = crate::demo::catalog(false, Some(&bulk));
        let n = 10_000;
        let started = std::time::Instant::now();
        let mut bytes = 0;
        for k in 1..=n {
            let id = (5_000_000 + k).to_string();
            let result = run(&catalog, &id);
            let info = crate::json_detail::RunInfo {
                query_id: &id,
                query: &catalog.query(&id).expect("query").def,
                explore_label: "Bulk KPIs",
                from_cache: false,
                ran_at: "2026-06-15T00:00:00.000+00:00",
                runtime_secs: 0.001,
            };
            bytes += crate::json_detail::render(&result, &info).to_string().len();
        }
        let per = started.elapsed() / n;
        println!(
            "query_engine::run + json_detail render + serialize: {per:?} per query ({} bytes)",
            bytes / n as usize
        );
    }

    #[test]
    fn indexed_and_scanned_runs_agree() {
        let bulk = BulkContent {
            dashboards: 4,
            tiles_per_dashboard: 5,
        };
        let mut explore = explore(&bulk).expect("explore");
        let filters = ["7", "3,19", "7,7", "NOT 7", ">18", "[2,4]", "-0", "21", ""];
        for expr in filters {
            let def = QueryDef::demo(EXPLORE, &["bulk_kpis.total_value"])
                .filter("bulk_kpis.kpi_number", expr);
            let options = RunOptions {
                limit_override: None,
                today: dataset::today(),
            };
            let indexed = query_engine::run(&explore, &def, options);
            let index = explore.row_index.take();
            let scanned = query_engine::run(&explore, &def, options);
            explore.row_index = index;
            assert_eq!(
                format!("{:?}", indexed.rows),
                format!("{:?}", scanned.rows),
                "{expr}"
            );
        }
    }
}
