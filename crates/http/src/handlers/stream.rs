//! `/api/v1/stream`: the agent's live events as server-sent events (DESIGN §9).
//!
//! Frames: `id: <n>` / `event: ticket_created|message_received|ticket_updated` /
//! `data: {"id", "kind", "ticket_id", "at"}`; a new stream opens with `event: ready` (carrying
//! the id it starts after, so that a reconnect before any event still resumes without loss),
//! and `event: reset` says events were missed for good (older than a day): reload, then carry
//! on. A comment line every 15 s keeps proxies from closing an idle stream. The stream ends
//! when the server shuts down; the browser's EventSource reconnects with `Last-Event-ID`.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_service::live::{Resume, StreamItem};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiQuery, Authed};

/// How long a stream stays silent before a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a browser waits before reconnecting a dropped stream.
const RETRY_MS: u32 = 2000;

static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this event id, for clients that cannot send the `Last-Event-ID` header.
    /// The header wins when both are given.
    pub last_event_id: Option<String>,
}

/// The caller's workspace's live events, resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/stream", tag = "live", params(StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "resume after this event id")),
    responses((status = 200, content_type = "text/event-stream",
        description = "server-sent events: `ready` {last_event_id}, then `ticket_created`, `message_received`, \
        `ticket_updated` {id, kind, ticket_id, at}, each with its `id`; `reset` {last_event_id} when missed events \
        are no longer kept (reload, then carry on)"),
        (status = 401, description = "not signed in", body = crate::error::ErrorBody)))]
pub async fn stream_events(
    State(state): State<AppState>,
    Authed(actor): Authed,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let asked = headers.get(&LAST_EVENT_ID).and_then(|v| v.to_str().ok()).map(str::to_owned).or(query.last_event_id);
    let live = state.service.live_stream(&actor, resume_from(asked.as_deref())).await?;
    let mut first = true;
    // Counted as open until the stream is dropped (the client went away, or shutdown).
    let gauge = state.service.metrics().agent_stream();
    let frames = futures_util::stream::unfold((live, gauge), move |(mut live, gauge)| {
        let retry = std::mem::take(&mut first);
        async move {
            let items = live.next_batch(HEARTBEAT).await?;
            Some((Ok::<_, Infallible>(frame(&items, retry)), (live, gauge)))
        }
    });
    let headers = [
        (CONTENT_TYPE, "text/event-stream"),
        (CACHE_CONTROL, "no-cache"),
        // nginx would otherwise hold events back to fill its buffer.
        (HeaderName::from_static("x-accel-buffering"), "no"),
    ];
    Ok((headers, Body::from_stream(frames)).into_response())
}

/// A blank position is a new stream; one that is not an id this server gave out cannot be
/// resumed, and the client is told to reload rather than silently miss events.
fn resume_from(asked: Option<&str>) -> Resume {
    match asked.map(str::trim) {
        None | Some("") => Resume::Now,
        Some(id) => id.parse::<i64>().ok().filter(|n| *n >= 0).map_or(Resume::Unknown, Resume::After),
    }
}

/// The bytes of one write: the events that were waiting, or a heartbeat comment.
fn frame(items: &[StreamItem], retry: bool) -> Bytes {
    let mut out = String::new();
    if retry {
        let _ = write!(out, "retry: {RETRY_MS}\n\n");
    }
    if items.is_empty() {
        out.push_str(": keep-alive\n\n");
    }
    for item in items {
        let _ = match item {
            StreamItem::Ready { last_event_id: id } => {
                write!(out, "id: {id}\nevent: ready\ndata: {{\"last_event_id\":{id}}}\n\n")
            }
            StreamItem::Event(record) => {
                write!(out, "id: {}\nevent: {}\ndata: {}\n\n", record.id, record.kind.as_str(), record.json)
            }
            StreamItem::Reset { last_event_id: id } => {
                write!(out, "id: {id}\nevent: reset\ndata: {{\"last_event_id\":{id}}}\n\n")
            }
        };
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_to_resume_from_is_read_leniently_but_never_guessed() {
        assert_eq!(resume_from(None), Resume::Now);
        assert_eq!(resume_from(Some(" ")), Resume::Now);
        assert_eq!(resume_from(Some("42")), Resume::After(42));
        assert_eq!(resume_from(Some(" 7 ")), Resume::After(7));
        assert_eq!(resume_from(Some("abc")), Resume::Unknown);
        assert_eq!(resume_from(Some("-3")), Resume::Unknown);
    }

    #[test]
    fn a_frame_carries_each_waiting_event_or_a_heartbeat() {
        assert_eq!(&frame(&[], false)[..], b": keep-alive\n\n");
        let first = frame(&[StreamItem::Ready { last_event_id: 9 }], true);
        assert_eq!(&first[..], b"retry: 2000\n\nid: 9\nevent: ready\ndata: {\"last_event_id\":9}\n\n");
        let reset = frame(&[StreamItem::Reset { last_event_id: 3 }], false);
        assert_eq!(&reset[..], b"id: 3\nevent: reset\ndata: {\"last_event_id\":3}\n\n");
    }
}
