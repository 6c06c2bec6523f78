//! Run IDs: `YYYY-MM-DD-AM|PM`, the date and half-day of an instant in America/Phoenix.
//!
//! Phoenix keeps UTC-7 all year (no daylight saving), so the analyzer's two schedules,
//! 06:10 and 15:10 local, are the fixed UTC crons `10 13 * * *` and `10 22 * * *`, and each
//! maps to exactly one run ID a day.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::America::Phoenix;

/// The run ID of `instant`.
pub fn run_id(instant: DateTime<Utc>) -> String {
    let local = instant.with_timezone(&Phoenix);
    let half = if local.hour() < 12 { "AM" } else { "PM" };
    format!(
        "{:04}-{:02}-{:02}-{half}",
        local.year(),
        local.month(),
        local.day()
    )
}

/// Whether `s` has the shape of a run ID (used to validate branch names and state keys).
pub fn is_run_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 13
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && b[10] == b'-'
        && (&b[11..] == b"AM" || &b[11..] == b"PM")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::parse_ts;

    fn id(ts: &str) -> String {
        run_id(parse_ts(ts).unwrap())
    }

    #[test]
    fn local_midnight_and_noon() {
        // Phoenix midnight = 07:00 UTC; noon = 19:00 UTC.
        assert_eq!(id("2026-03-10T06:59:59.999Z"), "2026-03-09-PM");
        assert_eq!(id("2026-03-10T07:00:00Z"), "2026-03-10-AM");
        assert_eq!(id("2026-03-10T18:59:59Z"), "2026-03-10-AM");
        assert_eq!(id("2026-03-10T19:00:00Z"), "2026-03-10-PM");
    }

    #[test]
    fn around_utc_midnight() {
        // 23:30 UTC = 16:30 Phoenix same day; 00:30 UTC = 17:30 Phoenix previous day.
        assert_eq!(id("2026-12-31T23:30:00Z"), "2026-12-31-PM");
        assert_eq!(id("2027-01-01T00:30:00Z"), "2026-12-31-PM");
        assert_eq!(id("2027-01-01T06:59:00Z"), "2026-12-31-PM");
    }

    #[test]
    fn schedules_map_to_am_and_pm_all_year() {
        // No DST in Phoenix: the same UTC crons give AM and PM in winter and summer.
        for day in ["2026-01-15", "2026-07-15", "2026-03-08", "2026-11-01"] {
            assert_eq!(id(&format!("{day}T13:10:00Z")), format!("{day}-AM"));
            assert_eq!(id(&format!("{day}T22:10:00Z")), format!("{day}-PM"));
        }
    }

    #[test]
    fn offsets_are_honoured() {
        assert_eq!(id("2026-06-01T06:10:00-07:00"), "2026-06-01-AM");
    }

    #[test]
    fn shape() {
        assert!(is_run_id("2026-11-21-AM"));
        assert!(!is_run_id("2026-11-21-XM"));
        assert!(!is_run_id("main"));
    }
}
