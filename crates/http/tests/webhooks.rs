//! The platforms' webhooks end to end: `GET/POST /webhooks/{kind}/{account_id}` on the real
//! server, fed with the example payloads of `fixtures/channels/` signed as each platform signs
//! them, and the dead letters of `/api/v1/dead-letters`. Each test asserts what an agent would
//! see through the API (tickets, messages, contacts, dead letters) and counts rows only for
//! what must not have been stored, or for what no API shows (reply tokens, reactions,
//! subscriptions, removals).
//!
//! The fixtures are dated 2026-01-01; tests that depend on times (reply windows, read
//! watermarks) set the clock to that morning.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_channels::simulate::twilio_signature;
use switchboard_channels::{dialpad, justcall, lazada, line, shopee, wechat, x};
use switchboard_store::Db;
use switchboard_testkit::*;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

// ---------------------------------------------------------------- the fixtures' secrets and vectors

/// The moment the example payloads start at (1767225600).
const FIXTURE_TIME: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// Meta (WhatsApp, Messenger, Instagram): `*/signature_test_vector.txt`.
const META_SECRET: &str = "helpdesk-test-app-secret";
const VERIFY_TOKEN: &str = "helpdesk-verify-7f3a";
const WA_TEXT_SIGNATURE: &str = "sha256=2551fc504d9aa0f2a28ceffb0e9ecbccffbabbb9f5d339b3b2ee729ad02e886c";
const MESSENGER_TEXT_SIGNATURE: &str = "sha256=98d0674af18cd3a86b3183b25bba957fb99ea8dd32d1ab378a579a5282425692";
const INSTAGRAM_TEXT_SIGNATURE: &str = "sha256=7aa7127625f311666f7630c698da2760bac6c39fc210dd6f80a7bc5bb2a1e341";
/// The business sides of the Meta examples.
const WA_NUMBER: &str = "420000000000777";
const PAGE: &str = "100200300400500";
const IG_ACCOUNT: &str = "17841400000000077";

/// LINE: `line/signature_test_vector.txt` (over `message_text_user.json`).
const LINE_SECRET: &str = "helpdesk-test-channel-secret";
const LINE_TEXT_SIGNATURE: &str = "BZtXEP3j+Z2CqAsts7bVUILKKjw9/JbXY1KC3GcKUyw=";
const LINE_BOT: &str = "U0123456789abcdef0123456789abcdef";

/// X: `x/crc_exchange.txt`.
const X_SECRET: &str = "helpdesk-test-consumer-secret";
const X_DM_SIGNATURE: &str = "sha256=u1FWyIgHoMZDAb+euoEtPt0m6FDaxE14ji43/3MdrOU=";
const X_CRC_RESPONSE: &str = "sha256=wwP1BcxZgX8+021IQ1DvOOWIhGFhPl9q5GgBQDZViVI=";
const X_BUSINESS: &str = "4400000000000000001";

/// WeChat: `wechat/verify_request.txt`.
const WECHAT_TOKEN: &str = "helpdeskToken2026";
const WECHAT_SIGNATURE: &str = "217224de3b379509c56894f0f24eb0127a138845";
const WECHAT_TIMESTAMP: &str = "1767225600";
const WECHAT_NONCE: &str = "1398442012";
const WECHAT_ACCOUNT: &str = "gh_0a1b2c3d4e5f";
const WECHAT_APP_ID: &str = "wxTEST0000000000a1";
/// A made-up EncodingAESKey (43 characters, as WeChat's console shows one).
const WECHAT_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// Telegram: `telegram/webhook_headers.txt`.
const TELEGRAM_SECRET: &str = "tg_9f3c1e7a_hd";

/// Twilio: `sms/signature_test_vector.txt`.
const TWILIO_TOKEN: &str = "helpdesk-test-auth-token-0000000";
const TWILIO_VECTOR_URL: &str = "https://hd.example.test/webhooks/twilio/sms";
const TWILIO_VECTOR_SIGNATURE: &str = "YNe/9eJlxizpHnB6x3jqE3jdfU4=";
const TWILIO_NUMBER: &str = "+4930123456789";

/// JustCall: the `_headers` of `sms/justcall_sms_received.json`.
const JUSTCALL_SECRET: &str = "helpdesk-test-justcall-secret";
const JUSTCALL_VECTOR_URL: &str = "https://hd.example.test/webhooks/justcall";
const JUSTCALL_VECTOR_SIGNATURE: &str = "e1c435987419ad114973a5ea4596f0a405d9b0b7628ac495952545b243a4f03a";
const JUSTCALL_VECTOR_TIMESTAMP: &str = "2026-01-01 00:20:00";

/// Shopee: `marketplaces/shopee_push_signature.txt`.
const SHOPEE_KEY: &str = "helpdesk-test-partner-key";
const SHOPEE_VECTOR_URL: &str = "https://hd.example.test/webhooks/shopee";
const SHOPEE_VECTOR_SIGNATURE: &str = "27bc630f656a3bc373d5d4fe36b7e1d8b4c53bd612805d14c13f3f8b0fb61c0d";

/// The business number of the SMS examples (Dialpad, JustCall).
const SMS_NUMBER: &str = "+14155550100";

// ---------------------------------------------------------------- helpers

/// The exact bytes of an example file of `fixtures/channels/`.
fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/channels").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn fixture_text(path: &str) -> String {
    String::from_utf8(fixture(path)).expect("a text fixture")
}

/// The body of an HTTP request written out in a fixture (`headers`, blank line, body).
fn http_body(path: &str) -> String {
    let text = fixture_text(path);
    let (_, body) = text.split_once("\n\n").unwrap_or_else(|| panic!("{path} has no body"));
    body.trim().to_owned()
}

fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

fn s(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// One webhook call as a platform makes it.
#[derive(Debug, Clone, Default)]
struct Call {
    query: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Call {
    fn new(body: impl Into<Vec<u8>>) -> Self {
        Self { body: body.into(), ..Self::default() }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn query(mut self, query: impl Into<String>) -> Self {
        self.query = query.into();
        self
    }

    /// Signed as Meta signs: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, body)>`.
    fn meta(body: impl Into<Vec<u8>>, app_secret: &str) -> Self {
        let body = body.into();
        let signature = sign(app_secret, &body);
        Self::new(body).header("content-type", "application/json").header("x-hub-signature-256", signature)
    }

    fn line(body: impl Into<Vec<u8>>, channel_secret: &str) -> Self {
        let body = body.into();
        let signature = line::sign(channel_secret, &body);
        Self::new(body).header("content-type", "application/json").header("x-line-signature", signature)
    }

    fn x(body: impl Into<Vec<u8>>, consumer_secret: &str) -> Self {
        let body = body.into();
        let signature = x::sign(consumer_secret, &body);
        Self::new(body).header("content-type", "application/json").header("x-twitter-webhooks-signature", signature)
    }

    fn telegram(body: impl Into<Vec<u8>>, secret_token: &str) -> Self {
        Self::new(body)
            .header("content-type", "application/json")
            .header("x-telegram-bot-api-secret-token", secret_token)
    }

    /// A plain-mode WeChat push: the query carries `sha1(sorted(token, timestamp, nonce))`.
    fn wechat(body: impl Into<Vec<u8>>, token: &str) -> Self {
        let signature = wechat::sign(&[token, WECHAT_TIMESTAMP, WECHAT_NONCE]);
        Self::new(body).header("content-type", "text/xml").query(format!(
            "signature={signature}&timestamp={WECHAT_TIMESTAMP}&nonce={WECHAT_NONCE}&openid=oTEST_openid_li_wei_000001"
        ))
    }

    /// A form post signed as Twilio signs it, for the URL it is sent to.
    fn twilio(body: &str, auth_token: &str, url: &str) -> Self {
        let signature = twilio_signature(auth_token, url, &form(body));
        Self::new(body)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
    }
}

/// A platform's view of our answer: status, content type and body text.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

fn hook_path(kind: &str, account: &str, query: &str) -> String {
    if query.is_empty() { format!("/webhooks/{kind}/{account}") } else { format!("/webhooks/{kind}/{account}?{query}") }
}

/// The full address of an account's webhook, as platforms that sign the URL see it.
fn hook_url(app: &TestApp, kind: &str, account: &str) -> String {
    format!("{}{}", app.address, hook_path(kind, account, ""))
}

async fn send(app: &TestApp, method: Method, kind: &str, account: &str, call: &Call) -> Reply {
    let mut req = app.client.request(method, format!("{}{}", app.address, hook_path(kind, account, &call.query)));
    for (name, value) in &call.headers {
        req = req.header(*name, value);
    }
    let res = req.body(call.body.clone()).send().await.expect("the request reaches the server");
    let status = res.status();
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Reply { status, content_type, text: res.text().await.expect("a response body") }
}

async fn deliver(app: &TestApp, kind: &str, account: &str, call: &Call) -> Reply {
    send(app, Method::POST, kind, account, call).await
}

/// Delivers and expects the platform's success answer; returns it.
async fn delivered(app: &TestApp, kind: &str, account: &str, call: &Call) -> Reply {
    let reply = deliver(app, kind, account, call).await;
    assert_eq!(reply.status, StatusCode::OK, "{kind} delivery refused: {reply:?}");
    reply
}

/// Delivers a call that must be refused as unauthenticated.
async fn refused(app: &TestApp, kind: &str, account: &str, case: &str, call: &Call) {
    let reply = deliver(app, kind, account, call).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{kind}, {case}: {reply:?}");
    assert_eq!(reply.code(), "invalid_signature", "{kind}, {case}: {reply:?}");
}

/// Nothing of a refused request may be stored, not even as a dead letter.
async fn assert_nothing_stored(app: &TestApp, what: &str) {
    for (table, sql) in [
        ("messages", "SELECT COUNT(*) FROM messages"),
        ("contacts", "SELECT COUNT(*) FROM contacts"),
        ("tickets", "SELECT COUNT(*) FROM tickets"),
        ("dead letters", "SELECT COUNT(*) FROM dead_letters"),
    ] {
        assert_eq!(app.count(sql).await, 0, "{what}: {table} were stored");
    }
}

/// Connects a line through the API; returns its id.
async fn connect(app: &TestApp, kind: &str, external_id: &str, secrets: Value) -> String {
    s(&app.connect_account(kind, external_id, secrets).await["id"]).to_owned()
}

fn meta_secrets(app_secret: &str) -> Value {
    json!({"app_secret": app_secret, "verify_token": VERIFY_TOKEN, "access_token": "EAAtest"})
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let answer = app.get(path).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {:?}", answer.body);
    answer.body
}

/// Every ticket of the workspace, latest activity first.
async fn all_tickets(app: &TestApp) -> Vec<Value> {
    get_ok(app, "/api/v1/tickets?limit=100").await["tickets"].as_array().unwrap().clone()
}

/// The tickets of one line.
async fn tickets_on(app: &TestApp, account: &str) -> Vec<Value> {
    all_tickets(app).await.into_iter().filter(|t| t["channel_account_id"] == account).collect()
}

/// The one ticket of that kind on the line.
async fn only_ticket(app: &TestApp, account: &str, kind: &str) -> Value {
    let mut found: Vec<Value> = tickets_on(app, account).await.into_iter().filter(|t| t["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} ticket expected: {found:?}");
    found.remove(0)
}

async fn messages_of(app: &TestApp, ticket: &Value) -> Vec<Value> {
    get_ok(app, &format!("/api/v1/tickets/{}/messages", s(&ticket["id"]))).await["messages"].as_array().unwrap().clone()
}

fn bodies(messages: &[Value]) -> Vec<Option<&str>> {
    messages.iter().map(|m| m["body"].as_str()).collect()
}

async fn event_kinds(app: &TestApp, ticket: &Value) -> Vec<String> {
    get_ok(app, &format!("/api/v1/tickets/{}/events", s(&ticket["id"]))).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["kind"]).to_owned())
        .collect()
}

async fn contact(app: &TestApp, id: &Value) -> Value {
    get_ok(app, &format!("/api/v1/contacts/{}", s(id))).await
}

/// The message of the ticket that carries this platform id.
async fn message_with(app: &TestApp, ticket: &Value, platform_id: &str) -> Value {
    let messages = messages_of(app, ticket).await;
    messages
        .into_iter()
        .find(|m| m["platform_message_id"] == platform_id)
        .unwrap_or_else(|| panic!("no message {platform_id} on the ticket"))
}

fn assert_tags(ticket: &Value, expected: &[&str]) {
    let mut tags: Vec<&str> = ticket["tags"].as_array().unwrap().iter().map(s).collect();
    tags.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(tags, expected, "tags of {}", ticket["id"]);
}

fn attachment(message: &Value) -> &Value {
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "one attachment expected: {message}");
    &attachments[0]
}

/// An agent's reply on the ticket, which the (not yet running) delivery worker would have
/// sent and got `platform_id` back for: receipts name it by that id.
async fn reply_sent_as(app: &TestApp, ticket: &Value, body: &str, platform_id: &str) -> String {
    let answer = app.post(&format!("/api/v1/tickets/{}/messages", s(&ticket["id"])), json!({"body": body})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "reply refused: {:?}", answer.body);
    assert_eq!(answer.body["delivery_status"], "queued");
    let id: Uuid = s(&answer.body["id"]).parse().unwrap();
    let sql = "UPDATE messages SET platform_message_id = $1 WHERE id = $2";
    let updated = match app.db.db() {
        Db::Sqlite(pool) => sqlx::query(sql).bind(platform_id).bind(id).execute(pool).await.unwrap().rows_affected(),
        Db::Postgres(pool) => sqlx::query(sql).bind(platform_id).bind(id).execute(pool).await.unwrap().rows_affected(),
    };
    assert_eq!(updated, 1);
    id.to_string()
}

async fn dead_letters(app: &TestApp) -> Vec<Value> {
    get_ok(app, "/api/v1/dead-letters").await["dead_letters"].as_array().unwrap().clone()
}

async fn replay(app: &TestApp, letter: &Value) -> Answer {
    app.post(&format!("/api/v1/dead-letters/{}/replay", s(&letter["id"])), json!({})).await
}

/// A WhatsApp `messages` change of the number `phone_number_id`: `(wamid, wa_id, name, text)`.
fn wa_change(phone_number_id: &str, messages: &[(&str, &str, &str, &str)]) -> Value {
    let mut contacts: Vec<Value> = Vec::new();
    for (_, wa_id, name, _) in messages {
        if !contacts.iter().any(|c| c["wa_id"] == *wa_id) {
            contacts.push(json!({"profile": {"name": name}, "wa_id": wa_id}));
        }
    }
    let messages: Vec<Value> = messages
        .iter()
        .map(|(id, wa_id, _, text)| {
            json!({"from": wa_id, "id": id, "timestamp": "1767225600", "type": "text", "text": {"body": text}})
        })
        .collect();
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": contacts,
        "messages": messages
    }})
}

/// A `whatsapp_business_account` delivery with one entry per list of changes.
fn wa_body(entries: Vec<Vec<Value>>) -> Vec<u8> {
    let entries: Vec<Value> =
        entries.into_iter().map(|changes| json!({"id": "310000000000001", "changes": changes})).collect();
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": entries})).unwrap()
}

/// Lazada's documented IM push (its `data` unwrapped from a stray pair of braces).
const LAZADA_IM_PUSH: &str = r#"{"data":{"session_id":"100094063_2_1011822749_1_103","message_id":"1zYOS7N0cuIqw96026","content":"{\"txt\":\"hello world!\"}","from_account_id":"1891549323","from_account_type":1,"send_time":1596550789323,"template_id":1,"to_account_id":"231135951","to_account_type":2,"type":1,"site_id":"SG","process_msg":"","auto_reply":false,"status":0},"seller_id":20240305,"message_type":2}"#;

// ---------------------------------------------------------------- every platform's examples

#[tokio::test]
async fn every_whatsapp_example_message_lands_in_one_direct_ticket_that_shows_the_customers_profile() {
    let app = TestApp::spawn().await;
    app.clock.set(FIXTURE_TIME);
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;

    // The signature test vector: the file's exact bytes with the header value it names.
    assert!(fixture_text("whatsapp/signature_test_vector.txt").contains(WA_TEXT_SIGNATURE));
    let text = Call::new(fixture("whatsapp/message_text.json")).header("x-hub-signature-256", WA_TEXT_SIGNATURE);
    let reply = delivered(&app, "whatsapp", &line, &text).await;
    assert_eq!(reply.text, "", "Meta only wants an empty 200");

    let ticket = only_ticket(&app, &line, "direct").await;
    assert_eq!(ticket["channel"], "whatsapp");
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["subject"], "Hello, my parcel 88-1932 has not arrived yet.");
    assert_tags(&ticket, &["whatsapp", "messaging_support"]);
    let mira = contact(&app, &ticket["contact_id"]).await;
    assert_eq!(mira["name"], "Mira Lindqvist");
    assert_eq!(mira["phone"], "+447700900123");
    let identity = &mira["identities"][0];
    assert_eq!(identity["external_id"], "447700900123");
    assert_eq!(identity["name"], "Mira Lindqvist");
    assert_eq!(identity["phone"], "+447700900123");
    assert_eq!(identity["channel_account_id"], line.as_str());

    for file in [
        "message_image.json",
        "message_interactive_button_reply.json",
        "message_interactive_list_reply.json",
        "message_location.json",
        "message_document.json",
        "message_template_button.json",
    ] {
        let reply =
            delivered(&app, "whatsapp", &line, &Call::meta(fixture(&format!("whatsapp/{file}")), META_SECRET)).await;
        assert_eq!(reply.text, "", "{file}");
    }
    assert_eq!(all_tickets(&app).await.len(), 1, "one customer, one ticket");
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
    let messages = messages_of(&app, &ticket).await;
    assert!(messages.iter().all(|m| m["direction"] == "inbound" && m["author"]["kind"] == "contact"));
    assert_eq!(
        bodies(&messages),
        vec![
            Some("Hello, my parcel 88-1932 has not arrived yet."),
            Some("Damaged box"),
            Some("Very happy"),
            Some("Refund"),
            Some("📍 Pickup point 12, 1 Example Road, London (51.50135, -0.14189)"),
            Some("Invoice"),
            Some("Reopen ticket"),
        ]
    );
    assert_eq!(messages[0]["platform_message_id"], "wamid.TESTabc123MIRA0001");
    let image = attachment(&messages[1]);
    assert_eq!(image["kind"], "image");
    assert_eq!(image["media_id"], "1111222233334444");
    assert_eq!(image["mime_type"], "image/jpeg");
    assert_eq!(attachment(&messages[4])["kind"], "location");
    let document = attachment(&messages[5]);
    assert_eq!(document["kind"], "document");
    assert_eq!(document["media_id"], "5555666677778888");
    assert_eq!(document["filename"], "invoice-5520.pdf");
    assert_eq!(document["mime_type"], "application/pdf");

    // The reaction names the business's message it reacts to: it is no message of its own.
    reply_sent_as(&app, &ticket, "Could you send a photo?", "wamid.TESTbusinessOUT0009").await;
    delivered(&app, "whatsapp", &line, &Call::meta(fixture("whatsapp/message_reaction.json"), META_SECRET)).await;
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(messages.len(), 8, "seven from Mira and the reply; the reaction is none");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 8);
    assert!(messages.iter().all(|m| m["platform_message_id"] != "wamid.TESTabc123MIRA0008"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE platform_message_id = 'wamid.TESTbusinessOUT0009' AND reactions LIKE '%👍%'")
            .await,
        1,
        "the thumbs-up is kept on the reply"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0);
}

#[tokio::test]
async fn messenger_examples_make_a_direct_ticket_with_the_pages_echo_and_receipts_and_a_public_facebook_thread() {
    let app = TestApp::spawn().await;
    app.clock.set(FIXTURE_TIME);
    let page = connect(&app, "messenger", PAGE, meta_secrets(META_SECRET)).await;

    assert!(fixture_text("messenger/signature_test_vector.txt").contains(MESSENGER_TEXT_SIGNATURE));
    let text =
        Call::new(fixture("messenger/message_text.json")).header("x-hub-signature-256", MESSENGER_TEXT_SIGNATURE);
    assert_eq!(delivered(&app, "messenger", &page, &text).await.text, "");
    for file in ["message_attachment_image.json", "message_quick_reply_and_reply_to.json", "postback.json", "echo.json"]
    {
        delivered(&app, "messenger", &page, &Call::meta(fixture(&format!("messenger/{file}")), META_SECRET)).await;
    }
    let dm = only_ticket(&app, &page, "direct").await;
    assert_tags(&dm, &["messenger", "messaging_support"]);
    assert_eq!(dm["subject"], "Hi, my order 55-20 arrived broken.");
    let messages = messages_of(&app, &dm).await;
    assert_eq!(
        bodies(&messages),
        vec![
            Some("Hi, my order 55-20 arrived broken."),
            None,
            Some("Refund please"),
            Some("Talk to a person"),
            Some("Sorry about that, Jonas. A replacement ships tomorrow."),
        ]
    );
    let photo = attachment(&messages[1]);
    assert_eq!(photo["kind"], "image");
    assert_eq!(photo["url"], "https://scontent.example.test/v/t1/photo-jonas-0002.jpg?oh=TEST");
    // What the page typed in Meta Business Suite is the business's outbound message.
    let echo = &messages[4];
    assert_eq!(echo["direction"], "outbound");
    assert_eq!(echo["author"]["kind"], "agent");
    assert_eq!(echo["platform_message_id"], "m_TESTpageOut0008");
    assert_eq!(echo["delivery_status"], "sent");

    delivered(&app, "messenger", &page, &Call::meta(fixture("messenger/delivery.json"), META_SECRET)).await;
    assert_eq!(message_with(&app, &dm, "m_TESTpageOut0008").await["delivery_status"], "delivered");
    delivered(&app, "messenger", &page, &Call::meta(fixture("messenger/read.json"), META_SECRET)).await;
    assert_eq!(message_with(&app, &dm, "m_TESTpageOut0008").await["delivery_status"], "read");
    assert_eq!(messages_of(&app, &dm).await.len(), 5, "receipts are no messages");

    // The Page's feed: comments under one post are one public thread with its participants.
    for file in ["feed_comment_add.json", "feed_comment_reply_add.json"] {
        delivered(&app, "messenger", &page, &Call::meta(fixture(&format!("messenger/{file}")), META_SECRET)).await;
    }
    let thread = only_ticket(&app, &page, "public").await;
    assert_tags(&thread, &["facebook", "messaging_support"]);
    assert_eq!(thread["contact_id"], Value::Null, "a public thread has no one customer");
    assert_eq!(thread["subject"], "Is the blue jacket still available in M?");
    let participants = thread["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 2);
    let mut names = Vec::new();
    for id in participants {
        names.push(s(&contact(&app, id).await["name"]).to_owned());
    }
    names.sort();
    assert_eq!(names, ["Ayla Demir", "Jonas Weber"]);
    let comments = messages_of(&app, &thread).await;
    assert_eq!(
        bodies(&comments),
        vec![Some("Is the blue jacket still available in M?"), Some("Same question for size L")]
    );
    assert_eq!(comments[1]["platform_message_id"], "880000000000001_990000000000002");

    // Ayla deletes her comment: it is marked removed, not a new message.
    delivered(&app, "messenger", &page, &Call::meta(fixture("messenger/feed_comment_remove.json"), META_SECRET)).await;
    assert_eq!(messages_of(&app, &thread).await.len(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE platform_message_id = '880000000000001_990000000000002' AND removed_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(all_tickets(&app).await.len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0);
}

#[tokio::test]
async fn instagram_examples_make_a_direct_ticket_a_public_thread_for_comments_and_one_for_the_mention() {
    let app = TestApp::spawn().await;
    app.clock.set(FIXTURE_TIME);
    let account = connect(&app, "instagram", IG_ACCOUNT, meta_secrets(META_SECRET)).await;

    assert!(fixture_text("instagram/signature_test_vector.txt").contains(INSTAGRAM_TEXT_SIGNATURE));
    let text = Call::new(fixture("instagram/dm_text.json")).header("x-hub-signature-256", INSTAGRAM_TEXT_SIGNATURE);
    assert_eq!(delivered(&app, "instagram", &account, &text).await.text, "");
    for file in ["dm_image.json", "dm_echo.json", "dm_story_mention.json", "dm_seen.json"] {
        delivered(&app, "instagram", &account, &Call::meta(fixture(&format!("instagram/{file}")), META_SECRET)).await;
    }
    let dm = only_ticket(&app, &account, "direct").await;
    assert_tags(&dm, &["instagram", "messaging_support"]);
    let messages = messages_of(&app, &dm).await;
    assert_eq!(messages.len(), 4, "three from Nina and the account's echo; the seen receipt is none");
    assert_eq!(messages[0]["body"], "Do you ship to Norway?");
    assert_eq!(attachment(&messages[1])["kind"], "image");
    let echo = message_with(&app, &dm, "aWdfZAGTESTours0003").await;
    assert_eq!(echo["direction"], "outbound");
    assert_eq!(echo["body"], "Yes, 3-5 working days to Norway.");
    assert_eq!(echo["delivery_status"], "read", "Nina saw it");
    let story = attachment(&messages[3]);
    assert_eq!(story["kind"], "story_mention");
    assert!(s(&story["url"]).contains("TESTSTORY"));

    for file in ["comment.json", "comment_reply.json", "mention_comment.json"] {
        delivered(&app, "instagram", &account, &Call::meta(fixture(&format!("instagram/{file}")), META_SECRET)).await;
    }
    let public: Vec<Value> = tickets_on(&app, &account).await.into_iter().filter(|t| t["kind"] == "public").collect();
    assert_eq!(public.len(), 2, "the comments' post and the mentioning post");
    for t in &public {
        assert_tags(t, &["instagram", "messaging_support"]);
    }
    let comments = public.iter().find(|t| t["participants"].as_array().unwrap().len() == 2).expect("the comments");
    assert_eq!(
        bodies(&messages_of(&app, comments).await),
        vec![Some("Price for the green scarf please?"), Some("Also interested!")]
    );
    // Nina's comment and her DMs are one person.
    assert!(comments["participants"].as_array().unwrap().contains(&dm["contact_id"]));
    let mention = public.iter().find(|t| t["id"] != comments["id"]).unwrap();
    let said = messages_of(&app, mention).await;
    assert_eq!(bodies(&said), vec![Some("@mentioned the account in a comment")]);
    assert_eq!(said[0]["platform_message_id"], "18100000000000999");
    assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0);
}

#[tokio::test]
async fn x_answers_the_crc_and_a_dm_makes_a_direct_ticket_and_a_mention_a_public_one() {
    let app = TestApp::spawn().await;
    let account = connect(&app, "x", X_BUSINESS, json!({"consumer_secret": X_SECRET, "access_token": "user"})).await;

    let crc = send(&app, Method::GET, "x", &account, &Call::default().query("crc_token=crc-0001-test")).await;
    assert_eq!(crc.status, StatusCode::OK, "{crc:?}");
    assert!(crc.content_type.starts_with("application/json"), "{crc:?}");
    assert_eq!(crc.json(), json!({"response_token": X_CRC_RESPONSE}));

    assert!(fixture_text("x/crc_exchange.txt").contains(X_DM_SIGNATURE));
    let dm = Call::new(fixture("x/dm_received.json")).header("x-twitter-webhooks-signature", X_DM_SIGNATURE);
    assert_eq!(delivered(&app, "x", &account, &dm).await.text, "");
    let direct = only_ticket(&app, &account, "direct").await;
    assert_tags(&direct, &["x", "messaging_support"]);
    let sam = contact(&app, &direct["contact_id"]).await;
    assert_eq!(sam["name"], "Sam Porter");
    assert_eq!(sam["identities"][0]["external_id"], "4400000000000000777");
    assert_eq!(sam["identities"][0]["username"], "samp_demo");

    delivered(&app, "x", &account, &Call::x(fixture("x/dm_sent_echo.json"), X_SECRET)).await;
    let messages = messages_of(&app, &direct).await;
    assert_eq!(
        bodies(&messages),
        vec![Some("Hi, my refund for order 7781 has not arrived."), Some("Hi Sam, we have refunded order 7781.")]
    );
    assert_eq!(messages[1]["direction"], "outbound");
    assert_eq!(messages[1]["platform_message_id"], "1880000000000000502");

    delivered(&app, "x", &account, &Call::x(fixture("x/mention_tweet.json"), X_SECRET)).await;
    let public = only_ticket(&app, &account, "public").await;
    assert_tags(&public, &["x", "messaging_support"]);
    assert_eq!(public["participants"], json!([direct["contact_id"]]), "the same Sam");
    assert_eq!(
        bodies(&messages_of(&app, &public).await),
        vec![Some("@acme_help_demo my parcel is 3 days late, order 7781")]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
}

#[tokio::test]
async fn line_examples_make_a_direct_ticket_a_public_group_thread_and_follows_raise_no_ticket() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "line", LINE_BOT, json!({"channel_secret": LINE_SECRET, "channel_access_token": "token"})).await;

    delivered(&app, "line", &account, &Call::line(fixture("line/follow.json"), LINE_SECRET)).await;
    assert_eq!(all_tickets(&app).await.len(), 0, "following the bot says nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);

    assert!(fixture_text("line/signature_test_vector.txt").contains(LINE_TEXT_SIGNATURE));
    let text = Call::new(fixture("line/message_text_user.json")).header("x-line-signature", LINE_TEXT_SIGNATURE);
    assert_eq!(delivered(&app, "line", &account, &text).await.text, "");
    delivered(&app, "line", &account, &Call::line(fixture("line/postback.json"), LINE_SECRET)).await;
    let direct = only_ticket(&app, &account, "direct").await;
    assert_tags(&direct, &["line", "messaging_support"]);
    assert_eq!(
        bodies(&messages_of(&app, &direct).await),
        vec![Some("Hello, I need help with order 2210"), Some("action=csat&score=5&ticket=2210")]
    );

    delivered(&app, "line", &account, &Call::line(fixture("line/message_image_group.json"), LINE_SECRET)).await;
    let group = only_ticket(&app, &account, "public").await;
    assert_tags(&group, &["line", "messaging_support"]);
    assert_eq!(group["participants"], json!([direct["contact_id"]]), "Aiko wrote in the group too");
    let photo = messages_of(&app, &group).await;
    assert_eq!(photo.len(), 1);
    assert_eq!(attachment(&photo[0])["kind"], "image");
    assert_eq!(attachment(&photo[0])["media_id"], "500000000000000002");

    delivered(&app, "line", &account, &Call::line(fixture("line/unfollow.json"), LINE_SECRET)).await;
    delivered(&app, "line", &account, &Call::line(fixture("line/verify_empty_events.json"), LINE_SECRET)).await;
    assert_eq!(all_tickets(&app).await.len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM identities WHERE subscribed = FALSE").await, 1, "Aiko unfollowed");
    assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0);
}

#[tokio::test]
async fn wechat_answers_echostr_and_success_and_its_messages_make_one_direct_ticket_in_plain_and_safe_mode() {
    let app = TestApp::spawn().await;
    let secrets = json!({"token": WECHAT_TOKEN, "app_id": WECHAT_APP_ID, "app_secret": "secret",
                         "encoding_aes_key": WECHAT_AES_KEY});
    let account = connect(&app, "wechat", WECHAT_ACCOUNT, secrets).await;

    // The console's URL check, exactly as in verify_request.txt.
    let check = Call::default().query(format!(
        "signature={WECHAT_SIGNATURE}&timestamp={WECHAT_TIMESTAMP}&nonce={WECHAT_NONCE}&echostr=7311963624581223040"
    ));
    let answer = send(&app, Method::GET, "wechat", &account, &check).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.text, "7311963624581223040");
    assert!(answer.content_type.starts_with("text/plain"), "{answer:?}");

    for file in ["event_subscribe.xml", "message_text.xml", "message_image.xml", "event_click.xml"] {
        let reply =
            delivered(&app, "wechat", &account, &Call::wechat(fixture(&format!("wechat/{file}")), WECHAT_TOKEN)).await;
        assert_eq!(reply.text, "success", "{file}");
    }
    let ticket = only_ticket(&app, &account, "direct").await;
    assert_tags(&ticket, &["wechat", "messaging_support"]);
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(messages.len(), 2, "a menu click is nothing the customer said");
    assert_eq!(messages[0]["body"], "请问我的订单 3307 什么时候发货？");
    assert_eq!(messages[0]["platform_message_id"], "24412345678901234");
    let image = attachment(&messages[1]);
    assert_eq!(image["kind"], "image");
    assert_eq!(image["media_id"], "TEST_media_id_li_wei_0002");
    assert_eq!(image["url"], "https://mmbiz.qpic.cn/TEST/picture-3307.jpg");

    // Safe mode: the example's envelope around a message really encrypted with the account's key.
    let envelope = fixture_text("wechat/message_encrypted.xml");
    let placeholder = "VEVTVC1PTkxZLW5vdC1yZWFsLWNpcGhlcnRleHQtYmFzZTY0LXBsYWNlaG9sZGVy";
    let safe = |encrypted: &str, body: String| {
        let signature = wechat::sign(&[WECHAT_TOKEN, WECHAT_TIMESTAMP, WECHAT_NONCE]);
        let msg_signature = wechat::sign(&[WECHAT_TOKEN, WECHAT_TIMESTAMP, WECHAT_NONCE, encrypted]);
        Call::new(body).header("content-type", "text/xml").query(format!(
            "signature={signature}&timestamp={WECHAT_TIMESTAMP}&nonce={WECHAT_NONCE}\
             &openid=oTEST_openid_li_wei_000001&encrypt_type=aes&msg_signature={msg_signature}"
        ))
    };
    let plain = fixture_text("wechat/message_text.xml")
        .replace("24412345678901234", "24412345678901299")
        .replace("请问我的订单 3307 什么时候发货？", "还在吗？");
    let encrypted = wechat::encrypt(WECHAT_AES_KEY, WECHAT_APP_ID, [7; 16], &plain).expect("encrypt");
    let reply = delivered(&app, "wechat", &account, &safe(&encrypted, envelope.replace(placeholder, &encrypted))).await;
    assert_eq!(reply.text, "success");
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(bodies(&messages).last().unwrap(), &Some("还在吗？"));

    // The example itself holds a placeholder, not a ciphertext: signed, so it is kept as a dead
    // letter, and WeChat is still told `success`.
    let reply = delivered(&app, "wechat", &account, &safe(placeholder, envelope.clone())).await;
    assert_eq!(reply.text, "success");
    let letters = dead_letters(&app).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["kind"], "wechat");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
}

#[tokio::test]
async fn telegram_examples_make_a_direct_ticket_with_media_and_a_public_group_thread_and_a_block_is_noted() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "telegram", "acme_help_bot", json!({"bot_token": "123:abc", "secret_token": TELEGRAM_SECRET}))
            .await;
    assert!(fixture_text("telegram/webhook_headers.txt").contains(TELEGRAM_SECRET));

    for file in ["update_text_private.json", "update_photo.json", "update_document.json", "update_callback_query.json"]
    {
        let reply = delivered(
            &app,
            "telegram",
            &account,
            &Call::telegram(fixture(&format!("telegram/{file}")), TELEGRAM_SECRET),
        )
        .await;
        assert_eq!(reply.text, "", "{file}");
    }
    let direct = only_ticket(&app, &account, "direct").await;
    assert_tags(&direct, &["telegram", "messaging_support"]);
    let olu = contact(&app, &direct["contact_id"]).await;
    assert_eq!(olu["name"], "Olu Adeyemi");
    assert_eq!(olu["identities"][0]["username"], "olu_demo");
    let messages = messages_of(&app, &direct).await;
    assert_eq!(
        bodies(&messages),
        vec![
            Some("Hi, I was double charged for order 9912"),
            Some("bank statement screenshot"),
            None,
            Some("csat:5:ticket:9912")
        ]
    );
    let photo = attachment(&messages[1]);
    assert_eq!(photo["kind"], "image");
    assert_eq!(photo["media_id"], "AgACAgTESTlarge", "the largest size is kept");
    let document = attachment(&messages[2]);
    assert_eq!(document["kind"], "document");
    assert_eq!(document["filename"], "receipt-9912.pdf");
    assert_eq!(document["media_id"], "BQACAgTESTdoc");

    delivered(&app, "telegram", &account, &Call::telegram(fixture("telegram/update_group_text.json"), TELEGRAM_SECRET))
        .await;
    let group = only_ticket(&app, &account, "public").await;
    assert_tags(&group, &["telegram", "messaging_support"]);
    assert_eq!(group["subject"], "Acme VIP customers");
    assert_eq!(group["participants"], json!([direct["contact_id"]]));
    assert_eq!(bodies(&messages_of(&app, &group).await), vec![Some("@acme_help_bot is the store open on Sunday?")]);

    let blocked = Call::telegram(fixture("telegram/update_blocked_my_chat_member.json"), TELEGRAM_SECRET);
    delivered(&app, "telegram", &account, &blocked).await;
    assert_eq!(all_tickets(&app).await.len(), 2, "blocking the bot raises no ticket");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM identities WHERE subscribed = FALSE").await, 1);
}

#[tokio::test]
async fn twilio_sms_and_mms_make_one_direct_ticket_answered_with_empty_twiml_and_status_callbacks_move_replies() {
    let app = TestApp::spawn().await;
    let account = connect(
        &app,
        "twilio",
        TWILIO_NUMBER,
        json!({"account_sid": "ACTEST00000000000000000000000001", "auth_token": TWILIO_TOKEN}),
    )
    .await;
    let url = hook_url(&app, "twilio", &account);

    // Our signing reproduces the vector for the URL it was made for; we sign the URL we serve.
    let sms = http_body("sms/twilio_inbound_sms.txt");
    assert_eq!(twilio_signature(TWILIO_TOKEN, TWILIO_VECTOR_URL, &form(&sms)), TWILIO_VECTOR_SIGNATURE);
    let reply = delivered(&app, "twilio", &account, &Call::twilio(&sms, TWILIO_TOKEN, &url)).await;
    assert!(reply.content_type.starts_with("application/xml"), "{reply:?}");
    assert!(reply.text.contains("<Response></Response>"), "{reply:?}");

    let mms = http_body("sms/twilio_inbound_mms.txt");
    let reply = delivered(&app, "twilio", &account, &Call::twilio(&mms, TWILIO_TOKEN, &url)).await;
    assert!(reply.text.contains("<Response>"), "{reply:?}");

    let ticket = only_ticket(&app, &account, "direct").await;
    assert_tags(&ticket, &["sms", "messaging_support"]);
    let lena = contact(&app, &ticket["contact_id"]).await;
    assert_eq!(lena["phone"], "+4915112345678");
    assert_eq!(lena["identities"][0]["external_id"], "+4915112345678");
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(bodies(&messages), vec![Some("Hallo, mein Paket 702 ist beschädigt."), Some("Foto vom Schaden")]);
    let photo = attachment(&messages[1]);
    assert_eq!(photo["kind"], "image");
    assert_eq!(photo["mime_type"], "image/jpeg");
    assert_eq!(photo["media_id"], "METEST00000000000000000000000003");
    assert!(s(&photo["url"]).starts_with("https://api.twilio.com/2010-04-01/Accounts/"));

    // Status callbacks for two replies the delivery worker sent.
    reply_sent_as(&app, &ticket, "Ersatz ist unterwegs.", "SMTEST00000000000000000000000009").await;
    reply_sent_as(&app, &ticket, "Noch eine Frage?", "SMTEST00000000000000000000000010").await;
    for file in ["twilio_status_delivered.txt", "twilio_status_undelivered.txt"] {
        let body = http_body(&format!("sms/{file}"));
        let reply = delivered(&app, "twilio", &account, &Call::twilio(&body, TWILIO_TOKEN, &url)).await;
        assert!(reply.text.contains("<Response>"), "{file}: {reply:?}");
    }
    let delivered_reply = message_with(&app, &ticket, "SMTEST00000000000000000000000009").await;
    assert_eq!(delivered_reply["delivery_status"], "delivered");
    let failed = message_with(&app, &ticket, "SMTEST00000000000000000000000010").await;
    assert_eq!(failed["delivery_status"], "failed");
    assert_eq!(failed["error"]["code"], "30003");
    assert_eq!(failed["error"]["message"], "Unreachable destination handset");
    assert!(event_kinds(&app, &ticket).await.contains(&"delivery_failed".to_owned()));
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 4);
}

#[tokio::test]
async fn a_dialpad_sms_signed_as_a_jwt_makes_a_direct_sms_ticket() {
    let app = TestApp::spawn().await;
    let secret = "helpdesk-test-dialpad-secret";
    let account = connect(&app, "dialpad", SMS_NUMBER, json!({"webhook_secret": secret, "api_key": "key"})).await;

    let jwt = dialpad::sign(secret, &fixture("sms/dialpad_sms_inbound_decoded.json"));
    let reply = delivered(&app, "dialpad", &account, &Call::new(jwt).header("content-type", "application/jwt")).await;
    assert_eq!(reply.text, "");
    let ticket = only_ticket(&app, &account, "direct").await;
    assert_tags(&ticket, &["sms", "messaging_support"]);
    let dana = contact(&app, &ticket["contact_id"]).await;
    assert_eq!(dana["name"], "Dana Ruiz");
    assert_eq!(dana["phone"], "+14155559876");
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(bodies(&messages), vec![Some("Is my order 4410 shipped?")]);
    assert_eq!(messages[0]["platform_message_id"], "5550000000000001");
}

#[tokio::test]
async fn a_justcall_sms_makes_a_direct_sms_ticket_whether_signed_for_our_url_or_the_one_it_reports() {
    let app = TestApp::spawn().await;
    let secrets = json!({"webhook_secret": JUSTCALL_SECRET, "api_key": "key", "api_secret": JUSTCALL_SECRET});
    let account = connect(&app, "justcall", SMS_NUMBER, secrets).await;
    let body = fixture("sms/justcall_sms_received.json");

    // Our signing reproduces the example's header for the URL it names; we sign the URL we serve.
    assert_eq!(
        justcall::sign(JUSTCALL_SECRET, JUSTCALL_VECTOR_URL, "sms.sent_received", JUSTCALL_VECTOR_TIMESTAMP),
        JUSTCALL_VECTOR_SIGNATURE
    );
    let timestamp = "2026-01-01 00:20:01";
    let ours = justcall::sign(JUSTCALL_SECRET, &hook_url(&app, "justcall", &account), "sms.sent_received", timestamp);
    let call = Call::new(body.clone())
        .header("content-type", "application/json")
        .header("x-justcall-signature", ours)
        .header("x-justcall-signature-version", "v1")
        .header("x-justcall-request-timestamp", timestamp);
    assert_eq!(delivered(&app, "justcall", &account, &call).await.text, "");
    let ticket = only_ticket(&app, &account, "direct").await;
    assert_tags(&ticket, &["sms", "messaging_support"]);
    let dana = contact(&app, &ticket["contact_id"]).await;
    assert_eq!(dana["name"], "Dana Ruiz");
    assert_eq!(dana["email"], "dana@example.test");
    assert_eq!(dana["phone"], "+14155559876");
    assert_eq!(bodies(&messages_of(&app, &ticket).await), vec![Some("Is my order 4410 shipped?")]);

    // The example's own headers sign the `webhook_url` the body reports: accepted too, and the
    // same message is not stored twice.
    let vector = Call::new(body)
        .header("content-type", "application/json")
        .header("x-justcall-signature", JUSTCALL_VECTOR_SIGNATURE)
        .header("x-justcall-signature-version", "v1")
        .header("x-justcall-request-timestamp", JUSTCALL_VECTOR_TIMESTAMP);
    delivered(&app, "justcall", &account, &vector).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn a_shopee_chat_push_signed_for_our_url_makes_a_direct_ticket_and_one_signed_for_another_url_is_refused() {
    let app = TestApp::spawn().await;
    let secrets = json!({"partner_id": "2000001", "partner_key": SHOPEE_KEY, "access_token": "token"});
    let account = connect(&app, "shopee", "880012345", secrets).await;
    let body = fixture("marketplaces/shopee_push_webchat.json");

    assert_eq!(shopee::sign(SHOPEE_KEY, SHOPEE_VECTOR_URL, &body), SHOPEE_VECTOR_SIGNATURE);
    // The vector signs the example's callback URL, not ours: Shopee signs the address it calls.
    let elsewhere = Call::new(body.clone()).header("authorization", SHOPEE_VECTOR_SIGNATURE);
    refused(&app, "shopee", &account, "signed for another URL", &elsewhere).await;
    assert_nothing_stored(&app, "shopee").await;

    let ours = shopee::sign(SHOPEE_KEY, &hook_url(&app, "shopee", &account), &body);
    let reply = delivered(&app, "shopee", &account, &Call::new(body).header("authorization", ours)).await;
    assert_eq!(reply.text, "", "Shopee wants an empty body");
    let ticket = only_ticket(&app, &account, "direct").await;
    assert_eq!(ticket["channel"], "shopee");
    assert_tags(&ticket, &[]);
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(bodies(&messages), vec![Some("Is the blue mug still in stock?")]);
    assert_eq!(messages[0]["platform_message_id"], "2385373076638777713");
    let buyer = contact(&app, &ticket["contact_id"]).await;
    assert_eq!(buyer["identities"][0]["external_id"], "6648342");
}

#[tokio::test]
async fn a_lazada_chat_push_makes_a_direct_ticket() {
    let app = TestApp::spawn().await;
    let secrets = json!({"app_key": "100001", "app_secret": META_SECRET, "access_token": "token"});
    let account = connect(&app, "lazada", "20240305", secrets).await;

    let signature = lazada::sign("100001", META_SECRET, LAZADA_IM_PUSH.as_bytes());
    let reply =
        delivered(&app, "lazada", &account, &Call::new(LAZADA_IM_PUSH).header("authorization", signature)).await;
    assert_eq!(reply.text, "");
    let ticket = only_ticket(&app, &account, "direct").await;
    assert_eq!(ticket["channel"], "lazada");
    let messages = messages_of(&app, &ticket).await;
    assert_eq!(bodies(&messages), vec![Some("hello world!")]);
    assert_eq!(messages[0]["platform_message_id"], "1zYOS7N0cuIqw96026");

    let unsigned = Call::new(LAZADA_IM_PUSH);
    refused(&app, "lazada", &account, "unsigned", &unsigned).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

// ---------------------------------------------------------------- delivery receipts

#[tokio::test]
async fn whatsapp_receipts_move_a_replys_status_forward_only_and_a_failure_shows_its_code_and_an_event() {
    let app = TestApp::spawn().await;
    app.clock.set(FIXTURE_TIME);
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    delivered(&app, "whatsapp", &line, &Call::meta(fixture("whatsapp/message_text.json"), META_SECRET)).await;
    let ticket = only_ticket(&app, &line, "direct").await;
    reply_sent_as(&app, &ticket, "We are on it.", "wamid.TESTbusinessOUT0009").await;
    reply_sent_as(&app, &ticket, "Any news on your side?", "wamid.TESTbusinessOUT0042").await;

    delivered(&app, "whatsapp", &line, &Call::meta(fixture("whatsapp/status_delivered.json"), META_SECRET)).await;
    assert_eq!(message_with(&app, &ticket, "wamid.TESTbusinessOUT0009").await["delivery_status"], "delivered");
    assert_eq!(message_with(&app, &ticket, "wamid.TESTbusinessOUT0042").await["delivery_status"], "queued");

    delivered(&app, "whatsapp", &line, &Call::meta(fixture("whatsapp/status_failed_131047.json"), META_SECRET)).await;
    let failed = message_with(&app, &ticket, "wamid.TESTbusinessOUT0042").await;
    assert_eq!(failed["delivery_status"], "failed");
    assert_eq!(failed["error"]["code"], "131047");
    assert_eq!(failed["error"]["message"], "Re-engagement message");
    assert!(event_kinds(&app, &ticket).await.contains(&"delivery_failed".to_owned()));

    // Read, then the late `delivered` again: statuses never move back.
    let read =
        fixture_text("whatsapp/status_delivered.json").replace("\"status\": \"delivered\"", "\"status\": \"read\"");
    assert!(read.contains("\"read\""));
    delivered(&app, "whatsapp", &line, &Call::meta(read, META_SECRET)).await;
    assert_eq!(message_with(&app, &ticket, "wamid.TESTbusinessOUT0009").await["delivery_status"], "read");
    delivered(&app, "whatsapp", &line, &Call::meta(fixture("whatsapp/status_delivered.json"), META_SECRET)).await;
    assert_eq!(message_with(&app, &ticket, "wamid.TESTbusinessOUT0009").await["delivery_status"], "read");
    assert_eq!(message_with(&app, &ticket, "wamid.TESTbusinessOUT0042").await["delivery_status"], "failed");

    assert_eq!(messages_of(&app, &ticket).await.len(), 3, "receipts are no messages");
    assert_eq!(all_tickets(&app).await.len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0);
}

// ---------------------------------------------------------------- authentication and handshakes

#[tokio::test]
async fn a_whatsapp_delivery_tampered_signed_with_another_secret_or_unsigned_is_401_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let body = fixture("whatsapp/message_text.json");
    let good = sign(META_SECRET, &body);
    let mut tampered = body.clone();
    let at = tampered.windows(5).position(|w| w == b"88-19").unwrap();
    tampered[at] = b'9';

    for (case, call) in [
        ("a tampered body", Call::new(tampered).header("x-hub-signature-256", good.clone())),
        ("another app secret", Call::meta(body.clone(), "another-app-secret")),
        ("no signature header", Call::new(body.clone())),
        ("no sha256= prefix", Call::new(body.clone()).header("x-hub-signature-256", good.replace("sha256=", ""))),
    ] {
        refused(&app, "whatsapp", &line, case, &call).await;
    }
    assert_nothing_stored(&app, "whatsapp").await;
    delivered(&app, "whatsapp", &line, &Call::new(body).header("x-hub-signature-256", good)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1, "the same body, rightly signed, goes through");
}

#[tokio::test]
async fn the_meta_handshake_answers_the_challenge_only_with_the_right_verify_token() {
    let app = TestApp::spawn().await;
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let handshake = |token: &str| {
        Call::default().query(format!("hub.mode=subscribe&hub.challenge=1987654321&hub.verify_token={token}"))
    };

    let ok = send(&app, Method::GET, "whatsapp", &line, &handshake(VERIFY_TOKEN)).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(ok.text, "1987654321");
    assert!(ok.content_type.starts_with("text/plain"), "{ok:?}");

    for (case, call) in [
        ("a wrong verify token", handshake("helpdesk-verify-7f3b")),
        ("no verify token", Call::default().query("hub.mode=subscribe&hub.challenge=1987654321")),
    ] {
        let refused = send(&app, Method::GET, "whatsapp", &line, &call).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{case}: {refused:?}");
        assert_eq!(refused.code(), "invalid_signature", "{case}");
        assert!(!refused.text.contains("1987654321"), "{case}: the challenge is not echoed");
    }
    assert_nothing_stored(&app, "handshake").await;
}

#[tokio::test]
async fn a_line_delivery_tampered_signed_with_another_secret_or_unsigned_is_401_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "line", LINE_BOT, json!({"channel_secret": LINE_SECRET, "channel_access_token": "token"})).await;
    let body = fixture("line/message_text_user.json");
    let tampered = String::from_utf8(body.clone()).unwrap().replace("2210", "2211");

    for (case, call) in [
        ("a tampered body", Call::new(tampered).header("x-line-signature", LINE_TEXT_SIGNATURE)),
        ("another channel secret", Call::line(body.clone(), "another-channel-secret")),
        ("no signature header", Call::new(body.clone())),
    ] {
        refused(&app, "line", &account, case, &call).await;
    }
    assert_nothing_stored(&app, "line").await;
}

#[tokio::test]
async fn a_telegram_update_with_a_wrong_or_missing_secret_token_is_401_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "telegram", "acme_help_bot", json!({"bot_token": "123:abc", "secret_token": TELEGRAM_SECRET}))
            .await;
    let body = fixture("telegram/update_text_private.json");
    // Telegram signs nothing: the secret token in the header is all there is to check, so a
    // changed body cannot be told from an honest one.
    for (case, call) in [
        ("a wrong secret token", Call::telegram(body.clone(), "tg_9f3c1e7a_hx")),
        ("no secret token", Call::new(body.clone())),
        ("an empty secret token", Call::telegram(body.clone(), "")),
    ] {
        refused(&app, "telegram", &account, case, &call).await;
    }
    assert_nothing_stored(&app, "telegram").await;
}

#[tokio::test]
async fn a_twilio_call_with_changed_parameters_another_token_another_url_or_no_signature_is_401_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let account = connect(
        &app,
        "twilio",
        TWILIO_NUMBER,
        json!({"account_sid": "ACTEST00000000000000000000000001", "auth_token": TWILIO_TOKEN}),
    )
    .await;
    let url = hook_url(&app, "twilio", &account);
    let sms = http_body("sms/twilio_inbound_sms.txt");
    let good = Call::twilio(&sms, TWILIO_TOKEN, &url);
    let mut tampered = good.clone();
    tampered.body = sms.replace("Paket+702", "Paket+703").into_bytes();

    for (case, call) in [
        ("changed parameters", tampered),
        ("another auth token", Call::twilio(&sms, "another-auth-token-000000000000", &url)),
        ("signed for the vector's URL", Call::twilio(&sms, TWILIO_TOKEN, TWILIO_VECTOR_URL)),
        ("no signature header", Call::new(sms.clone())),
    ] {
        refused(&app, "twilio", &account, case, &call).await;
    }
    assert_nothing_stored(&app, "twilio").await;
    delivered(&app, "twilio", &account, &good).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn an_x_delivery_tampered_signed_with_another_secret_or_unsigned_is_401_and_the_crc_refuses_json_tokens() {
    let app = TestApp::spawn().await;
    let account = connect(&app, "x", X_BUSINESS, json!({"consumer_secret": X_SECRET, "access_token": "user"})).await;
    let body = fixture("x/dm_received.json");
    let tampered = String::from_utf8(body.clone()).unwrap().replace("7781", "7782");

    for (case, call) in [
        ("a tampered body", Call::new(tampered).header("x-twitter-webhooks-signature", X_DM_SIGNATURE)),
        ("another consumer secret", Call::x(body.clone(), "another-consumer-secret")),
        ("no signature header", Call::new(body.clone())),
    ] {
        refused(&app, "x", &account, case, &call).await;
    }
    // A CRC for a JSON object would hand out a valid signature for that body.
    let forged = Call::default().query(format!("crc_token=%7B%22for_user_id%22%3A%22{X_BUSINESS}%22%7D"));
    let crc = send(&app, Method::GET, "x", &account, &forged).await;
    assert_eq!(crc.status, StatusCode::UNAUTHORIZED, "{crc:?}");
    assert_nothing_stored(&app, "x").await;
}

#[tokio::test]
async fn a_wechat_call_with_a_wrong_token_a_changed_ciphertext_or_no_signature_is_401_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let secrets = json!({"token": WECHAT_TOKEN, "app_id": WECHAT_APP_ID, "app_secret": "secret",
                         "encoding_aes_key": WECHAT_AES_KEY});
    let account = connect(&app, "wechat", WECHAT_ACCOUNT, secrets).await;
    let text = fixture("wechat/message_text.xml");
    let query = "timestamp=1767225600&nonce=1398442012&openid=oTEST_openid_li_wei_000001";

    // Safe mode signs the ciphertext: a changed one does not verify.
    let encrypted = wechat::encrypt(WECHAT_AES_KEY, WECHAT_APP_ID, [3; 16], &fixture_text("wechat/message_text.xml"))
        .expect("encrypt");
    let msg_signature = wechat::sign(&[WECHAT_TOKEN, WECHAT_TIMESTAMP, WECHAT_NONCE, &encrypted]);
    let mut changed = encrypted.clone().into_bytes();
    changed[10] = if changed[10] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    let envelope = format!(
        "<xml><ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{changed}]]></Encrypt></xml>"
    );

    for (case, call) in [
        ("another token", Call::wechat(text.clone(), "anotherToken")),
        ("no signature", Call::new(text.clone()).query(query)),
        ("a wrong timestamp", {
            let mut call = Call::wechat(text.clone(), WECHAT_TOKEN);
            call.query = call.query.replace("timestamp=1767225600", "timestamp=1767225601");
            call
        }),
        (
            "a changed ciphertext",
            Call::new(envelope).query(format!("{query}&encrypt_type=aes&msg_signature={msg_signature}")),
        ),
    ] {
        refused(&app, "wechat", &account, case, &call).await;
    }
    let check = Call::default().query(format!("signature={WECHAT_SIGNATURE}&{query}&echostr=1"));
    let mut other = check.clone();
    other.query = other.query.replace(WECHAT_SIGNATURE, &"0".repeat(40));
    let refused_check = send(&app, Method::GET, "wechat", &account, &other).await;
    assert_eq!(refused_check.status, StatusCode::UNAUTHORIZED, "{refused_check:?}");
    assert_eq!(send(&app, Method::GET, "wechat", &account, &check).await.text, "1");
    assert_nothing_stored(&app, "wechat").await;
}

#[tokio::test]
async fn an_unknown_platform_in_the_url_or_an_account_of_another_kind_is_404() {
    let app = TestApp::spawn().await;
    let whatsapp = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let body = fixture("whatsapp/message_text.json");
    let call = Call::meta(body.clone(), META_SECRET);

    for (case, kind, account) in [
        ("an unknown platform", "myspace", whatsapp.clone()),
        ("the generic kind through the platform route", "email", whatsapp.clone()),
        ("another platform than the account's", "messenger", whatsapp.clone()),
        ("an account that does not exist", "whatsapp", Uuid::now_v7().to_string()),
    ] {
        let reply = deliver(&app, kind, &account, &call).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{case}: {reply:?}");
        assert_eq!(reply.code(), "not_found", "{case}");
    }
    let line =
        connect(&app, "line", LINE_BOT, json!({"channel_secret": LINE_SECRET, "channel_access_token": "t"})).await;
    let reply =
        deliver(&app, "line", &whatsapp, &Call::line(fixture("line/message_text_user.json"), LINE_SECRET)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "a LINE call for the WhatsApp line: {reply:?}");
    let reply = deliver(&app, "whatsapp", &line, &call).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "a WhatsApp call for the LINE line: {reply:?}");
    assert_nothing_stored(&app, "404").await;
}

// ---------------------------------------------------------------- redeliveries and batches

#[tokio::test]
async fn a_redelivered_whatsapp_payload_stores_nothing_new() {
    let app = TestApp::spawn().await;
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let call = Call::meta(fixture("whatsapp/message_image.json"), META_SECRET);
    delivered(&app, "whatsapp", &line, &call).await;
    delivered(&app, "whatsapp", &line, &call).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
    let ticket = only_ticket(&app, &line, "direct").await;
    assert_eq!(messages_of(&app, &ticket).await.len(), 1);
}

#[tokio::test]
async fn a_line_redelivery_of_a_message_stores_nothing_new() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "line", LINE_BOT, json!({"channel_secret": LINE_SECRET, "channel_access_token": "token"})).await;
    delivered(&app, "line", &account, &Call::line(fixture("line/message_text_user.json"), LINE_SECRET)).await;
    // `isRedelivery: true`, same message and event ids.
    let redelivery = fixture_text("line/redelivered_message.json");
    assert!(redelivery.contains("\"isRedelivery\": true") && redelivery.contains("500000000000000001"));
    delivered(&app, "line", &account, &Call::line(redelivery, LINE_SECRET)).await;
    let ticket = only_ticket(&app, &account, "direct").await;
    assert_eq!(bodies(&messages_of(&app, &ticket).await), vec![Some("Hello, I need help with order 2210")]);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
}

#[tokio::test]
async fn a_whatsapp_batch_of_messages_from_several_customers_creates_every_ticket() {
    let app = TestApp::spawn().await;
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let body = wa_body(vec![
        vec![wa_change(
            WA_NUMBER,
            &[("wamid.B1", "441111", "Ann Example", "first from Ann"), ("wamid.B2", "442222", "Bo Example", "from Bo")],
        )],
        vec![wa_change(
            WA_NUMBER,
            &[("wamid.B3", "443333", "Cy Example", "from Cy"), ("wamid.B4", "441111", "Ann Example", "again Ann")],
        )],
    ]);
    delivered(&app, "whatsapp", &line, &Call::meta(body, META_SECRET)).await;

    let tickets = tickets_on(&app, &line).await;
    assert_eq!(tickets.len(), 3, "one ticket per customer");
    let mut seen = Vec::new();
    for ticket in &tickets {
        let who = contact(&app, &ticket["contact_id"]).await;
        let said: Vec<String> = messages_of(&app, ticket).await.iter().map(|m| s(&m["body"]).to_owned()).collect();
        seen.push((s(&who["name"]).to_owned(), said));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("Ann Example".to_owned(), vec!["first from Ann".to_owned(), "again Ann".to_owned()]),
            ("Bo Example".to_owned(), vec!["from Bo".to_owned()]),
            ("Cy Example".to_owned(), vec!["from Cy".to_owned()]),
        ]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 4);
}

// ---------------------------------------------------------------- dead letters

#[tokio::test]
async fn a_signed_but_unreadable_whatsapp_body_is_kept_as_a_dead_letter_that_replays_as_still_unprocessable() {
    let app = TestApp::spawn().await;
    let line = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let body = br#"{"object":"whatsapp_business_account","entry":"nope"}"#;

    let reply = delivered(&app, "whatsapp", &line, &Call::meta(&body[..], META_SECRET)).await;
    assert_eq!(reply.text, "", "Meta is answered as usual, or it would redeliver forever");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 0);

    let letters = dead_letters(&app).await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter["kind"], "whatsapp");
    assert_eq!(letter["channel_account_id"], line.as_str());
    assert_eq!(letter["method"], "POST");
    assert_eq!(letter["body"], std::str::from_utf8(body).unwrap());
    assert_eq!(letter["url"], hook_url(&app, "whatsapp", &line));
    assert!(s(&letter["reason"]).contains("not a Meta webhook"), "{letter}");
    assert_eq!(letter["replayed_at"], Value::Null);

    let again = replay(&app, letter).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    assert_eq!(again.code(), "still_unprocessable");
    let letters = dead_letters(&app).await;
    assert_eq!(letters.len(), 1, "the letter stays");
    assert_eq!(letters[0]["replayed_at"], Value::Null, "it was not replayed successfully");
    assert!(s(&letters[0]["replay_error"]).contains("not a Meta webhook"), "{}", letters[0]);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
}

#[tokio::test]
async fn a_message_for_an_unconnected_number_is_a_dead_letter_until_the_number_is_connected_and_it_is_replayed() {
    let app = TestApp::spawn().await;
    let first = connect(&app, "whatsapp", WA_NUMBER, meta_secrets(META_SECRET)).await;
    let later_number = "420000000000888";
    let body = wa_body(vec![vec![wa_change(later_number, &[("wamid.L1", "445555", "Lee Example", "anyone there?")])]]);

    delivered(&app, "whatsapp", &first, &Call::meta(body, META_SECRET)).await;
    assert_eq!(all_tickets(&app).await.len(), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    let letters = dead_letters(&app).await;
    assert_eq!(letters.len(), 1);
    assert!(s(&letters[0]["reason"]).contains(later_number), "{}", letters[0]);

    let later = connect(&app, "whatsapp", later_number, meta_secrets(META_SECRET)).await;
    let replayed = replay(&app, &letters[0]).await;
    assert_eq!(replayed.status, StatusCode::OK, "{:?}", replayed.body);
    assert!(replayed.body["replayed_at"].is_string());
    assert_eq!(replayed.body["replay_error"], Value::Null);
    let ticket = only_ticket(&app, &later, "direct").await;
    assert_eq!(bodies(&messages_of(&app, &ticket).await), vec![Some("anyone there?")]);
    assert_eq!(tickets_on(&app, &first).await.len(), 0);

    let twice = replay(&app, &letters[0]).await;
    assert_eq!(twice.status, StatusCode::OK, "{:?}", twice.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1, "a replay is safe to repeat");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
}

// ---------------------------------------------------------------- one Meta app, several lines

#[tokio::test]
async fn one_meta_delivery_for_two_numbers_of_the_same_app_gives_each_line_its_ticket_and_no_other_app_is_trusted() {
    let app = TestApp::spawn().await;
    let first = connect(&app, "whatsapp", "420000000000111", meta_secrets(META_SECRET)).await;
    let second = connect(&app, "whatsapp", "420000000000222", meta_secrets(META_SECRET)).await;
    let foreign = connect(&app, "whatsapp", "420000000000333", meta_secrets("another-app-secret")).await;
    let page = connect(&app, "messenger", PAGE, meta_secrets(META_SECRET)).await;

    let body = wa_body(vec![
        vec![wa_change("420000000000111", &[("wamid.M1", "446666", "One Example", "to the first number")])],
        vec![wa_change("420000000000222", &[("wamid.M2", "447777", "Two Example", "to the second number")])],
    ]);
    delivered(&app, "whatsapp", &first, &Call::meta(body, META_SECRET)).await;
    for (line, said) in [(&first, "to the first number"), (&second, "to the second number")] {
        let ticket = only_ticket(&app, line, "direct").await;
        assert_eq!(ticket["channel_account_id"], line.as_str());
        assert_eq!(bodies(&messages_of(&app, &ticket).await), vec![Some(said)]);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0);

    // The app's Page shares the callback URL: its events reach the Page's line.
    let page_body = fixture("messenger/message_text.json");
    delivered(&app, "whatsapp", &first, &Call::meta(page_body, META_SECRET)).await;
    let dm = only_ticket(&app, &page, "direct").await;
    assert_tags(&dm, &["messenger", "messaging_support"]);

    // A number of another app is not reached through this app's URL, nor the other way round.
    let body = wa_body(vec![vec![wa_change("420000000000333", &[("wamid.M3", "448888", "Three", "hi")])]]);
    delivered(&app, "whatsapp", &first, &Call::meta(body, META_SECRET)).await;
    let body = wa_body(vec![vec![wa_change("420000000000222", &[("wamid.M4", "449999", "Four", "hi")])]]);
    delivered(&app, "whatsapp", &foreign, &Call::meta(body, "another-app-secret")).await;
    assert_eq!(tickets_on(&app, &foreign).await.len(), 0);
    assert_eq!(tickets_on(&app, &second).await.len(), 1);
    let letters = dead_letters(&app).await;
    assert_eq!(letters.len(), 2);
    assert!(letters.iter().any(|l| s(&l["reason"]).contains("420000000000333")));
    assert!(letters.iter().any(|l| s(&l["reason"]).contains("420000000000222")));
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 3);
}

// ---------------------------------------------------------------- LINE reply tokens

#[tokio::test]
async fn a_line_message_keeps_its_reply_token_on_the_conversation() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "line", LINE_BOT, json!({"channel_secret": LINE_SECRET, "channel_access_token": "token"})).await;
    delivered(&app, "line", &account, &Call::line(fixture("line/message_text_user.json"), LINE_SECRET)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations WHERE reply_token IS NOT NULL").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE reply_token = 'TESTreplytoken0000000000000001'").await,
        1
    );
}

#[tokio::test]
async fn a_line_group_message_keeps_its_reply_token_on_the_groups_thread() {
    let app = TestApp::spawn().await;
    let account =
        connect(&app, "line", LINE_BOT, json!({"channel_secret": LINE_SECRET, "channel_access_token": "token"})).await;
    delivered(&app, "line", &account, &Call::line(fixture("line/message_image_group.json"), LINE_SECRET)).await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM conversations WHERE kind = 'public' AND reply_token = 'TESTreplytoken0000000000000002'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_client_that_keeps_failing_on_a_line_is_answered_429_until_the_minute_ends() {
    let app = TestApp::spawn().await;
    let line = app.api_account("s3cret").await;
    let other = app.api_account("s3cret").await;
    let body = serde_json::to_vec(&json!({"messages": [{"id": "m1", "from": {"id": "u1"}, "text": "hi"}]})).unwrap();
    let good = switchboard_testkit::sign("s3cret", &body);
    for _ in 0..switchboard_service::webhooks::FAILURES_PER_MINUTE {
        let forged = app.post_webhook(&line, &body, Some("sha256=00")).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    }
    let held = app.post_webhook(&line, &body, Some("sha256=00")).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(held.code(), "rate_limited");
    // Another line is not held back, and good traffic there still goes through.
    assert_eq!(app.post_webhook(&other, &body, Some(&good)).await.status, StatusCode::OK);
    // Unknown lines count too: probing ids is held back the same way.
    let nobody = uuid::Uuid::now_v7().to_string();
    for _ in 0..switchboard_service::webhooks::FAILURES_PER_MINUTE {
        assert_eq!(app.post_webhook(&nobody, &body, Some(&good)).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.post_webhook(&nobody, &body, Some(&good)).await.status, StatusCode::TOO_MANY_REQUESTS);
    let meta = format!("{}/webhooks/whatsapp/{nobody}", app.address);
    let reply = app.client.post(meta).body("{}").send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS, "the same line id, whichever route");

    app.clock.advance(time::Duration::minutes(1));
    let stored = app.post_webhook(&line, &body, Some(&good)).await;
    assert_eq!(stored.status, StatusCode::OK, "a new minute, a fresh allowance: {:?}", stored.body);
}
