//! Time as the documents show it. Instants are kept in UTC; dates and clock times that people
//! read are China Standard Time (UTC+8, no daylight saving), the legal time of the documents.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar date in China of an instant: the date a certificate must be valid on.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// RFC 3339 in China time, e.g. `2026-11-28T09:30:00+08:00`.
pub fn format_china(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Instants are stored to the millisecond (Automerge timestamps).
pub fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    from_millis(at.timestamp_millis()).unwrap_or(at)
}

pub fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Parses `YYYY-MM-DD`, naming the field in the error.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{field} {text:?} 应为 YYYY-MM-DD 格式的日期"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_evening_utc_is_the_next_day_in_china() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(china_date(at), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(format_china(at), "2026-03-02T01:30:00+08:00");
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(parse_date("期限", "2026-12-01").is_ok());
        assert!(
            parse_date("期限", "2026/12/01")
                .unwrap_err()
                .contains("期限")
        );
        assert!(parse_date("期限", "2026-02-30").is_err());
    }
}
