//! Instants are stored as milliseconds since the Unix epoch (`BIGINT`) on both backends:
//! one encoding, one SQL, and index-friendly range scans.

use time::OffsetDateTime;

pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
