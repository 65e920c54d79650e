//! A small in-memory rate limiter for public endpoints: a fixed window per key (a widget
//! visitor, a client address). Per node, like the sign-in limiter: a client spread over several
//! nodes gets a little more, which is fine for keeping floods out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

use crate::{ServiceError, ServiceResult};

const WINDOW: Duration = Duration::minutes(1);
/// Past this many keys, expired windows are swept on the next check.
const SWEEP_AT: usize = 10_000;

#[derive(Clone, Default)]
pub struct Limiter {
    windows: Arc<Mutex<HashMap<String, (OffsetDateTime, u32)>>>,
}

impl Limiter {
    /// Counts one request of `key`; refuses it when the key already had `max` this window.
    pub fn check(&self, key: &str, now: OffsetDateTime, max: u32) -> ServiceResult<()> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now - *start < WINDOW);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now - entry.0 >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= max {
            let retry = (entry.0 + WINDOW - now).whole_seconds().max(1);
            return Err(ServiceError::RateLimited { retry_after_secs: retry });
        }
        entry.1 += 1;
        Ok(())
    }

    /// Refuses when `key` already had `max` this window, without counting this request: with
    /// [`Limiter::count`], limits only what fails (bad signatures) and never good traffic.
    pub fn over(&self, key: &str, now: OffsetDateTime, max: u32) -> ServiceResult<()> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some((start, n)) if now - *start < WINDOW && *n >= max => {
                let retry = (*start + WINDOW - now).whole_seconds().max(1);
                Err(ServiceError::RateLimited { retry_after_secs: retry })
            }
            _ => Ok(()),
        }
    }

    /// Counts one event of `key` in its window (see [`Limiter::over`]).
    pub fn count(&self, key: &str, now: OffsetDateTime) {
        let _ = self.check(key, now, u32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_past_its_allowance_until_the_window_ends() {
        let limiter = Limiter::default();
        let t0 = time::macros::datetime!(2026-11-21 12:00 UTC);
        for _ in 0..3 {
            assert!(limiter.check("v", t0, 3).is_ok());
        }
        assert!(limiter.check("v", t0, 3).is_err());
        assert!(limiter.check("w", t0, 3).is_ok(), "another key has its own allowance");
        assert!(limiter.check("v", t0 + WINDOW, 3).is_ok());
    }

    #[test]
    fn counted_failures_refuse_a_key_only_once_past_the_limit() {
        let limiter = Limiter::default();
        let t0 = time::macros::datetime!(2026-11-21 12:00 UTC);
        for _ in 0..3 {
            assert!(limiter.over("a", t0, 3).is_ok(), "checking does not count");
        }
        for _ in 0..3 {
            limiter.count("a", t0);
        }
        assert!(limiter.over("a", t0, 3).is_err());
        assert!(limiter.over("b", t0, 3).is_ok());
        assert!(limiter.over("a", t0 + WINDOW, 3).is_ok(), "a new window forgives");
    }
}
