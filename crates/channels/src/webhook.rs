//! What every adapter takes and gives: the platform's HTTP request as plain data, and what to
//! store and answer. Pure: the HTTP layer fills a [`WebhookRequest`] and acts on the result.

use switchboard_domain::{ChannelKind, InboundEvent};

use crate::ChannelError;

/// The HTTP method of a webhook call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Verification handshakes (Meta `hub.challenge`, X CRC, WeChat `echostr`).
    Get,
    Post,
}

/// A platform's call, as received.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub method: Method,
    /// The full URL the platform called: `SWITCHBOARD_PUBLIC_URL` + path + `?query` (Twilio signs it).
    pub url: &'a str,
    /// Decoded query parameters, in order.
    pub query: &'a [(String, String)],
    /// Headers with lowercase names.
    pub headers: &'a [(String, String)],
    /// The raw body: signatures are computed over these exact bytes.
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    /// The first header of that (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first query parameter of that name.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What to answer the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200 with an empty body.
    Empty,
    /// 200 `text/plain` (Meta's `hub.challenge`, WeChat's `success` or `echostr`).
    Text(String),
    /// 200 `application/xml` (Twilio's empty TwiML, WeChat passive replies).
    Xml(String),
    /// 200 `application/json` (X's CRC response).
    Json(serde_json::Value),
}

/// Events for one line. One Meta callback can carry entries for several of the business's
/// lines, and of several kinds; `business_id` names the line by its platform id
/// (`phone_number_id`, page id, Instagram account id). `None` means the line in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEvents {
    pub kind: ChannelKind,
    pub business_id: Option<String>,
    pub events: Vec<InboundEvent>,
}

/// An authenticated, parsed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub lines: Vec<LineEvents>,
    pub answer: Answer,
}

impl Parsed {
    /// A handshake or a delivery with nothing to store.
    pub fn answer_only(answer: Answer) -> Self {
        Self { lines: Vec::new(), answer }
    }

    /// Events for the line in the URL.
    pub fn for_url_line(kind: ChannelKind, events: Vec<InboundEvent>, answer: Answer) -> Self {
        Self { lines: vec![LineEvents { kind, business_id: None, events }], answer }
    }
}

/// The account's secrets, as stored.
pub type Secrets = serde_json::Map<String, serde_json::Value>;

/// A secret the account must have.
pub fn secret<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, ChannelError> {
    secrets.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).ok_or(ChannelError::MissingSecret(name))
}
