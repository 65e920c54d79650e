//! The clock is handed in, never read directly, so that time-dependent rules (reply windows,
//! the reopen window, auto-close) are testable at any instant.

use time::OffsetDateTime;

/// Where "now" comes from. The binary uses the system clock; tests use a settable one.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
