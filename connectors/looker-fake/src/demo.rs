//! The demo instance: dashboards whose tiles cover every chart type of SPEC §2, Looks, a
//! merged-results tile, a filter-listening tile, a slow dashboard, a LookML dashboard and a
//! soft-deleted dashboard. Ids are stable; connectors/looker-fake/README.md lists them.

use serde_json::{Value, json};

use crate::BulkContent;
use crate::content::{
    Catalog, Dashboard, DashboardFilter, Element, Folder, Look, MergeQuery, MergeSource, Source,
    User,
};
use crate::dataset::{self, MODEL};
use crate::model::Explore;
use crate::query::QueryDef;

pub(crate) fn empty_catalog() -> Catalog {
    Catalog::new(Vec::new())
}

/// The content a server starts with: the demo instance (or nothing), plus generated bulk
/// dashboards when configured.
pub(crate) fn catalog(demo: bool, bulk: Option<&BulkContent>) -> Catalog {
    let mut catalog = if demo {
        demo_catalog()
    } else {
        empty_catalog()
    };
    if let Some(bulk) = bulk {
        crate::bulk::add(&mut catalog, bulk);
    }
    catalog
}

/// The explores of [`catalog`] with their pristine data, in the same order (control reset).
pub(crate) fn pristine_explores(demo: bool, bulk: Option<&BulkContent>) -> Vec<Explore> {
    let mut explores = if demo {
        dataset::explores()
    } else {
        Vec::new()
    };
    explores.extend(bulk.and_then(crate::bulk::explore));
    explores
}

impl QueryDef {
    pub(crate) fn demo(view: &str, fields: &[&str]) -> QueryDef {
        QueryDef {
            model: MODEL.into(),
            view: view.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            limit: Some("500".into()),
            query_timezone: Some("UTC".into()),
            ..QueryDef::default()
        }
    }

    pub(crate) fn filter(mut self, field: &str, expr: &str) -> Self {
        self.filters.insert(field.into(), expr.into());
        self
    }

    fn pivot(mut self, field: &str) -> Self {
        self.pivots.push(field.into());
        self
    }

    fn sort(mut self, sort: &str) -> Self {
        self.sorts.push(sort.into());
        self
    }

    fn limit(mut self, limit: &str) -> Self {
        self.limit = Some(limit.into());
        self
    }

    fn totals(mut self) -> Self {
        self.total = true;
        self
    }

    fn row_totals(mut self) -> Self {
        self.row_total = Some("right".into());
        self
    }

    fn calcs(mut self, dynamic_fields: Value) -> Self {
        self.dynamic_fields = Some(dynamic_fields.to_string());
        self
    }

    pub(crate) fn vis(mut self, vis: Value) -> Self {
        self.vis_config = vis.as_object().cloned();
        self
    }
}

fn merge(base: Value, extra: Value) -> Value {
    let mut out = base.as_object().cloned().unwrap_or_default();
    if let Some(extra) = extra.as_object() {
        out.extend(extra.clone());
    }
    Value::Object(out)
}

/// The keys Looker writes for every cartesian chart (from `vis_config_looker_line.json`).
fn cartesian(kind: &str, extra: Value) -> Value {
    merge(
        json!({
            "type": kind, "x_axis_gridlines": false, "y_axis_gridlines": true, "show_view_names": false,
            "show_y_axis_labels": true, "show_y_axis_ticks": true, "y_axis_tick_density": "default",
            "y_axis_tick_density_custom": 5, "show_x_axis_label": true, "show_x_axis_ticks": true,
            "y_axis_scale_mode": "linear", "x_axis_reversed": false, "y_axis_reversed": false,
            "plot_size_by_field": false, "trellis": "", "stacking": "", "limit_displayed_rows": false,
            "legend_position": "center", "point_style": "none", "show_value_labels": false,
            "label_density": 25, "x_axis_scale": "auto", "y_axis_combined": true,
            "show_null_points": true, "interpolation": "linear", "ordering": "none",
            "show_null_labels": false, "show_totals_labels": false, "show_silhouette": false,
            "totals_color": "#808080", "series_types": {}, "hidden_fields": [], "hidden_pivots": {},
            "defaults_version": 1
        }),
        extra,
    )
}

/// A `y_axes` entry with a custom (or empty = default) label.
fn y_axis(label: &str, series: &[(&str, &str)]) -> Value {
    let series: Vec<Value> = series
        .iter()
        .map(|(id, name)| json!({"axisId": id, "id": id, "name": name}))
        .collect();
    json!({"label": label, "orientation": "left", "series": series, "showLabels": true,
           "showValues": true, "unpinAxis": false, "tickDensity": "default", "tickDensityCustom": 5,
           "type": "linear"})
}

pub(crate) fn single_value(extra: Value) -> Value {
    merge(
        json!({
            "type": "single_value", "custom_color_enabled": true, "show_single_value_title": true,
            "show_comparison": false, "comparison_type": "value", "comparison_reverse_colors": false,
            "show_comparison_label": true, "enable_conditional_formatting": false,
            "conditional_formatting_include_totals": false, "conditional_formatting_include_nulls": false,
            "hidden_fields": [], "defaults_version": 1
        }),
        extra,
    )
}

fn table_vis(kind: &str, extra: Value) -> Value {
    merge(
        json!({
            "type": kind, "show_view_names": false, "show_row_numbers": true,
            "transpose": false, "truncate_text": true, "hide_totals": false, "hide_row_totals": false,
            "size_to_fit": true, "table_theme": "white", "limit_displayed_rows": false,
            "enable_conditional_formatting": false, "header_text_alignment": "left",
            "header_font_size": 12, "rows_font_size": 12, "show_totals": true, "show_row_totals": true,
            "hidden_fields": [], "defaults_version": 1
        }),
        extra,
    )
}

fn map_vis(kind: &str, extra: Value) -> Value {
    merge(
        json!({
            "type": kind, "map_plot_mode": "points", "heatmap_gridlines": false, "heatmap_opacity": 0.5,
            "show_region_field": true, "draw_map_labels_above_data": true, "map_tile_provider": "light",
            "map_position": "fit_data", "map_scale_indicator": "off", "map_pannable": true,
            "map_zoomable": true, "map_marker_type": "circle", "map_marker_icon_name": "default",
            "map_marker_radius_mode": "proportional_value", "map_marker_units": "meters",
            "map_marker_proportional_scale_type": "linear", "map_marker_color_mode": "fixed",
            "show_legend": true, "quantize_map_value_colors": false, "reverse_map_value_colors": false,
            "defaults_version": 1
        }),
        extra,
    )
}

const Y2025: (&str, &str) = ("orders.created_year", "2025");

struct Demo {
    catalog: Catalog,
}

impl Demo {
    fn dashboard(
        &mut self,
        id: &str,
        title: &str,
        folder: &str,
        description: &str,
    ) -> &mut Dashboard {
        let index: usize = id.parse().unwrap_or(50);
        self.dashboard_at(index, id, title, folder, description)
    }

    /// `index` seeds the dates and counts (ids are index keys, so they are final here).
    fn dashboard_at(
        &mut self,
        index: usize,
        id: &str,
        title: &str,
        folder: &str,
        description: &str,
    ) -> &mut Dashboard {
        self.catalog.add_dashboard(Dashboard {
            id: id.into(),
            title: title.into(),
            description: Some(description.into()),
            folder_id: folder.into(),
            lookml_model: None,
            deleted: false,
            created_at: format!(
                "2025-{:02}-{:02}T09:30:00.000+00:00",
                1 + index % 12,
                1 + index % 27
            ),
            updated_at: format!("2026-05-{:02}T14:05:00.000+00:00", 1 + index % 28),
            deleted_at: None,
            last_viewed_at: Some(format!("2026-06-{:02}T08:00:00.000+00:00", 1 + index % 14)),
            user_id: if index.is_multiple_of(2) {
                "2".into()
            } else {
                "1".into()
            },
            view_count: 40 + 17 * index as i64,
            favorite_count: (index % 5) as i64,
            refresh_interval: None,
            filters: Vec::new(),
            element_ids: Vec::new(),
        })
    }

    fn push_element(
        &mut self,
        dashboard_id: &str,
        id: &str,
        title: Option<&str>,
        source: Source,
    ) -> &mut Element {
        self.catalog.add_element(Element {
            id: id.into(),
            dashboard_id: dashboard_id.into(),
            title: title.map(str::to_string),
            source,
            listens: Vec::new(),
            note_text: None,
            merge_vis_config: None,
            removed: false,
        })
    }

    /// A query tile: stores the query under `query_id` and adds the element.
    fn tile(
        &mut self,
        dashboard_id: &str,
        id: &str,
        title: &str,
        query_id: &str,
        def: QueryDef,
    ) -> &mut Element {
        self.catalog.insert_query(query_id, def);
        self.push_element(
            dashboard_id,
            id,
            Some(title),
            Source::Query(query_id.into()),
        )
    }

    fn look(
        &mut self,
        id: &str,
        title: &str,
        folder: &str,
        query_id: &str,
        def: QueryDef,
        description: &str,
    ) -> &mut Look {
        self.catalog.insert_query(query_id, def);
        let index: usize = id.parse().unwrap_or(9);
        self.catalog.add_look(Look {
            id: id.into(),
            title: title.into(),
            description: Some(description.into()),
            folder_id: folder.into(),
            query_id: query_id.into(),
            deleted: false,
            created_at: format!("2025-0{}-1{}T10:00:00.000+00:00", 1 + index % 9, index % 10),
            updated_at: format!("2026-04-2{}T16:45:00.000+00:00", index % 10),
            user_id: "2".into(),
            view_count: 12 * index as i64,
            favorite_count: (index % 3) as i64,
            public: false,
        })
    }
}

pub(crate) fn demo_catalog() -> Catalog {
    let mut demo = Demo {
        catalog: Catalog::new(dataset::explores()),
    };
    for folder in [
        Folder {
            id: "1",
            name: "Shared",
            parent_id: None,
        },
        Folder {
            id: "5",
            name: "Finance",
            parent_id: Some("1"),
        },
        Folder {
            id: "6",
            name: "Sales",
            parent_id: Some("1"),
        },
        Folder {
            id: "7",
            name: "Engineering",
            parent_id: Some("1"),
        },
        Folder {
            id: "8",
            name: "Marketing",
            parent_id: Some("1"),
        },
        Folder {
            id: "lookml",
            name: "LookML Dashboards",
            parent_id: None,
        },
    ] {
        demo.catalog.add_folder(folder);
    }
    for user in [
        User {
            id: "1",
            first_name: "Demo",
            last_name: "Admin",
        },
        User {
            id: "2",
            first_name: "Ada",
            last_name: "Analyst",
        },
    ] {
        demo.catalog.add_user(user);
    }
    looks(&mut demo);
    revenue_overview(&mut demo);
    quarterly_revenue_by_region(&mut demo);
    archived_forecast(&mut demo);
    sales_mix(&mut demo);
    store_map(&mut demo);
    regional_performance(&mut demo);
    warehouse_health(&mut demo);
    roadmap(&mut demo);
    trends(&mut demo);
    marketing(&mut demo);
    revenue_finance_team(&mut demo);
    lookml_kpi_overview(&mut demo);
    demo.catalog
}

fn looks(demo: &mut Demo) {
    let monthly = QueryDef::demo("orders", &["orders.created_month", "orders.total_revenue", "orders.count"])
        .sort("orders.created_month desc")
        .vis(cartesian(
            "looker_line",
            json!({"x_axis_label": "Month",
                   "y_axes": [y_axis("Revenue (USD)", &[("orders.total_revenue", "Total Revenue")]),
                              merge(y_axis("Orders", &[("orders.count", "Count")]), json!({"orientation": "right"}))],
                   "series_labels": {"orders.total_revenue": "Revenue"},
                   "series_colors": {"orders.total_revenue": "#1A73E8", "orders.count": "#12B5CB"}}),
        ));
    demo.look(
        "1",
        "Monthly Revenue",
        "5",
        "501",
        monthly,
        "Invoiced revenue per month; the current month is not booked yet.",
    );
    let by_region = QueryDef::demo("orders", &["orders.region", "orders.total_revenue"])
        .filter(Y2025.0, Y2025.1)
        .sort("orders.total_revenue desc")
        .vis(cartesian("looker_bar", json!({})));
    demo.look(
        "2",
        "Revenue by Region (2025)",
        "6",
        "502",
        by_region,
        "2025 revenue per sales region.",
    );
    let margin = QueryDef::demo("orders", &["orders.category", "orders.gross_margin"])
        .filter(Y2025.0, Y2025.1)
        .sort("orders.gross_margin desc")
        .vis(cartesian(
            "looker_column",
            json!({"y_axes": [y_axis("", &[("orders.gross_margin", "Gross Margin")])]}),
        ));
    demo.look(
        "3",
        "Gross Margin by Category",
        "5",
        "503",
        margin,
        "Gross margin (a fraction, formatted 0.0%).",
    );
    let pie = QueryDef::demo("orders", &["orders.category", "orders.count"])
        .filter(Y2025.0, Y2025.1)
        .vis(json!({"type": "looker_pie", "value_labels": "legend", "label_type": "labPer", "inner_radius": 0}));
    demo.look(
        "4",
        "Order Count by Category",
        "6",
        "504",
        pie,
        "Share of 2025 orders per product category.",
    );
    let old = QueryDef::demo(
        "orders",
        &["orders.created_quarter", "orders.total_revenue"],
    )
    .filter("orders.created_year", "2024")
    .vis(cartesian("looker_line", json!({})));
    demo.look(
        "5",
        "Revenue Forecast (old)",
        "5",
        "505",
        old,
        "Superseded by the 2026 plan.",
    )
    .deleted = true;
    let weekly = QueryDef::demo("orders", &["orders.created_week", "orders.count"])
        .filter("orders.created_date", "12 weeks")
        .vis(cartesian("looker_line", json!({})));
    demo.look(
        "6",
        "Weekly Orders",
        "6",
        "506",
        weekly,
        "Orders per week (weeks start on Monday).",
    );
    let total = QueryDef::demo("orders", &["orders.total_revenue"])
        .filter(Y2025.0, Y2025.1)
        .vis(single_value(json!({"single_value_title": "Revenue 2025"})));
    demo.look(
        "7",
        "Total Revenue 2025",
        "5",
        "507",
        total,
        "A single value Look.",
    );
}

fn revenue_overview(demo: &mut Demo) {
    demo.dashboard(
        "1",
        "Revenue Overview",
        "5",
        "Company revenue, margin and order trends.",
    );
    // The first field (count) is hidden, so the value shown is the next measure: total revenue.
    demo.tile(
        "1",
        "101",
        "Total Revenue (2025)",
        "201",
        QueryDef::demo(
            "orders",
            &[
                "orders.count",
                "orders.total_revenue",
                "orders.gross_margin",
            ],
        )
        .filter(Y2025.0, Y2025.1)
        .vis(single_value(
            json!({"hidden_fields": ["orders.count"], "show_comparison": true,
                "comparison_type": "value", "comparison_label": "Gross Margin",
                "single_value_title": "Revenue 2025", "custom_color": "#1A73E8"}),
        )),
    );
    let look_tile = demo.push_element(
        "1",
        "102",
        Some("Monthly Revenue"),
        Source::Look("1".into()),
    );
    look_tile.note_text = Some("The current month fills in after month-end close.".into());
    demo.tile(
        "1",
        "103",
        "Revenue by Region (monthly)",
        "203",
        QueryDef::demo(
            "orders",
            &[
                "orders.created_month",
                "orders.region",
                "orders.total_revenue",
            ],
        )
        .pivot("orders.region")
        .filter("orders.created_date", "12 months")
        .sort("orders.created_month desc")
        .vis(cartesian(
            "looker_column",
            json!({"stacking": "normal",
                "y_axes": [y_axis("", &[("orders.total_revenue", "Total Revenue")])]}),
        )),
    );
    demo.tile(
        "1",
        "104",
        "Quarterly Revenue",
        "204",
        QueryDef::demo(
            "orders",
            &["orders.created_quarter", "orders.total_revenue"],
        )
        .sort("orders.created_quarter")
        .vis(cartesian("looker_area", json!({"stacking": "normal"}))),
    );
    demo.tile(
        "1",
        "105",
        "Gross Margin % (2025)",
        "205",
        QueryDef::demo("orders", &["orders.gross_margin"])
            .filter(Y2025.0, Y2025.1)
            .vis(single_value(json!({"single_value_title": "Gross Margin"}))),
    );
    demo.tile(
        "1",
        "106",
        "Latest Month Snapshot",
        "206",
        QueryDef::demo(
            "orders",
            &["orders.created_month", "orders.count", "orders.total_revenue", "orders.average_order_value", "orders.return_rate"],
        )
        .sort("orders.created_month desc")
        .limit("1")
        .vis(json!({"type": "looker_single_record", "show_view_names": false, "defaults_version": 1})),
    );
    demo.push_element(
        "1",
        "107",
        None,
        Source::Text {
            title_text: "About these numbers".into(),
            subtitle_text: Some("Finance definitions".into()),
            body_text: "Revenue is booked at invoice time. The current month fills in after month-end close.".into(),
        },
    );
    demo.push_element(
        "1",
        "108",
        None,
        Source::Button {
            rich_content_json:
                json!({"text": "Open the 2026 forecast", "description": "Planning workbook",
                "newTab": true, "alignment": "center", "size": "medium", "style": "FILLED",
                "color": "#1A73E8", "href": "/dashboards/2"})
                .to_string(),
        },
    );
}

fn quarterly_revenue_by_region(demo: &mut Demo) {
    demo.dashboard(
        "2",
        "Quarterly Revenue by Region",
        "5",
        "Quarterly revenue per region, with totals and targets.",
    );
    demo.tile(
        "2",
        "111",
        "Revenue by Quarter and Region",
        "211",
        QueryDef::demo(
            "orders",
            &[
                "orders.created_quarter",
                "orders.region",
                "orders.total_revenue",
            ],
        )
        .pivot("orders.region")
        .sort("orders.created_quarter desc")
        .vis(cartesian(
            "looker_bar",
            json!({"x_axis_label": "Quarter",
                "y_axes": [y_axis("Revenue", &[("orders.total_revenue", "Total Revenue")])]}),
        )),
    );
    demo.tile(
        "2",
        "112",
        "Quarterly Revenue Table",
        "212",
        QueryDef::demo(
            "orders",
            &[
                "orders.created_quarter",
                "orders.region",
                "orders.total_revenue",
                "orders.count",
            ],
        )
        .pivot("orders.region")
        .sort("orders.created_quarter desc")
        .totals()
        .row_totals()
        .vis(table_vis("looker_table", json!({}))),
    );
    demo.tile(
        "2",
        "113",
        "Revenue by Region and Category (2025)",
        "213",
        QueryDef::demo(
            "orders",
            &[
                "orders.region",
                "orders.category",
                "orders.total_revenue",
                "orders.gross_margin",
            ],
        )
        .filter(Y2025.0, Y2025.1)
        .sort("orders.region")
        .sort("orders.category")
        .totals()
        .vis(table_vis("looker_grid", json!({}))),
    );
    demo.tile(
        "2",
        "114",
        "Orders by Region",
        "214",
        QueryDef::demo(
            "orders",
            &[
                "orders.region",
                "orders.count",
                "orders.average_order_value",
            ],
        )
        .sort("orders.count desc")
        .vis(table_vis(
            "table",
            json!({"show_totals": false, "show_row_totals": false}),
        )),
    );
    demo.tile(
        "2",
        "115",
        "Category Mix by Region (2025)",
        "215",
        QueryDef::demo(
            "orders",
            &["orders.category", "orders.region", "orders.count"],
        )
        .pivot("orders.region")
        .filter(Y2025.0, Y2025.1)
        .sort("orders.category")
        .vis(
            json!({"type": "looker_donut_multiples", "show_value_labels": true, "font_size": 12,
                        "hide_legend": false, "defaults_version": 1}),
        ),
    );
    // Merged results: 2025 revenue (orders) joined with 2025 targets on region.
    demo.catalog.insert_query(
        "216",
        QueryDef::demo("orders", &["orders.region", "orders.total_revenue"])
            .filter(Y2025.0, Y2025.1),
    );
    demo.catalog.insert_query(
        "217",
        QueryDef::demo("targets", &["targets.region", "targets.revenue_target"])
            .filter("targets.target_year", "2025"),
    );
    let vis = cartesian(
        "looker_column",
        json!({"series_types": {"targets.revenue_target": "line"},
        "y_axes": [y_axis("Revenue vs target", &[("orders.total_revenue", "Total Revenue"),
                                                 ("targets.revenue_target", "Revenue Target")])]}),
    );
    demo.catalog.add_merge(MergeQuery {
        id: MERGE_ID.into(),
        sources: vec![
            MergeSource {
                name: "Revenue 2025".into(),
                query_id: "216".into(),
                merge_fields: Vec::new(),
            },
            MergeSource {
                name: "Targets 2025".into(),
                query_id: "217".into(),
                merge_fields: vec![("orders.region".into(), "targets.region".into())],
            },
        ],
        sorts: vec!["orders.total_revenue desc".into()],
        vis_config: vis.as_object().cloned().unwrap_or_default(),
    });
    let merged = demo.push_element(
        "2",
        "116",
        Some("Revenue vs Target by Region (2025)"),
        Source::Merge(MERGE_ID.into()),
    );
    merged.merge_vis_config = vis.as_object().cloned();
    demo.tile(
        "2",
        "117",
        "Revenue Growth (MoM)",
        "218",
        QueryDef::demo("orders", &["orders.created_month", "orders.total_revenue", "mom_growth"])
            .filter("orders.created_date", "12 months")
            .sort("orders.created_month desc")
            .calcs(json!([{"category": "table_calculation", "table_calculation": "mom_growth",
                "label": "MoM Growth", "expression":
                "(${orders.total_revenue} - offset(${orders.total_revenue}, 1)) / offset(${orders.total_revenue}, 1)",
                "value_format": null, "value_format_name": "percent_1", "_kind_hint": "measure",
                "_type_hint": "number"}]))
            .vis(cartesian("looker_line", json!({"y_axes": [y_axis("", &[("orders.total_revenue", "Total Revenue")]),
                merge(y_axis("Growth", &[("mom_growth", "MoM Growth")]), json!({"orientation": "right"}))]}))),
    );
}

/// The merge query behind the merged-results tile 116.
pub(crate) const MERGE_ID: &str = "7pQmRgVbT2tWqA9sKdLz3e";

fn archived_forecast(demo: &mut Demo) {
    let d = demo.dashboard(
        "3",
        "Revenue Forecast (Archived)",
        "5",
        "Replaced by the 2026 plan.",
    );
    d.deleted = true;
    d.deleted_at = Some("2026-02-02T12:00:00.000+00:00".into());
    demo.tile(
        "3",
        "121",
        "Forecast vs Actual",
        "221",
        QueryDef::demo("orders", &["orders.created_month", "orders.total_revenue"])
            .filter("orders.created_year", "2025")
            .vis(cartesian("looker_line", json!({}))),
    );
}

fn sales_mix(demo: &mut Demo) {
    demo.dashboard(
        "4",
        "Sales Mix & Funnel",
        "6",
        "Category mix, funnel, distributions and a custom visualization.",
    );
    demo.tile(
        "4",
        "131",
        "Revenue by Category (2025)",
        "231",
        QueryDef::demo("orders", &["orders.category", "orders.total_revenue"])
            .filter(Y2025.0, Y2025.1)
            .sort("orders.total_revenue desc")
            .vis(
                json!({"type": "looker_pie", "value_labels": "legend", "label_type": "labPer",
                        "inner_radius": 40, "defaults_version": 1}),
            ),
    );
    demo.tile(
        "4",
        "132",
        "Signup Funnel (May 2026)",
        "232",
        QueryDef::demo("signups_funnel", &["signups_funnel.stage", "signups_funnel.users"])
            .filter("signups_funnel.signup_month", "2026-05")
            .sort("signups_funnel.stage")
            .vis(json!({"type": "looker_funnel", "leftAxisLabelVisible": false, "rightAxisLabelVisible": false,
                        "smoothedBars": true, "orientation": "automatic", "labelPosition": "left",
                        "percentType": "total", "percentPosition": "inline", "valuePosition": "right",
                        "labelColorEnabled": false, "labelColor": "#FFF", "defaults_version": 1})),
    );
    demo.tile(
        "4",
        "133",
        "Revenue Bridge by Category (2025)",
        "233",
        QueryDef::demo("orders", &["orders.category", "orders.total_revenue"])
            .filter(Y2025.0, Y2025.1)
            .sort("orders.category")
            .vis(json!({"type": "looker_waterfall", "up_color": "#1A73E8", "down_color": "#EA4335",
                        "total_color": "#80868B", "show_value_labels": true, "show_x_axis_ticks": true,
                        "show_x_axis_label": true, "x_axis_label": "Category", "defaults_version": 1})),
    );
    demo.tile(
        "4",
        "134",
        "Orders by City",
        "234",
        QueryDef::demo("orders", &["stores.city", "orders.count"])
            .sort("orders.count desc")
            .vis(
                json!({"type": "looker_wordcloud", "color_application": {"collection_id": "google"},
                        "rotation": false, "defaults_version": 1}),
            ),
    );
    demo.tile(
        "4",
        "135",
        "Daily Store Revenue Distribution (2025)",
        "235",
        QueryDef::demo(
            "orders",
            &[
                "orders.region",
                "orders.min_daily_revenue",
                "orders.p25_daily_revenue",
                "orders.median_daily_revenue",
                "orders.p75_daily_revenue",
                "orders.max_daily_revenue",
            ],
        )
        .filter(Y2025.0, Y2025.1)
        .sort("orders.region")
        .vis(cartesian("looker_boxplot", json!({}))),
    );
    demo.tile(
        "4",
        "136",
        "Orders vs Revenue by Store (2025)",
        "236",
        QueryDef::demo(
            "orders",
            &["stores.city", "orders.count", "orders.total_revenue"],
        )
        .filter(Y2025.0, Y2025.1)
        .sort("orders.count desc")
        .vis(cartesian(
            "looker_scatter",
            json!({"x_axis_label": "Orders", "point_style": "circle",
                "y_axes": [y_axis("Revenue", &[("orders.total_revenue", "Total Revenue")])]}),
        )),
    );
    demo.tile(
        "4",
        "137",
        "Return Rate Gauge",
        "237",
        QueryDef::demo("orders", &["orders.return_rate"])
            .filter(Y2025.0, Y2025.1)
            .vis(json!({"type": "marketplace_viz_radial_gauge::radial_gauge-marketplace",
                        "arm_length": 9, "arm_weight": 48, "spinner_length": 100, "spinner_weight": 23,
                        "target_length": 10, "target_gap": 10, "target_weight": 25, "range_min": 0,
                        "range_max": 0.1, "value_label_type": "both", "label_font_size": 3,
                        "defaults_version": 0})),
    );
}

fn store_map(demo: &mut Demo) {
    demo.dashboard(
        "5",
        "Global Store Performance",
        "6",
        "Stores on maps: points, coordinates and countries.",
    );
    demo.tile(
        "5",
        "141",
        "Store Revenue Map (2025)",
        "241",
        QueryDef::demo(
            "orders",
            &[
                "stores.city",
                "stores.latitude",
                "stores.longitude",
                "orders.total_revenue",
            ],
        )
        .filter(Y2025.0, Y2025.1)
        .sort("orders.total_revenue desc")
        .vis(map_vis("looker_map", json!({}))),
    );
    demo.tile(
        "5",
        "142",
        "Stores (Google Maps)",
        "242",
        QueryDef::demo(
            "orders",
            &[
                "stores.city",
                "stores.latitude",
                "stores.longitude",
                "orders.count",
            ],
        )
        .sort("orders.count desc")
        .vis(map_vis("looker_google_map", json!({}))),
    );
    demo.tile(
        "5",
        "143",
        "Store Locations (2025)",
        "243",
        QueryDef::demo(
            "orders",
            &[
                "stores.latitude",
                "stores.longitude",
                "orders.total_revenue",
            ],
        )
        .filter(Y2025.0, Y2025.1)
        .sort("orders.total_revenue desc")
        .vis(map_vis(
            "looker_geo_coordinates",
            json!({"map": "world", "map_projection": ""}),
        )),
    );
    demo.tile(
        "5",
        "144",
        "Revenue by Country (2025)",
        "244",
        QueryDef::demo("orders", &["stores.country", "orders.total_revenue"])
            .filter(Y2025.0, Y2025.1)
            .sort("orders.total_revenue desc")
            .vis(map_vis(
                "looker_geo_choropleth",
                json!({"map": "world", "map_projection": "",
                "quantize_colors": false}),
            )),
    );
}

fn regional_performance(demo: &mut Demo) {
    let d = demo.dashboard(
        "6",
        "Regional Performance",
        "6",
        "Region and category filters; tiles 151 and 152 listen to them.",
    );
    d.filters = vec![
        DashboardFilter {
            id: "61".into(),
            name: "Region".into(),
            title: "Region".into(),
            default_value: Some("EMEA".into()),
            explore: "orders".into(),
            dimension: "orders.region".into(),
            allow_multiple_values: true,
        },
        DashboardFilter {
            id: "62".into(),
            name: "Category".into(),
            title: "Category".into(),
            default_value: None,
            explore: "orders".into(),
            dimension: "orders.category".into(),
            allow_multiple_values: true,
        },
    ];
    let listens = vec![
        ("Region".to_string(), "orders.region".to_string()),
        ("Category".to_string(), "orders.category".to_string()),
    ];
    demo.tile(
        "6",
        "151",
        "Revenue 2025 (filtered by Region)",
        "251",
        QueryDef::demo("orders", &["orders.total_revenue"])
            .filter(Y2025.0, Y2025.1)
            .vis(single_value(
                json!({"single_value_title": "Revenue (selected region)"}),
            )),
    )
    .listens = listens.clone();
    demo.tile(
        "6",
        "152",
        "Monthly Orders (filtered by Region)",
        "252",
        QueryDef::demo("orders", &["orders.created_month", "orders.count"])
            .filter("orders.created_date", "12 months")
            .sort("orders.created_month desc")
            .vis(cartesian("looker_column", json!({}))),
    )
    .listens = vec![listens[0].clone()];
    demo.tile(
        "6",
        "153",
        "Revenue 2025 (all regions)",
        "253",
        QueryDef::demo("orders", &["orders.total_revenue"])
            .filter(Y2025.0, Y2025.1)
            .vis(single_value(
                json!({"single_value_title": "Revenue (all regions)"}),
            )),
    );
}

fn warehouse_health(demo: &mut Demo) {
    demo.dashboard(
        "7",
        "Data Warehouse Health",
        "7",
        "ETL volumes and failures. Reads a huge table: slow unless cached.",
    );
    demo.tile(
        "7",
        "161",
        "Rows Loaded (30 days)",
        "261",
        QueryDef::demo("etl_jobs", &["etl_jobs.total_rows_loaded"])
            .filter("etl_jobs.run_date", "30 days")
            .vis(single_value(json!({}))),
    );
    demo.tile(
        "7",
        "162",
        "Daily ETL Failure Rate",
        "262",
        QueryDef::demo("etl_jobs", &["etl_jobs.run_date", "etl_jobs.failure_rate"])
            .filter("etl_jobs.run_date", "30 days")
            .sort("etl_jobs.run_date desc")
            .vis(cartesian("looker_line", json!({}))),
    );
}

fn roadmap(demo: &mut Demo) {
    demo.dashboard("8", "Project Roadmap", "7", "Engineering roadmap timeline.");
    demo.tile(
        "8",
        "171",
        "Roadmap",
        "271",
        QueryDef::demo(
            "projects",
            &["projects.name", "projects.start_date", "projects.end_date"],
        )
        .sort("projects.start_date")
        .vis(
            json!({"type": "looker_timeline", "groupBars": true, "labelSize": "10pt",
                        "showLegend": true, "defaults_version": 1}),
        ),
    );
    demo.push_element(
        "8",
        "172",
        None,
        Source::Text {
            title_text: "Roadmap notes".into(),
            subtitle_text: None,
            body_text: "Dates are targets, not commitments.".into(),
        },
    );
}

fn trends(demo: &mut Demo) {
    demo.dashboard(
        "9",
        "Weekly and Daily Trends",
        "5",
        "Date, week, year and percent series.",
    );
    demo.tile(
        "9",
        "181",
        "Daily Orders (30 days)",
        "281",
        QueryDef::demo("orders", &["orders.created_date", "orders.count"])
            .filter("orders.created_date", "30 days")
            .sort("orders.created_date desc")
            .vis(cartesian("looker_line", json!({"x_axis_label": "Day"}))),
    );
    demo.tile(
        "9",
        "182",
        "Weekly Revenue (16 weeks)",
        "282",
        QueryDef::demo("orders", &["orders.created_week", "orders.total_revenue"])
            .filter("orders.created_date", "16 weeks")
            .sort("orders.created_week desc")
            .vis(cartesian("looker_column", json!({}))),
    );
    demo.tile(
        "9",
        "183",
        "Yearly Revenue",
        "283",
        QueryDef::demo("orders", &["orders.created_year", "orders.total_revenue"])
            .sort("orders.created_year desc")
            .vis(cartesian("looker_column", json!({"y_axes": [y_axis("Revenue per year", &[("orders.total_revenue", "Total Revenue")])]}))),
    );
    demo.tile(
        "9",
        "184",
        "Monthly Return Rate",
        "284",
        QueryDef::demo("orders", &["orders.created_month", "orders.return_rate"])
            .sort("orders.created_month desc")
            .vis(cartesian("looker_line", json!({}))),
    );
}

fn marketing(demo: &mut Demo) {
    demo.dashboard(
        "10",
        "Marketing Revenue Attribution",
        "8",
        "New customers and margin.",
    );
    demo.push_element(
        "10",
        "191",
        Some("Gross Margin by Category"),
        Source::Look("3".into()),
    );
    demo.tile(
        "10",
        "192",
        "New Customers by Month",
        "292",
        QueryDef::demo("orders", &["orders.created_month", "orders.new_customers"])
            .sort("orders.created_month desc")
            .vis(cartesian("looker_column", json!({}))),
    );
}

fn revenue_finance_team(demo: &mut Demo) {
    demo.dashboard(
        "11",
        "Revenue Overview - Finance Team",
        "5",
        "The finance team's copy of Revenue Overview.",
    );
    demo.push_element(
        "11",
        "195",
        Some("Monthly Revenue"),
        Source::Look("1".into()),
    );
    demo.push_element(
        "11",
        "196",
        Some("Total Revenue 2025"),
        Source::Look("7".into()),
    );
}

fn lookml_kpi_overview(demo: &mut Demo) {
    let d = demo.dashboard_at(
        0,
        "demo_model::kpi_overview",
        "KPI Overview",
        "lookml",
        "LookML dashboard (id demo_model::kpi_overview).",
    );
    d.lookml_model = Some(MODEL.into());
    let id = d.id.clone();
    demo.tile(
        &id,
        "301",
        "Orders This Year",
        "401",
        QueryDef::demo("orders", &["orders.count"])
            .filter("orders.created_date", "this year")
            .vis(single_value(json!({}))),
    );
    demo.tile(
        &id,
        "302",
        "Monthly New Customers",
        "402",
        QueryDef::demo("orders", &["orders.created_month", "orders.new_customers"])
            .sort("orders.created_month desc")
            .vis(cartesian("looker_line", json!({}))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Val;
    use crate::query_engine::{self, RunOptions};
    use serde_json::Map;

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
    fn every_demo_query_runs_and_returns_rows() {
        let catalog = demo_catalog();
        for id in catalog.queries.keys() {
            let result = run(&catalog, id);
            assert_eq!(result.error, None, "query {id}");
            assert!(!result.rows.is_empty(), "query {id} has rows");
        }
        // Looks used as tiles and the merge sources exist.
        for e in catalog.elements() {
            match &e.source {
                Source::Look(l) => assert!(catalog.look(l).is_some(), "look {l}"),
                Source::Merge(m) => assert!(catalog.merge(m).is_some(), "merge {m}"),
                _ => {}
            }
        }
    }

    #[test]
    fn monthly_revenue_newest_month_is_null_and_percent_is_a_fraction() {
        let catalog = demo_catalog();
        let monthly = run(&catalog, "501");
        assert_eq!(monthly.rows[0].dims[0], Val::Str("2026-06".into()));
        assert_eq!(monthly.rows[0].measures[0][0], Val::Null);
        assert!(
            monthly.rows[1].measures[0][0]
                .as_f64()
                .is_some_and(|v| v > 0.0)
        );
        let margin = run(&catalog, "205").rows[0].measures[0][0]
            .as_f64()
            .unwrap();
        assert!((0.2..0.8).contains(&margin), "{margin}");
        let vis: Map<String, Value> = catalog
            .query("201")
            .unwrap()
            .def
            .vis_config
            .clone()
            .unwrap();
        assert_eq!(vis["hidden_fields"], json!(["orders.count"]));
    }
}
