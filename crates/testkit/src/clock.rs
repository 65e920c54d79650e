//! A clock tests set and move. Each reading advances it by one millisecond, so that rows
//! written one after the other keep their order, as they would on a real clock.

use std::sync::Mutex;

use switchboard_domain::Clock;
use time::{Duration, OffsetDateTime};

pub struct TestClock {
    now: Mutex<OffsetDateTime>,
}

impl TestClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self { now: Mutex::new(start) }
    }

    pub fn advance(&self, by: Duration) {
        *self.now.lock().expect("clock lock") += by;
    }

    pub fn set(&self, to: OffsetDateTime) {
        *self.now.lock().expect("clock lock") = to;
    }

    /// The time now, without moving the clock.
    pub fn peek(&self) -> OffsetDateTime {
        *self.now.lock().expect("clock lock")
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        let mut now = self.now.lock().expect("clock lock");
        let t = *now;
        *now += Duration::milliseconds(1);
        t
    }
}
