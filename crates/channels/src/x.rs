//! X (Twitter) Account Activity API webhooks (`GET/POST /webhooks/x/{account_id}`).
//!
//! - `GET ?crc_token=…` is X's challenge-response check: we answer
//!   `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, crc_token))}`.
//! - `POST` deliveries are signed with `x-twitter-webhooks-signature: sha256=<base64 of the same HMAC over the raw
//!   body>`.
//!
//! One delivery is the activity of one subscribed account, `for_user_id` (the business's X user id):
//! - `direct_message_events` of type `message_create`: written by someone else → [`InboundEvent::Message`] in the
//!   direct conversation with the sender; written by the business itself (in the X app, or our own send coming
//!   back) → [`InboundEvent::Echo`] with the recipient as sender. Keyed by the DM event id.
//! - `tweet_create_events` (mentions, replies, quotes): a public thread keyed by the conversation's root. The
//!   AAA payload does not carry the conversation id, so the root is the tweet replied to, or the tweet itself for
//!   a fresh mention (a `conversation_id_str`, if X ever sends one, wins). Tweets by the business are echoes;
//!   retweets are skipped (nobody said anything). Keyed by `id_str`.
//! - `tweet_delete_events` → [`InboundEvent::Removed`]; `direct_message_mark_read_events` by a customer →
//!   [`InboundEvent::ReadUpTo`]. Both shapes are not in our digest's examples, so entries that lack a field are
//!   skipped rather than refused.
//! - Everything else (favorites, follows, blocks, mutes, typing indicators, revocations) is skipped.

use serde::Deserialize;
use subtle::ConstantTimeEq;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::ChannelError;
use crate::send::{OutboundMessage, SendOutcome, Target as SendTarget, classify_status};
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

/// The header that carries the signature of a POST.
pub const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// `"sha256=" + base64(HMAC-SHA256(consumer_secret, message))`: the CRC response token and the POST signature.
pub fn sign(consumer_secret: &str, message: &[u8]) -> String {
    format!("sha256={}", crate::signature::hmac_sha256_base64(consumer_secret.as_bytes(), message))
}

/// Checks the `x-twitter-webhooks-signature` header against the raw body, in constant time.
pub fn verify(consumer_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), ChannelError> {
    let given = header.ok_or_else(|| ChannelError::Unauthenticated("missing x-twitter-webhooks-signature".into()))?;
    if !given.trim().starts_with("sha256=") {
        return Err(ChannelError::Unauthenticated("x-twitter-webhooks-signature must be sha256=<base64>".into()));
    }
    let expected = sign(consumer_secret, body);
    if bool::from(expected.as_bytes().ct_eq(given.trim().as_bytes())) {
        Ok(())
    } else {
        Err(ChannelError::Unauthenticated("x-twitter-webhooks-signature does not match the body".into()))
    }
}

/// The answer to a challenge-response check.
///
/// The CRC signs whatever token it is given with the same key as the POST signatures, so an unchecked CRC would
/// sign forged bodies for anyone who asks. Every body we accept is a JSON object, and no JSON object can be
/// written without braces: a token with a brace or a quote (which X never sends) is refused.
pub fn crc_response(consumer_secret: &str, crc_token: &str) -> Result<Answer, ChannelError> {
    if crc_token.is_empty() || crc_token.chars().any(|c| matches!(c, '{' | '}' | '"') || c.is_control()) {
        return Err(ChannelError::Unauthenticated("not a crc_token X would send".into()));
    }
    Ok(Answer::Json(serde_json::json!({ "response_token": sign(consumer_secret, crc_token.as_bytes()) })))
}

/// Verifies and parses one webhook call (a CRC, or a delivery).
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let consumer_secret = secret(secrets, "consumer_secret")?;
    if req.method == Method::Get {
        let token =
            req.query_param("crc_token").ok_or_else(|| ChannelError::Unauthenticated("missing crc_token".into()))?;
        return crc_response(consumer_secret, token).map(Parsed::answer_only);
    }
    verify(consumer_secret, req.body, req.header(SIGNATURE_HEADER))?;
    let (for_user_id, events) = parse(req.body)?;
    if events.is_empty() {
        return Ok(Parsed::answer_only(ack()));
    }
    Ok(Parsed {
        lines: vec![LineEvents { kind: ChannelKind::X, business_id: Some(for_user_id), events }],
        answer: ack(),
    })
}

/// What to answer for an authenticated body we could not parse: X only wants a 200 within three seconds.
pub fn ack() -> Answer {
    Answer::Empty
}

/// An id X sends as a string, or (in v1.1 objects) as a number.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Id {
    Text(String),
    Unsigned(u64),
    Signed(i64),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Text(s) => s.trim().to_owned(),
            Id::Unsigned(n) => n.to_string(),
            Id::Signed(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct Activity {
    for_user_id: Id,
    /// Each kept raw: an item of a type we do not handle is skipped without its shape being checked.
    direct_message_events: Option<Vec<serde_json::Value>>,
    tweet_create_events: Option<Vec<serde_json::Value>>,
    tweet_delete_events: Option<Vec<serde_json::Value>>,
    direct_message_mark_read_events: Option<Vec<serde_json::Value>>,
    /// Profiles of the people in `direct_message_events`, by user id.
    users: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct DmEvent {
    id: Id,
    /// Milliseconds since the epoch, as a string.
    created_timestamp: Option<Id>,
    message_create: MessageCreate,
}

#[derive(Deserialize)]
struct MessageCreate {
    sender_id: Id,
    target: Target,
    #[serde(default)]
    message_data: MessageData,
}

#[derive(Deserialize)]
struct Target {
    recipient_id: Id,
}

#[derive(Deserialize, Default)]
struct MessageData {
    text: Option<String>,
    entities: Option<Entities>,
    attachment: Option<DmAttachment>,
}

#[derive(Deserialize, Default)]
struct Entities {
    urls: Option<Vec<UrlEntity>>,
    media: Option<Vec<Media>>,
}

#[derive(Deserialize)]
struct UrlEntity {
    url: Option<String>,
    expanded_url: Option<String>,
}

#[derive(Deserialize)]
struct DmAttachment {
    media: Option<Media>,
}

#[derive(Deserialize)]
struct Media {
    id_str: Option<String>,
    id: Option<Id>,
    #[serde(rename = "type")]
    kind: Option<String>,
    media_url_https: Option<String>,
    /// The t.co link X appends to the text for the media.
    url: Option<String>,
}

#[derive(Deserialize)]
struct Tweet {
    id_str: Option<String>,
    id: Option<Id>,
    text: Option<String>,
    full_text: Option<String>,
    extended_tweet: Option<ExtendedTweet>,
    user: TweetUser,
    in_reply_to_status_id_str: Option<String>,
    in_reply_to_user_id_str: Option<String>,
    in_reply_to_screen_name: Option<String>,
    conversation_id_str: Option<String>,
    retweeted_status: Option<serde_json::Value>,
    entities: Option<Entities>,
    extended_entities: Option<Entities>,
    /// `Thu Jan 01 00:10:00 +0000 2026`
    created_at: Option<String>,
    /// Milliseconds since the epoch, as a string.
    timestamp_ms: Option<Id>,
}

#[derive(Deserialize)]
struct ExtendedTweet {
    full_text: Option<String>,
    entities: Option<Entities>,
    extended_entities: Option<Entities>,
}

#[derive(Deserialize)]
struct TweetUser {
    id_str: Option<String>,
    id: Option<Id>,
    name: Option<String>,
    screen_name: Option<String>,
    profile_image_url_https: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn from_ms(ms: &Id, what: &str) -> Result<OffsetDateTime, ChannelError> {
    let bad = || ChannelError::Malformed(format!("{what}: milliseconds since the epoch"));
    let ms: i64 = ms.text().parse().map_err(|_| bad())?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|_| bad())
}

fn from_created_at(s: &str) -> Result<OffsetDateTime, ChannelError> {
    let format = format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] \
         [offset_hour sign:mandatory][offset_minute] [year]"
    );
    OffsetDateTime::parse(s, format).map_err(|_| ChannelError::Malformed(format!("created_at {s:?} is not X's date")))
}

/// A user as the `users` map of a DM delivery describes them (only the id when the map lacks them).
fn dm_user(users: &serde_json::Map<String, serde_json::Value>, id: String) -> InboundSender {
    let profile = users.get(&id);
    let field = |name: &str| non_empty(profile.and_then(|p| p.get(name)).and_then(|v| v.as_str()).map(str::to_owned));
    InboundSender {
        name: field("name"),
        username: field("screen_name"),
        avatar_url: field("profile_image_url_https"),
        external_id: id,
        ..InboundSender::default()
    }
}

/// The text with t.co links expanded and the links that only stand for an attachment removed.
fn readable(text: Option<String>, entities: &[&Entities]) -> Option<String> {
    let mut text = text?;
    for entities in entities {
        for url in entities.urls.iter().flatten() {
            if let (Some(short), Some(long)) = (&url.url, &url.expanded_url)
                && !short.is_empty()
            {
                text = text.replace(short.as_str(), long);
            }
        }
        for media in entities.media.iter().flatten() {
            if let Some(short) = media.url.as_deref().filter(|s| !s.is_empty()) {
                text = text.replace(short, "");
            }
        }
    }
    non_empty(Some(text))
}

fn media_attachment(media: &Media) -> Attachment {
    let kind = match media.kind.as_deref() {
        Some("photo") | None => "image",
        Some("video" | "animated_gif") => "video",
        Some(other) => other,
    };
    Attachment {
        kind: kind.to_owned(),
        url: non_empty(media.media_url_https.clone()),
        media_id: non_empty(media.id_str.clone()).or_else(|| media.id.as_ref().map(Id::text)),
        mime_type: None,
        filename: None,
    }
}

fn dm_event(
    raw: serde_json::Value,
    index: usize,
    business: &str,
    users: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<InboundEvent>, ChannelError> {
    if raw.get("type").and_then(|t| t.as_str()) != Some("message_create") {
        return Ok(None);
    }
    let event: DmEvent = serde_json::from_value(raw)
        .map_err(|e| ChannelError::Malformed(format!("direct_message_events[{index}]: {e}")))?;
    let id = event.id.text();
    let sender_id = event.message_create.sender_id.text();
    let recipient_id = event.message_create.target.recipient_id.text();
    if id.is_empty() || sender_id.is_empty() || recipient_id.is_empty() {
        return Err(ChannelError::Malformed(format!("direct_message_events[{index}] lacks an id")));
    }
    let sent_at = event
        .created_timestamp
        .as_ref()
        .map(|ms| from_ms(ms, &format!("direct_message_events[{index}].created_timestamp")))
        .transpose()?;
    let data = event.message_create.message_data;
    let mut entities = data.entities.unwrap_or_default();
    let attachments: Vec<Attachment> = data
        .attachment
        .and_then(|a| a.media)
        .map(|media| {
            let attachment = media_attachment(&media);
            entities.media.get_or_insert_with(Vec::new).push(media);
            attachment
        })
        .into_iter()
        .collect();
    let body = readable(data.text, &[&entities]);
    let own = sender_id == business;
    let item = InboundItem {
        platform_message_id: id,
        // An echo is filed under the customer it went to.
        sender: dm_user(users, if own { recipient_id } else { sender_id }),
        thread: ThreadRef::Direct { key: None },
        body,
        attachments,
        sent_at,
    };
    Ok(Some(if own { InboundEvent::Echo(item) } else { InboundEvent::Message(item) }))
}

fn tweet_event(raw: serde_json::Value, index: usize, business: &str) -> Result<Option<InboundEvent>, ChannelError> {
    let tweet: Tweet = serde_json::from_value(raw)
        .map_err(|e| ChannelError::Malformed(format!("tweet_create_events[{index}]: {e}")))?;
    if tweet.retweeted_status.is_some() {
        return Ok(None);
    }
    let missing = |what: &str| ChannelError::Malformed(format!("tweet_create_events[{index}] lacks {what}"));
    let id = non_empty(tweet.id_str).or_else(|| tweet.id.as_ref().map(Id::text)).ok_or_else(|| missing("id_str"))?;
    let author_id = non_empty(tweet.user.id_str)
        .or_else(|| tweet.user.id.as_ref().map(Id::text))
        .ok_or_else(|| missing("user.id_str"))?;
    let sent_at = match (&tweet.timestamp_ms, &tweet.created_at) {
        (Some(ms), _) => Some(from_ms(ms, &format!("tweet_create_events[{index}].timestamp_ms"))?),
        (None, Some(created_at)) => Some(from_created_at(created_at)?),
        (None, None) => None,
    };
    let replied_to = non_empty(tweet.in_reply_to_status_id_str);
    let root_id = non_empty(tweet.conversation_id_str).or(replied_to).unwrap_or_else(|| id.clone());
    // A long tweet's text and entities are in `extended_tweet`; media lists are fuller in `extended_entities`.
    let (text, entities, extended) = match tweet.extended_tweet {
        Some(ext) if ext.full_text.is_some() => (ext.full_text, ext.entities, ext.extended_entities),
        _ => (tweet.full_text.or(tweet.text), tweet.entities, tweet.extended_entities),
    };
    let media = extended.as_ref().and_then(|e| e.media.as_ref()).or(entities.as_ref().and_then(|e| e.media.as_ref()));
    let attachments = media.iter().flat_map(|m| m.iter()).map(media_attachment).collect();
    let body = readable(text, &[entities.as_ref(), extended.as_ref()].into_iter().flatten().collect::<Vec<_>>());
    let own = author_id == business;
    let sender = match non_empty(tweet.in_reply_to_user_id_str) {
        // The business answering someone: filed under the person it answered.
        Some(customer) if own && customer != business => InboundSender {
            external_id: customer,
            username: non_empty(tweet.in_reply_to_screen_name),
            ..InboundSender::default()
        },
        _ => InboundSender {
            external_id: author_id,
            name: non_empty(tweet.user.name),
            username: non_empty(tweet.user.screen_name),
            avatar_url: non_empty(tweet.user.profile_image_url_https),
            ..InboundSender::default()
        },
    };
    let item = InboundItem {
        platform_message_id: id,
        sender,
        thread: ThreadRef::Public { root_id, title: None },
        body,
        attachments,
        sent_at,
    };
    Ok(Some(if own { InboundEvent::Echo(item) } else { InboundEvent::Message(item) }))
}

fn str_at(value: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut value = value;
    for key in path {
        value = value.get(key)?;
    }
    match value {
        serde_json::Value::String(s) => non_empty(Some(s.clone())),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{"status": {"id": "…", "user_id": "…"}, "timestamp_ms": "…"}`
fn tweet_delete(raw: &serde_json::Value) -> Option<InboundEvent> {
    let platform_message_id = str_at(raw, &["status", "id"])?;
    let at = from_ms(&Id::Text(str_at(raw, &["timestamp_ms"])?), "timestamp_ms").ok()?;
    Some(InboundEvent::Removed { platform_message_id, at })
}

/// `{"created_timestamp": "…", "sender_id": "<who read>", "target": {"recipient_id": "…"}, "last_read_event_id": "…"}`
fn mark_read(raw: &serde_json::Value, business: &str) -> Option<InboundEvent> {
    let customer = str_at(raw, &["sender_id"]).filter(|reader| reader != business)?;
    let up_to = from_ms(&Id::Text(str_at(raw, &["created_timestamp"])?), "created_timestamp").ok()?;
    Some(InboundEvent::ReadUpTo { customer, thread_key: None, up_to })
}

/// Parses a delivery into the business's user id (`for_user_id`) and the events, in order.
pub fn parse(body: &[u8]) -> Result<(String, Vec<InboundEvent>), ChannelError> {
    let activity: Activity = serde_json::from_slice(body)
        .map_err(|e| ChannelError::Malformed(format!("not an Account Activity delivery: {e}")))?;
    let business = activity.for_user_id.text();
    if business.is_empty() {
        return Err(ChannelError::Malformed("for_user_id is empty".into()));
    }
    let users = activity.users.unwrap_or_default();
    let mut events = Vec::new();
    for (index, raw) in activity.direct_message_events.into_iter().flatten().enumerate() {
        events.extend(dm_event(raw, index, &business, &users)?);
    }
    for (index, raw) in activity.tweet_create_events.into_iter().flatten().enumerate() {
        events.extend(tweet_event(raw, index, &business)?);
    }
    events.extend(activity.tweet_delete_events.iter().flatten().filter_map(tweet_delete));
    events
        .extend(activity.direct_message_mark_read_events.iter().flatten().filter_map(|raw| mark_read(raw, &business)));
    Ok((business, events))
}

// ---------------------------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------------------------

/// The most media a tweet may carry (a DM carries one).
pub const MAX_TWEET_MEDIA: usize = 4;

/// Sends one outbound message as the account whose user access token the line holds (the token decides who
/// sends; `business_id` is not part of the request):
/// - [`SendTarget::Direct`] → a DM, `POST /2/dm_conversations/with/{participant_id}/messages`, id `dm_event_id`;
/// - [`SendTarget::PublicReply`] → a reply tweet, `POST /2/tweets` with `reply.in_reply_to_tweet_id`, id `data.id`.
///
/// X takes media only as ids uploaded by the same user (one per DM, up to four per tweet); an attachment that
/// only has a URL is refused. A 403 (the recipient does not accept DMs from us, or blocked us) is permanent; a
/// 429 is transient until `x-rate-limit-reset`.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let Ok(token) = secret(msg.secrets, "access_token") else {
        return SendOutcome::permanent("missing_secret", "the X line has no access_token secret");
    };
    if msg.template.is_some() {
        return SendOutcome::permanent("unsupported", "X has no message templates (they are WhatsApp's)");
    }
    let text = msg.body.filter(|b| !b.trim().is_empty());
    let mut media_ids = Vec::new();
    for attachment in msg.attachments {
        match attachment.media_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
            Some(id) => media_ids.push(id),
            None => {
                return SendOutcome::permanent(
                    "unsupported",
                    "X needs uploaded media: this attachment has only a URL (share it as a link in the text)",
                );
            }
        }
    }
    if text.is_none() && media_ids.is_empty() {
        return SendOutcome::permanent("empty_message", "nothing to send: no text and no attachment");
    }
    let base = msg.api_base_url.trim_end_matches('/');
    let (url, body) = match msg.target {
        SendTarget::Direct { recipient } => {
            let recipient = recipient.trim();
            if recipient.is_empty() {
                return SendOutcome::permanent("invalid_recipient", "the X user id is empty");
            }
            if media_ids.len() > 1 {
                return SendOutcome::permanent(
                    "unsupported",
                    "an X DM carries one attachment: send the others separately",
                );
            }
            let mut body = serde_json::Map::new();
            if let Some(text) = text {
                body.insert("text".into(), text.into());
            }
            if let Some(id) = media_ids.first() {
                body.insert("attachments".into(), serde_json::json!([{ "media_id": id }]));
            }
            (format!("{base}/2/dm_conversations/with/{}/messages", path_segment(recipient)), body)
        }
        SendTarget::PublicReply { reply_to } => {
            if media_ids.len() > MAX_TWEET_MEDIA {
                return SendOutcome::permanent(
                    "unsupported",
                    format!("a tweet carries at most {MAX_TWEET_MEDIA} media"),
                );
            }
            let mut body = serde_json::Map::new();
            if let Some(text) = text {
                body.insert("text".into(), text.into());
            }
            if !media_ids.is_empty() {
                body.insert("media".into(), serde_json::json!({ "media_ids": media_ids }));
            }
            body.insert("reply".into(), serde_json::json!({ "in_reply_to_tweet_id": reply_to.trim() }));
            (format!("{base}/2/tweets"), body)
        }
        SendTarget::Group { .. } => {
            return SendOutcome::permanent("unsupported", "X has no group chats we can send to");
        }
        SendTarget::PrivateReply { .. } => {
            return SendOutcome::permanent("unsupported", "X has no private replies to tweets: send a DM instead");
        }
    };
    let response = match http.post(url).bearer_auth(token).json(&body).send().await {
        Ok(response) => response,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (retry_after, reset) = (header("retry-after"), header("x-rate-limit-reset"));
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    outcome(status, retry_after.as_deref(), reset.as_deref(), OffsetDateTime::now_utc(), &bytes)
}

/// Percent-encodes one path segment (X ids are digits; anything else must not change the path).
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Classifies X's answer: `{"data": {...}}` on success; errors are problem documents (`title`, `detail`,
/// `status`, `type`) or `{"errors": [{"code", "message"}]}` (v1.1-style codes such as 349 "You cannot send
/// messages to this user").
fn outcome(
    status: u16,
    retry_after: Option<&str>,
    reset: Option<&str>,
    now: OffsetDateTime,
    bytes: &[u8],
) -> SendOutcome {
    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let text = |v: &serde_json::Value| {
        v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())).filter(|s| !s.trim().is_empty())
    };
    if (200..300).contains(&status) {
        let id = ["/data/dm_event_id", "/data/id"].iter().find_map(|p| body.pointer(p).and_then(text));
        return SendOutcome::Accepted { platform_message_id: id };
    }
    if status == 429 {
        // `x-rate-limit-reset` is when the window reopens, in epoch seconds.
        let until_reset = reset
            .and_then(|r| r.trim().parse::<i64>().ok())
            .map(|at| at.saturating_sub(now.unix_timestamp()).clamp(1, 24 * 3600))
            .and_then(|s| u64::try_from(s).ok())
            .map(std::time::Duration::from_secs);
        return match (until_reset, classify_status(429, retry_after)) {
            (Some(wait), _) => {
                SendOutcome::Transient { reason: "X rate limit reached (429)".into(), retry_after: Some(wait) }
            }
            (None, Some(advised)) => advised,
            (None, None) => SendOutcome::transient("X rate limit reached (429)"),
        };
    }
    if let Some(transient) = classify_status(status, retry_after) {
        return transient;
    }
    let first_error = body.pointer("/errors/0");
    let code = first_error.and_then(|e| e.get("code")).and_then(text).unwrap_or_else(|| status.to_string());
    let summary = ["detail", "title"].iter().find_map(|k| body.get(*k).and_then(text));
    let specific = first_error.and_then(|e| e.get("message").or_else(|| e.get("detail"))).and_then(text);
    let message = match (summary, specific) {
        (Some(summary), Some(specific)) if summary != specific => format!("{summary} ({specific})"),
        (Some(one), _) | (None, Some(one)) => one,
        (None, None) => {
            let raw: String = String::from_utf8_lossy(bytes).chars().take(300).collect();
            if raw.trim().is_empty() { format!("X answered {status}") } else { raw }
        }
    };
    SendOutcome::permanent(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "helpdesk-test-consumer-secret";
    const BUSINESS: &str = "4400000000000000001";
    const SAM: &str = "4400000000000000777";

    const CRC: &str = include_str!("../../../fixtures/channels/x/crc_exchange.txt");
    const DM_RECEIVED: &str = include_str!("../../../fixtures/channels/x/dm_received.json");
    const DM_ECHO: &str = include_str!("../../../fixtures/channels/x/dm_sent_echo.json");
    const MENTION: &str = include_str!("../../../fixtures/channels/x/mention_tweet.json");

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.insert("consumer_secret".into(), SECRET.into());
        s.insert("access_token".into(), "user-token".into());
        s
    }

    fn post(body: &[u8], headers: &[(String, String)], secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let req =
            WebhookRequest { method: Method::Post, url: "https://sb.test/webhooks/x/1", query: &[], headers, body };
        handle(&req, secrets)
    }

    fn get(query: &[(String, String)], secrets: &Secrets) -> Result<Parsed, ChannelError> {
        let req =
            WebhookRequest { method: Method::Get, url: "https://sb.test/webhooks/x/1", query, headers: &[], body: b"" };
        handle(&req, secrets)
    }

    fn signed(body: &str) -> Result<Parsed, ChannelError> {
        post(body.as_bytes(), &[(SIGNATURE_HEADER.into(), sign(SECRET, body.as_bytes()))], &secrets())
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        let parsed = signed(body).unwrap();
        assert_eq!(parsed.answer, Answer::Empty);
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::X);
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some(BUSINESS));
        parsed.lines.into_iter().flat_map(|l| l.events).collect()
    }

    fn ms(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
    }

    /// The value after `label` in the CRC exchange file.
    fn from_crc_file(label: &str) -> &'static str {
        CRC.lines().find_map(|l| l.trim().strip_prefix(label)).unwrap().trim()
    }

    fn sam() -> InboundSender {
        InboundSender {
            external_id: SAM.into(),
            name: Some("Sam Porter".into()),
            username: Some("samp_demo".into()),
            avatar_url: None,
            ..InboundSender::default()
        }
    }

    #[test]
    fn the_crc_exchange_example_is_answered_with_the_expected_response_token() {
        assert_eq!(from_crc_file("Consumer secret (test value):"), SECRET);
        let token = from_crc_file("GET /webhooks/x?crc_token=").trim_end_matches(" HTTP/1.1");
        assert_eq!(token, "crc-0001-test");
        let expected: serde_json::Value =
            serde_json::from_str(CRC.lines().find(|l| l.contains("response_token")).unwrap()).unwrap();
        let parsed = get(&[("crc_token".into(), token.into())], &secrets()).unwrap();
        assert_eq!(parsed, Parsed::answer_only(Answer::Json(expected.clone())));
        assert_eq!(expected["response_token"], "sha256=wwP1BcxZgX8+021IQ1DvOOWIhGFhPl9q5GgBQDZViVI=");
    }

    #[test]
    fn a_crc_without_a_token_or_with_a_json_token_is_refused() {
        assert!(matches!(get(&[], &secrets()), Err(ChannelError::Unauthenticated(_))));
        // Answering would hand out a valid signature for that body.
        let forged = format!(r#"{{"for_user_id":"{BUSINESS}"}}"#);
        assert!(matches!(get(&[("crc_token".into(), forged)], &secrets()), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn the_post_signature_test_vector_verifies() {
        let header = from_crc_file("x-twitter-webhooks-signature:");
        assert_eq!(sign(SECRET, DM_RECEIVED.as_bytes()), header);
        let parsed = post(DM_RECEIVED.as_bytes(), &[(SIGNATURE_HEADER.into(), header.into())], &secrets()).unwrap();
        assert_eq!(parsed.lines[0].events.len(), 1);
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let header = from_crc_file("x-twitter-webhooks-signature:");
        let tampered = DM_RECEIVED.replace("7781", "7782");
        let err = post(tampered.as_bytes(), &[(SIGNATURE_HEADER.into(), header.into())], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_signature_made_with_another_secret_or_without_its_prefix_is_refused() {
        let other = sign("another-secret", DM_RECEIVED.as_bytes());
        let bare = sign(SECRET, DM_RECEIVED.as_bytes()).trim_start_matches("sha256=").to_owned();
        for header in [other, bare] {
            let err = post(DM_RECEIVED.as_bytes(), &[(SIGNATURE_HEADER.into(), header)], &secrets()).unwrap_err();
            assert!(matches!(err, ChannelError::Unauthenticated(_)));
        }
    }

    #[test]
    fn a_post_without_the_signature_header_is_refused() {
        let err = post(DM_RECEIVED.as_bytes(), &[], &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("missing")));
    }

    #[test]
    fn an_account_without_a_consumer_secret_cannot_check_anything() {
        let header = from_crc_file("x-twitter-webhooks-signature:");
        let err =
            post(DM_RECEIVED.as_bytes(), &[(SIGNATURE_HEADER.into(), header.into())], &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("consumer_secret"));
        let err = get(&[("crc_token".into(), "crc-0001-test".into())], &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("consumer_secret"));
    }

    #[test]
    fn a_received_dm_is_a_direct_message_from_the_sender_with_their_profile() {
        assert_eq!(
            events(DM_RECEIVED),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "1880000000000000501".into(),
                sender: InboundSender {
                    avatar_url: Some("https://pbs.twimg.com/profile_images/0/test_normal.jpg".into()),
                    ..sam()
                },
                thread: ThreadRef::Direct { key: None },
                body: Some("Hi, my refund for order 7781 has not arrived.".into()),
                attachments: vec![],
                sent_at: Some(ms(1_767_225_600_123)),
            })]
        );
    }

    #[test]
    fn a_dm_the_business_sent_is_an_echo_filed_under_the_recipient() {
        assert_eq!(
            events(DM_ECHO),
            vec![InboundEvent::Echo(InboundItem {
                platform_message_id: "1880000000000000502".into(),
                sender: sam(),
                thread: ThreadRef::Direct { key: None },
                body: Some("Hi Sam, we have refunded order 7781.".into()),
                attachments: vec![],
                sent_at: Some(ms(1_767_225_700_456)),
            })]
        );
    }

    #[test]
    fn a_mention_is_a_public_message_rooted_at_the_tweet_itself() {
        assert_eq!(
            events(MENTION),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "1880000000000000001".into(),
                sender: sam(),
                thread: ThreadRef::Public { root_id: "1880000000000000001".into(), title: None },
                body: Some("@acme_help_demo my parcel is 3 days late, order 7781".into()),
                attachments: vec![],
                sent_at: Some(ms(1_767_226_200_000)),
            })]
        );
    }

    fn tweet(id: &str, author: &str, in_reply_to: Option<(&str, &str)>) -> serde_json::Value {
        serde_json::json!({
            "created_at": "Thu Jan 01 00:20:00 +0000 2026", "id_str": id, "text": format!("tweet {id}"),
            "in_reply_to_status_id_str": in_reply_to.map(|r| r.0), "in_reply_to_user_id_str": in_reply_to.map(|r| r.1),
            "in_reply_to_screen_name": in_reply_to.map(|_| "samp_demo"),
            "user": {"id_str": author, "name": "Someone", "screen_name": "someone"}
        })
    }

    #[test]
    fn replies_join_the_thread_of_the_tweet_they_answer_and_the_business_reply_is_an_echo() {
        let body = serde_json::json!({"for_user_id": BUSINESS, "tweet_create_events": [
            tweet("2", BUSINESS, Some(("1880000000000000001", SAM))),
            tweet("3", "555", Some(("1880000000000000001", SAM))),
            tweet("4", "556", None),
        ]})
        .to_string();
        let events = events(&body);
        assert_eq!(events.len(), 3);
        let InboundEvent::Echo(echo) = &events[0] else { panic!("{events:?}") };
        assert_eq!(echo.thread_key(), "1880000000000000001");
        assert_eq!(echo.sender.external_id, SAM);
        assert_eq!(echo.sent_at, Some(OffsetDateTime::from_unix_timestamp(1_767_226_800).unwrap()));
        let InboundEvent::Message(reply) = &events[1] else { panic!("{events:?}") };
        assert_eq!(reply.thread_key(), "1880000000000000001");
        assert_eq!(reply.sender.external_id, "555");
        let InboundEvent::Message(fresh) = &events[2] else { panic!("{events:?}") };
        assert_eq!(fresh.thread_key(), "4");
    }

    #[test]
    fn long_tweets_use_the_full_text_and_media_become_attachments() {
        let body = serde_json::json!({"for_user_id": BUSINESS, "tweet_create_events": [{
            "id_str": "9", "text": "@acme_help_demo the box arrived crushed… https://t.co/abc", "truncated": true,
            "timestamp_ms": "1767226200000", "user": {"id_str": SAM, "screen_name": "samp_demo"},
            "extended_tweet": {
                "full_text": "@acme_help_demo the box arrived crushed, see https://t.co/link https://t.co/pic",
                "entities": {"urls": [{"url": "https://t.co/link", "expanded_url": "https://acme.test/o/7781"}]},
                "extended_entities": {"media": [{"id_str": "77", "type": "photo", "url": "https://t.co/pic",
                    "media_url_https": "https://pbs.twimg.com/media/77.jpg"}]}
            }
        }]})
        .to_string();
        let events = events(&body);
        let [InboundEvent::Message(item)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(item.body.as_deref(), Some("@acme_help_demo the box arrived crushed, see https://acme.test/o/7781"));
        assert_eq!(item.attachments[0].kind, "image");
        assert_eq!(item.attachments[0].media_id.as_deref(), Some("77"));
        assert_eq!(item.attachments[0].url.as_deref(), Some("https://pbs.twimg.com/media/77.jpg"));
    }

    #[test]
    fn a_dm_with_a_photo_keeps_it_as_an_attachment() {
        let body = serde_json::json!({"for_user_id": BUSINESS, "direct_message_events": [{
            "type": "message_create", "id": "600", "created_timestamp": "1767225600000",
            "message_create": {"sender_id": SAM, "target": {"recipient_id": BUSINESS}, "message_data": {
                "text": "this one https://t.co/m", "attachment": {"type": "media", "media": {
                    "id_str": "88", "type": "photo", "url": "https://t.co/m",
                    "media_url_https": "https://ton.twitter.com/i/ton/data/dm/600/88/x.jpg"}}}}
        }]})
        .to_string();
        let events = events(&body);
        let [InboundEvent::Message(item)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(item.body.as_deref(), Some("this one"));
        assert_eq!(item.sender.external_id, SAM);
        assert_eq!(item.sender.name, None);
        assert_eq!(item.attachments[0].media_id.as_deref(), Some("88"));
    }

    #[test]
    fn favorites_follows_typing_and_retweets_are_skipped_and_deletes_and_reads_are_kept() {
        let mut retweet = tweet("5", "555", None);
        retweet["retweeted_status"] = tweet("1", BUSINESS, None);
        let body = serde_json::json!({
            "for_user_id": BUSINESS,
            "favorite_events": [{"id": "f1", "favorited_status": {}, "user": {}}],
            "follow_events": [{"type": "follow", "source": {"id": SAM}, "target": {"id": BUSINESS}}],
            "direct_message_indicate_typing_events": [{"sender_id": SAM}],
            "direct_message_events": [{"type": "welcome_message_rule", "id": "w"}],
            "tweet_create_events": [retweet],
            "tweet_delete_events": [
                {"status": {"id": "1880000000000000001", "user_id": SAM}, "timestamp_ms": "1767226300000"}
            ],
            "direct_message_mark_read_events": [
                {"created_timestamp": "1767226400000", "sender_id": SAM, "target": {"recipient_id": BUSINESS},
                 "last_read_event_id": "1880000000000000502"},
                {"created_timestamp": "1767226400000", "sender_id": BUSINESS, "target": {"recipient_id": SAM}}
            ]
        })
        .to_string();
        assert_eq!(
            events(&body),
            vec![
                InboundEvent::Removed { platform_message_id: "1880000000000000001".into(), at: ms(1_767_226_300_000) },
                InboundEvent::ReadUpTo { customer: SAM.into(), thread_key: None, up_to: ms(1_767_226_400_000) },
            ]
        );
        let only_likes = serde_json::json!({"for_user_id": BUSINESS, "favorite_events": [{"id": "f1"}]}).to_string();
        assert_eq!(signed(&only_likes).unwrap(), Parsed::answer_only(Answer::Empty));
    }

    #[test]
    fn bodies_that_are_not_account_activity_are_malformed() {
        for body in [
            "not json".to_owned(),
            r#"{"direct_message_events":[]}"#.to_owned(),
            r#"{"for_user_id":""}"#.to_owned(),
            serde_json::json!({"for_user_id": BUSINESS, "direct_message_events": [
                {"type": "message_create", "id": "1"}
            ]})
            .to_string(),
            serde_json::json!({"for_user_id": BUSINESS, "tweet_create_events": [{"id_str": "1", "user": {},
                "timestamp_ms": "1"}]})
            .to_string(),
            serde_json::json!({"for_user_id": BUSINESS, "tweet_create_events": [{"id_str": "1", "user": {"id_str": "2"},
                "timestamp_ms": "9223372036854775807"}]})
            .to_string(),
            serde_json::json!({"for_user_id": BUSINESS, "tweet_create_events": [{"id_str": "1", "user": {"id_str": "2"},
                "created_at": "yesterday"}]})
            .to_string(),
        ] {
            assert!(matches!(signed(&body), Err(ChannelError::Malformed(_))), "{body}");
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            prop::sample::select(vec![BUSINESS, SAM, "message_create", "photo", "video", "1767226200000", "", "9"])
                .prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "for_user_id",
                        "direct_message_events",
                        "tweet_create_events",
                        "tweet_delete_events",
                        "direct_message_mark_read_events",
                        "users",
                        "type",
                        "id",
                        "id_str",
                        "created_timestamp",
                        "message_create",
                        "sender_id",
                        "target",
                        "recipient_id",
                        "message_data",
                        "text",
                        "entities",
                        "urls",
                        "url",
                        "expanded_url",
                        "media",
                        "attachment",
                        "media_url_https",
                        "user",
                        "name",
                        "screen_name",
                        "in_reply_to_status_id_str",
                        "in_reply_to_user_id_str",
                        "extended_tweet",
                        "full_text",
                        "extended_entities",
                        "retweeted_status",
                        "created_at",
                        "timestamp_ms",
                        "status",
                    ])
                    .prop_map(str::to_owned),
                    inner,
                    0..6,
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_signed_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = post(&body, &[(SIGNATURE_HEADER.into(), sign(SECRET, &body))], &secrets());
        }

        #[test]
        fn arbitrary_signed_json_never_panics(value in json()) {
            let _ = signed(&value.to_string());
            for key in ["direct_message_events", "tweet_create_events", "tweet_delete_events",
                        "direct_message_mark_read_events", "users"] {
                let _ = signed(&serde_json::json!({"for_user_id": BUSINESS, key: [value.clone()]}).to_string());
                let _ = signed(&serde_json::json!({"for_user_id": BUSINESS, key: value.clone()}).to_string());
            }
        }

        #[test]
        fn arbitrary_crc_tokens_never_panic(token in ".*") {
            let _ = get(&[("crc_token".into(), token)], &secrets());
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Sending, against the fake platform
    // -----------------------------------------------------------------------------------------------------------

    use crate::send::{OutboundMessage, SendOutcome, TemplateSend, http_client};
    use switchboard_fakes::{FakePlatforms, Fault};

    const SEND_DM: &str = include_str!("../../../fixtures/channels/x/send_dm_request.json");
    const SEND_DM_RESPONSE: &str = include_str!("../../../fixtures/channels/x/send_dm_response.json");
    const REPLY_TWEET: &str = include_str!("../../../fixtures/channels/x/reply_tweet_request.json");
    const SAMS_TWEET: &str = "1880000000000000001";

    fn token_secrets(token: &str) -> Secrets {
        let mut s = secrets();
        s.insert("access_token".into(), token.into());
        s
    }

    fn outbound<'a>(
        base: &'a str,
        secrets: &'a Secrets,
        target: SendTarget<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::X,
            business_id: BUSINESS,
            secrets,
            api_base_url: base,
            target,
            body,
            attachments: &[],
            template: None,
            tag: None,
            reply_token: None,
            idempotency_key: "outbox-1",
        }
    }

    async fn fake() -> (FakePlatforms, String) {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/x", fake.base_url);
        (fake, base)
    }

    fn json_of(body: &str) -> serde_json::Value {
        serde_json::from_str(body).unwrap()
    }

    fn media(media_id: Option<&str>, url: Option<&str>) -> Attachment {
        Attachment {
            kind: "image".into(),
            url: url.map(str::to_owned),
            media_id: media_id.map(str::to_owned),
            mime_type: None,
            filename: None,
        }
    }

    fn is_permanent(outcome: &SendOutcome, expected: &str) -> bool {
        matches!(outcome, SendOutcome::Permanent { code, .. } if code == expected)
    }

    fn header_of<'a>(recorded: &'a switchboard_fakes::Recorded, name: &str) -> Option<&'a str> {
        recorded.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn a_dm_goes_to_the_participants_conversation_as_the_fixture_shows_and_gives_the_dm_event_id() {
        let (fake, base) = fake().await;
        let secrets = token_secrets("user-token-a");
        let text = "Hi Sam, we have refunded order 7781.";
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, SendTarget::Direct { recipient: SAM }, Some(text))).await;
        let accepted = fake.state.accepted("x");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].path, format!("/2/dm_conversations/with/{SAM}/messages"));
        assert_eq!(json_of(&accepted[0].body), json_of(SEND_DM));
        assert_eq!(header_of(&accepted[0], "authorization"), Some("Bearer user-token-a"));
        assert_eq!(outcome, SendOutcome::Accepted { platform_message_id: accepted[0].platform_message_id.clone() });
        assert!(matches!(outcome, SendOutcome::Accepted { platform_message_id: Some(_) }));
    }

    #[test]
    fn the_documented_dm_answer_gives_the_dm_event_id() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            outcome(201, None, None, now, SEND_DM_RESPONSE.as_bytes()),
            SendOutcome::Accepted { platform_message_id: Some("1880000000000000502".into()) }
        );
    }

    #[tokio::test]
    async fn a_public_reply_is_a_tweet_in_reply_to_the_tweet_as_the_fixture_shows() {
        let (fake, base) = fake().await;
        let secrets = token_secrets("user-token");
        let text = "@samp_demo sorry about that - we have sent you a DM.";
        let msg = outbound(&base, &secrets, SendTarget::PublicReply { reply_to: SAMS_TWEET }, Some(text));
        let outcome = send(&http_client(), &msg).await;
        let accepted = fake.state.accepted("x");
        assert_eq!(accepted[0].path, "/2/tweets");
        assert_eq!(json_of(&accepted[0].body), json_of(REPLY_TWEET));
        assert_eq!(outcome, SendOutcome::Accepted { platform_message_id: accepted[0].platform_message_id.clone() });
    }

    #[tokio::test]
    async fn each_line_sends_as_the_account_of_its_own_access_token() {
        let (fake, base) = fake().await;
        let (a, b) = (token_secrets("token-of-account-a"), token_secrets("token-of-account-b"));
        let mut first = outbound(&base, &a, SendTarget::Direct { recipient: SAM }, Some("from a"));
        first.business_id = "1";
        let mut second = outbound(&base, &b, SendTarget::Direct { recipient: SAM }, Some("from b"));
        second.business_id = "2";
        assert!(matches!(send(&http_client(), &first).await, SendOutcome::Accepted { .. }));
        assert!(matches!(send(&http_client(), &second).await, SendOutcome::Accepted { .. }));
        let accepted = fake.state.accepted("x");
        assert_eq!(header_of(&accepted[0], "authorization"), Some("Bearer token-of-account-a"));
        assert_eq!(header_of(&accepted[1], "authorization"), Some("Bearer token-of-account-b"));
    }

    #[tokio::test]
    async fn uploaded_media_go_by_id_one_per_dm_and_up_to_four_per_tweet() {
        let (fake, base) = fake().await;
        let secrets = token_secrets("user-token");
        let one = [media(Some("1146654567674912769"), None)];
        let mut dm = outbound(&base, &secrets, SendTarget::Direct { recipient: SAM }, Some("Your label"));
        dm.attachments = &one;
        assert!(matches!(send(&http_client(), &dm).await, SendOutcome::Accepted { .. }));
        let two = [media(Some("1146654567674912769"), None), media(Some("1146654567674912770"), None)];
        let mut reply = outbound(&base, &secrets, SendTarget::PublicReply { reply_to: SAMS_TWEET }, None);
        reply.attachments = &two;
        assert!(matches!(send(&http_client(), &reply).await, SendOutcome::Accepted { .. }));
        let accepted = fake.state.accepted("x");
        assert_eq!(
            json_of(&accepted[0].body),
            serde_json::json!({"text": "Your label", "attachments": [{"media_id": "1146654567674912769"}]})
        );
        assert_eq!(
            json_of(&accepted[1].body),
            serde_json::json!({
                "media": {"media_ids": ["1146654567674912769", "1146654567674912770"]},
                "reply": {"in_reply_to_tweet_id": SAMS_TWEET}
            })
        );
    }

    #[tokio::test]
    async fn what_x_cannot_send_is_refused_before_calling() {
        let (fake, base) = fake().await;
        let secrets = token_secrets("user-token");
        let dm = SendTarget::Direct { recipient: SAM };
        let by_url = [media(None, Some("https://cdn.test/label.png"))];
        let two = [media(Some("1"), None), media(Some("2"), None)];
        for attachments in [&by_url[..], &two[..]] {
            let mut msg = outbound(&base, &secrets, dm, Some("see attached"));
            msg.attachments = attachments;
            assert!(is_permanent(&send(&http_client(), &msg).await, "unsupported"));
        }
        let five = vec![media(Some("1"), None); 5];
        let mut tweet = outbound(&base, &secrets, SendTarget::PublicReply { reply_to: SAMS_TWEET }, None);
        tweet.attachments = &five;
        assert!(is_permanent(&send(&http_client(), &tweet).await, "unsupported"));
        for target in [SendTarget::Group { chat: "1" }, SendTarget::PrivateReply { comment: SAMS_TWEET }] {
            assert!(is_permanent(
                &send(&http_client(), &outbound(&base, &secrets, target, Some("hi"))).await,
                "unsupported"
            ));
        }
        let parameters = ["x".to_owned()];
        let mut templated = outbound(&base, &secrets, dm, None);
        templated.template = Some(TemplateSend { name: "t", language: "en", parameters: &parameters });
        assert!(is_permanent(&send(&http_client(), &templated).await, "unsupported"));
        assert!(is_permanent(&send(&http_client(), &outbound(&base, &secrets, dm, Some(" "))).await, "empty_message"));
        let mut no_token = secrets.clone();
        no_token.remove("access_token");
        assert!(is_permanent(
            &send(&http_client(), &outbound(&base, &no_token, dm, Some("hi"))).await,
            "missing_secret"
        ));
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn a_recipient_who_does_not_accept_dms_and_x_error_codes_are_permanent() {
        let (fake, base) = fake().await;
        let secrets = token_secrets("user-token");
        let msg = outbound(&base, &secrets, SendTarget::Direct { recipient: SAM }, Some("hi"));
        fake.state.fail_next("x", Fault::Permanent("403".into()), 1);
        assert_eq!(
            send(&http_client(), &msg).await,
            SendOutcome::permanent("403", "You are not permitted to send Direct Messages to this user.")
        );
        fake.state.fail_next("x", Fault::Permanent("349".into()), 1);
        assert!(is_permanent(&send(&http_client(), &msg).await, "349"));
        let reply = outbound(&base, &secrets, SendTarget::PublicReply { reply_to: SAMS_TWEET }, Some("hi"));
        fake.state.fail_next("x", Fault::Permanent("403".into()), 1);
        let outcome = send(&http_client(), &reply).await;
        assert!(
            matches!(&outcome, SendOutcome::Permanent { code, message } if code == "403" && message.contains("Reply"))
        );
    }

    #[tokio::test]
    async fn a_wrong_access_token_is_a_permanent_401() {
        let (_fake, base) = fake().await;
        let secrets = token_secrets("invalid-token");
        let outcome =
            send(&http_client(), &outbound(&base, &secrets, SendTarget::Direct { recipient: SAM }, Some("hi"))).await;
        assert_eq!(outcome, SendOutcome::permanent("401", "Unauthorized"));
    }

    #[tokio::test]
    async fn rate_limits_wait_until_the_reset_and_server_errors_are_transient() {
        let (fake, base) = fake().await;
        let secrets = token_secrets("user-token");
        let msg = outbound(&base, &secrets, SendTarget::Direct { recipient: SAM }, Some("hi"));
        fake.state.fail_next("x", Fault::Permanent("429".into()), 1);
        let outcome = send(&http_client(), &msg).await;
        assert!(
            matches!(&outcome, SendOutcome::Transient { retry_after: Some(d), .. } if (50..=61).contains(&d.as_secs())),
            "{outcome:?}"
        );
        fake.state.fail_next("x", Fault::RateLimited, 1);
        let outcome = send(&http_client(), &msg).await;
        assert!(
            matches!(&outcome, SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 1),
            "{outcome:?}"
        );
        fake.state.fail_next("x", Fault::ServerError, 1);
        assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Transient { .. }));
    }

    #[test]
    fn error_answers_are_read_without_panicking_whatever_their_shape() {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let limited = outcome(429, None, Some("1767225630"), now, b"{}");
        assert!(matches!(limited, SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 30));
        // A reset already past still waits a moment; a garbled one falls back to Retry-After.
        let past = outcome(429, None, Some("1"), now, b"");
        assert!(matches!(past, SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 1));
        let garbled = outcome(429, Some("5"), Some("soon"), now, b"");
        assert!(matches!(garbled, SendOutcome::Transient { retry_after: Some(d), .. } if d.as_secs() == 5));
        let invalid = br#"{"errors":[{"parameters":{"text":[""]},"message":"text is too long"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#;
        assert_eq!(
            outcome(400, None, None, now, invalid),
            SendOutcome::permanent("400", "One or more parameters to your request was invalid. (text is too long)")
        );
        assert!(is_permanent(&outcome(404, None, None, now, b"not json"), "404"));
        assert!(is_permanent(&outcome(403, None, None, now, br#"{"errors":"odd"}"#), "403"));
        assert_eq!(outcome(201, None, None, now, b"[]"), SendOutcome::Accepted { platform_message_id: None });
    }

    proptest! {
        #[test]
        fn any_answer_to_a_send_is_classified_without_panicking(
            status in 100u16..600,
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            reset in prop::option::of(".*"),
            now in any::<i32>(),
        ) {
            let now = OffsetDateTime::from_unix_timestamp(i64::from(now)).unwrap();
            let _ = outcome(status, None, reset.as_deref(), now, &bytes);
            let _ = outcome(429, Some("1"), Some(&i64::MAX.to_string()), now, &bytes);
            let _ = outcome(429, None, Some(&i64::MIN.to_string()), now, &bytes);
        }
    }
}
