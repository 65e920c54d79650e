//! What the fake remembers: the requests it received and the failures it was told to answer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A failure to answer instead of success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 500.
    ServerError,
    /// Hold the request for this long (longer than the client waits) before answering.
    Timeout,
    /// HTTP 429 with `Retry-After: 1`.
    RateLimited,
    /// The platform's permanent error with this code, in the platform's error shape.
    Permanent(String),
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub kind: String,
    pub method: String,
    /// The path below the platform's prefix, with the query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (JSON, form or XML as sent).
    pub body: String,
    /// Whether the fake accepted it (answered success).
    pub accepted: bool,
    /// The id the fake gave the message, when it accepted it.
    pub platform_message_id: Option<String>,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    faults: HashMap<String, VecDeque<Fault>>,
    sequence: u64,
    /// Idempotency keys already accepted (LINE `X-Line-Retry-Key`), with the id given.
    retry_keys: HashMap<String, String>,
}

/// Shared, cheap to clone.
#[derive(Clone, Default)]
pub struct FakeState {
    inner: Arc<Mutex<Inner>>,
}

/// How long a `Timeout` fault holds a request.
pub const TIMEOUT_HOLD: Duration = Duration::from_secs(30);

impl FakeState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answer the next `times` requests of `kind` with `fault`.
    pub fn fail_next(&self, kind: &str, fault: Fault, times: usize) {
        let mut inner = self.lock();
        let queue = inner.faults.entry(kind.to_owned()).or_default();
        for _ in 0..times {
            queue.push_back(fault.clone());
        }
    }

    /// The fault to answer the current request of `kind` with, if one is queued.
    pub fn take_fault(&self, kind: &str) -> Option<Fault> {
        self.lock().faults.get_mut(kind).and_then(VecDeque::pop_front)
    }

    /// A new id for an accepted message, e.g. `wamid.FAKE000001`.
    pub fn next_id(&self, prefix: &str) -> String {
        let mut inner = self.lock();
        inner.sequence += 1;
        format!("{prefix}{:06}", inner.sequence)
    }

    /// The id already given for an idempotency key, or records `id` for it.
    pub fn idempotent(&self, key: &str, id: &str) -> Option<String> {
        let mut inner = self.lock();
        if let Some(existing) = inner.retry_keys.get(key) {
            return Some(existing.clone());
        }
        inner.retry_keys.insert(key.to_owned(), id.to_owned());
        None
    }

    pub fn record(&self, request: Recorded) {
        self.lock().requests.push(request);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// The requests of one platform that it accepted.
    pub fn accepted(&self, kind: &str) -> Vec<Recorded> {
        self.lock().requests.iter().filter(|r| r.kind == kind && r.accepted).cloned().collect()
    }

    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }
}
