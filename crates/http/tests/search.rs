//! The search language through the API (DESIGN §7): `GET /api/v1/search`, `GET /api/v1/tickets?q=`
//! and views, on SQLite and on PostgreSQL (`SWITCHBOARD_TEST_DATABASE=postgres`).

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_domain::{ChannelAccount, ChannelAccountId, InboundItem, InboundSender, ThreadRef};
use switchboard_testkit::*;
use time::Duration;
use uuid::Uuid;

const SECRET: &str = "s3cret";

fn s(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// `q` percent-encoded for a query string.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let answer = app.get(path).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {:?}", answer.body);
    answer.body
}

/// What `GET /api/v1/search?q=` finds: (user ids, ticket ids).
async fn search(app: &TestApp, q: &str) -> (Vec<String>, Vec<String>) {
    let body = get_ok(app, &format!("/api/v1/search?q={}", encode(q))).await;
    let ids = |key: &str| body[key].as_array().unwrap().iter().map(|v| s(&v["id"]).to_owned()).collect();
    (ids("users"), ids("tickets"))
}

/// Ticket ids `GET /api/v1/tickets?q=` lists, in order.
async fn tickets_where(app: &TestApp, q: &str) -> Vec<String> {
    let body = get_ok(app, &format!("/api/v1/tickets?limit=100&q={}", encode(q))).await;
    body["tickets"].as_array().unwrap().iter().map(|t| s(&t["id"]).to_owned()).collect()
}

/// Delivers one message on the generic webhook; returns (ticket id, contact id).
async fn write(app: &TestApp, account: &str, id: &str, from: &str, text: &str) -> (String, String) {
    let message = json!({"id": id, "from": {"id": from, "name": format!("Customer {from}")}, "text": text});
    let answer = app.deliver(account, SECRET, json!([message])).await;
    assert_eq!(answer.status, StatusCode::OK, "delivery refused: {:?}", answer.body);
    let ticket = s(&answer.body["messages"][0]["ticket_id"]).to_owned();
    let contact = get_ok(app, &format!("/api/v1/tickets/{ticket}")).await["contact_id"].as_str().unwrap().to_owned();
    (ticket, contact)
}

async fn whatsapp_account(app: &TestApp) -> ChannelAccount {
    let secrets = json!({"app_secret": "app-secret", "verify_token": "verify", "access_token": "access"});
    let account = app.connect_account("whatsapp", "1055", secrets).await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let id: Uuid = s(&account["id"]).parse().unwrap();
    app.service.get_account(&actor, ChannelAccountId(id)).await.unwrap()
}

/// A WhatsApp customer writes from wa_id `11231233211`, as the platform names them.
async fn whatsapp_customer(app: &TestApp, account: &ChannelAccount) -> (String, String) {
    let item = InboundItem {
        platform_message_id: "wamid.1".into(),
        sender: InboundSender {
            external_id: "11231233211".into(),
            name: Some("Ana Lima".into()),
            phone: Some("+11231233211".into()),
            ..InboundSender::default()
        },
        thread: ThreadRef::Direct { key: None },
        body: Some("Where is my parcel?".into()),
        attachments: Vec::new(),
        sent_at: Some(app.clock.peek()),
    };
    let report = app.service.ingest(account.clone(), vec![item]).await.unwrap();
    let ticket = report[0].ticket_id.unwrap().to_string();
    let contact = get_ok(app, &format!("/api/v1/tickets/{ticket}")).await["contact_id"].as_str().unwrap().to_owned();
    (ticket, contact)
}

#[tokio::test]
async fn phone_terms_match_the_number_as_typed_and_by_its_digits() {
    let app = TestApp::spawn().await;
    let account = whatsapp_account(&app).await;
    let (ticket, contact) = whatsapp_customer(&app, &account).await;
    // An agent types the customer's number the way people write it.
    let answer = app.patch(&format!("/api/v1/contacts/{contact}"), json!({"phone": "+1(123)123-3211"})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);

    for q in [
        r#"whatsapp:"3211""#,
        r#"whatsapp:"123)123-3""#,
        r#"whatsapp:"+1(123)123""#,
        r#"whatsapp:"11231233211""#,
        r#"whatsapp:"1233211""#,
        "whatsapp:3211",
        "phone:+1",
        r#"phone:"(123) 123""#,
    ] {
        let (users, tickets) = search(&app, q).await;
        assert_eq!(users, vec![contact.clone()], "users for {q}");
        assert_eq!(tickets, vec![ticket.clone()], "tickets for {q}");
    }
    for q in [r#"whatsapp:"9999""#, r#"line:"3211""#, r#"whatsapp:"3211-9""#] {
        let (users, tickets) = search(&app, q).await;
        assert!(users.is_empty() && tickets.is_empty(), "{q} found {users:?} {tickets:?}");
    }
    // The name, in any case, and part of it.
    assert_eq!(search(&app, "name:lima").await.0, vec![contact.clone()]);
    assert_eq!(search(&app, "type:user ana").await, (vec![contact.clone()], vec![]));
}

#[tokio::test]
async fn free_text_finds_words_and_phrases_in_messages_and_subjects() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    let (broken, _) = write(&app, &api, "m1", "c1", "My order 5521 arrived broken, the box was crushed").await;
    let (refund, _) = write(&app, &api, "m2", "c2", "I would like a refund please").await;
    write(&app, &api, "m3", "c1", "Also: can you send a new one?").await;

    assert_eq!(tickets_where(&app, "broken").await, vec![broken.clone()]);
    assert_eq!(tickets_where(&app, "BROKEN").await, vec![broken.clone()]);
    assert_eq!(tickets_where(&app, "5521").await, vec![broken.clone()]);
    assert_eq!(tickets_where(&app, r#""arrived broken""#).await, vec![broken.clone()]);
    assert!(tickets_where(&app, r#""broken arrived""#).await.is_empty());
    // Words AND'd even when they are in different messages of the ticket.
    assert_eq!(tickets_where(&app, "crushed new").await, vec![broken.clone()]);
    assert!(tickets_where(&app, "crushed refund").await.is_empty());
    assert_eq!(tickets_where(&app, "-broken").await, vec![refund.clone()]);
    assert_eq!(search(&app, "refund").await.1, vec![refund]);
}

#[tokio::test]
async fn field_terms_combine_as_the_language_says() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    let (a, _) = write(&app, &api, "m1", "c1", "first").await;
    app.clock.advance(Duration::hours(1));
    let (b, _) = write(&app, &api, "m2", "c2", "second").await;
    app.clock.advance(Duration::hours(1));
    let (c, _) = write(&app, &api, "m3", "c3", "third").await;

    let me = app.service.authenticate_token(&app.token).await.unwrap().agent.id.0.to_string();
    let patch = |id: &str, body: Value| {
        let path = format!("/api/v1/tickets/{id}");
        let app = &app;
        async move {
            let answer = app.patch(&path, body).await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        }
    };
    patch(&a, json!({"status": "pending", "assignee_id": me, "tags": {"add": ["vip"]}})).await;
    patch(&b, json!({"status": "solved", "tags": {"add": ["refund"]}})).await;
    patch(&c, json!({"tags": {"add": ["vip", "refund"]}})).await;

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let set = |ids: &[&String]| sorted(ids.iter().map(|s| (*s).clone()).collect());
    assert_eq!(tickets_where(&app, "status:pending").await, vec![a.clone()]);
    assert_eq!(sorted(tickets_where(&app, "status<solved").await), set(&[&a, &c]));
    assert_eq!(sorted(tickets_where(&app, "status>=pending").await), set(&[&a, &b]));
    assert_eq!(tickets_where(&app, "assignee:me").await, vec![a.clone()]);
    assert_eq!(sorted(tickets_where(&app, "assignee:none").await), set(&[&b, &c]));
    assert_eq!(sorted(tickets_where(&app, "-assignee:me").await), set(&[&b, &c]));
    assert_eq!(sorted(tickets_where(&app, "tags:vip tags:refund").await), set(&[&a, &b, &c]));
    assert_eq!(tickets_where(&app, "tags:vip -tags:refund").await, vec![a.clone()]);
    assert!(tickets_where(&app, "-tags:vip -tags:refund").await.is_empty());
    assert_eq!(sorted(tickets_where(&app, "channel:api kind:direct origin:customer").await), set(&[&a, &b, &c]));
    assert!(tickets_where(&app, "channel:whatsapp").await.is_empty());
    // The clock stands two hours after the first ticket.
    assert_eq!(tickets_where(&app, "created>30min").await, vec![c.clone()]);
    assert_eq!(tickets_where(&app, "created<90min").await, vec![a.clone()]);
    assert_eq!(sorted(tickets_where(&app, "created:2026-11-21").await), set(&[&a, &b, &c]));
    assert!(tickets_where(&app, "created>2026-11-21").await.is_empty());
    assert_eq!(tickets_where(&app, "order_by:created sort:asc").await, vec![a.clone(), b.clone(), c.clone()]);
    assert_eq!(tickets_where(&app, "order_by:status").await, vec![b.clone(), a.clone(), c.clone()]);
    assert_eq!(tickets_where(&app, "requester:\"customer c2\"").await, vec![b.clone()]);
    assert_eq!(tickets_where(&app, "account:api").await.len(), 3);
    // A status query finds tickets, never users.
    let (users, tickets) = search(&app, "status:solved").await;
    assert!(users.is_empty());
    assert_eq!(tickets, vec![b]);
}

#[tokio::test]
async fn custom_fields_are_searched_by_field_dot_key_however_they_are_kept() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    for (key, kind, options) in [
        ("amount", "number", json!([])),
        ("plan", "dropdown", json!(["Gold", "Silver"])),
        ("vip", "checkbox", json!([])),
        ("due", "date", json!([])),
        ("note", "text", json!([])),
    ] {
        let field = json!({"key": key, "label": key, "kind": kind, "options": options});
        assert_eq!(app.post("/api/v1/fields", field).await.status, StatusCode::CREATED);
    }
    let (a, _) = write(&app, &api, "m1", "c1", "first").await;
    let (b, _) = write(&app, &api, "m2", "c2", "second").await;
    let (c, _) = write(&app, &api, "m3", "c3", "third").await;
    for (id, fields) in [
        (&a, json!({"amount": "12", "plan": "Gold", "vip": "yes", "due": "2026-01-31", "note": "Call back"})),
        (&b, json!({"amount": "120.5", "plan": "Silver", "vip": "no", "due": "2026-03-01", "note": "12"})),
        (&c, json!({"note": "none of that"})),
    ] {
        let answer = app.patch(&format!("/api/v1/tickets/{id}"), json!({"fields": fields})).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let set = |ids: &[&String]| sorted(ids.iter().map(|s| (*s).clone()).collect());

    assert_eq!(tickets_where(&app, "field.plan:gold").await, vec![a.clone()], "text ignores case");
    assert_eq!(sorted(tickets_where(&app, "field.plan:gold field.plan:silver").await), set(&[&a, &b]));
    assert_eq!(tickets_where(&app, "field.amount:12").await, vec![a.clone()], "a number, not a substring");
    assert_eq!(tickets_where(&app, "field.note:12").await, vec![b.clone()], "the text 12");
    assert_eq!(tickets_where(&app, "field.amount>100").await, vec![b.clone()]);
    assert_eq!(sorted(tickets_where(&app, "field.amount>=12").await), set(&[&a, &b]));
    assert!(tickets_where(&app, "field.amount<12").await.is_empty());
    assert_eq!(tickets_where(&app, "field.vip:yes").await, vec![a.clone()]);
    assert_eq!(tickets_where(&app, "field.vip:false").await, vec![b.clone()]);
    assert_eq!(tickets_where(&app, "field.due<2026-02-01").await, vec![a.clone()]);
    assert_eq!(tickets_where(&app, "field.due:2026-03-01").await, vec![b.clone()]);
    assert_eq!(tickets_where(&app, "field.amount:none").await, vec![c.clone()], "not set");
    assert_eq!(tickets_where(&app, "field.note:\"none of that\"").await, vec![c.clone()]);
    assert_eq!(sorted(tickets_where(&app, "-field.plan:gold").await), set(&[&b, &c]), "unset fields stay");
    assert_eq!(tickets_where(&app, "field.plan:gold first").await, vec![a.clone()], "with free text");
    assert!(tickets_where(&app, "field.unknown:1").await.is_empty());
    // Keys and values are bound, never SQL.
    assert!(tickets_where(&app, "field.plan:\"' OR 1=1 --\"").await.is_empty());
    // A custom field is a ticket field: the search box finds no users with one.
    let (users, tickets) = search(&app, "field.plan:silver").await;
    assert!(users.is_empty());
    assert_eq!(tickets, vec![b.clone()]);
    // Views take them too.
    let view = app.post("/api/v1/views", json!({"name": "Gold plans", "query": "field.plan:gold"})).await;
    assert_eq!(view.status, StatusCode::CREATED, "{:?}", view.body);
    let listed = get_ok(&app, &format!("/api/v1/tickets?view={}", s(&view.body["id"]))).await;
    assert_eq!(listed["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(listed["tickets"][0]["id"], json!(a));
    let bad = app.get(&format!("/api/v1/tickets?q={}", encode("field.amount>lots"))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"]["message"].as_str().unwrap().contains("number or a day"), "{:?}", bad.body);
}

#[tokio::test]
async fn pages_of_a_query_follow_its_order_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    let mut made = Vec::new();
    for i in 0..7 {
        app.clock.advance(Duration::minutes(1));
        made.push(write(&app, &api, &format!("m{i}"), &format!("c{i}"), "hello there").await.0);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tickets?limit=3&q={}", encode("hello order_by:created sort:asc"));
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let body = get_ok(&app, &path).await;
        seen.extend(body["tickets"].as_array().unwrap().iter().map(|t| s(&t["id"]).to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, made);
}

#[tokio::test]
async fn bad_syntax_is_a_400_that_says_where_and_why() {
    let app = TestApp::spawn().await;
    for (q, says) in [
        ("status:opne", "status"),
        ("stauts:open", "stauts"),
        (r#"subject:"unclosed"#, "character"),
        ("created>4m", "character"),
        ("sort:asc", "order_by"),
    ] {
        let answer = app.get(&format!("/api/v1/search?q={}", encode(q))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{q}: {:?}", answer.body);
        assert_eq!(answer.code(), "invalid_query", "{q}");
        let message = s(&answer.body["error"]["message"]);
        assert!(message.contains(says) && message.contains("at character"), "{q}: {message}");
        let answer = app.get(&format!("/api/v1/tickets?q={}", encode(q))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{q}");
    }
    let answer = app.get(&format!("/api/v1/search?q={}", encode("type:user status:open"))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", answer.body);
}

#[tokio::test]
async fn injection_attempts_are_only_text() {
    let app = TestApp::spawn().await;
    let api = app.api_account(SECRET).await;
    let (ticket, _) = write(&app, &api, "m1", "c1", "hello'); DROP TABLE tickets; -- bye").await;
    write(&app, &api, "m2", "c2", "an innocent message").await;

    let answer = app.get(&format!("/api/v1/search?q={}", encode("status:open' OR 1=1 --"))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = app.get(&format!("/api/v1/search?q={}", encode(r#""); DROP TABLE"#))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    // As text, they find what contains them and nothing else.
    assert_eq!(tickets_where(&app, r#""DROP TABLE tickets""#).await, vec![ticket.clone()]);
    assert_eq!(tickets_where(&app, "1=1 OR").await, Vec::<String>::new());
    assert!(search(&app, r#"name:"' OR '1'='1""#).await.0.is_empty());
    assert!(search(&app, r#"whatsapp:"%""#).await.0.is_empty());
    assert!(search(&app, r#"name:"_""#).await.0.is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 2);
}

#[tokio::test]
async fn views_are_stored_queries_with_counts() {
    let app = TestApp::spawn().await;
    let account = whatsapp_account(&app).await;
    let (social, _) = whatsapp_customer(&app, &account).await;
    let api = app.api_account(SECRET).await;
    let (plain, _) = write(&app, &api, "m1", "c1", "hello").await;

    let views = get_ok(&app, "/api/v1/views").await["views"].as_array().unwrap().clone();
    let by_id = |id: &str| views.iter().find(|v| v["id"] == id).unwrap_or_else(|| panic!("view {id}")).clone();
    assert_eq!(by_id("unassigned")["name"], "Unassigned social messaging tickets");
    assert_eq!(by_id("unassigned")["count"], 1);
    assert_eq!(by_id("mine")["count"], 0);
    assert_eq!(by_id("all_open")["count"], 2);
    let listed = get_ok(&app, "/api/v1/tickets?view=unassigned").await;
    assert_eq!(listed["tickets"][0]["id"], social.as_str());
    assert_eq!(listed["tickets"].as_array().unwrap().len(), 1);

    // Removing the social tag takes the ticket out of the social views.
    let answer =
        app.patch(&format!("/api/v1/tickets/{social}"), json!({"tags": {"remove": ["messaging_support"]}})).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(get_ok(&app, "/api/v1/tickets?view=unassigned").await["tickets"].as_array().unwrap().is_empty());

    // A personal view, listed with its count and its tickets; `q` narrows it further.
    let answer = app.post("/api/v1/views", json!({"name": "Generic", "query": "channel:api status<solved"})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let id = s(&answer.body["id"]).to_owned();
    assert_eq!(answer.body["count"], 1);
    assert_eq!(get_ok(&app, &format!("/api/v1/tickets?view={id}")).await["tickets"][0]["id"], plain.as_str());
    let narrowed = get_ok(&app, &format!("/api/v1/tickets?view={id}&q=nothing-like-this")).await;
    assert!(narrowed["tickets"].as_array().unwrap().is_empty());

    let answer = app.post("/api/v1/views", json!({"name": "Broken", "query": "status:"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_query");
    let answer = app.get("/api/v1/tickets?view=nope").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    // Another workspace sees neither the view nor its tickets.
    let other = app.other_workspace("Elsewhere").await;
    let answer = app.request(reqwest::Method::GET, &format!("/api/v1/tickets?view={id}"), Some(&other), None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = app.request(reqwest::Method::GET, "/api/v1/search?q=hello", Some(&other), None).await;
    assert!(answer.body["tickets"].as_array().unwrap().is_empty());

    let answer = app.request(reqwest::Method::DELETE, &format!("/api/v1/views/{id}"), Some(&app.token), None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = app.request(reqwest::Method::DELETE, "/api/v1/views/mine", Some(&app.token), None).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
}
