//! The demo's data: deterministic synthetic tables behind the demo explores. Everything is
//! derived from fixed seeds, so every run and every machine sees the same numbers.

use std::sync::Arc;

use crate::dates::Date;
use crate::model::{Agg, Cell, Explore, ExploreBuilder};

pub(crate) const MODEL: &str = "demo_model";
/// The demo's "today": data runs up to the day before; relative date filters anchor here.
pub(crate) fn today() -> Date {
    Date::from_ymd(2026, 6, 15)
}
/// Revenue is "booked after month-end close": rows on or after this day have NULL revenue, so
/// the newest month of every monthly revenue series is NULL.
fn unbooked_from() -> Date {
    Date::from_ymd(2026, 6, 1)
}

/// (city, state, country, region, latitude, longitude, size factor)
const STORES: [(&str, &str, &str, &str, f64, f64, f64); 8] = [
    (
        "New York",
        "New York",
        "United States",
        "North America",
        40.7128,
        -74.0060,
        1.4,
    ),
    (
        "San Francisco",
        "California",
        "United States",
        "North America",
        37.7749,
        -122.4194,
        1.2,
    ),
    (
        "London",
        "England",
        "United Kingdom",
        "EMEA",
        51.5074,
        -0.1278,
        1.1,
    ),
    ("Berlin", "Berlin", "Germany", "EMEA", 52.5200, 13.4050, 0.9),
    (
        "Singapore",
        "Singapore",
        "Singapore",
        "APAC",
        1.3521,
        103.8198,
        0.8,
    ),
    (
        "Sydney",
        "New South Wales",
        "Australia",
        "APAC",
        -33.8688,
        151.2093,
        0.7,
    ),
    (
        "Sao Paulo",
        "Sao Paulo",
        "Brazil",
        "LATAM",
        -23.5505,
        -46.6333,
        0.6,
    ),
    (
        "Mexico City",
        "CDMX",
        "Mexico",
        "LATAM",
        19.4326,
        -99.1332,
        0.5,
    ),
];

/// (category, orders per store-day, average price, gross margin)
const CATEGORIES: [(&str, f64, f64, f64); 5] = [
    ("Software", 6.0, 420.0, 0.72),
    ("Services", 3.0, 1250.0, 0.35),
    ("Hardware", 4.0, 610.0, 0.22),
    ("Training", 2.0, 380.0, 0.55),
    ("Support", 5.0, 150.0, 0.61),
];

pub(crate) const REGIONS: [&str; 4] = ["APAC", "EMEA", "LATAM", "North America"];

/// A tiny deterministic generator (splitmix64); the demo must not depend on a random source.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn text(s: &str) -> Cell {
    Cell::Text(Arc::from(s))
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(crate) fn explores() -> Vec<Explore> {
    vec![orders(), funnel(), targets(), projects(), etl_jobs()]
}

/// Daily sales per store and category, 2024-07-01 through the day before `today()`.
fn orders() -> Explore {
    let mut rng = Rng::new(7);
    let mut rows = Vec::new();
    let start = Date::from_ymd(2024, 7, 1);
    for day in start.days()..today().days() {
        let date = Date::from_days(day);
        let (_, month, _) = date.ymd();
        // Growth of ~25 % a year, a Q4 peak and quieter weekends.
        let growth = 1.0 + 0.25 * f64::from(day - start.days()) / 365.0;
        let season = 1.0 + 0.15 * (std::f64::consts::TAU * (f64::from(month) - 4.0) / 12.0).sin();
        let weekday = if date.weekday_from_monday() >= 5 {
            0.55
        } else {
            1.0
        };
        for (city, state, country, region, lat, lon, size) in STORES {
            for (category, per_day, price, margin) in CATEGORIES {
                let expected = per_day * size * growth * season * weekday;
                let orders = (expected * (0.7 + 0.6 * rng.unit())).round();
                let revenue = cents(orders * price * (0.85 + 0.3 * rng.unit()));
                let cost = cents(revenue * (1.0 - margin + 0.08 * (rng.unit() - 0.5)));
                let returns = (orders * 0.09 * rng.unit()).round();
                let new_customers = (orders * (0.15 + 0.2 * rng.unit())).round();
                let booked = date < unbooked_from();
                rows.push(vec![
                    Cell::Day(date),
                    text(region),
                    text(category),
                    text(city),
                    text(state),
                    text(country),
                    Cell::Num(lat),
                    Cell::Num(lon),
                    Cell::Num(orders),
                    if booked {
                        Cell::Num(revenue)
                    } else {
                        Cell::Null
                    },
                    if booked { Cell::Num(cost) } else { Cell::Null },
                    Cell::Num(returns),
                    Cell::Num(new_customers),
                ]);
            }
        }
    }
    ExploreBuilder::new("orders", "Orders")
        .time_group("created", "Created", 0)
        .string("region", "Region", 1)
        .describe("Sales region of the store")
        .string("category", "Category", 2)
        .measure("count", "Count", "count", Agg::Count(8), None)
        .measure(
            "total_revenue",
            "Total Revenue",
            "sum",
            Agg::Sum(9),
            Some("$#,##0"),
        )
        .describe("Invoiced revenue; booked after month-end close")
        .measure(
            "total_cost",
            "Total Cost",
            "sum",
            Agg::Sum(10),
            Some("$#,##0"),
        )
        .measure(
            "gross_margin",
            "Gross Margin",
            "number",
            Agg::Margin(9, 10),
            Some("0.0%"),
        )
        .describe("(revenue - cost) / revenue")
        .measure(
            "average_order_value",
            "Average Order Value",
            "number",
            Agg::Ratio(9, 8),
            Some("$#,##0.00"),
        )
        .measure(
            "return_rate",
            "Return Rate",
            "number",
            Agg::Ratio(11, 8),
            Some("0.0%"),
        )
        .measure(
            "average_daily_revenue",
            "Average Daily Revenue",
            "average",
            Agg::Average(9),
            Some("$#,##0.00"),
        )
        .describe("Average revenue per store, category and day")
        .measure(
            "returned_count",
            "Returned Count",
            "sum",
            Agg::Sum(11),
            None,
        )
        .measure(
            "new_customers",
            "New Customers",
            "sum",
            Agg::Sum(12),
            Some("#,##0"),
        )
        .measure(
            "store_count",
            "Store Count",
            "count_distinct",
            Agg::CountDistinct(3),
            None,
        )
        .measure(
            "min_daily_revenue",
            "Min Daily Revenue",
            "min",
            Agg::Min(9),
            Some("$#,##0"),
        )
        .measure(
            "p25_daily_revenue",
            "25th Percentile Daily Revenue",
            "percentile",
            Agg::Percentile(9, 25.0),
            Some("$#,##0"),
        )
        .measure(
            "median_daily_revenue",
            "Median Daily Revenue",
            "median",
            Agg::Median(9),
            Some("$#,##0"),
        )
        .measure(
            "p75_daily_revenue",
            "75th Percentile Daily Revenue",
            "percentile",
            Agg::Percentile(9, 75.0),
            Some("$#,##0"),
        )
        .measure(
            "max_daily_revenue",
            "Max Daily Revenue",
            "max",
            Agg::Max(9),
            Some("$#,##0"),
        )
        .view("stores", "Stores")
        .string("city", "City", 3)
        .string("state", "State", 4)
        .string("country", "Country", 5)
        .map_layer("countries")
        .number("latitude", "Latitude", 6)
        .number("longitude", "Longitude", 7)
        .build(MODEL, "orders", "Orders", rows, false)
}

/// Monthly signup funnel; stage names carry their order so they sort as a funnel.
fn funnel() -> Explore {
    let mut rng = Rng::new(11);
    let stages = [
        ("1. Visited Site", 1.0),
        ("2. Signed Up", 0.18),
        ("3. Started Trial", 0.07),
        ("4. Converted", 0.021),
    ];
    let mut rows = Vec::new();
    let mut month = Date::from_ymd(2025, 1, 1);
    while month < today() {
        let visitors = (40_000.0 * (0.9 + 0.2 * rng.unit())).round();
        for (stage, rate) in stages {
            rows.push(vec![
                Cell::Day(month),
                text(stage),
                Cell::Num((visitors * rate).round()),
            ]);
        }
        month = month.add_months(1);
    }
    ExploreBuilder::new("signups_funnel", "Signups Funnel")
        .time_group("signup", "Signup", 0)
        .string("stage", "Stage", 1)
        .measure("users", "Users", "sum", Agg::Sum(2), Some("#,##0"))
        .build(MODEL, "signups_funnel", "Signups Funnel", rows, false)
}

/// Quarterly revenue targets per region (for the merged-results tile).
fn targets() -> Explore {
    let mut rows = Vec::new();
    for year in [2025, 2026] {
        for quarter in 0..4u32 {
            let start = Date::from_ymd(year, quarter * 3 + 1, 1);
            for (i, region) in REGIONS.iter().enumerate() {
                let base = [1_250_000.0, 1_700_000.0, 900_000.0, 2_300_000.0][i];
                let growth = if year == 2026 { 1.2 } else { 1.0 };
                rows.push(vec![
                    Cell::Day(start),
                    text(region),
                    Cell::Num(base * growth * (1.0 + 0.05 * f64::from(quarter))),
                ]);
            }
        }
    }
    ExploreBuilder::new("targets", "Targets")
        .time_group("target", "Target", 0)
        .string("region", "Region", 1)
        .measure(
            "revenue_target",
            "Revenue Target",
            "sum",
            Agg::Sum(2),
            Some("$#,##0"),
        )
        .build(MODEL, "targets", "Targets", rows, false)
}

/// Roadmap projects with start and end dates (for the timeline tile, which has no measure).
fn projects() -> Explore {
    let items = [
        (
            "Billing revamp",
            "Finance Eng",
            (2026, 1, 12),
            (2026, 4, 30),
        ),
        (
            "Self-serve onboarding",
            "Growth",
            (2026, 2, 2),
            (2026, 6, 26),
        ),
        (
            "Data warehouse migration",
            "Platform",
            (2025, 11, 3),
            (2026, 7, 31),
        ),
        ("Mobile app v3", "Mobile", (2026, 3, 16), (2026, 9, 30)),
        ("SOC 2 renewal", "Security", (2026, 5, 4), (2026, 8, 14)),
    ];
    let rows = items
        .iter()
        .map(|(name, team, s, e)| {
            vec![
                text(name),
                text(team),
                Cell::Day(Date::from_ymd(s.0, s.1, s.2)),
                Cell::Day(Date::from_ymd(e.0, e.1, e.2)),
                Cell::Num(1.0),
            ]
        })
        .collect();
    ExploreBuilder::new("projects", "Projects")
        .string("name", "Name", 0)
        .string("team", "Team", 1)
        .time_group("start", "Start", 2)
        .time_group("end", "End", 3)
        .measure("count", "Count", "count", Agg::Count(4), None)
        .build(MODEL, "projects", "Projects", rows, false)
}

/// ETL job runs; this explore is "huge", so its queries are slow when not cached.
fn etl_jobs() -> Explore {
    let mut rng = Rng::new(23);
    let mut rows = Vec::new();
    for day in Date::from_ymd(2026, 1, 1).days()..today().days() {
        for (source, volume) in [
            ("postgres", 9.0e6),
            ("salesforce", 1.2e6),
            ("stripe", 2.5e6),
            ("zendesk", 4.0e5),
        ] {
            let jobs = 24.0;
            let failures = (rng.unit() * 3.0).floor();
            rows.push(vec![
                Cell::Day(Date::from_days(day)),
                text(source),
                Cell::Num((volume * (0.8 + 0.4 * rng.unit())).round()),
                Cell::Num(failures),
                Cell::Num(jobs),
            ]);
        }
    }
    ExploreBuilder::new("etl_jobs", "ETL Jobs")
        .time_group("run", "Run", 0)
        .string("source", "Source", 1)
        .measure(
            "total_rows_loaded",
            "Total Rows Loaded",
            "sum",
            Agg::Sum(2),
            Some("#,##0"),
        )
        .measure("failed_jobs", "Failed Jobs", "sum", Agg::Sum(3), None)
        .measure("job_count", "Job Count", "count", Agg::Count(4), None)
        .measure(
            "failure_rate",
            "Failure Rate",
            "number",
            Agg::Ratio(3, 4),
            Some("0.00%"),
        )
        .build(MODEL, "etl_jobs", "ETL Jobs", rows, true)
}
