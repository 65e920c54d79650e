//! Switchboard's channel adapters: one module per platform. Each verifies a webhook the way
//! its platform signs it, parses the payload into domain [`InboundItem`]s, and (later) sends.
//!
//! Depends on the domain only: no HTTP framework, no database. Adapters take raw bytes and
//! headers and return values or a [`ChannelError`] that says what was wrong.
//!
//! [`InboundItem`]: switchboard_domain::InboundItem

pub mod api;
pub mod dialpad;
pub mod instagram;
pub mod justcall;
pub mod lazada;
pub mod line;
pub mod messenger;
pub mod meta;
pub mod shopee;
pub mod signature;
pub mod telegram;
pub mod twilio;
pub mod webhook;
pub mod wechat;
pub mod whatsapp;
pub mod x;

pub use webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

/// Why a webhook was refused or could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The request is not from the platform: missing or wrong signature. Nothing is stored.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but the body is not what the platform documents. Kept as a dead letter.
    #[error("{0}")]
    Malformed(String),
    /// The account lacks a secret it needs to check the request.
    #[error("the channel account has no `{0}` secret")]
    MissingSecret(&'static str),
}
