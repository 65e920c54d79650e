//! The customer messenger (website widget) end to end: the real server, a database per test
//! (SQLite, or Postgres with `SWITCHBOARD_TEST_DATABASE=postgres`), visitors talking to
//! `/widget/api/…` and agents to `/api/v1/…`. Each test asserts what a customer or an agent
//! would notice.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_service::widget::user_hash;
use switchboard_testkit::*;
use time::Duration;

const SECRET: &str = "site-secret";

/// Connects a widget line with `settings`; returns its id.
async fn widget_line(app: &TestApp, settings: Value) -> String {
    let external = format!("site-{}", uuid::Uuid::now_v7().simple());
    let answer = app
        .post(
            "/api/v1/channel-accounts",
            json!({"kind": "widget", "name": "Shop chat", "external_id": external,
                   "secrets": {"secret": SECRET}, "settings": settings}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "connect widget: {:?}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

/// A visitor's call of the widget API.
async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
    let mut req = app.client.request(method, format!("{}{path}", app.address)).header("x-widget-token", token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request reaches the server");
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

async fn new_visitor(app: &TestApp, line: &str) -> String {
    let answer = app.request(Method::POST, "/widget/api/visitors", None, Some(json!({"account_id": line}))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body["token"].as_str().unwrap().to_owned()
}

/// Starts a conversation; returns its id and its ticket's id.
async fn start(app: &TestApp, token: &str, text: &str) -> (String, String) {
    let answer = call(app, Method::POST, "/widget/api/conversations", token, Some(json!({"body": text}))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let conv = &answer.body["conversation"];
    (conv["id"].as_str().unwrap().to_owned(), conv["ticket"]["id"].as_str().unwrap().to_owned())
}

async fn overview(app: &TestApp, token: &str) -> Value {
    let answer = call(app, Method::GET, "/widget/api/overview", token, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body
}

async fn read(app: &TestApp, token: &str, conversation: &str) {
    let path = format!("/widget/api/conversations/{conversation}/read");
    assert_eq!(call(app, Method::POST, &path, token, None).await.status, StatusCode::NO_CONTENT);
}

async fn agent_reply(app: &TestApp, ticket: &str, text: &str) -> Value {
    let answer = app.post(&format!("/api/v1/tickets/{ticket}/messages"), json!({"body": text})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body
}

async fn set_status(app: &TestApp, ticket: &str, status: &str) {
    let answer = app.patch(&format!("/api/v1/tickets/{ticket}"), json!({"status": status})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
}

fn badges(overview: &Value) -> (i64, i64) {
    (overview["badges"]["messages"].as_i64().unwrap(), overview["badges"]["tickets"].as_i64().unwrap())
}

#[tokio::test]
async fn a_visitors_first_message_becomes_a_widget_ticket_the_agent_sees_and_their_tickets_space_appears() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let token = new_visitor(&app, &line).await;
    assert!(token.starts_with("sbw_"));
    let before = overview(&app, &token).await;
    assert_eq!(before["show_tickets"], false, "no ticket yet, no Tickets space");

    let (_, ticket) = start(&app, &token, "Where is my order #1234?\nIt is late").await;
    let agent_view = app.get(&format!("/api/v1/tickets/{ticket}")).await.body;
    assert_eq!(agent_view["channel"], "widget");
    assert_eq!(agent_view["status"], "new");
    let contact = app.get(&format!("/api/v1/contacts/{}", agent_view["contact_id"].as_str().unwrap())).await.body;
    assert!(contact["name"].as_str().unwrap().starts_with("Visitor "), "agents tell anonymous visitors apart");

    let after = overview(&app, &token).await;
    assert_eq!(after["show_tickets"], true);
    let row = &after["tickets"][0];
    assert_eq!(row["title"], "Where is my order #1234?");
    assert_eq!(row["state"], "active");
    assert_eq!(row["action"], "continue");
    assert_eq!(badges(&after), (0, 1), "a created ticket badges Tickets, not Messages");
    assert_eq!(after["recent_tickets"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_agent_reply_is_delivered_at_once_badges_messages_only_and_reading_it_sends_a_read_receipt() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let token = new_visitor(&app, &line).await;
    let (conv, ticket) = start(&app, &token, "Hello").await;
    read(&app, &token, &conv).await;
    app.clock.advance(Duration::seconds(5));

    let sent = agent_reply(&app, &ticket, "Hi! Let me check.").await;
    assert_eq!(sent["delivery_status"], "delivered", "the widget is our own platform");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0, "nothing for the delivery worker");

    let now = overview(&app, &token).await;
    assert_eq!(badges(&now), (1, 0), "new → open is no news to the customer: only Messages is badged");
    let thread = call(&app, Method::GET, &format!("/widget/api/conversations/{conv}"), &token, None).await.body;
    let last = thread["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from"].as_str(), last["body"].as_str()), (Some("team"), Some("Hi! Let me check.")));

    app.clock.advance(Duration::seconds(5));
    read(&app, &token, &conv).await;
    assert_eq!(badges(&overview(&app, &token).await), (0, 0));
    let messages = app.get(&format!("/api/v1/tickets/{ticket}/messages")).await.body;
    let outbound = messages["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap();
    assert_eq!(outbound["delivery_status"], "read");
}

#[tokio::test]
async fn a_solved_ticket_badges_tickets_shows_resolved_with_view_and_leaves_the_recent_card() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let token = new_visitor(&app, &line).await;
    let (conv, ticket) = start(&app, &token, "Refund please").await;
    read(&app, &token, &conv).await;
    app.clock.advance(Duration::seconds(5));

    set_status(&app, &ticket, "solved").await;
    let now = overview(&app, &token).await;
    assert_eq!(badges(&now), (0, 1));
    assert_eq!(now["tickets"][0]["state"], "resolved");
    assert_eq!(now["tickets"][0]["action"], "view");
    assert_eq!(now["recent_tickets"].as_array().unwrap().len(), 0, "the card shows unresolved tickets only");
    assert_eq!(now["conversations"][0]["read_only"], true);

    let path = format!("/widget/api/conversations/{conv}/messages");
    let answer = call(&app, Method::POST, &path, &token, Some(json!({"body": "one more thing"}))).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::CONFLICT, "conversation_resolved"));
    app.clock.advance(Duration::seconds(5));
    read(&app, &token, &conv).await;
    assert_eq!(badges(&overview(&app, &token).await), (0, 0), "reading the conversation marks the ticket read");
}

#[tokio::test]
async fn another_visitor_sees_nothing_of_the_first_and_guessed_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let first = new_visitor(&app, &line).await;
    let second = new_visitor(&app, &line).await;
    let (conv, _) = start(&app, &first, "My address is 1 Main St").await;

    let theirs = overview(&app, &second).await;
    assert_eq!(theirs["conversations"].as_array().unwrap().len(), 0);
    assert_eq!(theirs["tickets"].as_array().unwrap().len(), 0);
    for (method, path) in [
        (Method::GET, format!("/widget/api/conversations/{conv}")),
        (Method::POST, format!("/widget/api/conversations/{conv}/read")),
        (Method::GET, format!("/widget/api/conversations/{}", uuid::Uuid::now_v7())),
    ] {
        assert_eq!(call(&app, method, &path, &second, None).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let path = format!("/widget/api/conversations/{conv}/messages");
    let answer = call(&app, Method::POST, &path, &second, Some(json!({"body": "hijack"}))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&app, Method::GET, "/widget/api/overview", "sbw_nonsense", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The agents' token is not a visitor's.
    let agent_token = app.token.clone();
    assert_eq!(
        call(&app, Method::GET, "/widget/api/overview", &agent_token, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn identify_accepts_the_host_sites_hmac_and_refuses_a_wrong_one() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let token = new_visitor(&app, &line).await;
    let bad = json!({"user_id": "u-42", "name": "Ada", "user_hash": user_hash("wrong", "u-42")});
    let answer = call(&app, Method::POST, "/widget/api/identify", &token, Some(bad)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::FORBIDDEN, "invalid_user_hash"));

    let good =
        json!({"user_id": "u-42", "name": "Ada", "email": "ada@example.org", "user_hash": user_hash(SECRET, "u-42")});
    let answer = call(&app, Method::POST, "/widget/api/identify", &token, Some(good)).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["verified"], true);
    let (_, ticket) = start(&app, &token, "Hi, it's Ada").await;
    let contact = app.get(&format!("/api/v1/tickets/{ticket}")).await.body["contact_id"].as_str().unwrap().to_owned();
    let contact = app.get(&format!("/api/v1/contacts/{contact}")).await.body;
    assert_eq!((contact["name"].as_str(), contact["email"].as_str()), (Some("Ada"), Some("ada@example.org")));
}

#[tokio::test]
async fn a_line_that_requires_verification_refuses_unsigned_visitors() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({"require_verification": true})).await;
    let token = new_visitor(&app, &line).await;
    let unsigned = json!({"user_id": "u-7", "name": "Bob"});
    let answer = call(&app, Method::POST, "/widget/api/identify", &token, Some(unsigned)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::FORBIDDEN, "verification_required"));
    let answer = call(&app, Method::POST, "/widget/api/conversations", &token, Some(json!({"body": "hi"}))).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::FORBIDDEN, "verification_required"));

    let signed = json!({"user_id": "u-7", "user_hash": user_hash(SECRET, "u-7")});
    assert_eq!(call(&app, Method::POST, "/widget/api/identify", &token, Some(signed)).await.status, StatusCode::OK);
    start(&app, &token, "now I may write").await;
}

#[tokio::test]
async fn signing_in_brings_what_the_visitor_wrote_anonymously_to_the_users_other_devices() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let laptop = new_visitor(&app, &line).await;
    let who = json!({"user_id": "u-9", "user_hash": user_hash(SECRET, "u-9")});
    call(&app, Method::POST, "/widget/api/identify", &laptop, Some(who.clone())).await;
    let (_, from_laptop) = start(&app, &laptop, "Asked on my laptop").await;

    let phone = new_visitor(&app, &line).await;
    let (_, from_phone) = start(&app, &phone, "Asked on my phone before signing in").await;
    assert_eq!(overview(&app, &phone).await["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(call(&app, Method::POST, "/widget/api/identify", &phone, Some(who)).await.status, StatusCode::OK);

    for token in [&phone, &laptop] {
        assert_eq!(overview(&app, token).await["conversations"].as_array().unwrap().len(), 2);
    }
    let contact_of = |t: Value| t["contact_id"].as_str().unwrap().to_owned();
    let a = contact_of(app.get(&format!("/api/v1/tickets/{from_laptop}")).await.body);
    let b = contact_of(app.get(&format!("/api/v1/tickets/{from_phone}")).await.body);
    assert_eq!(a, b, "one customer, one contact: the anonymous one was merged");
    let contact = app.get(&format!("/api/v1/contacts/{a}")).await.body;
    assert!(contact["name"].is_null(), "the anonymous stand-in name does not stick: {}", contact["name"]);
    let events = app.get(&format!("/api/v1/tickets/{from_phone}/events")).await.body;
    assert!(events["events"].as_array().unwrap().iter().any(|e| e["kind"] == "merged"));
}

#[tokio::test]
async fn the_recent_card_holds_at_most_three_unresolved_tickets_newest_first() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let token = new_visitor(&app, &line).await;
    let mut tickets = Vec::new();
    for n in 1..=5 {
        app.clock.advance(Duration::seconds(10));
        tickets.push(start(&app, &token, &format!("Question {n}")).await.1);
    }
    app.clock.advance(Duration::seconds(10));
    set_status(&app, &tickets[4], "solved").await;

    let now = overview(&app, &token).await;
    let titles: Vec<&str> =
        now["recent_tickets"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Question 4", "Question 3", "Question 2"]);
    let all: Vec<&str> = now["tickets"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(all, ["Question 5", "Question 4", "Question 3", "Question 2", "Question 1"], "newest activity first");
}

#[tokio::test]
async fn with_the_tickets_space_off_tickets_are_hidden_and_messages_still_work() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({"tickets_space": false})).await;
    let token = new_visitor(&app, &line).await;
    let (conv, ticket) = start(&app, &token, "Hello").await;
    agent_reply(&app, &ticket, "Hi there").await;
    let now = overview(&app, &token).await;
    assert_eq!((now["tickets_space"].as_bool(), now["show_tickets"].as_bool()), (Some(false), Some(false)));
    assert_eq!(now["tickets"].as_array().unwrap().len(), 0);
    assert_eq!(now["recent_tickets"].as_array().unwrap().len(), 0);
    assert_eq!(badges(&now).1, 0);
    assert_eq!(now["conversations"][0]["id"].as_str(), Some(conv.as_str()));
    let path = format!("/widget/api/conversations/{conv}/messages");
    assert_eq!(
        call(&app, Method::POST, &path, &token, Some(json!({"body": "thanks"}))).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn messages_are_size_limited_and_rate_limited() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let token = new_visitor(&app, &line).await;
    let long = "x".repeat(5001);
    let answer = call(&app, Method::POST, "/widget/api/conversations", &token, Some(json!({"body": long}))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let answer = call(&app, Method::POST, "/widget/api/conversations", &token, Some(json!({"body": "  "}))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);

    let (conv, _) = start(&app, &token, "1").await;
    let path = format!("/widget/api/conversations/{conv}/messages");
    let mut statuses = Vec::new();
    for n in 2..=21 {
        statuses.push(call(&app, Method::POST, &path, &token, Some(json!({"body": n.to_string()}))).await.status);
    }
    assert!(statuses[..19].iter().all(|s| *s == StatusCode::CREATED));
    assert_eq!(statuses[19], StatusCode::TOO_MANY_REQUESTS, "the 21st message within a minute waits");
}

#[tokio::test]
async fn the_panel_may_be_framed_only_by_the_sites_origins_and_the_embed_script_names_its_line() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({"allowed_origins": ["https://shop.example", "bad; script-src *"]})).await;
    let panel = app.client.get(format!("{}/widget/{line}/panel", app.address)).send().await.unwrap();
    assert_eq!(panel.status(), StatusCode::OK);
    let csp = panel.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.ends_with("frame-ancestors https://shop.example"), "{csp}");
    assert!(panel.headers().get("x-frame-options").is_none());

    let embed = app.client.get(format!("{}/widget/{line}/embed.js", app.address)).send().await.unwrap();
    assert_eq!(embed.status(), StatusCode::OK);
    assert!(embed.text().await.unwrap().contains(&line));

    let api_line = app.api_account("s").await;
    let other = app.client.get(format!("{}/widget/{api_line}/panel", app.address)).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "only widget lines have a panel");
}

#[tokio::test]
async fn the_widget_api_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.request(Method::GET, "/openapi.json", None, None).await.body;
    for path in ["/widget/api/visitors", "/widget/api/overview", "/widget/api/conversations/{id}/messages"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
}

/// The names and data of the events a visitor's stream sends within `wait`.
async fn events_within(response: &mut reqwest::Response, wait: std::time::Duration) -> Vec<(String, Value)> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut text = String::new();
    while let Ok(Ok(Some(bytes))) = tokio::time::timeout_at(deadline, response.chunk()).await {
        text.push_str(std::str::from_utf8(&bytes).unwrap());
    }
    text.split("\n\n")
        .filter_map(|block| {
            let event = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("null");
            Some((event.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

#[tokio::test]
async fn a_visitors_live_stream_tells_of_their_own_tickets_only() {
    let app = TestApp::spawn().await;
    let line = widget_line(&app, json!({})).await;
    let mine = new_visitor(&app, &line).await;
    let theirs = new_visitor(&app, &line).await;
    let mut stream = app
        .client
        .get(format!("{}/widget/api/stream?token={mine}", app.address))
        .send()
        .await
        .expect("the stream opens");
    assert_eq!(stream.status(), StatusCode::OK);
    let short = std::time::Duration::from_millis(600);
    assert_eq!(events_within(&mut stream, short).await.first().map(|e| e.0.as_str()), Some("ready"));

    let (_, their_ticket) = start(&app, &theirs, "Someone else's question").await;
    agent_reply(&app, &their_ticket, "An answer for someone else").await;
    assert_eq!(events_within(&mut stream, short).await, [], "another visitor's tickets are not news to me");

    let (_, my_ticket) = start(&app, &mine, "My question").await;
    let heard = events_within(&mut stream, short).await;
    assert!(heard.contains(&("changed".to_owned(), json!({"ticket_id": my_ticket}))), "{heard:?}");
    agent_reply(&app, &my_ticket, "Your answer").await;
    let heard = events_within(&mut stream, short).await;
    assert_eq!(heard, [("changed".to_owned(), json!({"ticket_id": my_ticket}))]);
}
