//! What every fake endpoint does around its platform-specific checks: answer an injected
//! fault, record the request, read headers.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::{FakeState, Fault, Recorded, TIMEOUT_HOLD};

/// The request an endpoint received, for recording.
pub struct Incoming<'a> {
    pub kind: &'a str,
    pub method: &'a str,
    /// The path below the platform prefix, with the query.
    pub path: String,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Incoming<'_> {
    pub fn record(&self, state: &FakeState, accepted: bool, platform_message_id: Option<String>) {
        state.record(Recorded {
            kind: self.kind.to_owned(),
            method: self.method.to_owned(),
            path: self.path.clone(),
            headers: self
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            body: String::from_utf8_lossy(self.body).into_owned(),
            accepted,
            platform_message_id,
        });
    }
}

/// The answer to give instead of success when a fault is queued for `kind`; `permanent`
/// renders the platform's own error shape for a code. The request is recorded as received
/// but not accepted (a timed-out request did reach the platform).
pub async fn injected_fault(
    state: &FakeState,
    incoming: &Incoming<'_>,
    permanent: impl FnOnce(&str) -> Response,
) -> Option<Response> {
    let fault = state.take_fault(incoming.kind)?;
    incoming.record(state, false, None);
    Some(match fault {
        Fault::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "fake platform failure").into_response(),
        Fault::Timeout => {
            tokio::time::sleep(TIMEOUT_HOLD).await;
            (StatusCode::GATEWAY_TIMEOUT, "fake platform timeout").into_response()
        }
        Fault::RateLimited => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response(),
        Fault::Permanent(code) => permanent(&code),
    })
}

/// The first value of a header.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer "))
}
