//! The HTTP API and the generic webhook, end to end: the real server on a local port, a
//! database of its own per test (SQLite, or Postgres with `SWITCHBOARD_TEST_DATABASE=postgres`)
//! and a clock the tests move. Each test asserts what a user of the API would notice.
//!
//! Workspace isolation and races between nodes have their own suite (`tenancy.rs`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_domain::{ChannelAccount, ChannelAccountId, InboundItem, InboundSender, ThreadRef};
use switchboard_service::Actor;
use switchboard_testkit::*;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The secret of every generic (`api`) account the tests connect.
const SECRET: &str = "s3cret";

// ---------------------------------------------------------------- helpers

/// One message of the generic webhook.
fn message(id: &str, from: &str, text: &str) -> Value {
    json!({"id": id, "from": {"id": from, "name": format!("Customer {from}")}, "text": text})
}

/// Delivers correctly signed messages and returns the per-message reports.
async fn deliver_ok(app: &TestApp, account: &str, messages: Value) -> Vec<Value> {
    let answer = app.deliver(account, SECRET, messages).await;
    assert_eq!(answer.status, StatusCode::OK, "delivery refused: {:?}", answer.body);
    answer.body["messages"].as_array().expect("a report per message").clone()
}

/// Delivers one message and returns its ticket id.
async fn ticket_from(app: &TestApp, account: &str, id: &str, from: &str, text: &str) -> String {
    let reports = deliver_ok(app, account, json!([message(id, from, text)])).await;
    reports[0]["ticket_id"].as_str().expect("the message raised or joined a ticket").to_owned()
}

fn s(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}"))
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let answer = app.get(path).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {:?}", answer.body);
    answer.body
}

async fn patch_ok(app: &TestApp, path: &str, body: Value) -> Value {
    let answer = app.patch(path, body).await;
    assert_eq!(answer.status, StatusCode::OK, "PATCH {path}: {:?}", answer.body);
    answer.body
}

/// Every ticket of the workspace, latest activity first.
async fn all_tickets(app: &TestApp) -> Vec<Value> {
    get_ok(app, "/api/v1/tickets?limit=100").await["tickets"].as_array().unwrap().clone()
}

async fn ticket(app: &TestApp, id: &str) -> Value {
    get_ok(app, &format!("/api/v1/tickets/{id}")).await
}

async fn messages_of(app: &TestApp, ticket: &str) -> Vec<Value> {
    get_ok(app, &format!("/api/v1/tickets/{ticket}/messages")).await["messages"].as_array().unwrap().clone()
}

async fn event_kinds(app: &TestApp, ticket: &str) -> Vec<String> {
    get_ok(app, &format!("/api/v1/tickets/{ticket}/events")).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["kind"]).to_owned())
        .collect()
}

/// The admin behind the test token.
async fn admin(app: &TestApp) -> Actor {
    app.service.authenticate_token(&app.token).await.expect("the test token authenticates")
}

/// The domain's view of an account connected through the API, to ingest items on it.
async fn domain_account(app: &TestApp, account: &Value) -> ChannelAccount {
    let id: Uuid = s(&account["id"]).parse().unwrap();
    app.service.get_account(&admin(app).await, ChannelAccountId(id)).await.expect("the account exists")
}

/// Secrets of a Meta line (WhatsApp, Messenger, Instagram).
fn meta_secrets() -> Value {
    json!({"app_secret": "app-secret", "verify_token": "verify", "access_token": "access"})
}

/// A direct message as a channel adapter would hand it over, written at `sent_at`.
fn inbound(id: &str, from: &str, body: &str, sent_at: OffsetDateTime) -> InboundItem {
    InboundItem {
        platform_message_id: id.to_owned(),
        sender: InboundSender {
            external_id: from.to_owned(),
            name: Some(format!("Customer {from}")),
            ..InboundSender::default()
        },
        thread: ThreadRef::Direct { key: None },
        body: Some(body.to_owned()),
        attachments: Vec::new(),
        sent_at: Some(sent_at),
    }
}

/// Ingests one item on a platform account and returns its ticket id.
async fn ingest_one(app: &TestApp, account: &ChannelAccount, item: InboundItem) -> String {
    let reports = app.service.ingest(account.clone(), vec![item]).await.expect("ingest");
    reports[0].ticket_id.expect("the item raised or joined a ticket").to_string()
}

fn at(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(s(value), &Rfc3339).unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
}

/// A request with full control over headers and body, for what the JSON helpers cannot send.
fn raw(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client.request(method, format!("{}{path}", app.address))
}

// ---------------------------------------------------------------- the generic webhook

#[tokio::test]
async fn a_customers_messages_thread_into_one_ticket_and_after_closing_the_next_one_opens_a_follow_up() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;

    let first = deliver_ok(&app, &account, json!([message("m1", "u1", "My order is late\nIt was due Monday")])).await;
    assert_eq!(first[0]["outcome"], "created");
    let tickets = all_tickets(&app).await;
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    let ticket_id = s(&t["id"]).to_owned();
    assert_eq!(first[0]["ticket_id"], t["id"]);
    assert_eq!(t["status"], "new");
    assert_eq!(t["kind"], "direct");
    assert_eq!(t["channel"], "api");
    assert_eq!(t["origin"], "customer");
    assert_eq!(t["subject"], "My order is late");
    assert!(t["contact_id"].is_string(), "a direct ticket has its customer: {t}");
    assert_eq!(t["assignee_id"], Value::Null);
    assert_eq!(t["follow_up_of"], Value::Null);

    let second = deliver_ok(&app, &account, json!([message("m2", "u1", "Any news?")])).await;
    assert_eq!(second[0]["outcome"], "appended");
    assert_eq!(s(&second[0]["ticket_id"]), ticket_id);
    assert_eq!(all_tickets(&app).await.len(), 1, "the same sender stays in one ticket");
    let messages = messages_of(&app, &ticket_id).await;
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m["direction"] == "inbound" && m["author"]["kind"] == "contact"));
    assert_eq!(messages[0]["body"], "My order is late\nIt was due Monday");
    assert_eq!(messages[1]["body"], "Any news?");
    assert_eq!(messages[1]["platform_message_id"], "m2");

    let closed = patch_ok(&app, &format!("/api/v1/tickets/{ticket_id}"), json!({"status": "closed"})).await;
    assert_eq!(closed["status"], "closed");

    let third = deliver_ok(&app, &account, json!([message("m3", "u1", "Hello again")])).await;
    assert_eq!(third[0]["outcome"], "created");
    let follow_up_id = s(&third[0]["ticket_id"]).to_owned();
    assert_ne!(follow_up_id, ticket_id, "a closed ticket never receives new messages");
    let tickets = all_tickets(&app).await;
    assert_eq!(tickets.len(), 2);
    let follow_up = ticket(&app, &follow_up_id).await;
    assert_eq!(s(&follow_up["follow_up_of"]), ticket_id);
    assert_eq!(follow_up["status"], "new");
    assert_eq!(follow_up["contact_id"], t["contact_id"], "the same customer");
    assert_eq!(follow_up["subject"], "Hello again");
    assert_eq!(tickets[0]["id"], follow_up["id"], "latest activity first");

    assert_eq!(ticket(&app, &ticket_id).await["status"], "closed");
    assert_eq!(messages_of(&app, &ticket_id).await.len(), 2, "the closed ticket keeps its two messages");
    let new_messages = messages_of(&app, &follow_up_id).await;
    assert_eq!(new_messages.len(), 1);
    assert_eq!(new_messages[0]["body"], "Hello again");
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
}

#[tokio::test]
async fn a_redelivered_message_answers_200_as_a_duplicate_and_stores_nothing_new() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let ticket_id = ticket_from(&app, &account, "m1", "u1", "Where is my parcel?").await;

    let again = deliver_ok(&app, &account, json!([message("m1", "u1", "Where is my parcel?")])).await;
    assert_eq!(again[0]["outcome"], "duplicate");
    assert_eq!(again[0]["platform_message_id"], "m1");
    // A redelivery with other content is still the same message: the first copy stands.
    let changed = deliver_ok(&app, &account, json!([message("m1", "u1", "edited text")])).await;
    assert_eq!(changed[0]["outcome"], "duplicate");

    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
    let messages = messages_of(&app, &ticket_id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["body"], "Where is my parcel?");
}

#[tokio::test]
async fn a_webhook_without_a_valid_signature_is_refused_with_401_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let body = serde_json::to_vec(&json!({"messages": [message("m1", "u1", "Hi")]})).unwrap();
    let good = sign(SECRET, &body);
    let without_prefix = good.strip_prefix("sha256=").unwrap().to_owned();
    let other_body = sign(SECRET, br#"{"messages":[]}"#);
    let wrong_key = sign("not-the-secret", &body);

    for (case, signature) in [
        ("missing", None),
        ("signed with another key", Some(wrong_key.as_str())),
        ("without the sha256= prefix", Some(without_prefix.as_str())),
        ("of another body", Some(other_body.as_str())),
        ("not hex", Some("sha256=zzzz")),
    ] {
        let answer = app.post_webhook(&account, &body, signature).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "signature {case}: {:?}", answer.body);
        assert_eq!(answer.code(), "invalid_signature", "signature {case}");
        assert!(answer.body["error"]["request_id"].is_string(), "signature {case}: {:?}", answer.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0);

    // The very same body, correctly signed, goes through: the refusals were the signature's.
    assert_eq!(app.post_webhook(&account, &body, Some(&good)).await.status, StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn a_webhook_for_an_unknown_account_or_an_account_of_another_kind_is_404() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&json!({"messages": [message("m1", "u1", "Hi")]})).unwrap();
    let signature = sign(SECRET, &body);

    let unknown = app.post_webhook(&Uuid::now_v7().to_string(), &body, Some(&signature)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{:?}", unknown.body);
    assert_eq!(unknown.code(), "not_found");

    // An e-mail line exists, but it is not a generic webhook account.
    let email = app.connect_account("email", "support@shop.example", json!({})).await;
    let other_kind = app.post_webhook(s(&email["id"]), &body, Some(&signature)).await;
    assert_eq!(other_kind.status, StatusCode::NOT_FOUND, "{:?}", other_kind.body);
    assert_eq!(other_kind.code(), "not_found");

    let not_an_id = app.post_webhook("not-a-uuid", &body, Some(&signature)).await;
    assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST, "{:?}", not_an_id.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
}

#[tokio::test]
async fn a_correctly_signed_but_malformed_webhook_body_is_400_invalid_body_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    for (case, body, needle) in [
        ("not JSON", &b"{\"messages\": ["[..], ""),
        ("a message without text", br#"{"messages":[{"id":"m1","from":{"id":"u1"}}]}"#, "text"),
        ("an unknown field", br#"{"msgs":[]}"#, "msgs"),
        (
            "a bad timestamp",
            br#"{"messages":[{"id":"m1","from":{"id":"u1"},"text":"x","timestamp":"soon"}]}"#,
            "timestamp",
        ),
    ] {
        let answer = app.post_webhook(&account, body, Some(&sign(SECRET, body))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{case}: {:?}", answer.body);
        assert_eq!(answer.code(), "invalid_body", "{case}");
        let says = s(&answer.body["error"]["message"]);
        assert!(says.contains(needle), "{case}: `{says}` should mention `{needle}`");
    }
    // One bad message refuses the whole delivery, the good one next to it included.
    let mixed = json!([message("m1", "u1", "fine"), {"id": "m2", "from": {"id": "u2"}}]);
    let answer = app.deliver(&account, SECRET, mixed).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 0);
}

#[tokio::test]
async fn a_webhook_body_over_one_mebibyte_is_413_and_one_at_the_limit_is_accepted() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let limit = switchboard_http::MAX_BODY_BYTES;
    // A valid delivery whose text pads the body to exactly `size` bytes.
    let body_of = |id: &str, size: usize| {
        let frame = serde_json::to_vec(&json!({"messages": [message(id, "u1", "")]})).unwrap();
        let text = "x".repeat(size - frame.len());
        let body = serde_json::to_vec(&json!({"messages": [message(id, "u1", &text)]})).unwrap();
        assert_eq!(body.len(), size);
        body
    };

    let too_big = body_of("m1", limit + 1);
    let answer = app.post_webhook(&account, &too_big, Some(&sign(SECRET, &too_big))).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", answer.body);
    assert_eq!(answer.code(), "payload_too_large");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);

    let just_fits = body_of("m2", limit);
    let answer = app.post_webhook(&account, &just_fits, Some(&sign(SECRET, &just_fits))).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

// ---------------------------------------------------------------- authentication and bad input

#[tokio::test]
async fn api_calls_without_a_valid_token_get_401_unauthenticated_with_a_request_id() {
    let app = TestApp::spawn().await;
    for (case, authorization) in [
        ("no token", None),
        ("an unknown token", Some(format!("Bearer sb_{}", "0".repeat(64)))),
        ("a token of the wrong shape", Some("Bearer nonsense".to_owned())),
        ("another scheme", Some(format!("Basic {}", app.token))),
    ] {
        let mut req = raw(&app, Method::GET, "/api/v1/tickets");
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{case}");
        let header = res.headers().get("x-request-id").expect("x-request-id header").to_str().unwrap().to_owned();
        let body: Value = res.json().await.expect("a JSON error");
        assert_eq!(body["error"]["code"], "unauthenticated", "{case}");
        assert!(!s(&body["error"]["message"]).is_empty(), "{case}");
        assert_eq!(s(&body["error"]["request_id"]), header, "{case}: the body names the request of the header");
    }

    // A caller's own request id is kept, so that logs on both sides line up.
    let res = raw(&app, Method::GET, "/api/v1/tickets").header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-42");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], "trace-42");

    // The same call with the token works.
    assert_eq!(app.get("/api/v1/tickets").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_ticket_patch_with_bad_input_is_refused_with_a_json_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "Hello").await;
    let path = format!("/api/v1/tickets/{id}");

    let unknown_status = app.patch(&path, json!({"status": "reopened"})).await;
    assert!(unknown_status.status.is_client_error(), "{:?}", unknown_status.status);
    assert_eq!(unknown_status.code(), "invalid_input");
    assert!(s(&unknown_status.body["error"]["message"]).contains("reopened"), "{:?}", unknown_status.body);

    let unknown_field = app.patch(&path, json!({"colour": "red"})).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST, "{:?}", unknown_field.body);
    assert_eq!(unknown_field.code(), "invalid_body");
    assert!(s(&unknown_field.body["error"]["message"]).contains("colour"), "{:?}", unknown_field.body);

    let wrong_type = app.patch(&path, json!({"status": 3})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST, "{:?}", wrong_type.body);
    assert_eq!(wrong_type.code(), "invalid_body");

    let res = raw(&app, Method::PATCH, &path)
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(r#"{"status": "solved""#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");

    let unknown_agent = app.patch(&path, json!({"assignee_id": Uuid::now_v7()})).await;
    assert_eq!(unknown_agent.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", unknown_agent.body);
    assert_eq!(unknown_agent.code(), "invalid_input");

    let t = ticket(&app, &id).await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["assignee_id"], Value::Null);
    assert_eq!(event_kinds(&app, &id).await, ["created"], "no refused change is logged");
}

#[tokio::test]
async fn malformed_ids_unknown_tickets_and_unknown_routes_get_json_errors() {
    let app = TestApp::spawn().await;

    let bad_id = app.get("/api/v1/tickets/not-a-uuid").await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST, "{:?}", bad_id.body);
    assert_eq!(bad_id.code(), "invalid_path");

    let missing = Uuid::now_v7();
    for answer in [
        app.get(&format!("/api/v1/tickets/{missing}")).await,
        app.get(&format!("/api/v1/tickets/{missing}/messages")).await,
        app.get(&format!("/api/v1/tickets/{missing}/events")).await,
        app.patch(&format!("/api/v1/tickets/{missing}"), json!({"status": "open"})).await,
        app.post(&format!("/api/v1/tickets/{missing}/messages"), json!({"body": "hi"})).await,
        app.get(&format!("/api/v1/contacts/{missing}")).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{:?}", answer.body);
        assert_eq!(answer.code(), "not_found");
    }

    let no_route = app.get("/api/v1/nothing-here").await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.code(), "not_found");
    assert!(no_route.body["error"]["request_id"].is_string(), "{:?}", no_route.body);

    let unknown_filter = app.get("/api/v1/tickets?colour=red").await;
    assert_eq!(unknown_filter.status, StatusCode::BAD_REQUEST, "{:?}", unknown_filter.body);
    assert_eq!(unknown_filter.code(), "invalid_query");

    let bad_cursor = app.get("/api/v1/tickets?cursor=yesterday").await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST, "{:?}", bad_cursor.body);
    assert_eq!(bad_cursor.code(), "invalid_cursor");
}

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn a_pending_ticket_becomes_open_when_the_customer_answers() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "My invoice is wrong").await;
    let pending = patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"status": "pending"})).await;
    assert_eq!(pending["status"], "pending");

    app.clock.advance(Duration::hours(3));
    let answered = app.clock.peek();
    let reports = deliver_ok(&app, &account, json!([message("m2", "u1", "Here is the order number")])).await;
    assert_eq!(reports[0]["outcome"], "appended");
    assert_eq!(s(&reports[0]["ticket_id"]), id);

    let t = ticket(&app, &id).await;
    assert_eq!(t["status"], "open");
    let last_inbound = at(&t["last_inbound_at"]);
    assert!(
        last_inbound >= answered && last_inbound - answered < Duration::seconds(1),
        "{last_inbound} is the answer's time"
    );
    let events = get_ok(&app, &format!("/api/v1/tickets/{id}/events")).await;
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "status_changed");
    assert_eq!(last["data"], json!({"from": "pending", "to": "open"}));
    assert_eq!(last["actor"]["kind"], "contact", "the customer's answer opened it");
}

#[tokio::test]
async fn a_solved_ticket_reopens_when_the_customer_writes_within_seven_days() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "The app crashes").await;
    let solved = patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"status": "solved"})).await;
    assert_eq!(solved["status"], "solved");
    assert_eq!(solved["customer_status"], "resolved");
    assert!(solved["solved_at"].is_string());

    app.clock.advance(Duration::days(2));
    let reports = deliver_ok(&app, &account, json!([message("m2", "u1", "It crashes again")])).await;
    assert_eq!(reports[0]["outcome"], "reopened");
    assert_eq!(s(&reports[0]["ticket_id"]), id);

    let tickets = all_tickets(&app).await;
    assert_eq!(tickets.len(), 1, "no follow-up inside the window");
    assert_eq!(tickets[0]["status"], "open");
    assert_eq!(tickets[0]["customer_status"], "active");
    assert_eq!(tickets[0]["solved_at"], Value::Null);
    assert_eq!(messages_of(&app, &id).await.len(), 2);
}

#[tokio::test]
async fn a_solved_ticket_past_the_reopen_window_is_closed_and_the_customer_gets_a_follow_up() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "The app crashes").await;
    patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"status": "solved"})).await;

    app.clock.advance(Duration::days(8));
    let reports = deliver_ok(&app, &account, json!([message("m2", "u1", "Something else now")])).await;
    assert_eq!(reports[0]["outcome"], "created");
    let follow_up_id = s(&reports[0]["ticket_id"]).to_owned();
    assert_ne!(follow_up_id, id);

    let old = ticket(&app, &id).await;
    assert_eq!(old["status"], "closed");
    assert!(old["solved_at"].is_string(), "closing keeps when it was solved");
    assert_eq!(messages_of(&app, &id).await.len(), 1);
    let follow_up = ticket(&app, &follow_up_id).await;
    assert_eq!(follow_up["status"], "new");
    assert_eq!(s(&follow_up["follow_up_of"]), id);
    assert_eq!(follow_up["conversation_id"], old["conversation_id"], "the same conversation carries on");
    assert_eq!(messages_of(&app, &follow_up_id).await.len(), 1);
}

// ---------------------------------------------------------------- public threads

#[tokio::test]
async fn three_people_commenting_on_one_post_make_one_public_ticket_with_three_participants() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let thread = json!({"id": "post-1", "public": true});
    let mut outcomes = Vec::new();
    for (i, from) in ["u1", "u2", "u3"].into_iter().enumerate() {
        let mut m = message(&format!("c{i}"), from, &format!("Comment {i}"));
        m["thread"] = thread.clone();
        outcomes.push(deliver_ok(&app, &account, json!([m])).await[0]["outcome"].clone());
    }
    assert_eq!(outcomes, ["created", "appended", "appended"]);

    let tickets = all_tickets(&app).await;
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    assert_eq!(t["kind"], "public");
    assert_eq!(t["contact_id"], Value::Null, "a public thread has no owning contact");
    let participants: std::collections::BTreeSet<&str> = t["participants"].as_array().unwrap().iter().map(s).collect();
    assert_eq!(participants.len(), 3, "{t}");
    assert_eq!(t["reply_window"]["state"], "always");
    let id = s(&t["id"]).to_owned();
    let messages = messages_of(&app, &id).await;
    assert_eq!(messages.len(), 3);
    let authors: std::collections::BTreeSet<&str> = messages.iter().map(|m| s(&m["author"]["id"])).collect();
    assert_eq!(authors, participants, "each comment is by one of the participants");
    assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 3);

    // The same person writing privately gets a direct ticket of their own.
    let direct = deliver_ok(&app, &account, json!([message("d1", "u1", "Can we talk in private?")])).await;
    assert_eq!(direct[0]["outcome"], "created");
    assert_ne!(s(&direct[0]["ticket_id"]), id);
    assert_eq!(messages_of(&app, &id).await.len(), 3);
}

// ---------------------------------------------------------------- working a ticket

#[tokio::test]
async fn an_agent_assigns_tags_sets_fields_and_solves_a_ticket_and_the_event_log_shows_each_change() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let me = admin(&app).await.agent.id.to_string();
    let id = ticket_from(&app, &account, "m1", "u1", "Refund please").await;
    let path = format!("/api/v1/tickets/{id}");

    let t = patch_ok(&app, &path, json!({"assignee_id": me})).await;
    assert_eq!(s(&t["assignee_id"]), me);
    let t = patch_ok(&app, &path, json!({"tags": {"add": ["vip", "refund"]}})).await;
    assert_eq!(t["tags"], json!(["refund", "vip"]));
    let t = patch_ok(&app, &path, json!({"tags": {"remove": ["refund"]}})).await;
    assert_eq!(t["tags"], json!(["vip"]));
    let t = patch_ok(&app, &path, json!({"fields": {"order": 42}})).await;
    assert_eq!(t["fields"], json!({"order": 42}));
    let t = patch_ok(&app, &path, json!({"status": "solved"})).await;
    assert_eq!(t["status"], "solved");

    let t = ticket(&app, &id).await;
    assert_eq!(s(&t["assignee_id"]), me);
    assert_eq!(t["tags"], json!(["vip"]));
    assert_eq!(t["fields"]["order"], 42);
    assert_eq!(t["status"], "solved");
    assert_eq!(
        event_kinds(&app, &id).await,
        ["created", "assigned", "tag_added", "tag_added", "tag_removed", "field_changed", "status_changed"]
    );
    let events = get_ok(&app, &format!("{path}/events")).await;
    let assigned = &events["events"][1];
    assert_eq!(assigned["actor"]["kind"], "agent");
    assert_eq!(s(&assigned["actor"]["id"]), me);
    assert_eq!(assigned["data"]["to"], me.as_str());
    assert_eq!(events["events"][5]["data"], json!({"field": "order", "from": null, "to": 42}));

    // The ticket filter finds it by what was set.
    let mine = get_ok(&app, "/api/v1/tickets?assignee=me&tag=vip&status=solved").await;
    assert_eq!(mine["tickets"].as_array().unwrap().len(), 1);

    // Closed is final.
    patch_ok(&app, &path, json!({"status": "closed"})).await;
    for answer in [
        app.patch(&path, json!({"tags": {"add": ["late"]}})).await,
        app.patch(&path, json!({"status": "open"})).await,
        app.post(&format!("{path}/messages"), json!({"body": "one more thing"})).await,
    ] {
        assert_eq!(answer.status, StatusCode::CONFLICT, "{:?}", answer.body);
        assert_eq!(answer.code(), "ticket_closed");
    }
    let t = ticket(&app, &id).await;
    assert_eq!(t["status"], "closed");
    assert_eq!(t["tags"], json!(["vip"]));
}

#[tokio::test]
async fn an_agents_reply_is_queued_for_delivery_and_moves_a_new_ticket_to_open() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let me = admin(&app).await.agent.id.to_string();
    let id = ticket_from(&app, &account, "m1", "u1", "Is it in stock?").await;

    let answer = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Yes, it ships today."})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let reply = &answer.body;
    assert_eq!(reply["direction"], "outbound");
    assert_eq!(reply["visibility"], "public");
    assert_eq!(reply["delivery_status"], "queued");
    assert_eq!(reply["author"]["kind"], "agent");
    assert_eq!(s(&reply["author"]["id"]), me);
    assert_eq!(s(&reply["ticket_id"]), id);
    assert_eq!(reply["body"], "Yes, it ships today.");

    assert_eq!(ticket(&app, &id).await["status"], "open");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
    let messages = messages_of(&app, &id).await;
    let directions: Vec<&str> = messages.iter().map(|m| s(&m["direction"])).collect();
    assert_eq!(directions, ["inbound", "outbound"]);
    assert!(event_kinds(&app, &id).await.contains(&"message_queued".to_owned()));
}

#[tokio::test]
async fn an_internal_note_is_kept_on_the_ticket_but_never_sent() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "Is it in stock?").await;

    let answer = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "Ask the warehouse first", "visibility": "internal"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(answer.body["direction"], "note");
    assert_eq!(answer.body["visibility"], "internal");
    assert_eq!(answer.body["delivery_status"], Value::Null);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0, "a note goes nowhere");
    assert_eq!(ticket(&app, &id).await["status"], "new", "a note is no answer to the customer");
    assert_eq!(messages_of(&app, &id).await.len(), 2);
}

#[tokio::test]
async fn an_empty_reply_is_422_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "Hello?").await;
    let path = format!("/api/v1/tickets/{id}/messages");

    for body in [json!({"body": ""}), json!({"body": "  \n "}), json!({})] {
        let answer = app.post(&path, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", answer.body);
        assert_eq!(answer.code(), "invalid_input");
    }
    let bad_visibility = app.post(&path, json!({"body": "hi", "visibility": "secret"})).await;
    assert!(bad_visibility.status.is_client_error(), "{:?}", bad_visibility.body);
    assert_eq!(messages_of(&app, &id).await.len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(ticket(&app, &id).await["status"], "new");
}

// ---------------------------------------------------------------- reply rules

#[tokio::test]
async fn outside_the_whatsapp_24_hour_window_a_free_form_reply_is_refused_as_template_required() {
    let app = TestApp::spawn().await;
    let account = domain_account(&app, &app.connect_account("whatsapp", "phone-1", meta_secrets()).await).await;
    let sent_at = app.clock.peek() - Duration::hours(25);
    let id = ingest_one(&app, &account, inbound("wamid.1", "15550001", "Hi, my order?", sent_at)).await;

    let t = ticket(&app, &id).await;
    assert_eq!(t["channel"], "whatsapp");
    assert_eq!(t["reply_window"]["state"], "template_required");
    assert_eq!(t["reply_window"]["closes_at"], Value::Null);

    let answer = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Sorry for the wait"})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", answer.body);
    assert_eq!(answer.code(), "template_required");
    assert_eq!(messages_of(&app, &id).await.len(), 1, "a refused reply stores nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(ticket(&app, &id).await["status"], "new");

    // An internal note is not a send: the window does not apply to it.
    let note = app
        .post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "needs a template", "visibility": "internal"}))
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{:?}", note.body);
}

#[tokio::test]
async fn inside_the_whatsapp_window_a_reply_is_sent_and_the_window_closes_24_hours_after_the_customer_wrote() {
    let app = TestApp::spawn().await;
    let account = domain_account(&app, &app.connect_account("whatsapp", "phone-1", meta_secrets()).await).await;
    let sent_at = app.clock.peek() - Duration::hours(1);
    let id = ingest_one(&app, &account, inbound("wamid.1", "15550001", "Hi, my order?", sent_at)).await;

    let t = ticket(&app, &id).await;
    assert_eq!(t["reply_window"]["state"], "open");
    assert_eq!(at(&t["reply_window"]["closes_at"]), sent_at + Duration::hours(24));
    assert_eq!(at(&t["last_inbound_at"]), sent_at, "the platform's time, not the webhook's");

    let answer = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "On its way!"})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(answer.body["delivery_status"], "queued");
    assert_eq!(messages_of(&app, &id).await.len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn instagram_refuses_replies_seven_days_after_the_customer_wrote_and_allows_them_before() {
    let app = TestApp::spawn().await;
    let account = domain_account(&app, &app.connect_account("instagram", "ig-1", meta_secrets()).await).await;
    let now = app.clock.peek();
    let stale_sent = now - Duration::days(8);
    let recent_sent = now - Duration::days(3);
    let stale = ingest_one(&app, &account, inbound("ig.1", "igsid-old", "Hello", stale_sent)).await;
    let recent = ingest_one(&app, &account, inbound("ig.2", "igsid-new", "Hello", recent_sent)).await;

    let t = ticket(&app, &stale).await;
    assert_eq!(t["reply_window"]["state"], "closed");
    let answer = app.post(&format!("/api/v1/tickets/{stale}/messages"), json!({"body": "Sorry!"})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", answer.body);
    assert_eq!(answer.code(), "reply_window_closed");
    assert_eq!(messages_of(&app, &stale).await.len(), 1);

    // Past 24 hours but within 7 days: a person may still answer (Meta's HUMAN_AGENT tag).
    let t = ticket(&app, &recent).await;
    assert_eq!(t["reply_window"]["state"], "human_agent");
    assert_eq!(at(&t["reply_window"]["closes_at"]), recent_sent + Duration::days(7));
    let answer = app.post(&format!("/api/v1/tickets/{recent}/messages"), json!({"body": "Sorry!"})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(messages_of(&app, &recent).await.len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
}

// ---------------------------------------------------------------- agent-initiated tickets

#[tokio::test]
async fn an_agent_opens_a_ticket_on_an_email_line_for_a_contact_with_an_address() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    let email = app.connect_account("email", "support@shop.example", json!({})).await;
    let me = admin(&app).await.agent.id.to_string();
    let first = json!({"id": "m1", "from": {"id": "u1", "name": "Ana Lima", "email": "ana@example.com"}, "text": "Hi"});
    let api_ticket = s(&deliver_ok(&app, &api, json!([first])).await[0]["ticket_id"]).to_owned();
    let contact_id = s(&ticket(&app, &api_ticket).await["contact_id"]).to_owned();

    let contact =
        patch_ok(&app, &format!("/api/v1/contacts/{contact_id}"), json!({"email": " Ana.Lima@Example.com "})).await;
    assert_eq!(contact["email"], "ana.lima@example.com");

    let body = json!({"contact_id": contact_id, "channel_account_id": email["id"], "message": {"body": "Your invoice\nattached"}});
    let answer = app.post("/api/v1/tickets", body.clone()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let t = &answer.body["ticket"];
    assert_eq!(t["origin"], "agent");
    assert_eq!(s(&t["assignee_id"]), me, "the agent who opens it owns it");
    assert_eq!(t["status"], "open");
    assert_eq!(t["channel"], "email");
    assert_eq!(t["kind"], "direct");
    assert_eq!(t["channel_account_id"], email["id"]);
    assert_eq!(s(&t["contact_id"]), contact_id);
    assert_eq!(t["subject"], "Your invoice");
    let m = &answer.body["message"];
    assert_eq!(m["direction"], "outbound");
    assert_eq!(m["delivery_status"], "queued");
    assert_eq!(m["ticket_id"], t["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(all_tickets(&app).await.len(), 2);
    let ticket_id = s(&t["id"]).to_owned();
    assert_eq!(messages_of(&app, &ticket_id).await.len(), 1);
    assert_eq!(event_kinds(&app, &ticket_id).await[0], "created");

    // The contact is now reachable on that line at the address on their profile.
    let contact = get_ok(&app, &format!("/api/v1/contacts/{contact_id}")).await;
    let on_email: Vec<&Value> =
        contact["identities"].as_array().unwrap().iter().filter(|i| i["channel_account_id"] == email["id"]).collect();
    assert_eq!(on_email.len(), 1, "{contact}");
    assert_eq!(on_email[0]["external_id"], "ana.lima@example.com");

    // A second ticket on the same line while this one is open would split the conversation.
    let again = app.post("/api/v1/tickets", body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    assert_eq!(again.code(), "ticket_open");
    assert_eq!(all_tickets(&app).await.len(), 2);
}

#[tokio::test]
async fn an_agent_cannot_open_an_instagram_ticket_for_a_contact_who_never_wrote_there() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    let instagram = app.connect_account("instagram", "ig-1", meta_secrets()).await;
    let api_ticket = ticket_from(&app, &api, "m1", "u1", "Hi").await;
    let contact_id = s(&ticket(&app, &api_ticket).await["contact_id"]).to_owned();

    let answer = app
        .post(
            "/api/v1/tickets",
            json!({"contact_id": contact_id, "channel_account_id": instagram["id"], "message": {"body": "Hello!"}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", answer.body);
    assert_eq!(answer.code(), "invalid_input");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1, "no ticket was created");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    let contact = get_ok(&app, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(contact["identities"].as_array().unwrap().len(), 1, "no identity was invented");

    let unknown_contact = app
        .post(
            "/api/v1/tickets",
            json!({"contact_id": Uuid::now_v7(), "channel_account_id": instagram["id"], "message": {"body": "Hello!"}}),
        )
        .await;
    assert_eq!(unknown_contact.status, StatusCode::NOT_FOUND, "{:?}", unknown_contact.body);
}

#[tokio::test]
async fn an_agent_may_follow_up_on_instagram_only_within_seven_days_of_the_customers_last_message() {
    let app = TestApp::spawn().await;
    let account_json = app.connect_account("instagram", "ig-1", meta_secrets()).await;
    let account = domain_account(&app, &account_json).await;
    let now = app.clock.peek();
    let stale = ingest_one(&app, &account, inbound("ig.1", "igsid-old", "Hello", now - Duration::days(8))).await;
    let recent = ingest_one(&app, &account, inbound("ig.2", "igsid-new", "Hello", now - Duration::days(3))).await;
    let mut starts = Vec::new();
    for id in [&stale, &recent] {
        patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"status": "closed"})).await;
        let contact = ticket(&app, id).await["contact_id"].clone();
        let body = json!({"contact_id": contact, "channel_account_id": account_json["id"], "message": {"body": "Following up"}});
        starts.push(app.post("/api/v1/tickets", body).await);
    }

    assert_eq!(starts[0].status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", starts[0].body);
    assert_eq!(starts[0].code(), "reply_window_closed");
    assert_eq!(starts[1].status, StatusCode::CREATED, "{:?}", starts[1].body);
    assert_eq!(s(&starts[1].body["ticket"]["follow_up_of"]), recent);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 3, "the refused start made no ticket");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
}

// ---------------------------------------------------------------- contacts

#[tokio::test]
async fn contacts_are_found_with_the_search_language_with_their_identities_and_can_be_renamed() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    deliver_ok(
        &app,
        &account,
        json!([
            {"id": "m1", "from": {"id": "u-ana", "name": "Ana Lima", "phone": "+55 11 99999-0000"}, "text": "Oi"},
            {"id": "m2", "from": {"id": "u-bo", "name": "Bo Chen"}, "text": "Hi"},
        ]),
    )
    .await;

    let found = get_ok(&app, "/api/v1/contacts?q=LIM").await["contacts"].as_array().unwrap().clone();
    assert_eq!(found.len(), 1, "{found:?}");
    let ana = &found[0];
    assert_eq!(ana["name"], "Ana Lima");
    assert_eq!(ana["phone"], "+55 11 99999-0000");
    assert_eq!(ana["blocked"], false);
    let identities = ana["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0]["external_id"], "u-ana");
    assert_eq!(identities[0]["name"], "Ana Lima", "the platform's user info");
    assert_eq!(s(&identities[0]["channel_account_id"]), account);
    assert!(identities[0]["last_inbound_at"].is_string());

    assert_eq!(get_ok(&app, "/api/v1/contacts").await["contacts"].as_array().unwrap().len(), 2);
    assert!(get_ok(&app, "/api/v1/contacts?q=zzz").await["contacts"].as_array().unwrap().is_empty());

    let id = s(&ana["id"]).to_owned();
    let renamed = patch_ok(&app, &format!("/api/v1/contacts/{id}"), json!({"name": "Ana Souza"})).await;
    assert_eq!(renamed["name"], "Ana Souza");
    assert_eq!(renamed["phone"], "+55 11 99999-0000", "fields not in the patch stay");
    assert_eq!(get_ok(&app, &format!("/api/v1/contacts/{id}")).await["name"], "Ana Souza");
    let by_new_name = get_ok(&app, "/api/v1/contacts?q=souza").await["contacts"].as_array().unwrap().clone();
    assert_eq!(by_new_name.len(), 1);
    // `q` is the search language for users: the name the platform gave still finds her, and
    // so do her number's digits; ticket fields are a 422, bad syntax a 400.
    let by_platform_name = get_ok(&app, "/api/v1/contacts?q=lima").await["contacts"].as_array().unwrap().clone();
    assert_eq!(by_platform_name.len(), 1, "the identity's name: {by_platform_name:?}");
    let by_phone = get_ok(&app, "/api/v1/contacts?q=phone:%2299999%22").await["contacts"].as_array().unwrap().clone();
    assert_eq!(by_phone.len(), 1);
    assert_eq!(app.get("/api/v1/contacts?q=status:open").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/contacts?q=re:refund").await.status, StatusCode::BAD_REQUEST);

    let bad_email = app.patch(&format!("/api/v1/contacts/{id}"), json!({"email": "not-an-address"})).await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", bad_email.body);
    assert_eq!(bad_email.code(), "invalid_input");
}

#[tokio::test]
async fn merging_two_contacts_moves_identities_and_tickets_to_the_survivor() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let ticket_a = ticket_from(&app, &account, "m1", "u1", "From my phone").await;
    let ticket_b = ticket_from(&app, &account, "m2", "u2", "From my laptop").await;
    let a = s(&ticket(&app, &ticket_a).await["contact_id"]).to_owned();
    let b = s(&ticket(&app, &ticket_b).await["contact_id"]).to_owned();
    assert_ne!(a, b);

    let answer = app.post(&format!("/api/v1/contacts/{a}/merge"), json!({"from_contact_id": b})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(s(&answer.body["id"]), a);
    let mut external: Vec<&str> =
        answer.body["identities"].as_array().unwrap().iter().map(|i| s(&i["external_id"])).collect();
    external.sort_unstable();
    assert_eq!(external, ["u1", "u2"]);

    for id in [&ticket_a, &ticket_b] {
        assert_eq!(s(&ticket(&app, id).await["contact_id"]), a, "ticket {id} belongs to the survivor");
    }
    assert!(event_kinds(&app, &ticket_b).await.contains(&"merged".to_owned()), "the moved ticket logs the merge");
    assert!(
        !event_kinds(&app, &ticket_a).await.contains(&"merged".to_owned()),
        "the survivor's own ticket did not move"
    );

    let gone = app.get(&format!("/api/v1/contacts/{b}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "not_found");
    assert_eq!(get_ok(&app, "/api/v1/contacts").await["contacts"].as_array().unwrap().len(), 1);

    // The merged identity keeps threading into its conversation, now under the survivor.
    let next = deliver_ok(&app, &account, json!([message("m3", "u2", "Still me")])).await;
    assert_eq!(next[0]["outcome"], "appended");
    assert_eq!(s(&next[0]["ticket_id"]), ticket_b);
    let messages = messages_of(&app, &ticket_b).await;
    assert!(messages.iter().all(|m| s(&m["author"]["id"]) == a), "{messages:?}");

    // Merging with a contact that is gone is a 404.
    let again = app.post(&format!("/api/v1/contacts/{a}/merge"), json!({"from_contact_id": b})).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{:?}", again.body);
}

#[tokio::test]
async fn a_contact_cannot_be_merged_into_itself() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "Hi").await;
    let a = s(&ticket(&app, &id).await["contact_id"]).to_owned();

    let answer = app.post(&format!("/api/v1/contacts/{a}/merge"), json!({"from_contact_id": a})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", answer.body);
    assert_eq!(answer.code(), "invalid_input");
    assert_eq!(get_ok(&app, &format!("/api/v1/contacts/{a}")).await["identities"].as_array().unwrap().len(), 1);
    assert!(!event_kinds(&app, &id).await.contains(&"merged".to_owned()));
}

#[tokio::test]
async fn a_blocked_contacts_messages_are_kept_but_raise_no_ticket() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "Buy cheap watches").await;
    let contact = s(&ticket(&app, &id).await["contact_id"]).to_owned();
    patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"status": "closed"})).await;
    let blocked = patch_ok(&app, &format!("/api/v1/contacts/{contact}"), json!({"blocked": true})).await;
    assert_eq!(blocked["blocked"], true);

    let reports = deliver_ok(&app, &account, json!([message("m2", "u1", "Buy more watches")])).await;
    assert_eq!(reports[0]["outcome"], "blocked");
    assert_eq!(reports[0]["ticket_id"], Value::Null);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2, "nothing is lost");
    assert_eq!(all_tickets(&app).await.len(), 1, "but no follow-up is raised");
    assert_eq!(messages_of(&app, &id).await.len(), 1, "the closed ticket stays as it was");

    // Unblocked, the contact's next message raises a follow-up as usual.
    patch_ok(&app, &format!("/api/v1/contacts/{contact}"), json!({"blocked": false})).await;
    let reports = deliver_ok(&app, &account, json!([message("m3", "u1", "Sorry, real question")])).await;
    assert_eq!(reports[0]["outcome"], "created");
    let follow_up = ticket(&app, s(&reports[0]["ticket_id"])).await;
    assert_eq!(s(&follow_up["follow_up_of"]), id);
    assert_eq!(all_tickets(&app).await.len(), 2);
}

// ---------------------------------------------------------------- notifier

#[tokio::test]
async fn a_new_whatsapp_chat_waits_in_the_notifier_until_an_agent_takes_it() {
    let app = TestApp::spawn().await;
    let account = domain_account(&app, &app.connect_account("whatsapp", "phone-1", meta_secrets()).await).await;
    let me = admin(&app).await.agent.id.to_string();
    let id = ingest_one(&app, &account, inbound("wamid.1", "15550001", "Hello!", app.clock.peek())).await;
    let t = ticket(&app, &id).await;
    assert_eq!(t["tags"], json!(["messaging_support", "whatsapp"]));

    let n = get_ok(&app, "/api/v1/notifier").await;
    assert_eq!(n["assigned"], json!([]));
    let unassigned = n["unassigned"].as_array().unwrap();
    assert_eq!(unassigned.len(), 1, "{n}");
    assert_eq!(s(&unassigned[0]["ticket_id"]), id);
    assert_eq!(unassigned[0]["activity"], "started_new_chat");
    assert_eq!(unassigned[0]["channel"], "whatsapp");
    assert_eq!(unassigned[0]["status"], "new");
    assert_eq!(unassigned[0]["customer"], "Customer 15550001");
    assert_eq!(unassigned[0]["number"], t["number"]);
    assert_eq!(n["unassigned_waiting"], true);

    app.clock.advance(Duration::minutes(5));
    ingest_one(&app, &account, inbound("wamid.2", "15550001", "Anyone there?", app.clock.peek())).await;
    let n = get_ok(&app, "/api/v1/notifier").await;
    assert_eq!(n["unassigned"][0]["activity"], "replied");
    assert_eq!(n["unassigned_waiting"], true);

    patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"assignee_id": me})).await;
    let n = get_ok(&app, "/api/v1/notifier").await;
    assert_eq!(n["unassigned"], json!([]));
    let assigned = n["assigned"].as_array().unwrap();
    assert_eq!(assigned.len(), 1, "{n}");
    assert_eq!(s(&assigned[0]["ticket_id"]), id);
    assert_eq!(n["unassigned_waiting"], false);

    // Removing the social tag takes the ticket out of the notifier, as a user would predict.
    patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"tags": {"remove": ["messaging_support"]}})).await;
    assert_eq!(get_ok(&app, "/api/v1/notifier").await["assigned"], json!([]));
}

#[tokio::test]
async fn a_ticket_from_the_generic_webhook_never_shows_in_the_notifier() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    let id = ticket_from(&app, &account, "m1", "u1", "Hello").await;
    assert_eq!(ticket(&app, &id).await["tags"], json!([]), "no messaging_support tag");
    let me = admin(&app).await.agent.id.to_string();

    let n = get_ok(&app, "/api/v1/notifier").await;
    assert_eq!(n, json!({"assigned": [], "unassigned": [], "unassigned_waiting": false}));
    patch_ok(&app, &format!("/api/v1/tickets/{id}"), json!({"assignee_id": me})).await;
    let n = get_ok(&app, "/api/v1/notifier").await;
    assert_eq!(n, json!({"assigned": [], "unassigned": [], "unassigned_waiting": false}));
}

// ---------------------------------------------------------------- system and paging

#[tokio::test]
async fn the_openapi_document_lists_the_api_and_webhook_paths_and_health_answers() {
    let app = TestApp::spawn().await;
    let doc = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().expect("an OpenAPI document with paths");
    for path in [
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/messages",
        "/api/v1/contacts/{id}/merge",
        "/api/v1/notifier",
        "/webhooks/api/{account_id}",
    ] {
        assert!(paths.contains_key(path), "{path} is missing from /openapi.json");
    }
    assert!(paths["/api/v1/tickets"].get("get").is_some() && paths["/api/v1/tickets"].get("post").is_some());

    let health = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn thirty_tickets_come_in_two_pages_without_duplicates_or_gaps() {
    let app = TestApp::spawn().await;
    let account = app.api_account(SECRET).await;
    // One delivery: all thirty tickets share one activity time, so the id breaks the ties.
    let messages: Vec<Value> = (0..30).map(|i| message(&format!("m{i}"), &format!("u{i}"), "Hello")).collect();
    let reports = deliver_ok(&app, &account, Value::Array(messages)).await;
    assert!(reports.iter().all(|r| r["outcome"] == "created"));

    let first = get_ok(&app, "/api/v1/tickets?limit=20").await;
    let first_page = first["tickets"].as_array().unwrap();
    assert_eq!(first_page.len(), 20);
    let cursor = s(&first["next_cursor"]);
    let second = get_ok(&app, &format!("/api/v1/tickets?limit=20&cursor={cursor}")).await;
    let second_page = second["tickets"].as_array().unwrap();
    assert_eq!(second_page.len(), 10);
    assert_eq!(second["next_cursor"], Value::Null, "the last page says so");

    let ids: std::collections::BTreeSet<&str> = first_page.iter().chain(second_page).map(|t| s(&t["id"])).collect();
    assert_eq!(ids.len(), 30, "every ticket once");
    let delivered: std::collections::BTreeSet<&str> = reports.iter().map(|r| s(&r["ticket_id"])).collect();
    assert_eq!(ids, delivered);
    let updated: Vec<OffsetDateTime> = first_page.iter().chain(second_page).map(|t| at(&t["updated_at"])).collect();
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "latest activity first");

    // New activity on an old ticket brings it to the top of the first page.
    app.clock.advance(Duration::minutes(1));
    let reports = deliver_ok(&app, &account, json!([message("again", "u0", "Me again")])).await;
    let bumped = s(&reports[0]["ticket_id"]).to_owned();
    let top = get_ok(&app, "/api/v1/tickets?limit=1").await;
    assert_eq!(s(&top["tickets"][0]["id"]), bumped);
    assert!(top["next_cursor"].is_string());
}
