//! Extraction benchmark: kpilink's `json_detail` parser plus one cell selection
//! against plain `serde_json::Value` parsing of the same bytes, in one run.
//!
//! Run with `cargo bench --bench extraction`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use kpilink::selection::{Selection, XChoice, select};
use kpilink_connector::ChartInfo;

const ROWS: usize = 5_000;
const PIVOTS: [&str; 4] = ["cancelled", "complete", "pending", "returned"];
const MEASURES: [&str; 2] = ["orders.count", "orders.total_revenue"];
const MONTH: &str = "orders.created_month";
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

/// A pivoted `json_detail` result shaped like Looker's (see the shared
/// examples): one month dimension with drill links, two measures pivoted by
/// order status, `{value, rendered}` cells, some nulls, newest month first.
fn json_detail() -> Vec<u8> {
    let mut out = String::with_capacity(4 << 20);
    out.push_str(r#"{"fields":{"dimensions":[{"name":"orders.created_month","label":"Orders Created Month","label_short":"Created Month","type":"date_month","is_timeframe":true,"is_numeric":false,"view":"orders","category":"dimension"}],"#);
    out.push_str(r#""measures":[{"name":"orders.count","label":"Orders Count","label_short":"Count","type":"count_distinct","is_numeric":true,"value_format":null,"measure":true,"view":"orders","category":"measure"},"#);
    out.push_str(r#"{"name":"orders.total_revenue","label":"Orders Total Revenue","label_short":"Total Revenue","type":"sum","is_numeric":true,"value_format":"$#,##0.00","measure":true,"view":"orders","category":"measure"}],"#);
    out.push_str(r#""table_calculations":[],"pivots":[{"name":"orders.status","label":"Orders Status","label_short":"Status","type":"string","is_numeric":false}]},"#);
    out.push_str(r#""pivots":["#);
    for (i, key) in PIVOTS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let label = format!("{}{}", key[..1].to_uppercase(), &key[1..]);
        write!(
            out,
            r#"{{"key":"{key}","data":{{"orders.status":"{key}"}},"is_total":false,"labels":{{"orders.status":"{key}"}},"label":"{label}"}}"#
        )
        .unwrap();
    }
    out.push_str(r#"],"data":["#);
    // Newest first, one row per month: 5,000 consecutive months ending 2026-08.
    let newest = 2026 * 12 + 7;
    for r in 0..ROWS {
        if r > 0 {
            out.push(',');
        }
        let month_index = newest - r;
        let month = format!("{:04}-{:02}", month_index / 12, month_index % 12 + 1);
        write!(
            out,
            r#"{{"{MONTH}":{{"value":"{month}","links":[{{"label":"by Created Date","url":"/explore/thelook/orders?fields=orders.created_date,orders.count&f[orders.created_month]={month}","type":"drill"}}]}}"#
        )
        .unwrap();
        for (m, measure) in MEASURES.iter().enumerate() {
            write!(out, r#","{measure}":{{"#).unwrap();
            for (p, key) in PIVOTS.iter().enumerate() {
                if p > 0 {
                    out.push(',');
                }
                // The newest month of "returned" is not booked yet.
                if r == 0 && *key == "returned" {
                    write!(out, r#""{key}":{{"value":null}}"#).unwrap();
                    continue;
                }
                let seed = (r * 31 + p * 7 + m * 3) % 997;
                if m == 0 {
                    write!(out, r#""{key}":{{"value":{seed},"rendered":"{seed}"}}"#).unwrap();
                } else {
                    let cents = seed * 1_234 + r;
                    write!(
                        out,
                        r#""{key}":{{"value":{}.{:02},"rendered":"${}.{:02}"}}"#,
                        cents / 100,
                        cents % 100,
                        cents / 100,
                        cents % 100
                    )
                    .unwrap();
                }
            }
            out.push('}');
        }
        out.push('}');
    }
    out.push_str(r#"],"from_cache":false,"ran_at":"2026-08-14 09:00:00","has_subtotals":false}"#);
    out.into_bytes()
}

struct Measured {
    name: &'static str,
    iterations: u64,
    elapsed: Duration,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.iterations as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `work` for the warm-up, then counts iterations for the measured time.
fn measure(name: &'static str, mut work: impl FnMut()) -> Measured {
    let warm_end = Instant::now() + WARM_UP;
    while Instant::now() < warm_end {
        work();
    }
    let start = Instant::now();
    let mut iterations = 0;
    while start.elapsed() < MEASURE {
        work();
        iterations += 1;
    }
    Measured {
        name,
        iterations,
        elapsed: start.elapsed(),
    }
}

fn main() {
    let bytes = json_detail();
    let mb = bytes.len() as f64 / 1e6;
    let chart = ChartInfo {
        title: "Monthly Revenue by Status".into(),
        chart_type: "looker_line".into(),
        ..ChartInfo::default()
    };
    let selection = Selection {
        x_field: Some(MONTH.into()),
        x: XChoice::Latest,
        y_field: Some("orders.total_revenue".into()),
        pivot_key: Some("complete".into()),
        ..Selection::default()
    };

    // The work is correct before it is timed.
    let table = kpilink_looker::parse_json_detail(&bytes).expect("parses");
    assert_eq!(table.rows.len(), ROWS);
    let reading = select(&chart, &table, &selection).expect("selects");
    assert_eq!(reading.x_value.as_deref(), Some("2026-08"));
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["data"].as_array().unwrap().len(), ROWS);
    println!(
        "input: {ROWS} rows x {} pivots x {} measures + month dimension, {:.2} MB; \
         selected: {}",
        PIVOTS.len(),
        MEASURES.len(),
        mb,
        reading.explanation()
    );
    println!(
        "each case: {:.0} s warm-up, then {:.0} s measured, single thread\n",
        WARM_UP.as_secs_f64(),
        MEASURE.as_secs_f64()
    );

    let baseline = measure("serde_json::from_slice::<Value> (baseline)", || {
        let value: serde_json::Value = serde_json::from_slice(black_box(&bytes)).unwrap();
        black_box(value);
    });
    let parse_select = measure("kpilink parse_json_detail + select", || {
        let table = kpilink_looker::parse_json_detail(black_box(&bytes)).unwrap();
        let reading = select(&chart, &table, black_box(&selection)).unwrap();
        black_box(reading);
    });
    let parse_only = measure("  of which parse_json_detail alone", || {
        let table = kpilink_looker::parse_json_detail(black_box(&bytes)).unwrap();
        black_box(table);
    });
    let select_only = measure("  of which select alone (parsed table)", || {
        let reading = select(&chart, black_box(&table), black_box(&selection)).unwrap();
        black_box(reading);
    });

    println!(
        "| case | iterations | results/s | MB/s | ratio to baseline |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for m in [&baseline, &parse_select, &parse_only] {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2} |",
            m.name,
            m.iterations,
            m.per_second(),
            m.per_second() * mb,
            m.per_second() / baseline.per_second()
        );
    }
    println!(
        "| {} | {} | {:.1} | – | – |",
        select_only.name,
        select_only.iterations,
        select_only.per_second()
    );
    println!(
        "\nratio kpilink parse+select / serde_json::Value: {:.2}",
        parse_select.per_second() / baseline.per_second()
    );
}
