//! The generic inbound webhook for integrators (`POST /webhooks/api/{account_id}`):
//!
//! ```json
//! {"messages": [{"id": "m1", "from": {"id": "u1", "name": "Ana", "phone": "+1…", "email": "…"},
//!                "text": "Hello", "timestamp": "2026-11-21T10:00:00Z",
//!                "thread": {"id": "post-7", "public": true}}]}
//! ```
//!
//! signed with `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed
//! with the account's `secret`.

use serde::Deserialize;
use switchboard_domain::{InboundItem, InboundSender, ThreadRef};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ChannelError;
use crate::signature::verify_hmac_sha256_hex;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";

/// Checks the `sha256=<hex>` signature header against the raw body.
pub fn verify(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), ChannelError> {
    let header = header.ok_or_else(|| ChannelError::Unauthenticated("missing X-Switchboard-Signature".into()))?;
    let digest = header
        .strip_prefix("sha256=")
        .ok_or_else(|| ChannelError::Unauthenticated("X-Switchboard-Signature must be sha256=<hex>".into()))?;
    if verify_hmac_sha256_hex(secret.as_bytes(), body, digest) {
        Ok(())
    } else {
        Err(ChannelError::Unauthenticated("signature does not match the body".into()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    messages: Vec<ApiMessage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiMessage {
    id: String,
    from: ApiSender,
    text: Option<String>,
    /// RFC 3339, or seconds since the epoch.
    timestamp: Option<serde_json::Value>,
    thread: Option<ApiThread>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSender {
    id: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiThread {
    id: String,
    #[serde(default)]
    public: bool,
    title: Option<String>,
}

/// The most messages one delivery may carry.
pub const MAX_MESSAGES: usize = 1000;

fn timestamp(value: &serde_json::Value, index: usize) -> Result<OffsetDateTime, ChannelError> {
    let bad = || ChannelError::Malformed(format!("messages[{index}].timestamp: RFC 3339 or seconds since the epoch"));
    match value {
        serde_json::Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| bad()),
        serde_json::Value::Number(n) => {
            n.as_i64().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

fn required(value: String, what: &str) -> Result<String, ChannelError> {
    let value = value.trim().to_owned();
    if value.is_empty() || value.len() > 256 {
        return Err(ChannelError::Malformed(format!("{what} must have 1 to 256 characters")));
    }
    Ok(value)
}

/// Parses a delivery into inbound items, refusing the whole body if any part is wrong.
pub fn parse(body: &[u8]) -> Result<Vec<InboundItem>, ChannelError> {
    let payload: Payload = serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(e.to_string()))?;
    if payload.messages.len() > MAX_MESSAGES {
        return Err(ChannelError::Malformed(format!("at most {MAX_MESSAGES} messages per delivery")));
    }
    payload
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let text = m.text.filter(|t| !t.trim().is_empty());
            if text.is_none() {
                return Err(ChannelError::Malformed(format!("messages[{i}].text is required")));
            }
            let thread = match m.thread {
                Some(t) if t.public => ThreadRef::Public { root_id: required(t.id, "thread.id")?, title: t.title },
                Some(t) => ThreadRef::Direct { key: Some(required(t.id, "thread.id")?) },
                None => ThreadRef::Direct { key: None },
            };
            Ok(InboundItem {
                platform_message_id: required(m.id, &format!("messages[{i}].id"))?,
                sender: InboundSender {
                    external_id: required(m.from.id, &format!("messages[{i}].from.id"))?,
                    name: m.from.name.filter(|n| !n.trim().is_empty()),
                    phone: m.from.phone.filter(|p| !p.trim().is_empty()),
                    email: m.from.email.filter(|e| !e.trim().is_empty()),
                    username: None,
                    avatar_url: None,
                },
                thread,
                body: text,
                attachments: Vec::new(),
                sent_at: m.timestamp.as_ref().map(|t| timestamp(t, i)).transpose()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::hmac_sha256_hex;

    #[test]
    fn a_signed_body_verifies_and_a_tampered_one_does_not() {
        let body = br#"{"messages":[]}"#;
        let sig = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
        assert!(verify("s3cret", body, Some(&sig)).is_ok());
        assert!(verify("s3cret", br#"{"messages":[1]}"#, Some(&sig)).is_err());
        assert!(verify("s3cret", body, None).is_err());
        assert!(verify("s3cret", body, Some(&hmac_sha256_hex(b"s3cret", body))).is_err());
    }

    #[test]
    fn messages_parse_with_threads_and_timestamps() {
        let body = br#"{"messages":[
            {"id":"m1","from":{"id":"u1","name":"Ana"},"text":"Hi","timestamp":"2026-11-21T10:00:00Z"},
            {"id":"m2","from":{"id":"u2"},"text":"Nice post","timestamp":1790000000,"thread":{"id":"p7","public":true}}
        ]}"#;
        let items = parse(body).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].thread, ThreadRef::Direct { key: None });
        assert_eq!(items[0].thread_key(), "u1");
        assert_eq!(items[0].sender.name.as_deref(), Some("Ana"));
        assert_eq!(items[1].thread_key(), "p7");
        assert!(items[1].is_public());
        assert_eq!(items[1].sent_at.unwrap().unix_timestamp(), 1_790_000_000);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse(&body);
        }

        #[test]
        fn arbitrary_message_shapes_never_panic(id in ".{0,300}", from in ".{0,300}", text in proptest::option::of(".{0,50}"),
                                                  ts in proptest::prelude::any::<i64>()) {
            let body = serde_json::json!({"messages": [{"id": id, "from": {"id": from}, "text": text, "timestamp": ts}]});
            let _ = parse(body.to_string().as_bytes());
        }
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        for (body, needle) in [
            (&br#"{"messages":[{"id":"m1","from":{"id":"u1"}}]}"#[..], "text"),
            (br#"{"messages":[{"id":"","from":{"id":"u1"},"text":"x"}]}"#, "id"),
            (br#"{"messages":[{"id":"m","from":{"id":"u1"},"text":"x","timestamp":"yesterday"}]}"#, "timestamp"),
            (br#"{"msgs":[]}"#, "unknown field"),
            (b"not json", "expected"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(matches!(&err, ChannelError::Malformed(m) if m.contains(needle)), "{err:?} lacks {needle}");
        }
    }
}
