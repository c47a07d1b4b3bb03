//! Civil-date arithmetic for timeframes and timestamps, so the crate needs no date library.
//! Dates are days since 1970-01-01 (proleptic Gregorian), following Howard Hinnant's algorithms.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Date(i32);

impl Date {
    pub(crate) fn from_ymd(year: i32, month: u32, day: u32) -> Date {
        let y = if month <= 2 { year - 1 } else { year };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Date(era * 146_097 + doe - 719_468)
    }

    pub(crate) fn from_days(days: i32) -> Date {
        Date(days)
    }

    pub(crate) fn days(self) -> i32 {
        self.0
    }

    pub(crate) fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i32::from(month <= 2);
        (year, month, day)
    }

    /// 0 = Monday … 6 = Sunday (Looker's default `week_start_day` is Monday).
    pub(crate) fn weekday_from_monday(self) -> i32 {
        (self.0 + 3).rem_euclid(7)
    }

    pub(crate) fn week_start(self) -> Date {
        Date(self.0 - self.weekday_from_monday())
    }

    /// Accepts `YYYY-MM-DD` and `YYYY/MM/DD` (Looker filter syntax uses slashes).
    pub(crate) fn parse(text: &str) -> Option<Date> {
        let parts: Vec<&str> = text.trim().split(['-', '/']).collect();
        if parts.len() != 3 {
            return None;
        }
        let year: i32 = parts[0].parse().ok()?;
        let month: u32 = parts[1].parse().ok()?;
        if !(1..=9999).contains(&year) {
            return None;
        }
        let day: u32 = parts[2].parse().ok()?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date::from_ymd(year, month, day))
    }

    pub(crate) fn add_months(self, months: i32) -> Date {
        let (y, m, d) = self.ymd();
        let index = y * 12 + (m as i32 - 1) + months;
        let (ny, nm) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
        Date::from_ymd(ny, nm, d.min(days_in_month(ny, nm)))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// `2026-06-15T10:20:30.000+00:00`, the form Looker uses for `created_at` and similar fields.
pub(crate) fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let date = Date::from_days(secs.div_euclid(86_400) as i32);
    let rest = secs.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}+00:00",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_weekdays() {
        let d = Date::from_ymd(2026, 6, 15);
        assert_eq!(d.ymd(), (2026, 6, 15));
        assert_eq!(d.to_string(), "2026-06-15");
        assert_eq!(d.weekday_from_monday(), 0, "2026-06-15 is a Monday");
        assert_eq!(
            Date::from_ymd(2024, 3, 1).days() - Date::from_ymd(2024, 2, 28).days(),
            2
        );
        assert_eq!(Date::parse("2026/02/29"), None);
        assert_eq!(
            Date::parse("2024/02/29").map(|d| d.ymd()),
            Some((2024, 2, 29))
        );
        assert_eq!(
            Date::from_ymd(2026, 1, 31).add_months(1).to_string(),
            "2026-02-28"
        );
        assert_eq!(Date::from_ymd(1970, 1, 1).days(), 0);
    }
}
