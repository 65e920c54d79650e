//! Sending: what the outbox worker hands an adapter, and what the adapter reports back.
//!
//! Each platform module exports
//! `pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome`,
//! which builds the platform's documented request, calls `msg.api_base_url`, and classifies the
//! answer. Adapters never retry: the worker decides when to try again, from the outcome.

use std::time::Duration;

use switchboard_domain::{Attachment, ChannelKind, MessageTag};

use crate::webhook::Secrets;

/// Where an outbound message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The customer's private chat: `recipient` is their platform id on the line (wa_id, PSID,
    /// IGSID, X user id, LINE userId, OpenID, Telegram chat id, E.164 number, buyer id…).
    Direct { recipient: &'a str },
    /// A group chat or room (LINE group/room, Telegram group): `chat` is its id.
    Group { chat: &'a str },
    /// A public reply under a comment, post, tweet or review: `reply_to` is the platform id of
    /// the comment/tweet answered (the platform message id of the inbound item).
    PublicReply { reply_to: &'a str },
    /// The one private reply to a public comment (Facebook, Instagram): `comment` is its id.
    PrivateReply { comment: &'a str },
}

/// A WhatsApp template send: the approved template's name and language, with the positional
/// body parameters `{{1}}`, `{{2}}`… in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateSend<'a> {
    pub name: &'a str,
    pub language: &'a str,
    pub parameters: &'a [String],
}

/// Everything needed to send one message through one line.
#[derive(Debug, Clone, Copy)]
pub struct OutboundMessage<'a> {
    pub kind: ChannelKind,
    /// The line's platform id (phone_number_id, page id, IG account id, X user id, SMS number,
    /// shop id…): the sender.
    pub business_id: &'a str,
    pub secrets: &'a Secrets,
    /// The API address to call, without a trailing slash: the account's `api_base_url`, else
    /// the platform's default ([`default_api_base`]); tests and the demo point it at fakes.
    pub api_base_url: &'a str,
    pub target: Target<'a>,
    pub body: Option<&'a str>,
    /// Attachments to send by URL (platforms that take media links) or media id.
    pub attachments: &'a [Attachment],
    pub template: Option<TemplateSend<'a>>,
    /// A tag the reply rules require (Messenger/Instagram HUMAN_AGENT between 24 h and 7 days).
    pub tag: Option<MessageTag>,
    /// LINE: a reply token still valid for this conversation; otherwise push.
    pub reply_token: Option<&'a str>,
    /// Unique per logical send, the same on every retry (the outbox row id): sent as the
    /// platform's idempotency key where it has one (LINE `X-Line-Retry-Key`).
    pub idempotency_key: &'a str,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The platform accepted the message; its id, when it gives one, is what later receipts name.
    Accepted { platform_message_id: Option<String> },
    /// Worth trying again later: a timeout, a connection error, a 5xx, a rate limit. `retry_after`
    /// is the platform's own advice (429 Retry-After, Telegram `retry_after`).
    Transient { reason: String, retry_after: Option<Duration> },
    /// Will never succeed as it is: the platform's code and text are shown to the agent.
    Permanent { code: String, message: String },
    /// The request left but no answer came back (a timeout, a connection cut mid-way): the
    /// platform may have accepted it. Retrying is only safe where the platform de-duplicates.
    Unconfirmed { reason: String },
}

impl SendOutcome {
    pub fn permanent(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Permanent { code: code.into(), message: message.into() }
    }

    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient { reason: reason.into(), retry_after: None }
    }

    /// Classifies a transport-level failure (no HTTP answer): transient if the connection was
    /// never made, unconfirmed if the request may have reached the platform.
    pub fn from_transport(err: &reqwest::Error) -> Self {
        let reason = if err.is_timeout() { "the platform did not answer in time".into() } else { err.to_string() };
        if err.is_connect() { Self::transient(reason) } else { Self::Unconfirmed { reason } }
    }

    /// For calls that only read (media, template lists), an unconfirmed outcome is merely
    /// transient: asking again changes nothing on the platform.
    pub fn for_reads(self) -> Self {
        match self {
            Self::Unconfirmed { reason } => Self::transient(reason),
            other => other,
        }
    }
}

/// A secret the call needs; without it, a permanent `missing_secret` that names the platform.
pub fn need_secret<'a>(secrets: &'a Secrets, name: &'static str, platform: &str) -> Result<&'a str, SendOutcome> {
    crate::webhook::secret(secrets, name)
        .map_err(|_| SendOutcome::permanent("missing_secret", format!("the {platform} account has no `{name}` secret")))
}

/// What the platform cannot do at all: a permanent `unsupported`, said in words.
pub fn unsupported(message: impl Into<String>) -> SendOutcome {
    SendOutcome::permanent("unsupported", message)
}

/// The number an SMS provider sends to: only direct targets, no templates, a number present.
pub fn sms_recipient<'a>(msg: &OutboundMessage<'a>, provider: &str) -> Result<&'a str, SendOutcome> {
    let to = match msg.target {
        Target::Direct { recipient } => recipient.trim(),
        Target::Group { .. } => {
            return Err(unsupported(format!("{provider} SMS has no group chats: send to one number")));
        }
        Target::PublicReply { .. } | Target::PrivateReply { .. } => {
            return Err(unsupported("SMS has no comments to reply to"));
        }
    };
    if msg.template.is_some() {
        return Err(unsupported(format!("{provider} SMS has no templates: send the text itself")));
    }
    if to.is_empty() {
        return Err(SendOutcome::permanent("invalid_recipient", "no phone number to send to"));
    }
    Ok(to)
}

/// The platform's own API address for `kind` (no trailing slash).
pub fn default_api_base(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Whatsapp | ChannelKind::Messenger => "https://graph.facebook.com/v21.0",
        ChannelKind::Instagram => "https://graph.instagram.com/v21.0",
        ChannelKind::X => "https://api.x.com",
        ChannelKind::Line => "https://api.line.me",
        ChannelKind::Wechat => "https://api.weixin.qq.com",
        ChannelKind::Telegram => "https://api.telegram.org",
        ChannelKind::Twilio => "https://api.twilio.com",
        ChannelKind::Dialpad => "https://dialpad.com",
        ChannelKind::Justcall => "https://api.justcall.io",
        ChannelKind::Shopee => "https://partner.shopeemobile.com",
        ChannelKind::Lazada => "https://api.lazada.com/rest",
        ChannelKind::Email | ChannelKind::Widget | ChannelKind::Api => "",
    }
}

/// The common part of classifying an HTTP answer: 429 and 5xx are transient (with the
/// Retry-After seconds when given); `None` lets the adapter read the platform's error body.
pub fn classify_status(status: u16, retry_after: Option<&str>) -> Option<SendOutcome> {
    match status {
        429 => Some(SendOutcome::Transient {
            reason: "the platform asked us to slow down (429)".into(),
            retry_after: retry_after.and_then(|s| s.trim().parse().ok()).map(Duration::from_secs),
        }),
        500..=599 => Some(SendOutcome::transient(format!("the platform failed ({status})"))),
        _ => None,
    }
}

/// How long one call to a platform may take before it counts as a (transient) timeout.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// The HTTP client every outbound call uses: rustls with the ring provider, with timeouts.
pub fn http_client() -> reqwest::Client {
    http_client_with_timeout(SEND_TIMEOUT)
}

/// As [`http_client`], giving up on a call after `timeout`.
pub fn http_client_with_timeout(timeout: Duration) -> reqwest::Client {
    // Installing twice is harmless: the second attempt reports the first provider and is ignored.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A platform's answer to one call.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// Makes one call and reads the whole answer. No answer at all (a timeout, a refused
/// connection) is already the transient outcome.
pub async fn call(request: reqwest::RequestBuilder) -> Result<Reply, SendOutcome> {
    let response = request.send().await.map_err(|e| SendOutcome::from_transport(&e.without_url()))?;
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.bytes().await.map_err(|e| SendOutcome::from_transport(&e.without_url()))?;
    Ok(Reply { status, retry_after, body: body.to_vec() })
}
