//! Ordering the values of a time axis, whatever their timeframe.
//!
//! Looker writes periods as `2026`, `2026-Q2`, `2026-05`, `2026-05-14` (days and
//! weeks) or timestamps; their integer groups, compared in order, sort them.

use kpilink_connector::Timeframe;

/// Timeframes whose values are periods in time (not e.g. a day of the week).
pub(super) fn is_time(timeframe: Option<&Timeframe>) -> bool {
    matches!(
        timeframe,
        Some(
            Timeframe::Raw
                | Timeframe::Time
                | Timeframe::Date
                | Timeframe::Week
                | Timeframe::Month
                | Timeframe::Quarter
                | Timeframe::Year
        )
    )
}

/// A sortable key for a period value; `None` when it holds no number.
pub(super) fn key(text: &str) -> Option<Vec<i64>> {
    let groups: Vec<i64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|group| !group.is_empty())
        .map(|group| group.parse::<i64>().unwrap_or(i64::MAX))
        .collect();
    (!groups.is_empty()).then_some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_of_every_timeframe_sort_in_time_order() {
        for (earlier, later) in [
            ("2025", "2026"),
            ("2025-Q4", "2026-Q1"),
            ("2026-Q2", "2026-Q3"),
            ("2026-09", "2026-10"),
            ("2026-05-09", "2026-05-10"),
            ("2026-05-14 09:59:59", "2026-05-14 10:00:00"),
            ("2026-05-14T23:00:00Z", "2026-05-15T00:00:00Z"),
        ] {
            assert!(key(earlier) < key(later), "{earlier} < {later}");
        }
        assert_eq!(key("n/a"), None);
        assert!(is_time(Some(&Timeframe::Quarter)));
        assert!(!is_time(Some(&Timeframe::Other("day_of_week".into()))));
        assert!(!is_time(None));
    }
}
