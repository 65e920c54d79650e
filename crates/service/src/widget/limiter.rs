//! A small in-memory rate limiter for the widget's public endpoints: a fixed window per key
//! (a visitor, a client address). Per node, like the sign-in limiter: a visitor spread over
//! several nodes gets a little more, which is fine for keeping floods out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

use crate::{ServiceError, ServiceResult};

/// Messages one visitor may send per minute.
pub const MESSAGES_PER_MINUTE: u32 = 20;
/// Messages one client address may send per minute. Generous: many visitors share an address
/// behind an office's NAT (and, without a forwarded-for policy, behind a reverse proxy).
pub const MESSAGES_PER_MINUTE_PER_CLIENT: u32 = 300;
/// Visitor tokens one client address may be issued per minute (same caveat).
pub const NEW_VISITORS_PER_MINUTE: u32 = 300;

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
}
