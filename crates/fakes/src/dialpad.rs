//! Fake dialpad send endpoints (being written).

use axum::Router;

use crate::FakeState;

pub fn routes() -> Router<FakeState> {
    Router::new()
}
