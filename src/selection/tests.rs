//! Selection over hand-made tables: every chart kind, pivots, totals, nulls,
//! latest with an empty tail and with descending rows, percentages, numeric
//! strings; and property tests over random tables.

use std::collections::HashMap;

use kpilink_connector::{
    Cell, CellSet, ChartInfo, Field, FieldKind, PivotColumn, ResultTable, Row, Timeframe, Value,
};
use proptest::prelude::*;

use super::*;
use crate::error::Code;

fn dim(name: &str, timeframe: Option<Timeframe>) -> Field {
    Field {
        name: name.into(),
        label: format!("Label {name}"),
        label_short: Some(name.rsplit('.').next().unwrap().into()),
        kind: FieldKind::Dimension,
        source_type: None,
        is_numeric: false,
        value_format: None,
        timeframe,
        pivoted: false,
        measure_based: false,
    }
}

fn measure(name: &str, format: Option<&str>, pivoted: bool) -> Field {
    Field {
        name: name.into(),
        label: format!("Label {name}"),
        label_short: None,
        kind: FieldKind::Measure,
        source_type: Some("sum".into()),
        is_numeric: true,
        value_format: format.map(str::to_owned),
        timeframe: None,
        pivoted,
        measure_based: false,
    }
}

fn calc(name: &str, measure_based: bool) -> Field {
    Field {
        kind: FieldKind::TableCalculation,
        measure_based,
        ..measure(name, None, false)
    }
}

fn num(text: &str) -> Cell {
    Cell {
        value: Value::Number(text.into()),
        rendered: Some(format!("r{text}")),
    }
}

fn text(text: &str) -> Cell {
    Cell {
        value: Value::Text(text.into()),
        rendered: None,
    }
}

fn null() -> Cell {
    Cell {
        value: Value::Null,
        rendered: None,
    }
}

fn row(cells: Vec<(&str, CellSet)>) -> Row {
    Row {
        cells: cells.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }
}

fn single(cell: Cell) -> CellSet {
    CellSet::Single(cell)
}

fn pivoted(cells: Vec<(&str, Cell)>) -> CellSet {
    CellSet::Pivoted(
        cells
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<HashMap<_, _>>(),
    )
}

fn table(fields: Vec<Field>, pivots: Vec<&str>, rows: Vec<Row>) -> ResultTable {
    ResultTable {
        fields,
        pivots: pivots
            .into_iter()
            .map(|key| PivotColumn {
                key: key.into(),
                label: if key == "$$$_row_total_$$$" {
                    "Row Total".into()
                } else {
                    key.into()
                },
                is_total: key == "$$$_row_total_$$$",
            })
            .collect(),
        rows,
        totals: None,
        data_as_of: None,
        from_cache: false,
    }
}

fn chart(chart_type: &str) -> ChartInfo {
    ChartInfo {
        title: "t".into(),
        chart_type: chart_type.into(),
        ..ChartInfo::default()
    }
}

/// Monthly revenue and orders; the newest month has no revenue yet.
fn monthly(descending: bool) -> ResultTable {
    let months = [
        ("2026-01", Some("100"), "10"),
        ("2026-02", Some("120.5"), "12"),
        ("2026-03", Some("90"), "9"),
        ("2026-04", Some("130"), "13"),
        ("2026-05", Some("150.25"), "15"),
        ("2026-06", None, "2"),
    ];
    let mut rows: Vec<Row> = months
        .iter()
        .map(|(month, revenue, count)| {
            row(vec![
                ("orders.created_month", single(text(month))),
                (
                    "orders.revenue",
                    single(revenue.map(num).unwrap_or_else(null)),
                ),
                ("orders.count", single(num(count))),
            ])
        })
        .collect();
    if descending {
        rows.reverse();
    }
    table(
        vec![
            dim("orders.created_month", Some(Timeframe::Month)),
            measure("orders.revenue", Some("$#,##0.00"), false),
            measure("orders.count", None, false),
        ],
        vec![],
        rows,
    )
}

/// Conversion by month pivoted by region, with row totals and a totals row.
fn pivoted_conversion() -> ResultTable {
    let mut t = table(
        vec![
            dim("orders.created_month", Some(Timeframe::Month)),
            measure("orders.conversion", Some("0.0%"), true),
        ],
        vec!["EU", "US", "$$$_row_total_$$$"],
        vec![
            row(vec![
                ("orders.created_month", single(text("2026-04"))),
                (
                    "orders.conversion",
                    pivoted(vec![
                        ("EU", num("0.2")),
                        ("US", num("0.3")),
                        ("$$$_row_total_$$$", num("0.25")),
                    ]),
                ),
            ]),
            row(vec![
                ("orders.created_month", single(text("2026-05"))),
                (
                    "orders.conversion",
                    pivoted(vec![
                        ("EU", num("0.253")),
                        ("US", null()),
                        ("$$$_row_total_$$$", num("0.27")),
                    ]),
                ),
            ]),
        ],
    );
    t.totals = Some(row(vec![(
        "orders.conversion",
        pivoted(vec![
            ("EU", num("0.24")),
            ("US", num("0.31")),
            ("$$$_row_total_$$$", num("0.26")),
        ]),
    )]));
    t
}

fn pick(selection: Selection) -> Selection {
    selection
}

fn sel(x: XChoice, y: Option<&str>, pivot: Option<&str>, format: Format) -> Selection {
    Selection {
        x_field: None,
        x,
        y_field: y.map(str::to_owned),
        pivot_key: pivot.map(str::to_owned),
        format,
    }
}

fn value_of(chart_type: &str, t: &ResultTable, s: Selection) -> Result<String> {
    select(&chart(chart_type), t, &s).map(|r| r.value.to_string())
}

fn reason_of(chart_type: &str, t: &ResultTable, s: Selection) -> (Code, Reason) {
    let error = select(&chart(chart_type), t, &s).expect_err("selection must fail");
    (error.code, error.reason)
}

#[test]
fn latest_skips_the_empty_tail_in_any_row_order() {
    for descending in [false, true] {
        let t = monthly(descending);
        for chart_type in [
            "looker_line",
            "looker_column",
            "looker_area",
            "looker_bar",
            "looker_grid",
            "table",
        ] {
            let reading = select(
                &chart(chart_type),
                &t,
                &sel(XChoice::Latest, None, None, Format::Exact),
            )
            .unwrap();
            assert_eq!(reading.value.to_string(), "150.25", "{chart_type}");
            assert_eq!(reading.x_value.as_deref(), Some("2026-05"));
            assert_eq!(reading.skipped_periods, ["2026-06"]);
            assert_eq!(reading.y_field, "orders.revenue");
            assert!(
                reading
                    .explanation()
                    .contains("skipped empty later period: 2026-06"),
                "{}",
                reading.explanation()
            );
        }
        // Another column has a value in June.
        let june = value_of(
            "looker_line",
            &t,
            sel(XChoice::Latest, Some("orders.count"), None, Format::Exact),
        );
        assert_eq!(june.unwrap(), "2");
    }
}

#[test]
fn the_empty_selection_takes_the_chart_defaults() {
    let t = monthly(false);
    let reading = select(&chart("looker_line"), &t, &Selection::default()).unwrap();
    assert_eq!(reading.resolved.x, XChoice::Latest);
    assert_eq!(
        reading.resolved.x_field.as_deref(),
        Some("orders.created_month")
    );
    assert_eq!(reading.resolved.y_field.as_deref(), Some("orders.revenue"));
    assert_eq!(reading.value.to_string(), "150.25");

    let mut hidden = chart("looker_line");
    hidden.hidden_fields = vec!["orders.revenue".into()];
    let reading = select(&hidden, &t, &Selection::default()).unwrap();
    assert_eq!(reading.y_field, "orders.count");
}

#[test]
fn fixed_rows_missing_rows_fields_and_pivots_are_explained() {
    let t = monthly(false);
    assert_eq!(
        value_of(
            "looker_line",
            &t,
            sel(XChoice::Value("2026-02".into()), None, None, Format::Exact)
        )
        .unwrap(),
        "120.5"
    );
    // The rendered form of the x value works too.
    let mut rendered = t.clone();
    if let Some(CellSet::Single(cell)) = rendered.rows[2].cells.get_mut("orders.created_month") {
        cell.rendered = Some("March 2026".into());
    }
    assert_eq!(
        value_of(
            "looker_line",
            &rendered,
            sel(
                XChoice::Value("March 2026".into()),
                None,
                None,
                Format::Exact
            )
        )
        .unwrap(),
        "90"
    );

    let error = select(
        &chart("looker_line"),
        &t,
        &sel(XChoice::Value("2027-01".into()), None, None, Format::Exact),
    )
    .unwrap_err();
    assert_eq!(
        (error.code, error.reason),
        (Code::NotFound, Reason::RowNotFound)
    );
    assert!(error.message.contains("\"2026-01\""), "{}", error.message);

    let error = select(
        &chart("looker_line"),
        &t,
        &sel(XChoice::Latest, Some("orders.profit"), None, Format::Exact),
    )
    .unwrap_err();
    assert_eq!(error.reason, Reason::FieldNotFound);
    assert!(
        error.message.contains("orders.revenue"),
        "{}",
        error.message
    );

    assert_eq!(
        reason_of(
            "looker_line",
            &t,
            sel(XChoice::Value("2026-06".into()), None, None, Format::Exact)
        ),
        (Code::FailedPrecondition, Reason::ValueMissing)
    );
    assert_eq!(
        reason_of(
            "looker_line",
            &t,
            sel(XChoice::Latest, None, Some("EU"), Format::Exact)
        ),
        (Code::InvalidArgument, Reason::FieldInvalid)
    );
    let bad_x = Selection {
        x_field: Some("orders.count".into()),
        ..Selection::default()
    };
    assert_eq!(
        reason_of("looker_line", &t, bad_x),
        (Code::InvalidArgument, Reason::FieldInvalid)
    );
}

#[test]
fn pivots_row_totals_and_the_totals_row() {
    let t = pivoted_conversion();
    let eu = select(
        &chart("looker_column"),
        &t,
        &sel(XChoice::Latest, None, Some("EU"), Format::Percentage),
    )
    .unwrap();
    assert_eq!(eu.value.to_string(), "25.3");
    assert_eq!(eu.raw, "0.253");
    assert_eq!(
        eu.explanation(),
        "latest row created_month=2026-05, column Label orders.conversion, pivot EU, 0.253 → 25.3 %"
    );

    // US is empty in May: latest for US is April.
    let us = select(
        &chart("looker_column"),
        &t,
        &sel(XChoice::Latest, None, Some("US"), Format::Exact),
    )
    .unwrap();
    assert_eq!(
        (us.value.to_string(), us.skipped_periods.clone()),
        ("0.3".into(), vec!["2026-05".to_owned()])
    );

    let total = value_of(
        "looker_grid",
        &t,
        sel(
            XChoice::Value("2026-04".into()),
            None,
            Some("$$$_row_total_$$$"),
            Format::Exact,
        ),
    );
    assert_eq!(total.unwrap(), "0.25");
    let column_total = value_of(
        "looker_grid",
        &t,
        sel(
            XChoice::Value(TOTALS_ROW_KEY.into()),
            None,
            Some("US"),
            Format::Exact,
        ),
    );
    assert_eq!(column_total.unwrap(), "0.31");

    assert_eq!(
        reason_of(
            "looker_column",
            &t,
            sel(XChoice::Latest, None, None, Format::Exact)
        ),
        (Code::InvalidArgument, Reason::FieldRequired)
    );
    let error = select(
        &chart("looker_column"),
        &t,
        &sel(XChoice::Latest, None, Some("APAC"), Format::Exact),
    )
    .unwrap_err();
    assert_eq!(
        (error.code, error.reason),
        (Code::NotFound, Reason::PivotNotFound)
    );
    assert!(error.message.contains("\"EU\""), "{}", error.message);
    assert_eq!(
        reason_of(
            "looker_column",
            &monthly(false),
            sel(
                XChoice::Value(TOTALS_ROW_KEY.into()),
                None,
                None,
                Format::Exact
            )
        ),
        (Code::NotFound, Reason::RowNotFound)
    );
}

#[test]
fn warnings_for_percent_formats_fractions_and_magnitudes() {
    let t = pivoted_conversion();
    let exact = select(
        &chart("looker_column"),
        &t,
        &sel(XChoice::Latest, None, Some("EU"), Format::Exact),
    )
    .unwrap();
    let codes: Vec<&str> = exact.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["PERCENT_FORMAT_READ_AS_EXACT"]);
    assert!(exact.warnings[0].message.contains("25.3"));

    let mut plain = monthly(false);
    plain.rows[0]
        .cells
        .insert("orders.count".into(), single(num("0.5")));
    let fraction = select(
        &chart("looker_line"),
        &plain,
        &sel(
            XChoice::Value("2026-01".into()),
            Some("orders.count"),
            None,
            Format::Exact,
        ),
    )
    .unwrap();
    let codes: Vec<&str> = fraction.warnings.iter().map(|w| w.code).collect();
    assert!(codes.contains(&"FRACTION_READ_AS_EXACT"), "{codes:?}");

    let over = select(
        &chart("looker_line"),
        &plain,
        &sel(XChoice::Latest, None, None, Format::Percentage),
    )
    .unwrap();
    assert!(
        over.warnings
            .iter()
            .any(|w| w.code == "PERCENTAGE_OF_NON_FRACTION")
    );

    let mut spread = monthly(false);
    spread.rows[1]
        .cells
        .insert("orders.revenue".into(), single(num("250000")));
    let reading = select(
        &chart("looker_line"),
        &spread,
        &sel(XChoice::Latest, None, None, Format::Exact),
    )
    .unwrap();
    assert!(
        reading
            .warnings
            .iter()
            .any(|w| w.code == "MIXED_MAGNITUDES"),
        "{:?}",
        reading.warnings
    );
    let calm = select(
        &chart("looker_line"),
        &monthly(false),
        &sel(XChoice::Latest, None, None, Format::Exact),
    )
    .unwrap();
    assert!(calm.warnings.is_empty(), "{:?}", calm.warnings);
}

#[test]
fn single_value_charts_follow_lookers_shown_field_rule() {
    let fields = vec![
        dim("orders.status", None),
        calc("plain_calc", false),
        measure("orders.hidden_total", None, false),
        calc("measure_calc", true),
        measure("orders.count", None, false),
    ];
    let rows = vec![
        row(vec![
            ("orders.status", single(text("complete"))),
            ("plain_calc", single(num("1"))),
            ("orders.hidden_total", single(num("2"))),
            ("measure_calc", single(num("3"))),
            ("orders.count", single(num("4"))),
        ]),
        row(vec![
            ("orders.status", single(text("pending"))),
            ("orders.count", single(num("40"))),
        ]),
    ];
    let t = table(fields, vec![], rows);
    for chart_type in ["single_value", "looker_single_record"] {
        let mut c = chart(chart_type);
        c.hidden_fields = vec!["orders.hidden_total".into()];
        let reading = select(&c, &t, &Selection::default()).unwrap();
        assert_eq!(
            (reading.y_field.as_str(), reading.value.to_string()),
            ("orders.count", "4".into())
        );
        assert_eq!(
            reading.explanation(),
            "first row, column Label orders.count, 4"
        );
        c.hidden_fields.push("orders.count".into());
        assert_eq!(
            select(&c, &t, &Selection::default()).unwrap().y_field,
            "measure_calc"
        );
        c.hidden_fields.push("measure_calc".into());
        let dimension = select(&c, &t, &Selection::default()).unwrap_err();
        assert_eq!(
            dimension.reason,
            Reason::ValueNotNumeric,
            "the shown field is the status text"
        );
        c.hidden_fields.push("orders.status".into());
        assert_eq!(
            select(&c, &t, &Selection::default()).unwrap().y_field,
            "plain_calc"
        );
        // The user may still pick another field, or another row.
        let other = select(
            &c,
            &t,
            &sel(
                XChoice::Default,
                Some("orders.hidden_total"),
                None,
                Format::Exact,
            ),
        )
        .unwrap();
        assert_eq!(other.value.to_string(), "2");
        let pending = select(
            &c,
            &t,
            &sel(
                XChoice::Value("pending".into()),
                Some("orders.count"),
                None,
                Format::Exact,
            ),
        )
        .unwrap();
        assert_eq!(pending.value.to_string(), "40");
    }
}

#[test]
fn category_charts_read_a_slice_and_refuse_latest() {
    let t = table(
        vec![
            dim("products.category", None),
            measure("orders.revenue", None, false),
        ],
        vec![],
        vec![
            row(vec![
                ("products.category", single(text("Shoes"))),
                ("orders.revenue", single(num("10"))),
            ]),
            row(vec![
                ("products.category", single(text("Hats"))),
                ("orders.revenue", single(text("7.50"))),
            ]),
        ],
    );
    for chart_type in [
        "looker_pie",
        "looker_donut_multiples",
        "looker_funnel",
        "looker_waterfall",
        "looker_wordcloud",
        "looker_boxplot",
        "looker_map",
        "looker_google_map",
        "looker_geo_coordinates",
        "looker_geo_choropleth",
        "looker_scatter",
        "my_marketplace_vis",
    ] {
        assert_eq!(
            value_of(
                chart_type,
                &t,
                sel(XChoice::Value("Hats".into()), None, None, Format::Exact)
            )
            .unwrap(),
            "7.5",
            "{chart_type}"
        );
        assert_eq!(
            value_of(chart_type, &t, Selection::default()).unwrap(),
            "10",
            "{chart_type}: first row"
        );
        assert_eq!(
            reason_of(
                chart_type,
                &t,
                sel(XChoice::Latest, None, None, Format::Exact)
            ),
            (Code::InvalidArgument, Reason::FieldInvalid)
        );
    }
}

#[test]
fn cell_values_are_read_exactly_or_refused() {
    let make = |cell: Cell| {
        table(
            vec![dim("d", None), measure("m", None, false)],
            vec![],
            vec![row(vec![("d", single(text("a"))), ("m", single(cell))])],
        )
    };
    let read = |cell: Cell| {
        value_of(
            "looker_column",
            &make(cell),
            sel(XChoice::Value("a".into()), None, None, Format::Exact),
        )
    };
    assert_eq!(read(num("0.1")).unwrap(), "0.1");
    assert_eq!(
        read(num("12345678901234567890.123")).unwrap(),
        "12345678901234567890.123"
    );
    assert_eq!(read(text(" 1234.50 ")).unwrap(), "1234.5");
    assert_eq!(read(num("-3e2")).unwrap(), "-300");
    for (cell, reason) in [
        (null(), Reason::ValueMissing),
        (text("n/a"), Reason::ValueNotNumeric),
        (text("1,234"), Reason::ValueNotNumeric),
        (
            Cell {
                value: Value::Bool(true),
                rendered: None,
            },
            Reason::ValueNotNumeric,
        ),
    ] {
        assert_eq!(read(cell).unwrap_err().reason, reason);
    }
}

#[test]
fn latest_works_for_every_time_granularity() {
    for (timeframe, periods) in [
        (Timeframe::Date, ["2026-05-30", "2026-05-31", "2026-06-01"]),
        (Timeframe::Week, ["2026-05-18", "2026-05-25", "2026-06-01"]),
        (Timeframe::Quarter, ["2025-Q4", "2026-Q1", "2026-Q2"]),
        (Timeframe::Year, ["2024", "2025", "2026"]),
        (
            Timeframe::Raw,
            [
                "2026-05-31 23:00:00",
                "2026-05-31 23:30:00",
                "2026-06-01 00:00:00",
            ],
        ),
    ] {
        // Shuffled order, newest period empty.
        let rows = vec![
            row(vec![
                ("t", single(text(periods[1]))),
                ("m", single(num("2"))),
            ]),
            row(vec![("t", single(text(periods[2]))), ("m", single(null()))]),
            row(vec![
                ("t", single(text(periods[0]))),
                ("m", single(num("1"))),
            ]),
        ];
        let t = table(
            vec![dim("t", Some(timeframe.clone())), measure("m", None, false)],
            vec![],
            rows,
        );
        let reading = select(
            &chart("looker_line"),
            &t,
            &sel(XChoice::Latest, None, None, Format::Exact),
        )
        .unwrap();
        assert_eq!(
            reading.x_value.as_deref(),
            Some(periods[1]),
            "{timeframe:?}"
        );
        assert_eq!(reading.skipped_periods, [periods[2]]);
    }
    let empty = table(
        vec![dim("t", Some(Timeframe::Month)), measure("m", None, false)],
        vec![],
        vec![row(vec![
            ("t", single(text("2026-01"))),
            ("m", single(null())),
        ])],
    );
    assert_eq!(
        reason_of(
            "looker_line",
            &empty,
            pick(sel(XChoice::Latest, None, None, Format::Exact))
        )
        .1,
        Reason::ValueMissing
    );
}

#[test]
fn describe_lists_axes_values_pivots_and_a_default() {
    let mut c = chart("looker_column");
    c.x_axis_label = Some("Month".into());
    let description = describe(&c, &pivoted_conversion());
    assert_eq!(description.x_label, "Month");
    assert_eq!(description.y_label, "Label orders.conversion");
    assert!(description.latest_supported);
    assert_eq!(description.x_fields[0].timeframe.as_deref(), Some("month"));
    let keys: Vec<&str> = description
        .x_values
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["2026-04", "2026-05", TOTALS_ROW_KEY]);
    assert!(description.y_fields[0].is_percent && description.y_fields[0].is_pivoted);
    assert_eq!(description.pivots.len(), 3);
    let default = description.default_selection.unwrap();
    assert_eq!(default.x, XChoice::Latest);
    assert_eq!(default.pivot_key.as_deref(), Some("EU"));
    // The default reads: it is a complete selection.
    assert!(select(&c, &pivoted_conversion(), &default).is_ok());

    let mut labelled = chart("looker_line");
    labelled.y_axis_labels = vec!["Revenue ($)".into()];
    let description = describe(&labelled, &monthly(false));
    assert_eq!(description.y_label, "Revenue ($)");
    assert_eq!(description.x_label, "Label orders.created_month");
}

// Property tests: random tables never make selection panic, and a selection
// naming an existing numeric cell returns exactly that cell.

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        "-?[0-9]{1,12}(\\.[0-9]{1,8})?".prop_map(Value::Number),
        "[a-z0-9 .,-]{0,8}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn arb_table() -> impl Strategy<Value = ResultTable> {
    (
        1usize..4,
        0usize..4,
        proptest::collection::vec(arb_value(), 0..60),
        any::<bool>(),
    )
        .prop_map(|(measures, pivots, values, time)| {
            let pivot_keys: Vec<String> = (0..pivots).map(|p| format!("p{p}")).collect();
            let mut fields = vec![dim("x", time.then_some(Timeframe::Month))];
            fields.extend((0..measures).map(|m| measure(&format!("m{m}"), None, pivots > 0)));
            let mut values = values.into_iter();
            let mut rows = Vec::new();
            for r in 0..6 {
                let mut cells = vec![("x".to_owned(), single(text(&format!("2026-{:02}", r + 1))))];
                for m in 0..measures {
                    let cell = |v: Option<Value>| Cell {
                        value: v.unwrap_or(Value::Null),
                        rendered: None,
                    };
                    let set = if pivots > 0 {
                        CellSet::Pivoted(
                            pivot_keys
                                .iter()
                                .map(|k| (k.clone(), cell(values.next())))
                                .collect(),
                        )
                    } else {
                        CellSet::Single(cell(values.next()))
                    };
                    cells.push((format!("m{m}"), set));
                }
                rows.push(Row {
                    cells: cells.into_iter().collect(),
                });
            }
            let mut t = table(fields, vec![], rows);
            t.pivots = pivot_keys
                .iter()
                .map(|k| PivotColumn {
                    key: k.clone(),
                    label: k.clone(),
                    is_total: false,
                })
                .collect();
            t
        })
}

fn arb_selection() -> impl Strategy<Value = Selection> {
    (
        proptest::option::of(prop_oneof![
            Just("x".to_owned()),
            Just("m0".to_owned()),
            "[a-z]{1,3}"
        ]),
        prop_oneof![
            Just(XChoice::Default),
            Just(XChoice::Latest),
            "2026-0[0-9]".prop_map(XChoice::Value),
            Just(XChoice::Value(TOTALS_ROW_KEY.into())),
        ],
        proptest::option::of(prop_oneof![
            Just("m0".to_owned()),
            Just("m2".to_owned()),
            Just("x".to_owned()),
            "[a-z]{1,3}"
        ]),
        proptest::option::of(prop_oneof![
            Just("p0".to_owned()),
            Just("p3".to_owned()),
            "[a-z]{1,3}"
        ]),
        prop_oneof![Just(Format::Exact), Just(Format::Percentage)],
    )
        .prop_map(|(x_field, x, y_field, pivot_key, format)| Selection {
            x_field,
            x,
            y_field,
            pivot_key,
            format,
        })
}

proptest! {
    #[test]
    fn random_tables_and_selections_never_panic(
        t in arb_table(),
        s in arb_selection(),
        chart_type in prop_oneof![Just("looker_line"), Just("single_value"), Just("looker_pie")],
    ) {
        let c = chart(chart_type);
        if let Ok(reading) = select(&c, &t, &s) {
            prop_assert!(!reading.explanation().is_empty());
        }
        let _ = describe(&c, &t);
    }

    #[test]
    fn naming_an_existing_cell_returns_exactly_that_cell(t in arb_table(), row_index in 0usize..6, m in 0usize..3, p in 0usize..3) {
        let y = format!("m{}", m.min(t.fields.len() - 2));
        let pivot = (!t.pivots.is_empty()).then(|| t.pivots[p.min(t.pivots.len() - 1)].key.clone());
        let x_value = format!("2026-{:02}", row_index + 1);
        let selection = Selection {
            x_field: Some("x".into()),
            x: XChoice::Value(x_value),
            y_field: Some(y.clone()),
            pivot_key: pivot.clone(),
            format: Format::Exact,
        };
        let cell = match (&t.rows[row_index].cells[&y], &pivot) {
            (CellSet::Single(cell), _) => cell.clone(),
            (CellSet::Pivoted(cells), Some(key)) => cells[key].clone(),
            (CellSet::Pivoted(_), None) => unreachable!(),
        };
        let result = select(&chart("looker_column"), &t, &selection);
        match &cell.value {
            Value::Number(text) | Value::Text(text) if ExactNumber::parse(text).is_some() => {
                let reading = result.expect("a numeric cell reads");
                prop_assert_eq!(reading.value, ExactNumber::parse(text).unwrap());
            }
            Value::Null => prop_assert_eq!(result.unwrap_err().reason, Reason::ValueMissing),
            _ => prop_assert_eq!(result.unwrap_err().reason, Reason::ValueNotNumeric),
        }
    }
}
