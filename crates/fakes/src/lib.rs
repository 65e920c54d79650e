//! Fake platforms: an HTTP server that implements the send endpoints of every platform
//! Switchboard talks to, as the channel digests document them. Each endpoint checks the
//! request's authentication and shape, records what it received, and answers as the platform
//! would — or fails as it is told to (5xx, a timeout, a rate limit, a permanent error code).
//!
//! Every platform is mounted under `/{kind}` (`/whatsapp`, `/line`, …): point a line's
//! `api_base_url` (or `SWITCHBOARD_API_BASE_URL` for all lines) at `http://host:port` and the
//! outbox sends `http://host:port/{kind}/…`. `switchboard fake-platforms` runs it on its own;
//! tests start it in-process with [`FakePlatforms::spawn`].
//!
//! Control endpoints: `GET /_fake/requests` (everything received), `POST /_fake/fail`
//! (`{"kind": "whatsapp", "fault": "server_error" | "timeout" | "rate_limited" | {"permanent": "131047"}, "times": 1}`),
//! `POST /_fake/reset`.
//!
//! Inbound media: each platform's download endpoints answer [`media_bytes`] with the type [`media_mime_type`]
//! gives, and `GET /files/{name}` (on the root, no platform prefix) stands for any plain file URL a webhook
//! carries (Messenger/Instagram/X CDN links, Twilio `MediaUrl`s).

mod common;
mod state;

pub mod dialpad;
pub mod instagram;
pub mod justcall;
pub mod lazada;
pub mod line;
pub mod messenger;
pub mod shopee;
pub mod telegram;
pub mod twilio;
pub mod wechat;
pub mod whatsapp;
pub mod x;

pub use state::{FakeState, Fault, Recorded};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The whole fake: every platform under its `/{kind}` prefix, plus the control endpoints.
pub fn router(state: FakeState) -> Router {
    Router::new()
        .nest("/whatsapp", whatsapp::routes())
        .nest("/messenger", messenger::routes())
        .nest("/instagram", instagram::routes())
        .nest("/x", x::routes())
        .nest("/line", line::routes())
        .nest("/wechat", wechat::routes())
        .nest("/telegram", telegram::routes())
        .nest("/twilio", twilio::routes())
        .nest("/dialpad", dialpad::routes())
        .nest("/justcall", justcall::routes())
        .nest("/shopee", shopee::routes())
        .nest("/lazada", lazada::routes())
        .route("/files/{name}", get(file))
        .route("/_fake/requests", get(requests))
        .route("/_fake/fail", post(fail))
        .route("/_fake/reset", post(reset))
        .with_state(state)
}

async fn requests(axum::extract::State(state): axum::extract::State<FakeState>) -> Json<Vec<Recorded>> {
    Json(state.requests())
}

#[derive(serde::Deserialize)]
struct FailRequest {
    kind: String,
    fault: Fault,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

async fn fail(axum::extract::State(state): axum::extract::State<FakeState>, Json(req): Json<FailRequest>) {
    state.fail_next(&req.kind, req.fault, req.times);
}

async fn reset(axum::extract::State(state): axum::extract::State<FakeState>) {
    state.reset();
}

/// The platform name the generic file endpoint records requests (and takes injected faults) under.
pub const FILES_KIND: &str = "files";

/// The bytes every fake media download answers for the media `id` (or file name): deterministic, so tests can
/// compare what they fetched.
pub fn media_bytes(id: &str) -> Vec<u8> {
    format!("fake media {id}").into_bytes()
}

/// The MIME type the fakes give the media `name`: by its extension, else by a word in it (`audio`/`voice`,
/// `video`, `doc`/`pdf`, `sticker`), else `image/jpeg`.
pub fn media_mime_type(name: &str) -> &'static str {
    let last = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let by_extension = last.rsplit_once('.').and_then(|(_, ext)| match ext {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "mp4" => Some("video/mp4"),
        "ogg" | "oga" => Some("audio/ogg"),
        "amr" => Some("audio/amr"),
        "mp3" => Some("audio/mpeg"),
        "pdf" => Some("application/pdf"),
        "txt" => Some("text/plain"),
        _ => None,
    });
    by_extension.unwrap_or(if last.contains("audio") || last.contains("voice") {
        "audio/ogg"
    } else if last.contains("video") {
        "video/mp4"
    } else if last.contains("doc") || last.contains("pdf") {
        "application/pdf"
    } else if last.contains("sticker") {
        "image/webp"
    } else {
        "image/jpeg"
    })
}

/// The file extension (without the dot) of a MIME type [`media_mime_type`] gives.
pub(crate) fn media_extension(mime_type: &str) -> &'static str {
    match mime_type {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "audio/ogg" => "ogg",
        "audio/amr" => "amr",
        "audio/mpeg" => "mp3",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "jpg",
    }
}

/// The download answer: [`media_bytes`] of `id`, typed by [`media_mime_type`] of `name`, with a
/// `Content-Disposition` naming the file when `filename` is given.
pub(crate) fn media_response(id: &str, name: &str, filename: Option<&str>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(media_mime_type(name)));
    if let Some(value) = filename
        .map(|f| f.replace(['"', '\\'], "_"))
        .and_then(|f| axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")).ok())
    {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    (StatusCode::OK, headers, media_bytes(id)).into_response()
}

/// This server's own address as the caller named it (`http://host:port`), for the media URLs it hands out.
pub(crate) fn own_base(headers: &HeaderMap, uri: &Uri) -> String {
    let host = common::header(headers, "host")
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    format!("http://{host}")
}

/// `GET /files/{name}`: a plain file at a URL, as CDNs serve webhook media (Messenger, Instagram, X) and as Twilio
/// serves `MediaUrl`s. No authentication is needed, but `Authorization: Basic` credentials, when sent, are checked
/// as Twilio's "HTTP Basic Authentication for media access" does: a password that begins with `wrong` or
/// contains `invalid` is answered 401. A name that begins with `missing` is answered 404. Otherwise 200 with
/// [`media_bytes`] of the name, its [`media_mime_type`] and `Content-Disposition: attachment; filename="{name}"`.
/// Recorded (and failing on injected faults) under [`FILES_KIND`]; a permanent fault names the HTTP status.
async fn file(State(state): State<FakeState>, Path(name): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let incoming = common::Incoming { kind: FILES_KIND, method: "GET", path, headers: &headers, body: b"" };
    let refused = common::header(&headers, "authorization").and_then(|v| v.strip_prefix("Basic ")).is_some_and(|b| {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD.decode(b.trim()).unwrap_or_default();
        let decoded = String::from_utf8_lossy(&decoded);
        let password = decoded.split_once(':').map_or("", |(_, p)| p);
        password.is_empty() || password.starts_with("wrong") || password.contains("invalid")
    });
    if refused {
        incoming.record(&state, false, None);
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"code": 20003, "message": "Authenticate"})))
            .into_response();
    }
    if name.starts_with("missing") {
        incoming.record(&state, false, None);
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let permanent = |code: &str| {
        let status = code.trim().parse().ok().and_then(|s| StatusCode::from_u16(s).ok());
        (status.unwrap_or(StatusCode::FORBIDDEN), "fake file error").into_response()
    };
    if let Some(fault) = common::injected_fault(&state, &incoming, permanent).await {
        return fault;
    }
    incoming.record(&state, true, None);
    media_response(&name, &name, Some(&name))
}

/// A running fake on a local port.
pub struct FakePlatforms {
    /// `http://127.0.0.1:PORT`: what `api_base_url` should be.
    pub base_url: String,
    pub state: FakeState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakePlatforms {
    /// Starts the fake on `addr` (`127.0.0.1:0` for a free port).
    pub async fn spawn(addr: &str) -> std::io::Result<FakePlatforms> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = FakeState::default();
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(FakePlatforms { base_url, state, shutdown: Some(tx) })
    }
}

impl Drop for FakePlatforms {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
