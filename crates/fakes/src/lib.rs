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
