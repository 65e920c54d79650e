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
pub mod media;
pub mod messenger;
pub mod meta;
pub mod send;
pub mod shopee;
pub mod signature;
pub mod simulate;
pub mod telegram;
pub mod template_sync;
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

pub use media::{Media, MediaSource, fetch_media};
pub use send::{
    OutboundMessage, SendOutcome, Target, TemplateSend, default_api_base, http_client, http_client_with_timeout,
};
use switchboard_domain::ChannelKind;

/// Verifies and parses one webhook call of a platform of `kind`. `None` for kinds that have no
/// platform webhook here (the generic `api` webhook, e-mail and the widget have their own entry points).
pub fn handle(kind: ChannelKind, req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    match kind {
        ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram => meta::handle(req, secrets),
        ChannelKind::X => x::handle(req, secrets),
        ChannelKind::Line => line::handle(req, secrets),
        ChannelKind::Wechat => wechat::handle(req, secrets),
        ChannelKind::Telegram => telegram::handle(req, secrets),
        ChannelKind::Twilio => twilio::handle(req, secrets),
        ChannelKind::Dialpad => dialpad::handle(req, secrets),
        ChannelKind::Justcall => justcall::handle(req, secrets),
        ChannelKind::Shopee => shopee::handle(req, secrets),
        ChannelKind::Lazada => lazada::handle(req, secrets),
        ChannelKind::Api | ChannelKind::Email | ChannelKind::Widget => {
            Err(ChannelError::Unauthenticated(format!("{kind} has no platform webhook")))
        }
    }
}

/// The success answer of a platform of `kind`, for a delivery kept as a dead letter: answered
/// as the platform expects so that it does not retry it forever.
pub fn ack(kind: ChannelKind) -> Answer {
    match kind {
        ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram => meta::ack(),
        ChannelKind::X => x::ack(),
        ChannelKind::Line => line::ack(),
        ChannelKind::Wechat => wechat::ack(),
        ChannelKind::Telegram => telegram::ack(),
        ChannelKind::Twilio => twilio::ack(),
        ChannelKind::Dialpad => dialpad::ack(),
        ChannelKind::Justcall => justcall::ack(),
        ChannelKind::Shopee => shopee::ack(),
        ChannelKind::Lazada => lazada::ack(),
        ChannelKind::Api | ChannelKind::Email | ChannelKind::Widget => Answer::Empty,
    }
}

/// Sends one message through its platform (see [`send`] for what each adapter does). Kinds
/// without a platform send API here answer a permanent `unsupported` outcome.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    match msg.kind {
        ChannelKind::Whatsapp => whatsapp::send(http, msg).await,
        ChannelKind::Messenger => messenger::send(http, msg).await,
        ChannelKind::Instagram => instagram::send(http, msg).await,
        ChannelKind::X => x::send(http, msg).await,
        ChannelKind::Line => line::send(http, msg).await,
        ChannelKind::Wechat => wechat::send(http, msg).await,
        ChannelKind::Telegram => telegram::send(http, msg).await,
        ChannelKind::Twilio => twilio::send(http, msg).await,
        ChannelKind::Dialpad => dialpad::send(http, msg).await,
        ChannelKind::Justcall => justcall::send(http, msg).await,
        ChannelKind::Shopee => shopee::send(http, msg).await,
        ChannelKind::Lazada => lazada::send(http, msg).await,
        ChannelKind::Email | ChannelKind::Widget | ChannelKind::Api => SendOutcome::permanent(
            "unsupported",
            format!("Switchboard cannot deliver {} messages yet: answer this customer on another line", msg.kind),
        ),
    }
}
