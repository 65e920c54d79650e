//! WeChat Official Account (公众号) server messages (`GET/POST /webhooks/wechat/{account_id}`).
//!
//! WeChat signs the *query*, not the body: `signature = hex(sha1(sorted([token, timestamp, nonce]) joined))`.
//! - `GET ?signature&timestamp&nonce&echostr` is the console's URL check: answer `echostr` as plain text.
//! - `POST` in plain mode carries the same query signature and a flat XML body (`<xml><MsgType>…`). The signature
//!   does not cover the body, so plain mode only proves that the caller knows the token; safe mode is the one that
//!   authenticates the message itself.
//! - `POST ?encrypt_type=aes&msg_signature=…` (safe mode, 安全模式) wraps the message in `<Encrypt>`:
//!   `msg_signature = hex(sha1(sorted([token, timestamp, nonce, Encrypt]) joined))`, and the ciphertext is
//!   AES-256-CBC with key `base64(encoding_aes_key + "=")`, IV = the key's first 16 bytes, PKCS#7 padding to 32
//!   bytes, over `random(16) ‖ msg_len(4, big-endian) ‖ msg ‖ app_id`. The trailing app id must be ours.
//!
//! What becomes what:
//! - `text`, `image`, `voice`, `video`, `shortvideo`, `location`, `link` → [`InboundEvent::Message`] keyed by
//!   `MsgId`, sender = `FromUserName` (the customer's OpenID on this account). Media is described by its
//!   `MediaId` (a temporary asset fetched with the account's access token).
//! - `event` / `subscribe` and `unsubscribe` → [`InboundEvent::Subscription`].
//! - Other events (`CLICK`, `VIEW`, `SCAN`, `LOCATION`, `scancode_*`, `pic_*`, `location_select`, …) are a menu key,
//!   a QR scene or a periodic position report, not something the customer said: skipped. Whatever a customer
//!   then sends (a photo, a location) arrives as its own message.
//!
//! WeChat waits 5 seconds and retries twice; the answer is always the literal `success` (no passive reply),
//! agents answer through the customer-service API.

use std::collections::HashMap;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use quick_xml::Reader;
use quick_xml::events::Event;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::OffsetDateTime;

use crate::ChannelError;
use crate::send::{OutboundMessage, SendOutcome, Target, classify_status};
use crate::webhook::{Answer, LineEvents, Method, Parsed, Secrets, WebhookRequest, secret};

/// What WeChat expects when we do not reply passively: no retry, no error shown to the customer.
pub const SUCCESS: &str = "success";

/// The console's EncodingAESKey is 43 base64 characters whose last one carries 2 spare bits; WeChat's own
/// SDKs decode it leniently, so a key whose spare bits are not zero must still work.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// WeChat pads to 32-byte blocks (PKCS#7 with k = 32), not to the AES block size.
const PAD_BLOCK: usize = 32;

/// The deepest element nesting we read; WeChat's messages are two levels deep (a few events three or four).
const MAX_DEPTH: usize = 8;

/// `hex(sha1(sorted(parts) joined))`: both WeChat signatures.
pub fn sign(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut hasher = Sha1::new();
    for part in sorted {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn unauthenticated(reason: &str) -> ChannelError {
    ChannelError::Unauthenticated(reason.to_owned())
}

fn check(parts: &[&str], given: &str, what: &str) -> Result<(), ChannelError> {
    let expected = sign(parts);
    let given = given.trim().to_ascii_lowercase();
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(ChannelError::Unauthenticated(format!("{what} does not match")))
    }
}

/// Verifies and parses one webhook call.
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    let token = secret(secrets, "token")?;
    let timestamp = req.query_param("timestamp").ok_or_else(|| unauthenticated("missing timestamp"))?;
    let nonce = req.query_param("nonce").ok_or_else(|| unauthenticated("missing nonce"))?;
    match req.method {
        Method::Get => {
            let signature = req.query_param("signature").ok_or_else(|| unauthenticated("missing signature"))?;
            check(&[token, timestamp, nonce], signature, "signature")?;
            let echostr = req
                .query_param("echostr")
                .ok_or_else(|| ChannelError::Malformed("a verification request needs echostr".into()))?;
            Ok(Parsed::answer_only(Answer::Text(echostr.to_owned())))
        }
        Method::Post => {
            let xml = if req.query_param("encrypt_type").is_some_and(|t| t.eq_ignore_ascii_case("aes")) {
                safe_mode_message(req, secrets, token, timestamp, nonce)?
            } else {
                let signature = req.query_param("signature").ok_or_else(|| unauthenticated("missing signature"))?;
                check(&[token, timestamp, nonce], signature, "signature")?;
                std::str::from_utf8(req.body)
                    .map_err(|_| ChannelError::Malformed("the body is not UTF-8".into()))?
                    .to_owned()
            };
            let fields = Fields::parse(&xml).map_err(ChannelError::Malformed)?;
            let business_id = fields.get("ToUserName").map(str::to_owned);
            let events = events(&fields)?;
            if events.is_empty() {
                return Ok(Parsed::answer_only(ack()));
            }
            Ok(Parsed { lines: vec![LineEvents { kind: ChannelKind::Wechat, business_id, events }], answer: ack() })
        }
    }
}

/// What to answer for an authenticated body we could not parse: `success`, so that WeChat neither retries
/// nor shows the customer "this account cannot provide service right now".
pub fn ack() -> Answer {
    Answer::Text(SUCCESS.to_owned())
}

/// Checks `msg_signature` over the `<Encrypt>` element and returns the decrypted message XML.
fn safe_mode_message(
    req: &WebhookRequest<'_>,
    secrets: &Secrets,
    token: &str,
    timestamp: &str,
    nonce: &str,
) -> Result<String, ChannelError> {
    let msg_signature = req.query_param("msg_signature").ok_or_else(|| unauthenticated("missing msg_signature"))?;
    // The query signature is sent in safe mode too; when present it must hold as well.
    if let Some(signature) = req.query_param("signature") {
        check(&[token, timestamp, nonce], signature, "signature")?;
    }
    // The signed value lives inside the body, so the envelope has to be read before anything is proven; an
    // envelope we cannot read cannot be authenticated.
    let envelope = std::str::from_utf8(req.body)
        .ok()
        .and_then(|xml| Fields::parse(xml).ok())
        .ok_or_else(|| unauthenticated("safe mode needs an XML envelope with <Encrypt>"))?;
    let encrypted = envelope.get("Encrypt").ok_or_else(|| unauthenticated("safe mode needs an <Encrypt> element"))?;
    check(&[token, timestamp, nonce, encrypted], msg_signature, "msg_signature")?;
    let encoding_aes_key = secret(secrets, "encoding_aes_key")?;
    let app_id = secret(secrets, "app_id")?;
    decrypt(encoding_aes_key, app_id, encrypted)
}

/// Decrypts a safe-mode `<Encrypt>` value and checks that it was meant for `app_id`.
pub fn decrypt(encoding_aes_key: &str, app_id: &str, encrypted: &str) -> Result<String, ChannelError> {
    let key = LENIENT_BASE64
        .decode(format!("{}=", encoding_aes_key.trim()))
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ChannelError::Malformed("the encoding_aes_key secret is not a 43-character key".into()))?;
    let mut buf =
        BASE64.decode(encrypted.trim()).map_err(|_| ChannelError::Malformed("<Encrypt> is not base64".into()))?;
    if buf.is_empty() || buf.len() % 16 != 0 {
        return Err(ChannelError::Malformed("<Encrypt> is not a whole number of AES blocks".into()));
    }
    let (key_bytes, iv) = (&key[..], &key[..16]);
    let plain = cbc::Decryptor::<aes::Aes256>::new_from_slices(key_bytes, iv)
        .map_err(|_| ChannelError::Malformed("bad AES key length".into()))?
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map_err(|_| ChannelError::Malformed("<Encrypt> does not decrypt".into()))?;
    let undecryptable = || ChannelError::Malformed("<Encrypt> does not decrypt with the encoding_aes_key".into());
    let pad = usize::from(*plain.last().ok_or_else(undecryptable)?);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(undecryptable());
    }
    let content = &plain[..plain.len() - pad];
    let len_bytes: [u8; 4] = content.get(16..20).and_then(|b| b.try_into().ok()).ok_or_else(undecryptable)?;
    let msg_len = usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| undecryptable())?;
    let msg_end = 20usize.checked_add(msg_len).ok_or_else(undecryptable)?;
    let msg = content.get(20..msg_end).ok_or_else(undecryptable)?;
    let their_app_id = content.get(msg_end..).unwrap_or_default();
    if !bool::from(their_app_id.ct_eq(app_id.trim().as_bytes())) {
        return Err(unauthenticated("the message was encrypted for another app id"));
    }
    String::from_utf8(msg.to_vec()).map_err(|_| ChannelError::Malformed("the decrypted message is not UTF-8".into()))
}

/// Encrypts `msg` the way WeChat does (used to build safe-mode test calls and passive replies).
pub fn encrypt(encoding_aes_key: &str, app_id: &str, random: [u8; 16], msg: &str) -> Option<String> {
    use cbc::cipher::BlockEncryptMut;
    let key = LENIENT_BASE64.decode(format!("{}=", encoding_aes_key.trim())).ok().filter(|k| k.len() == 32)?;
    let msg_len = u32::try_from(msg.len()).ok()?;
    let mut plain = Vec::with_capacity(20 + msg.len() + app_id.len() + PAD_BLOCK);
    plain.extend_from_slice(&random);
    plain.extend_from_slice(&msg_len.to_be_bytes());
    plain.extend_from_slice(msg.as_bytes());
    plain.extend_from_slice(app_id.as_bytes());
    let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
    plain.extend(std::iter::repeat_n(u8::try_from(pad).ok()?, pad));
    let len = plain.len();
    let cipher = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, key.get(..16)?).ok()?;
    let out = cipher.encrypt_padded_mut::<NoPadding>(&mut plain, len).ok()?;
    Some(BASE64.encode(out))
}

/// The text of every element of a WeChat XML message by element name (first occurrence wins). WeChat's XML is
/// flat with CDATA values; the few nested events (`ScanCodeInfo`, `SendLocationInfo`) are flattened.
#[derive(Debug, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn parse(xml: &str) -> Result<Self, String> {
        // Some proxies and SDKs put a byte-order mark before the document.
        let mut reader = Reader::from_str(xml.trim_start_matches('\u{feff}'));
        let mut fields = Vec::new();
        // The open elements, each with the text read so far.
        let mut open: Vec<(String, String)> = Vec::new();
        let mut seen_root = false;
        loop {
            let event = reader.read_event().map_err(|e| format!("not XML: {e}"))?;
            match event {
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    if open.is_empty() {
                        if seen_root {
                            return Err("more than one root element".into());
                        }
                        if name != "xml" {
                            return Err(format!("the root element is <{name}>, not <xml>"));
                        }
                        seen_root = true;
                    }
                    if open.len() >= MAX_DEPTH {
                        return Err("elements are nested too deeply".into());
                    }
                    open.push((name, String::new()));
                }
                Event::Empty(e) => {
                    if open.is_empty() {
                        return Err("the root element is empty".into());
                    }
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    fields.push((name, String::new()));
                }
                Event::End(_) => {
                    let (name, text) = open.pop().ok_or("an end tag without a start")?;
                    if !open.is_empty() {
                        fields.push((name, text.trim().to_owned()));
                    }
                }
                Event::Text(t) => {
                    let text = t.unescape().map_err(|e| format!("bad text: {e}"))?;
                    match open.last_mut() {
                        Some((_, buf)) => buf.push_str(&text),
                        None if text.trim().is_empty() => {}
                        None => return Err("text outside the root element".into()),
                    }
                }
                Event::CData(c) => {
                    let text = c.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                    match open.last_mut() {
                        Some((_, buf)) => buf.push_str(&text),
                        None => return Err("CDATA outside the root element".into()),
                    }
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if !seen_root {
            return Err("no <xml> element".into());
        }
        if !open.is_empty() {
            return Err("the XML ends inside an element".into());
        }
        Ok(Self(fields))
    }
}

fn required<'a>(fields: &'a Fields, name: &str) -> Result<&'a str, ChannelError> {
    fields.get(name).ok_or_else(|| ChannelError::Malformed(format!("<{name}> is missing")))
}

fn attachment(kind: &str) -> Attachment {
    Attachment { kind: kind.to_owned(), url: None, media_id: None, mime_type: None, filename: None }
}

/// The events in one WeChat message: at most one.
fn events(fields: &Fields) -> Result<Vec<InboundEvent>, ChannelError> {
    let msg_type = required(fields, "MsgType")?;
    let open_id = required(fields, "FromUserName")?;
    let create_time = required(fields, "CreateTime")?;
    let at = create_time
        .parse::<i64>()
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| ChannelError::Malformed("<CreateTime> is not a time in seconds".into()))?;
    let sender = InboundSender { external_id: open_id.to_owned(), ..InboundSender::default() };

    if msg_type.eq_ignore_ascii_case("event") {
        let event = required(fields, "Event")?;
        return Ok(if event.eq_ignore_ascii_case("subscribe") {
            vec![InboundEvent::Subscription { sender, subscribed: true, at }]
        } else if event.eq_ignore_ascii_case("unsubscribe") {
            vec![InboundEvent::Subscription { sender, subscribed: false, at }]
        } else {
            // A menu key, a QR scene, a position report: nothing the customer said.
            Vec::new()
        });
    }

    let (body, attachments) = content(msg_type, fields);
    // Every message carries a MsgId; should one ever lack it, the key WeChat recommends for events stands in.
    let platform_message_id = match fields.get("MsgId") {
        Some(id) => id.to_owned(),
        None => format!("{open_id}:{create_time}:{msg_type}"),
    };
    Ok(vec![InboundEvent::Message(InboundItem {
        platform_message_id,
        sender,
        thread: ThreadRef::Direct { key: None },
        body,
        attachments,
        sent_at: Some(at),
    })])
}

fn media(kind: &str, fields: &Fields, url_field: Option<&str>, mime_type: Option<String>) -> Attachment {
    Attachment {
        url: url_field.and_then(|f| fields.get(f)).map(str::to_owned),
        media_id: fields.get("MediaId").map(str::to_owned),
        mime_type,
        ..attachment(kind)
    }
}

/// The readable text and attachments of a customer message.
fn content(msg_type: &str, fields: &Fields) -> (Option<String>, Vec<Attachment>) {
    let get = |name: &str| fields.get(name).map(str::to_owned);
    match msg_type {
        "text" => (get("Content"), Vec::new()),
        "image" => (None, vec![media("image", fields, Some("PicUrl"), None)]),
        "voice" => {
            // `Recognition` is WeChat's transcript, present when speech recognition is on for the account.
            let mime = fields.get("Format").map(|f| format!("audio/{}", f.to_ascii_lowercase()));
            (get("Recognition"), vec![media("audio", fields, None, mime)])
        }
        "video" | "shortvideo" => (None, vec![media("video", fields, None, None)]),
        "location" => {
            let label = fields.get("Label");
            match (fields.get("Location_X"), fields.get("Location_Y")) {
                (Some(lat), Some(long)) => {
                    let body = match label {
                        Some(label) => format!("📍 {label} ({lat}, {long})"),
                        None => format!("📍 ({lat}, {long})"),
                    };
                    let url = Some(format!("geo:{lat},{long}"));
                    (Some(body), vec![Attachment { url, ..attachment("location") }])
                }
                _ => (label.map(|l| format!("📍 {l}")), vec![attachment("location")]),
            }
        }
        "link" => {
            let lines: Vec<&str> = ["Title", "Description", "Url"].iter().filter_map(|f| fields.get(f)).collect();
            ((!lines.is_empty()).then(|| lines.join("\n")), Vec::new())
        }
        // A type WeChat added later (mini-program cards, files): keep it so the agent sees something arrived.
        other => (Some(format!("({other} message)")), Vec::new()),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Sending (customer-service messages, 客服消息)
// ---------------------------------------------------------------------------------------------------------------

/// How long before WeChat's own expiry a cached access token is replaced.
const TOKEN_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// How long to wait after WeChat's daily API limit (45009): it resets once a day.
const DAILY_LIMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

struct CachedToken {
    token: String,
    good_until: std::time::Instant,
}

/// Access tokens by (API address, app id): one fetch serves every send until shortly before it expires.
static ACCESS_TOKENS: std::sync::LazyLock<std::sync::Mutex<HashMap<(String, String), CachedToken>>> =
    std::sync::LazyLock::new(Default::default);

fn access_tokens() -> std::sync::MutexGuard<'static, HashMap<(String, String), CachedToken>> {
    ACCESS_TOKENS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn cached_token(base: &str, app_id: &str) -> Option<String> {
    let tokens = access_tokens();
    let cached = tokens.get(&(base.to_owned(), app_id.to_owned()))?;
    (cached.good_until > std::time::Instant::now()).then(|| cached.token.clone())
}

/// Forgets `token` (only that one: another send may have fetched a newer token meanwhile).
pub(crate) fn drop_token(base: &str, app_id: &str, token: &str) {
    let mut tokens = access_tokens();
    let key = (base.to_owned(), app_id.to_owned());
    if tokens.get(&key).is_some_and(|cached| cached.token == token) {
        tokens.remove(&key);
    }
}

fn errcode(body: &serde_json::Value) -> Option<i64> {
    body.get("errcode").and_then(serde_json::Value::as_i64)
}

fn errmsg(body: &serde_json::Value, bytes: &[u8]) -> String {
    body.get("errmsg")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).chars().take(300).collect())
}

/// Reads the answer of `GET /cgi-bin/token`: the token and its lifetime in seconds, or why there is none.
fn token_outcome(status: u16, retry_after: Option<&str>, bytes: &[u8]) -> Result<(String, u64), SendOutcome> {
    if let Some(transient) = classify_status(status, retry_after) {
        return Err(transient);
    }
    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if let Some(token) = body.get("access_token").and_then(serde_json::Value::as_str).filter(|t| !t.trim().is_empty()) {
        let expires_in = body.get("expires_in").and_then(serde_json::Value::as_u64).unwrap_or(7200);
        return Ok((token.to_owned(), expires_in));
    }
    let message = format!("WeChat gave no access token: {}", errmsg(&body, bytes));
    Err(match errcode(&body) {
        Some(-1) => SendOutcome::transient(message),
        Some(45009) => SendOutcome::Transient { reason: message, retry_after: Some(DAILY_LIMIT_WAIT) },
        // Wrong app id or secret (40013, 40125, and 40001 here), server IP not on the whitelist (40164), …
        Some(code) => SendOutcome::permanent(code.to_string(), message),
        None => SendOutcome::permanent(status.to_string(), message),
    })
}

/// The account's access token: cached, else fetched with the app id and secret.
pub(crate) async fn access_token(
    http: &reqwest::Client,
    base: &str,
    app_id: &str,
    app_secret: &str,
) -> Result<String, SendOutcome> {
    if let Some(token) = cached_token(base, app_id) {
        return Ok(token);
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credential")
        .append_pair("appid", app_id)
        .append_pair("secret", app_secret)
        .finish();
    // The secret is in the URL: errors are reported without it.
    let response = http
        .get(format!("{base}/cgi-bin/token?{query}"))
        .send()
        .await
        .map_err(|e| SendOutcome::from_transport(&e.without_url()))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.bytes().await.map_err(|e| SendOutcome::from_transport(&e.without_url()))?;
    let (token, expires_in) = token_outcome(status, retry_after.as_deref(), &bytes)?;
    // WeChat says 7200 s; an absurd answer must not keep a token (or overflow the clock) for longer than a day.
    let lifetime = std::time::Duration::from_secs(expires_in.min(86_400)).saturating_sub(TOKEN_MARGIN);
    access_tokens().insert(
        (base.to_owned(), app_id.to_owned()),
        CachedToken { token: token.clone(), good_until: std::time::Instant::now() + lifetime },
    );
    Ok(token)
}

/// Reads the answer of `custom/send`; `true` when WeChat refused the access token (it must be fetched again).
fn custom_send_outcome(status: u16, retry_after: Option<&str>, bytes: &[u8]) -> (SendOutcome, bool) {
    if let Some(transient) = classify_status(status, retry_after) {
        return (transient, false);
    }
    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let message = errmsg(&body, bytes);
    let outcome = match errcode(&body) {
        Some(0) => SendOutcome::Accepted { platform_message_id: None },
        None if (200..300).contains(&status) => SendOutcome::Accepted { platform_message_id: None },
        None => SendOutcome::permanent(status.to_string(), message),
        // Invalid, expired or malformed access token: fetch a new one and try again.
        Some(40001 | 42001 | 40014) => {
            return (SendOutcome::transient(format!("WeChat refused the access token ({message})")), true);
        }
        Some(-1) => SendOutcome::transient(format!("WeChat is busy ({message})")),
        Some(45009) => SendOutcome::Transient {
            reason: format!("WeChat's daily API limit is reached ({message})"),
            retry_after: Some(DAILY_LIMIT_WAIT),
        },
        // 45015 outside the 48-hour window or unfollowed, 45047 the 5 replies are used, 40003 unknown OpenID, …
        Some(code) => SendOutcome::permanent(code.to_string(), message),
    };
    (outcome, false)
}

/// Sends one customer-service message (one `custom/send` call).
async fn send_one(
    http: &reqwest::Client,
    base: &str,
    (app_id, app_secret): (&str, &str),
    payload: &serde_json::Value,
) -> SendOutcome {
    let token = match access_token(http, base, app_id, app_secret).await {
        Ok(token) => token,
        Err(outcome) => return outcome,
    };
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("access_token", &token).finish();
    let response = match http.post(format!("{base}/cgi-bin/message/custom/send?{query}")).json(payload).send().await {
        Ok(response) => response,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return SendOutcome::from_transport(&e.without_url()),
    };
    let (outcome, token_refused) = custom_send_outcome(status, retry_after.as_deref(), &bytes);
    if token_refused {
        drop_token(base, app_id, &token);
    }
    outcome
}

/// The customer-service messages for the body and the attachments, in that order. WeChat takes media only as
/// uploaded `media_id`s (image, voice, video).
fn custom_messages(openid: &str, msg: &OutboundMessage<'_>) -> Result<Vec<serde_json::Value>, SendOutcome> {
    let mut messages = Vec::new();
    if let Some(text) = msg.body.filter(|b| !b.trim().is_empty()) {
        messages.push(serde_json::json!({ "touser": openid, "msgtype": "text", "text": { "content": text } }));
    }
    for attachment in msg.attachments {
        let msgtype = match attachment.kind.as_str() {
            "image" => "image",
            "audio" | "voice" => "voice",
            "video" => "video",
            other => {
                return Err(SendOutcome::permanent(
                    "unsupported",
                    format!("WeChat customer-service messages cannot carry a {other}: share it as a link in the text"),
                ));
            }
        };
        let Some(media_id) = attachment.media_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else {
            return Err(SendOutcome::permanent(
                "unsupported",
                "WeChat needs uploaded media: this attachment has only a URL, no WeChat media_id",
            ));
        };
        let mut message = serde_json::json!({ "touser": openid, "msgtype": msgtype });
        message[msgtype] = serde_json::json!({ "media_id": media_id });
        messages.push(message);
    }
    if messages.is_empty() {
        return Err(SendOutcome::permanent("empty_message", "nothing to send: no text and no attachment"));
    }
    Ok(messages)
}

/// Sends one outbound message to a follower (`touser` = their OpenID) through the customer-service API: allowed
/// for 48 hours after the customer's last message, at most 5 messages per customer message.
///
/// WeChat carries one item per message, so text and each attachment are separate calls, text first. Only the
/// first call's failure is reported as it is (so a transient one is retried); once a part went out, a later
/// failure is permanent, because retrying would send the first parts again. WeChat gives no message id.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    let Ok(app_id) = secret(msg.secrets, "app_id") else {
        return SendOutcome::permanent("missing_secret", "the WeChat line has no app_id secret");
    };
    let Ok(app_secret) = secret(msg.secrets, "app_secret") else {
        return SendOutcome::permanent("missing_secret", "the WeChat line has no app_secret secret");
    };
    let openid = match msg.target {
        Target::Direct { recipient } if !recipient.trim().is_empty() => recipient.trim(),
        Target::Direct { .. } => return SendOutcome::permanent("invalid_recipient", "the OpenID is empty"),
        Target::Group { .. } | Target::PublicReply { .. } | Target::PrivateReply { .. } => {
            return SendOutcome::permanent(
                "unsupported",
                "WeChat customer-service messages only go to one follower's private chat",
            );
        }
    };
    if msg.template.is_some() {
        return SendOutcome::permanent(
            "unsupported",
            "WeChat template messages are a separate product; only customer-service messages are sent",
        );
    }
    let messages = match custom_messages(openid, msg) {
        Ok(messages) => messages,
        Err(outcome) => return outcome,
    };
    let base = msg.api_base_url.trim_end_matches('/');
    for (sent, message) in messages.iter().enumerate() {
        let outcome = send_one(http, base, (app_id, app_secret), message).await;
        match outcome {
            SendOutcome::Accepted { .. } => {}
            failure if sent == 0 => return failure,
            SendOutcome::Permanent { code, message } => {
                return SendOutcome::permanent(code, partly(sent, messages.len(), &message));
            }
            SendOutcome::Transient { reason, .. } | SendOutcome::Unconfirmed { reason } => {
                return SendOutcome::permanent("partially_sent", partly(sent, messages.len(), &reason));
            }
        }
    }
    SendOutcome::Accepted { platform_message_id: None }
}

fn partly(sent: usize, total: usize, why: &str) -> String {
    format!("only {sent} of the {total} parts were sent (text first, then attachments); the rest failed: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "helpdeskToken2026";
    const APP_ID: &str = "wxTEST0000000000a1";
    /// A made-up EncodingAESKey (43 characters, as the console shows it).
    const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const OPENID: &str = "oTEST_openid_li_wei_000001";
    const ACCOUNT: &str = "gh_0a1b2c3d4e5f";

    const VERIFY: &str = include_str!("../../../fixtures/channels/wechat/verify_request.txt");
    const TEXT: &str = include_str!("../../../fixtures/channels/wechat/message_text.xml");
    const IMAGE: &str = include_str!("../../../fixtures/channels/wechat/message_image.xml");
    const SUBSCRIBE: &str = include_str!("../../../fixtures/channels/wechat/event_subscribe.xml");
    const CLICK: &str = include_str!("../../../fixtures/channels/wechat/event_click.xml");
    const ENCRYPTED: &str = include_str!("../../../fixtures/channels/wechat/message_encrypted.xml");

    const TIMESTAMP: &str = "1767225600";
    const NONCE: &str = "1398442012";

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        for (k, v) in [("token", TOKEN), ("app_id", APP_ID), ("app_secret", "x"), ("encoding_aes_key", AES_KEY)] {
            s.insert(k.into(), v.into());
        }
        s
    }

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn call(
        method: Method,
        query: &[(String, String)],
        body: &[u8],
        secrets: &Secrets,
    ) -> Result<Parsed, ChannelError> {
        let req = WebhookRequest { method, url: "https://sb.test/webhooks/wechat/1", query, headers: &[], body };
        handle(&req, secrets)
    }

    /// A plain-mode POST signed as WeChat signs it.
    fn post(body: &str) -> Result<Parsed, ChannelError> {
        let signature = sign(&[TOKEN, TIMESTAMP, NONCE]);
        let q = query(&[("signature", &signature), ("timestamp", TIMESTAMP), ("nonce", NONCE), ("openid", OPENID)]);
        call(Method::Post, &q, body.as_bytes(), &secrets())
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        let parsed = post(body).unwrap();
        assert_eq!(parsed.answer, Answer::Text("success".into()));
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].kind, ChannelKind::Wechat);
        assert_eq!(parsed.lines[0].business_id.as_deref(), Some(ACCOUNT));
        parsed.lines.into_iter().flat_map(|l| l.events).collect()
    }

    fn li_wei() -> InboundSender {
        InboundSender { external_id: OPENID.into(), ..InboundSender::default() }
    }

    fn secs(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap()
    }

    /// The query of the fixture's verification request.
    fn verify_query() -> Vec<(String, String)> {
        let line = VERIFY.lines().find(|l| l.starts_with("GET ")).unwrap();
        let query = line.split_once('?').unwrap().1.split_once(' ').unwrap().0;
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    /// The safe-mode envelope of the fixture with `encrypted` in place of its placeholder.
    fn envelope(encrypted: &str) -> String {
        let start = ENCRYPTED.find("<![CDATA[VEVT").unwrap() + "<![CDATA[".len();
        let end = start + ENCRYPTED[start..].find("]]>").unwrap();
        format!("{}{}{}", &ENCRYPTED[..start], encrypted, &ENCRYPTED[end..])
    }

    fn safe_mode_query(encrypted: &str) -> Vec<(String, String)> {
        let signature = sign(&[TOKEN, TIMESTAMP, NONCE]);
        let msg_signature = sign(&[TOKEN, TIMESTAMP, NONCE, encrypted]);
        query(&[
            ("signature", &signature),
            ("timestamp", TIMESTAMP),
            ("nonce", NONCE),
            ("openid", OPENID),
            ("encrypt_type", "aes"),
            ("msg_signature", &msg_signature),
        ])
    }

    #[test]
    fn the_verification_vector_answers_echostr() {
        let q = verify_query();
        assert_eq!(sign(&[TOKEN, TIMESTAMP, NONCE]), "217224de3b379509c56894f0f24eb0127a138845");
        let parsed = call(Method::Get, &q, b"", &secrets()).unwrap();
        assert_eq!(parsed, Parsed::answer_only(Answer::Text("7311963624581223040".into())));
    }

    #[test]
    fn a_verification_with_a_wrong_token_is_refused() {
        let q = verify_query();
        let mut other = secrets();
        other.insert("token".into(), "anotherToken".into());
        assert!(matches!(call(Method::Get, &q, b"", &other), Err(ChannelError::Unauthenticated(_))));
    }

    #[test]
    fn a_verification_without_signature_is_refused() {
        let q: Vec<_> = verify_query().into_iter().filter(|(k, _)| k != "signature").collect();
        let err = call(Method::Get, &q, b"", &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("signature")));
    }

    #[test]
    fn an_account_without_a_token_cannot_check_anything() {
        let err = call(Method::Get, &verify_query(), b"", &Secrets::new()).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("token"));
    }

    #[test]
    fn a_text_message_is_a_direct_message_from_the_openid_keyed_by_msgid() {
        assert_eq!(
            events(TEXT),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "24412345678901234".into(),
                sender: li_wei(),
                thread: ThreadRef::Direct { key: None },
                body: Some("请问我的订单 3307 什么时候发货？".into()),
                attachments: vec![],
                sent_at: Some(secs(1_767_225_600)),
            })]
        );
    }

    #[test]
    fn an_image_message_carries_its_picurl_and_media_id() {
        assert_eq!(
            events(IMAGE),
            vec![InboundEvent::Message(InboundItem {
                platform_message_id: "24412345678901235".into(),
                sender: li_wei(),
                thread: ThreadRef::Direct { key: None },
                body: None,
                attachments: vec![Attachment {
                    kind: "image".into(),
                    url: Some("https://mmbiz.qpic.cn/TEST/picture-3307.jpg".into()),
                    media_id: Some("TEST_media_id_li_wei_0002".into()),
                    mime_type: None,
                    filename: None,
                }],
                sent_at: Some(secs(1_767_225_660)),
            })]
        );
    }

    #[test]
    fn a_subscribe_event_subscribes_the_openid() {
        assert_eq!(
            events(SUBSCRIBE),
            vec![InboundEvent::Subscription { sender: li_wei(), subscribed: true, at: secs(1_767_225_500) }]
        );
    }

    #[test]
    fn an_unsubscribe_event_unsubscribes_the_openid() {
        let body = SUBSCRIBE.replace("[subscribe]", "[unsubscribe]");
        assert_eq!(
            events(&body),
            vec![InboundEvent::Subscription { sender: li_wei(), subscribed: false, at: secs(1_767_225_500) }]
        );
    }

    #[test]
    fn a_menu_click_is_answered_success_with_nothing_to_store() {
        assert_eq!(post(CLICK).unwrap(), Parsed::answer_only(Answer::Text("success".into())));
    }

    #[test]
    fn voice_location_and_link_messages_read_as_text() {
        let wrap = |inner: &str| {
            format!(
                "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>\
                 <CreateTime>1767225700</CreateTime>{inner}<MsgId>77</MsgId></xml>"
            )
        };
        let item = |body: &str| match events(body).pop() {
            Some(InboundEvent::Message(item)) => item,
            other => panic!("{other:?}"),
        };
        let voice = item(&wrap(
            "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>\
             <Recognition><![CDATA[我要退货]]></Recognition>",
        ));
        assert_eq!(voice.body.as_deref(), Some("我要退货"));
        assert_eq!(voice.attachments[0].kind, "audio");
        assert_eq!(voice.attachments[0].media_id.as_deref(), Some("m1"));
        assert_eq!(voice.attachments[0].mime_type.as_deref(), Some("audio/amr"));

        let location = item(&wrap(
            "<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>\
             <Location_Y>113.358803</Location_Y>\
             <Scale>20</Scale><Label><![CDATA[广州市天河区]]></Label>",
        ));
        assert_eq!(location.body.as_deref(), Some("📍 广州市天河区 (23.134521, 113.358803)"));
        assert_eq!(location.attachments[0].kind, "location");
        assert_eq!(location.attachments[0].url.as_deref(), Some("geo:23.134521,113.358803"));

        let link = item(&wrap(
            "<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[Order 3307]]></Title>\
             <Description><![CDATA[Tracking]]></Description><Url><![CDATA[https://example.test/3307]]></Url>",
        ));
        assert_eq!(link.body.as_deref(), Some("Order 3307\nTracking\nhttps://example.test/3307"));

        let video = item(&wrap("<MsgType><![CDATA[shortvideo]]></MsgType><MediaId>v1</MediaId>"));
        assert_eq!(
            (video.attachments[0].kind.as_str(), video.attachments[0].media_id.as_deref()),
            ("video", Some("v1"))
        );
    }

    #[test]
    fn a_plain_post_with_a_wrong_signature_is_refused() {
        let q =
            query(&[("signature", &sign(&["other", TIMESTAMP, NONCE])), ("timestamp", TIMESTAMP), ("nonce", NONCE)]);
        let err = call(Method::Post, &q, TEXT.as_bytes(), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_plain_post_without_signature_is_refused() {
        let q = query(&[("timestamp", TIMESTAMP), ("nonce", NONCE)]);
        let err = call(Method::Post, &q, TEXT.as_bytes(), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn a_body_with_a_declaration_and_a_byte_order_mark_is_read() {
        let body = format!("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{TEXT}");
        assert_eq!(events(&body), events(TEXT));
    }

    #[test]
    fn an_authenticated_body_that_is_not_wechat_xml_is_malformed() {
        for body in ["{\"MsgType\":\"text\"}", "<html><body/></html>", "<xml><MsgType>text</MsgType>", ""] {
            assert!(matches!(post(body), Err(ChannelError::Malformed(_))), "{body}");
        }
    }

    #[test]
    fn a_safe_mode_message_round_trips_through_aes() {
        let encrypted = encrypt(AES_KEY, APP_ID, *b"0123456789abcdef", TEXT).unwrap();
        assert_eq!(decrypt(AES_KEY, APP_ID, &encrypted).unwrap(), TEXT);
        let body = envelope(&encrypted);
        let parsed = call(Method::Post, &safe_mode_query(&encrypted), body.as_bytes(), &secrets()).unwrap();
        assert_eq!(parsed.answer, Answer::Text("success".into()));
        let InboundEvent::Message(item) = &parsed.lines[0].events[0] else { panic!("{parsed:?}") };
        assert_eq!(item.platform_message_id, "24412345678901234");
        assert_eq!(item.sender.external_id, OPENID);
        assert_eq!(item.body.as_deref(), Some("请问我的订单 3307 什么时候发货？"));
    }

    #[test]
    fn a_key_whose_spare_bits_are_set_still_decrypts() {
        // The 43rd character carries two bits beyond the 32 bytes; WeChat's consoles do not zero them.
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFH";
        assert!(BASE64.decode(format!("{key}=")).is_err(), "a strict decoder refuses this key");
        let encrypted = encrypt(key, APP_ID, [7; 16], "<xml/>").unwrap();
        assert_eq!(decrypt(key, APP_ID, &encrypted).unwrap(), "<xml/>");
    }

    #[test]
    fn a_safe_mode_message_for_another_app_is_refused() {
        let encrypted = encrypt(AES_KEY, "wxSomeoneElse", [1; 16], TEXT).unwrap();
        let body = envelope(&encrypted);
        let err = call(Method::Post, &safe_mode_query(&encrypted), body.as_bytes(), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("app id")));
    }

    #[test]
    fn a_tampered_safe_mode_ciphertext_is_refused() {
        let encrypted = encrypt(AES_KEY, APP_ID, [2; 16], TEXT).unwrap();
        let q = safe_mode_query(&encrypted);
        let tampered = encrypt(AES_KEY, APP_ID, [3; 16], TEXT).unwrap();
        let err = call(Method::Post, &q, envelope(&tampered).as_bytes(), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(m) if m.contains("msg_signature")));
    }

    #[test]
    fn a_safe_mode_call_without_msg_signature_is_refused() {
        let encrypted = encrypt(AES_KEY, APP_ID, [2; 16], TEXT).unwrap();
        let q: Vec<_> = safe_mode_query(&encrypted).into_iter().filter(|(k, _)| k != "msg_signature").collect();
        let err = call(Method::Post, &q, envelope(&encrypted).as_bytes(), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Unauthenticated(_)));
    }

    #[test]
    fn the_encrypted_fixture_is_a_placeholder_that_is_signed_but_does_not_decrypt() {
        // The fixture's <Encrypt> is not real ciphertext: correctly signed, it must be kept as a dead letter.
        let placeholder = "VEVTVC1PTkxZLW5vdC1yZWFsLWNpcGhlcnRleHQtYmFzZTY0LXBsYWNlaG9sZGVy";
        let err = call(Method::Post, &safe_mode_query(placeholder), ENCRYPTED.as_bytes(), &secrets()).unwrap_err();
        assert!(matches!(err, ChannelError::Malformed(_)), "{err:?}");
    }

    #[test]
    fn safe_mode_without_an_encoding_aes_key_is_a_missing_secret() {
        let encrypted = encrypt(AES_KEY, APP_ID, [2; 16], TEXT).unwrap();
        let mut s = secrets();
        s.remove("encoding_aes_key");
        let err = call(Method::Post, &safe_mode_query(&encrypted), envelope(&encrypted).as_bytes(), &s).unwrap_err();
        assert_eq!(err, ChannelError::MissingSecret("encoding_aes_key"));
    }

    proptest! {
        #[test]
        fn arbitrary_signed_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = post(&String::from_utf8_lossy(&body));
            let signature = sign(&[TOKEN, TIMESTAMP, NONCE]);
            let q = query(&[("signature", &signature), ("timestamp", TIMESTAMP), ("nonce", NONCE)]);
            let _ = call(Method::Post, &q, &body, &secrets());
        }

        #[test]
        fn arbitrary_signed_xml_never_panics(
            fields in proptest::collection::vec(
                (prop::sample::select(vec![
                    "MsgType", "FromUserName", "CreateTime", "MsgId", "Content", "Event", "PicUrl", "MediaId",
                    "Location_X", "Location_Y", "Label", "Format", "Encrypt", "Title", "Url",
                ]), "\\PC{0,20}"),
                0..10,
            ),
            msg_type in prop::sample::select(vec!["text", "image", "voice", "video", "location", "link", "event", "x"]),
            create_time in any::<i64>(),
        ) {
            let mut xml = format!("<xml><MsgType>{msg_type}</MsgType><CreateTime>{create_time}</CreateTime>");
            for (name, value) in &fields {
                xml.push_str(&format!("<{name}><![CDATA[{value}]]></{name}>"));
            }
            xml.push_str("</xml>");
            let _ = post(&xml);
        }

        #[test]
        fn arbitrary_encrypted_values_never_panic(encrypted in "[A-Za-z0-9+/=]{0,200}") {
            let _ = decrypt(AES_KEY, APP_ID, &encrypted);
            let _ = call(Method::Post, &safe_mode_query(&encrypted), envelope(&encrypted).as_bytes(), &secrets());
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Sending, against the fake platform
    // -----------------------------------------------------------------------------------------------------------

    use crate::send::{OutboundMessage, SendOutcome, Target, TemplateSend, http_client};
    use switchboard_fakes::{FakePlatforms, Fault, Recorded};

    const CUSTOM_SEND_TEXT: &str = include_str!("../../../fixtures/channels/wechat/custom_send_text.json");
    const CUSTOM_SEND_OK: &str = include_str!("../../../fixtures/channels/wechat/custom_send_ok.json");
    const ERROR_45015: &str = include_str!("../../../fixtures/channels/wechat/custom_send_error_45015.json");
    const ERROR_45047: &str = include_str!("../../../fixtures/channels/wechat/custom_send_error_45047.json");

    /// Each test uses its own app id, so that the process-wide token cache never mixes tests.
    fn app_secrets(app_id: &str, app_secret: &str) -> Secrets {
        let mut s = secrets();
        s.insert("app_id".into(), app_id.into());
        s.insert("app_secret".into(), app_secret.into());
        s
    }

    fn outbound<'a>(base: &'a str, secrets: &'a Secrets, body: Option<&'a str>) -> OutboundMessage<'a> {
        OutboundMessage {
            kind: ChannelKind::Wechat,
            business_id: ACCOUNT,
            secrets,
            api_base_url: base,
            target: Target::Direct { recipient: OPENID },
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
        let base = format!("{}/wechat", fake.base_url);
        (fake, base)
    }

    fn json_of(body: &str) -> serde_json::Value {
        serde_json::from_str(body).unwrap()
    }

    fn token_requests(fake: &FakePlatforms) -> Vec<Recorded> {
        fake.state.requests().into_iter().filter(|r| r.path.starts_with("/cgi-bin/token")).collect()
    }

    fn sends(fake: &FakePlatforms) -> Vec<Recorded> {
        fake.state
            .accepted("wechat")
            .into_iter()
            .filter(|r| r.path.starts_with("/cgi-bin/message/custom/send"))
            .collect()
    }

    fn media(kind: &str, media_id: Option<&str>, url: Option<&str>) -> Attachment {
        Attachment {
            kind: kind.into(),
            url: url.map(str::to_owned),
            media_id: media_id.map(str::to_owned),
            mime_type: None,
            filename: None,
        }
    }

    fn is_permanent(outcome: &SendOutcome, expected: &str) -> bool {
        matches!(outcome, SendOutcome::Permanent { code, .. } if code == expected)
    }

    const ACCEPTED: SendOutcome = SendOutcome::Accepted { platform_message_id: None };

    #[tokio::test]
    async fn a_text_is_the_documented_custom_message_and_the_access_token_is_fetched_once() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND00000000text", "app-secret-1");
        let text = "您好，订单 3307 已于今天发货，运单号 SF0000TEST。";
        assert_eq!(send(&http_client(), &outbound(&base, &secrets, Some(text))).await, ACCEPTED);
        assert_eq!(send(&http_client(), &outbound(&base, &secrets, Some("second"))).await, ACCEPTED);
        let tokens = token_requests(&fake);
        assert_eq!(tokens.len(), 1, "the token is cached between sends");
        assert_eq!(tokens[0].method, "GET");
        assert_eq!(
            tokens[0].path,
            "/cgi-bin/token?grant_type=client_credential&appid=wxSEND00000000text&secret=app-secret-1"
        );
        let sends = sends(&fake);
        assert_eq!(sends.len(), 2);
        assert_eq!(json_of(&sends[0].body), json_of(CUSTOM_SEND_TEXT), "the custom_send_text fixture is what we build");
        assert!(
            sends[0]
                .path
                .starts_with("/cgi-bin/message/custom/send?access_token=FAKE_ACCESS_TOKEN_wxSEND00000000text_")
        );
        assert_eq!(sends[0].path, sends[1].path);
    }

    #[tokio::test]
    async fn each_line_sends_with_the_token_of_its_own_app() {
        let (fake, base) = fake().await;
        let (a, b) = (app_secrets("wxSEND0000000lineA", "s"), app_secrets("wxSEND0000000lineB", "s"));
        let mut first = outbound(&base, &a, Some("from a"));
        first.business_id = "gh_a";
        let mut second = outbound(&base, &b, Some("from b"));
        second.business_id = "gh_b";
        assert_eq!(send(&http_client(), &first).await, ACCEPTED);
        assert_eq!(send(&http_client(), &second).await, ACCEPTED);
        let sends = sends(&fake);
        assert!(sends[0].path.contains("FAKE_ACCESS_TOKEN_wxSEND0000000lineA_"), "{}", sends[0].path);
        assert!(sends[1].path.contains("FAKE_ACCESS_TOKEN_wxSEND0000000lineB_"), "{}", sends[1].path);
    }

    #[tokio::test]
    async fn uploaded_media_go_by_media_id_after_the_text_as_separate_messages() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND0000000media", "s");
        let attachments = [media("image", Some("MEDIA_ID_label"), None), media("audio", Some("MEDIA_ID_voice"), None)];
        let mut msg = outbound(&base, &secrets, Some("运单如下"));
        msg.attachments = &attachments;
        assert_eq!(send(&http_client(), &msg).await, ACCEPTED);
        let bodies: Vec<serde_json::Value> = sends(&fake).iter().map(|r| json_of(&r.body)).collect();
        assert_eq!(
            bodies,
            [
                serde_json::json!({"touser": OPENID, "msgtype": "text", "text": {"content": "运单如下"}}),
                serde_json::json!({"touser": OPENID, "msgtype": "image", "image": {"media_id": "MEDIA_ID_label"}}),
                serde_json::json!({"touser": OPENID, "msgtype": "voice", "voice": {"media_id": "MEDIA_ID_voice"}}),
            ]
        );
    }

    #[tokio::test]
    async fn a_part_failing_after_the_text_went_out_is_permanent_and_says_so() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND00000partial", "s");
        let attachments = [media("image", Some("MEDIA_ID_invalid"), None)];
        let mut msg = outbound(&base, &secrets, Some("see the photo"));
        msg.attachments = &attachments;
        let outcome = send(&http_client(), &msg).await;
        let SendOutcome::Permanent { code, message } = &outcome else { panic!("{outcome:?}") };
        assert_eq!(code, "40007");
        assert!(message.contains("only 1 of the 2 parts were sent"), "{message}");
        assert_eq!(sends(&fake).len(), 1);
    }

    #[tokio::test]
    async fn what_wechat_cannot_send_is_refused_before_calling() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND0000000never", "s");
        let by_url = [media("image", None, Some("https://cdn.test/label.png"))];
        let document = [media("document", Some("MEDIA_ID_pdf"), None)];
        for attachments in [&by_url[..], &document[..]] {
            let mut msg = outbound(&base, &secrets, Some("see attached"));
            msg.attachments = attachments;
            assert!(is_permanent(&send(&http_client(), &msg).await, "unsupported"));
        }
        let SendOutcome::Permanent { message, .. } = ({
            let mut msg = outbound(&base, &secrets, None);
            msg.attachments = &by_url;
            send(&http_client(), &msg).await
        }) else {
            panic!()
        };
        assert!(message.contains("WeChat needs uploaded media"), "{message}");
        for target in
            [Target::Group { chat: "1" }, Target::PublicReply { reply_to: "1" }, Target::PrivateReply { comment: "1" }]
        {
            let mut msg = outbound(&base, &secrets, Some("hi"));
            msg.target = target;
            assert!(is_permanent(&send(&http_client(), &msg).await, "unsupported"));
        }
        let parameters = ["x".to_owned()];
        let mut templated = outbound(&base, &secrets, None);
        templated.template = Some(TemplateSend { name: "t", language: "zh_CN", parameters: &parameters });
        assert!(is_permanent(&send(&http_client(), &templated).await, "unsupported"));
        assert!(is_permanent(&send(&http_client(), &outbound(&base, &secrets, None)).await, "empty_message"));
        for missing in ["app_id", "app_secret"] {
            let mut without = secrets.clone();
            without.remove(missing);
            assert!(is_permanent(
                &send(&http_client(), &outbound(&base, &without, Some("hi"))).await,
                "missing_secret"
            ));
        }
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn outside_the_window_over_the_quota_and_an_unknown_openid_are_permanent() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND000permanent", "s");
        let msg = outbound(&base, &secrets, Some("hi"));
        for code in ["45015", "45047", "40003"] {
            fake.state.fail_next("wechat", Fault::Permanent(code.into()), 1);
            let outcome = send(&http_client(), &msg).await;
            assert!(
                matches!(&outcome, SendOutcome::Permanent { code: c, message } if c == code && message.contains("rid")),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn the_documented_answers_are_classified() {
        assert_eq!(custom_send_outcome(200, None, CUSTOM_SEND_OK.as_bytes()), (ACCEPTED, false));
        assert_eq!(
            custom_send_outcome(200, None, ERROR_45015.as_bytes()),
            (
                SendOutcome::permanent(
                    "45015",
                    "response out of time limit or subscription is canceled rid: 6770TEST-0000"
                ),
                false
            )
        );
        assert_eq!(
            custom_send_outcome(200, None, ERROR_45047.as_bytes()),
            (SendOutcome::permanent("45047", "out of response count limit rid: 6770TEST-0001"), false)
        );
        assert!(matches!(
            custom_send_outcome(200, None, br#"{"errcode":42001,"errmsg":"access_token expired"}"#),
            (SendOutcome::Transient { .. }, true)
        ));
        assert!(matches!(
            custom_send_outcome(200, None, br#"{"errcode":45009,"errmsg":"limit"}"#),
            (SendOutcome::Transient { retry_after: Some(_), .. }, false)
        ));
        assert!(matches!(custom_send_outcome(502, None, b"bad gateway"), (SendOutcome::Transient { .. }, false)));
        assert!(matches!(custom_send_outcome(404, None, b"<html>"), (SendOutcome::Permanent { .. }, false)));
        assert!(matches!(
            token_outcome(200, None, br#"{"errcode":-1,"errmsg":"system error"}"#),
            Err(SendOutcome::Transient { .. })
        ));
        assert!(matches!(
            token_outcome(200, None, br#"{"errcode":40164,"errmsg":"invalid ip 203.0.113.9, not in whitelist"}"#),
            Err(SendOutcome::Permanent { code, .. }) if code == "40164"
        ));
        assert!(matches!(token_outcome(200, None, b"[1,2]"), Err(SendOutcome::Permanent { .. })));
        assert_eq!(token_outcome(200, None, br#"{"access_token":"T","expires_in":30}"#), Ok(("T".into(), 30)));
    }

    #[tokio::test]
    async fn a_refused_access_token_is_dropped_and_the_retry_fetches_a_new_one() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND00000refresh", "s");
        let msg = outbound(&base, &secrets, Some("hi"));
        assert_eq!(send(&http_client(), &msg).await, ACCEPTED);
        for code in ["40001", "42001"] {
            fake.state.fail_next("wechat", Fault::Permanent(code.into()), 1);
            assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Transient { .. }), "{code}");
            assert_eq!(send(&http_client(), &msg).await, ACCEPTED);
        }
        assert_eq!(token_requests(&fake).len(), 3, "a new token after each refusal");
    }

    #[tokio::test]
    async fn a_busy_platform_server_errors_and_rate_limits_are_transient() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND000transient", "s");
        let msg = outbound(&base, &secrets, Some("hi"));
        for fault in [Fault::Permanent("-1".into()), Fault::ServerError, Fault::RateLimited] {
            fake.state.fail_next("wechat", fault.clone(), 1);
            assert!(matches!(send(&http_client(), &msg).await, SendOutcome::Transient { .. }), "{fault:?}");
        }
        assert_eq!(token_requests(&fake).len(), 1, "none of these drop the token");
    }

    #[tokio::test]
    async fn a_wrong_app_secret_is_permanent_and_nothing_is_sent() {
        let (fake, base) = fake().await;
        let secrets = app_secrets("wxSEND000badsecret", "invalid-secret");
        let outcome = send(&http_client(), &outbound(&base, &secrets, Some("hi"))).await;
        assert!(
            matches!(&outcome, SendOutcome::Permanent { code, message } if code == "40125" && !message.contains("invalid-secret")),
            "{outcome:?}"
        );
        assert!(sends(&fake).is_empty());
    }

    #[tokio::test]
    async fn a_transport_error_is_transient_and_does_not_reveal_the_app_secret() {
        let secrets = app_secrets("wxSEND000transport", "very-secret-value");
        let outcome = send(&http_client(), &outbound("http://127.0.0.1:9/wechat", &secrets, Some("hi"))).await;
        let SendOutcome::Transient { reason, .. } = &outcome else { panic!("{outcome:?}") };
        assert!(!reason.contains("very-secret-value"), "{reason}");
    }

    proptest! {
        #[test]
        fn any_answer_to_a_send_or_token_fetch_is_classified_without_panicking(
            status in 100u16..600,
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            errcode in any::<i64>(),
            expires_in in any::<u64>(),
        ) {
            let _ = custom_send_outcome(status, None, &bytes);
            let _ = token_outcome(status, None, &bytes);
            let shaped = serde_json::json!({"errcode": errcode, "errmsg": "x", "access_token": "t", "expires_in": expires_in});
            let _ = custom_send_outcome(status, None, shaped.to_string().as_bytes());
            let _ = token_outcome(status, None, shaped.to_string().as_bytes());
        }
    }
}
