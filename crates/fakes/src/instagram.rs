//! Fake Instagram messaging and comment replies (below `/instagram`, in place of
//! `https://graph.instagram.com/v21.0`):
//!
//! - `POST /{ig-account-id}/messages` — the Send API: DMs to an IGSID and the one private reply to
//!   a comment (`recipient.comment_id`), checked as the Messenger fake checks them, with
//!   Instagram's limits (text up to 1000 bytes, only the `HUMAN_AGENT` tag);
//! - `POST /{ig-comment-id}/replies` — a public reply under a comment: `message` only.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::post;

use crate::FakeState;
use crate::messenger::{Product, public_reply, send_api};

static INSTAGRAM: Product = Product {
    kind: "instagram",
    message_ids: "aWdfFAKE",
    comment_ids: "1790FAKE",
    text_limit: 1000,
    text_limit_in_bytes: true,
    tags: &["HUMAN_AGENT"],
    requires_messaging_type: false,
    reply_attachments: false,
};

pub fn routes() -> Router<FakeState> {
    Router::new()
        .route(
            "/{ig_account_id}/messages",
            post(|state: State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes| {
                send_api(&INSTAGRAM, state, uri, headers, body)
            }),
        )
        .route(
            "/{comment_id}/replies",
            post(|state: State<FakeState>, uri: Uri, headers: HeaderMap, body: Bytes| {
                public_reply(&INSTAGRAM, state, uri, headers, body)
            }),
        )
}
