//! Administration over HTTP: agents, teams, tokens, lines, settings and the audit log, and
//! that an agent is refused all of it (403). Runs on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_testkit::*;

const PASSWORD: &str = "a long enough password";
const SECRET: &str = "s3cret";

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let answer = app.request(method.clone(), path, Some(&app.token), body).await;
    assert!(answer.status.is_success(), "{method} {path}: {} {:?}", answer.status, answer.body);
    answer.body
}

/// Creates an agent (role `agent`) through the API and returns (id, email).
async fn new_agent(app: &TestApp, name: &str) -> (String, String) {
    let email = format!("{}-{}@example.com", name.to_lowercase(), uuid::Uuid::now_v7().simple());
    let answer =
        app.post("/api/v1/agents", json!({"email": email, "name": name, "role": "agent", "password": PASSWORD})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(answer.body["role"], "agent");
    (s(&answer.body["id"]).to_owned(), email)
}

/// Makes an API token for an agent through the API.
async fn token_for(app: &TestApp, agent: &str, label: &str) -> (String, String) {
    let answer = app.post("/api/v1/tokens", json!({"label": label, "agent_id": agent})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    (s(&answer.body["id"]).to_owned(), s(&answer.body["token"]).to_owned())
}

/// A customer writes on a new generic line; returns (line id, ticket id).
async fn customer_ticket(app: &TestApp) -> (String, String) {
    let line = app.api_account(SECRET).await;
    let sent =
        app.deliver(&line, SECRET, json!([{"id": "m1", "from": {"id": "u1", "name": "Eve"}, "text": "hi"}])).await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    (line, s(&sent.body["messages"][0]["ticket_id"]).to_owned())
}

#[tokio::test]
async fn an_agent_is_refused_every_admin_route_but_may_read_agents_and_teams() {
    let app = TestApp::spawn().await;
    let (agent, _) = new_agent(&app, "Ana").await;
    let (_, token) = token_for(&app, &agent, "ana's script").await;
    let (line, _) = customer_ticket(&app).await;
    let tokens = ok(&app, Method::GET, "/api/v1/tokens", None).await;
    let some_token = s(&tokens["tokens"][0]["id"]).to_owned();

    let refused: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/agents".into(),
            Some(json!({"email": "x@example.com", "name": "X", "password": PASSWORD})),
        ),
        (Method::PATCH, format!("/api/v1/agents/{agent}"), Some(json!({"role": "admin"}))),
        (Method::POST, "/api/v1/teams".into(), Some(json!({"name": "Sneaky"}))),
        (Method::GET, "/api/v1/tokens".into(), None),
        (Method::POST, "/api/v1/tokens".into(), Some(json!({"label": "mine"}))),
        (Method::DELETE, format!("/api/v1/tokens/{some_token}"), None),
        (Method::GET, "/api/v1/settings".into(), None),
        (Method::PATCH, "/api/v1/settings".into(), Some(json!({"time_zone": "UTC"}))),
        (Method::GET, "/api/v1/audit-log".into(), None),
        (Method::PATCH, format!("/api/v1/channel-accounts/{line}"), Some(json!({"enabled": false}))),
        (Method::DELETE, format!("/api/v1/channel-accounts/{line}"), None),
        (Method::GET, format!("/api/v1/channel-accounts/{line}/health"), None),
        (Method::GET, "/api/v1/dead-letters".into(), None),
        (Method::POST, format!("/api/v1/dead-letters/{}/replay", uuid::Uuid::now_v7()), None),
        (Method::PATCH, format!("/api/v1/teams/{}", uuid::Uuid::now_v7()), Some(json!({"name": "Renamed"}))),
        (Method::POST, "/api/v1/fields".into(), Some(json!({"key": "k", "label": "K", "kind": "text"}))),
        (Method::DELETE, format!("/api/v1/fields/{}", uuid::Uuid::now_v7()), None),
        (Method::POST, "/api/v1/macros".into(), Some(json!({"name": "M", "status": "solved"}))),
        (Method::DELETE, format!("/api/v1/macros/{}", uuid::Uuid::now_v7()), None),
        (
            Method::POST,
            "/api/v1/channel-accounts".into(),
            Some(json!({"kind": "api", "name": "x", "external_id": "x", "secrets": {"secret": "s"}})),
        ),
        (
            Method::POST,
            format!("/api/v1/channel-accounts/{line}/templates"),
            Some(json!({"name": "t", "language": "en", "category": "UTILITY", "body": "Hi"})),
        ),
        (Method::POST, format!("/api/v1/channel-accounts/{line}/templates/sync"), None),
    ];
    for (method, path, body) in refused {
        let answer = app.request(method.clone(), &path, Some(&token), body).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}: {:?}", answer.body);
        assert_eq!(answer.code(), "forbidden", "{method} {path}");
    }
    assert_eq!(app.request(Method::GET, "/api/v1/agents", Some(&token), None).await.status, StatusCode::OK);
    assert_eq!(app.request(Method::GET, "/api/v1/teams", Some(&token), None).await.status, StatusCode::OK);
    let agents = ok(&app, Method::GET, "/api/v1/agents", None).await;
    let ana = agents["agents"].as_array().unwrap().iter().find(|a| a["id"] == agent.as_str()).unwrap().clone();
    assert_eq!(ana["role"], "agent", "the refused promotion changed nothing");
}

#[tokio::test]
async fn a_created_agent_signs_in_sees_agent_pages_and_gets_403_on_admin_pages() {
    let app = TestApp::spawn().await;
    let (agent, email) = new_agent(&app, "Bo").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let Page { status, body: inbox, .. } = browser.get("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!inbox.contains("href=\"/admin\""), "no Admin link for agents");
    for page in [
        "/admin",
        "/admin/channels",
        "/admin/agents",
        "/admin/teams",
        "/admin/tokens",
        "/admin/views",
        "/admin/settings",
        "/admin/audit",
    ] {
        let Page { status, body, .. } = browser.get(page).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(body.contains("admin role"), "{page}: the error page says why");
    }

    // A password reset ends the old password (and the sessions with it).
    ok(&app, Method::PATCH, &format!("/api/v1/agents/{agent}"), Some(json!({"password": "another long password"})))
        .await;
    assert_eq!(browser.get("/inbox").await.status, StatusCode::SEE_OTHER, "the session ended");
    let mut again = Browser::new(&app);
    assert_eq!(again.sign_in(&email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.sign_in(&email, "another long password").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_admin_sees_the_admin_pages() {
    let app = TestApp::spawn().await;
    let email = format!("boss-{}@example.com", uuid::Uuid::now_v7().simple());
    app.service.create_admin(switchboard_service::DEFAULT_WORKSPACE, &email, PASSWORD, Some("Boss")).await.unwrap();
    let (line, _) = customer_ticket(&app).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let inbox = browser.get("/inbox").await.body;
    assert!(inbox.contains("href=\"/admin\""), "an Admin link for admins");
    for page in [
        "/admin/channels".to_owned(),
        format!("/admin/channels/{line}"),
        "/admin/channels/new?kind=whatsapp".to_owned(),
        "/admin/agents".to_owned(),
        "/admin/teams".to_owned(),
        "/admin/tokens".to_owned(),
        "/admin/fields".to_owned(),
        "/admin/macros".to_owned(),
        "/admin/templates".to_owned(),
        "/admin/views".to_owned(),
        "/admin/settings".to_owned(),
        "/admin/audit".to_owned(),
    ] {
        let status = browser.get(&page).await.status;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    let new_whatsapp = browser.get("/admin/channels/new?kind=whatsapp").await.body;
    assert!(new_whatsapp.contains("verify token"), "the platform's steps are explained");
}

#[tokio::test]
async fn deactivating_an_agent_unassigns_their_waiting_tickets_with_an_event_and_ends_their_access() {
    let app = TestApp::spawn().await;
    let (agent, _) = new_agent(&app, "Cy").await;
    let (_, token) = token_for(&app, &agent, "cy").await;
    let (_, ticket) = customer_ticket(&app).await;
    ok(&app, Method::PATCH, &format!("/api/v1/tickets/{ticket}"), Some(json!({"assignee_id": agent}))).await;

    let answer = ok(&app, Method::PATCH, &format!("/api/v1/agents/{agent}"), Some(json!({"active": false}))).await;
    assert_eq!(answer["active"], false);

    let t = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}"), None).await;
    assert_eq!(t["assignee_id"], Value::Null, "back in the queue");
    let events = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/events"), None).await;
    let assigned: Vec<&Value> =
        events["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "assigned").collect();
    assert_eq!(assigned.len(), 2, "assigned, then unassigned: {events}");
    assert_eq!(app.request(Method::GET, "/api/v1/tickets", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);

    ok(&app, Method::PATCH, &format!("/api/v1/agents/{agent}"), Some(json!({"active": true}))).await;
    assert_eq!(app.request(Method::GET, "/api/v1/tickets", Some(&token), None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::spawn().await;
    let me = app.service.authenticate_token(&app.token).await.unwrap().agent.id.0;
    for change in [json!({"role": "agent"}), json!({"active": false})] {
        let answer = app.patch(&format!("/api/v1/agents/{me}"), change).await;
        assert_eq!(answer.status, StatusCode::CONFLICT);
        assert_eq!(answer.code(), "last_admin");
    }
    let dup = app.post("/api/v1/agents", json!({"email": "x@example.com", "name": "X", "password": "short"})).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY, "short password");
}

#[tokio::test]
async fn teams_are_made_with_members_renamed_and_given_new_members() {
    let app = TestApp::spawn().await;
    let (ana, _) = new_agent(&app, "Ana").await;
    let (bo, _) = new_agent(&app, "Bo").await;
    let made = app.post("/api/v1/teams", json!({"name": "Billing", "member_ids": [ana]})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let team = s(&made.body["id"]).to_owned();
    assert_eq!(app.post("/api/v1/teams", json!({"name": "Billing"})).await.status, StatusCode::CONFLICT);

    let changed = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/teams/{team}"),
        Some(json!({"name": "Payments", "member_ids": [bo]})),
    )
    .await;
    assert_eq!(changed["name"], "Payments");
    assert_eq!(changed["member_ids"], json!([bo]));
    let teams = ok(&app, Method::GET, "/api/v1/teams", None).await;
    assert_eq!(teams["teams"][0]["name"], "Payments");
    assert_eq!(teams["teams"][0]["member_ids"], json!([bo]));
}

#[tokio::test]
async fn a_token_is_shown_once_listed_by_label_and_stops_working_when_revoked() {
    let app = TestApp::spawn().await;
    let (id, token) =
        token_for(&app, &app.service.authenticate_token(&app.token).await.unwrap().agent.id.0.to_string(), "zapier")
            .await;
    assert!(token.starts_with("sb_"));
    assert_eq!(app.request(Method::GET, "/api/v1/tickets", Some(&token), None).await.status, StatusCode::OK);
    let list = ok(&app, Method::GET, "/api/v1/tokens", None).await;
    let labels: Vec<&str> = list["tokens"].as_array().unwrap().iter().map(|t| s(&t["label"])).collect();
    assert_eq!(labels, ["tests", "zapier"], "by label");
    assert!(list["tokens"].as_array().unwrap().iter().all(|t| t.get("token").is_none()), "never shown again");

    let revoked = app.request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&app.token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(app.request(Method::GET, "/api/v1/tickets", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
    let again = app.request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&app.token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_line_is_renamed_its_settings_merged_and_its_secret_replaced_without_being_shown() {
    let app = TestApp::spawn().await;
    let (line, _) = customer_ticket(&app).await;
    let path = format!("/api/v1/channel-accounts/{line}");
    ok(&app, Method::PATCH, &path, Some(json!({"settings": {"a": 1, "b": "x"}}))).await;
    let patched = ok(
        &app,
        Method::PATCH,
        &path,
        Some(json!({"name": "Shop API", "settings": {"a": null, "c": true}, "secrets": {"secret": "n3w"}})),
    )
    .await;
    assert_eq!(patched["name"], "Shop API");
    assert_eq!(patched["settings"], json!({"b": "x", "c": true}));
    assert!(patched.get("secrets").is_none() && !patched.to_string().contains("n3w"), "secrets are write-only");

    let msg = json!([{"id": "m2", "from": {"id": "u1"}, "text": "again"}]);
    assert_eq!(app.deliver(&line, SECRET, msg.clone()).await.status, StatusCode::UNAUTHORIZED, "old secret");
    assert_eq!(app.deliver(&line, "n3w", msg).await.status, StatusCode::OK, "new secret");
}

#[tokio::test]
async fn widget_settings_take_the_tickets_space_switch_and_refuse_wrong_types() {
    let app = TestApp::spawn().await;
    let widget = app.connect_account("widget", "shop.example", json!({"secret": "w"})).await;
    let path = format!("/api/v1/channel-accounts/{}", s(&widget["id"]));
    let patched = ok(
        &app,
        Method::PATCH,
        &path,
        Some(json!({"settings": {"tickets_space": false, "allowed_origins": ["https://shop.example"], "require_verification": true}})),
    )
    .await;
    assert_eq!(patched["settings"]["tickets_space"], false);
    assert_eq!(patched["settings"]["allowed_origins"], json!(["https://shop.example"]));
    let wrong = app.patch(&path, json!({"settings": {"tickets_space": "no"}})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_disabled_line_refuses_webhooks_and_a_deleted_one_keeps_its_tickets() {
    let app = TestApp::spawn().await;
    let (line, ticket) = customer_ticket(&app).await;
    let path = format!("/api/v1/channel-accounts/{line}");
    let msg = |id: &str| json!([{"id": id, "from": {"id": "u1"}, "text": "hello"}]);

    ok(&app, Method::PATCH, &path, Some(json!({"enabled": false}))).await;
    assert_eq!(app.deliver(&line, SECRET, msg("m2")).await.status, StatusCode::NOT_FOUND);
    ok(&app, Method::PATCH, &path, Some(json!({"enabled": true}))).await;
    assert_eq!(app.deliver(&line, SECRET, msg("m3")).await.status, StatusCode::OK);

    let external = s(&ok(&app, Method::GET, &path, None).await["external_id"]).to_owned();
    assert_eq!(app.request(Method::DELETE, &path, Some(&app.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    let lines = ok(&app, Method::GET, "/api/v1/channel-accounts", None).await;
    assert!(lines["channel_accounts"].as_array().unwrap().is_empty(), "gone from the list");
    assert_eq!(app.deliver(&line, SECRET, msg("m4")).await.status, StatusCode::NOT_FOUND);
    let kept = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/messages"), None).await;
    assert_eq!(kept["messages"].as_array().unwrap().len(), 2, "the ticket and its messages stay");
    // The platform id is free to be connected again.
    app.connect_account("api", &external, json!({"secret": SECRET})).await;
}

#[tokio::test]
async fn a_line_shows_its_last_webhook_signature_failure_and_dead_letters_waiting() {
    let app = TestApp::spawn().await;
    let (line, _) = customer_ticket(&app).await;
    let health = ok(&app, Method::GET, &format!("/api/v1/channel-accounts/{line}/health"), None).await;
    assert!(health["last_webhook_at"].is_string(), "{health}");
    assert_eq!(health["last_signature_failure_at"], Value::Null);
    assert_eq!(health["dead_letters_waiting"], 0);

    let bot =
        app.connect_account("telegram", "777", json!({"bot_token": "777:abc", "secret_token": "tg-secret"})).await;
    let bot = s(&bot["id"]).to_owned();
    let post = |secret: &'static str| {
        app.client
            .post(format!("{}/webhooks/telegram/{bot}", app.address))
            .header("x-telegram-bot-api-secret-token", secret)
            .header("content-type", "application/json")
            .body("this is not an update")
            .send()
    };
    assert_eq!(post("wrong").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(post("tg-secret").await.unwrap().status(), StatusCode::OK, "kept as a dead letter");

    let health = ok(&app, Method::GET, &format!("/api/v1/channel-accounts/{bot}/health"), None).await;
    assert!(health["last_signature_failure_at"].is_string(), "{health}");
    assert!(health["last_webhook_at"].is_string(), "{health}");
    assert_eq!(health["dead_letters_waiting"], 1);
    assert_eq!(health["dead_letters"][0]["channel_account_id"], bot.as_str());
}

#[tokio::test]
async fn settings_change_and_unreasonable_values_are_refused() {
    let app = TestApp::spawn().await;
    let before = ok(&app, Method::GET, "/api/v1/settings", None).await;
    assert_eq!(before["reopen_window_secs"], 7 * 86_400);
    assert_eq!(before["time_zone"], "UTC");
    let after = ok(
        &app,
        Method::PATCH,
        "/api/v1/settings",
        Some(json!({"business_name": "Acme", "time_zone": "Asia/Jakarta", "reopen_window_secs": 86_400, "close_solved_after_secs": 3600})),
    )
    .await;
    assert_eq!(after["business_name"], "Acme");
    assert_eq!(after["reopen_window_secs"], 86_400);
    assert_eq!(ok(&app, Method::GET, "/api/v1/settings", None).await["time_zone"], "Asia/Jakarta");
    for bad in [json!({"time_zone": "Mars"}), json!({"reopen_window_secs": -1})] {
        assert_eq!(app.patch("/api/v1/settings", bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn every_admin_change_is_in_the_audit_log_newest_first_and_holds_no_secret() {
    let app = TestApp::spawn().await;
    let (line, _) = customer_ticket(&app).await;
    let (agent, _) = new_agent(&app, "Di").await;
    ok(&app, Method::PATCH, &format!("/api/v1/channel-accounts/{line}"), Some(json!({"secrets": {"secret": "t0p"}})))
        .await;
    ok(&app, Method::PATCH, "/api/v1/settings", Some(json!({"business_name": "Acme"}))).await;
    ok(&app, Method::PATCH, &format!("/api/v1/agents/{agent}"), Some(json!({"password": "yet another password"})))
        .await;

    let log = ok(&app, Method::GET, "/api/v1/audit-log", None).await;
    let actions: Vec<&str> = log["entries"].as_array().unwrap().iter().map(|e| s(&e["action"])).collect();
    assert_eq!(
        actions,
        [
            "agent.updated",
            "settings.updated",
            "channel_account.updated",
            "agent.created",
            "channel_account.created",
            // The test's set-up, as `switchboard admin create` and `token create` do it.
            "token.created",
            "agent.admin_set",
        ]
    );
    for cli in &log["entries"].as_array().unwrap()[5..] {
        assert_eq!(cli["agent_name"], Value::Null, "no agent made it: {cli}");
        assert_eq!(cli["detail"]["via"], "command line");
    }
    assert_eq!(log["entries"][0]["agent_name"], "Admin");
    assert_eq!(log["entries"][2]["detail"]["secrets_replaced"], json!(["secret"]));
    let text = log.to_string();
    assert!(!text.contains("t0p") && !text.contains(SECRET) && !text.contains("yet another"), "no secret: {text}");

    let older =
        ok(&app, Method::GET, &format!("/api/v1/audit-log?limit=2&before={}", s(&log["entries"][1]["id"])), None).await;
    let older: Vec<&str> = older["entries"].as_array().unwrap().iter().map(|e| s(&e["action"])).collect();
    assert_eq!(older, ["channel_account.updated", "agent.created"]);
}

#[tokio::test]
async fn custom_fields_are_typed_checked_and_required_to_solve() {
    let app = TestApp::spawn().await;
    let (agent, _) = new_agent(&app, "Fi").await;
    let (_, agent_token) = token_for(&app, &agent, "fi").await;
    let field = |key: &str, kind: &str, options: Value, required: bool| json!({"key": key, "label": key.to_uppercase(), "kind": kind, "options": options, "required_on_solve": required});
    let refused = app
        .request(Method::POST, "/api/v1/fields", Some(&agent_token), Some(field("x", "text", json!([]), false)))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for f in [
        field("order_no", "number", json!([]), true),
        field("plan", "dropdown", json!(["gold", "silver"]), false),
        field("vip", "checkbox", json!([]), false),
        field("due", "date", json!([]), false),
    ] {
        assert_eq!(app.post("/api/v1/fields", f).await.status, StatusCode::CREATED);
    }
    assert_eq!(app.post("/api/v1/fields", field("plan", "text", json!([]), false)).await.code(), "field_exists");
    let listed = app.request(Method::GET, "/api/v1/fields", Some(&agent_token), None).await;
    assert_eq!(listed.body["fields"].as_array().unwrap().len(), 4, "agents read the definitions");

    let (_, ticket) = customer_ticket(&app).await;
    let path = format!("/api/v1/tickets/{ticket}");
    let solve = app.patch(&path, json!({"status": "solved"})).await;
    assert_eq!(solve.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(solve.body["error"]["message"].as_str().unwrap().contains("ORDER_NO"), "{:?}", solve.body);
    for bad in [json!({"order_no": "twelve"}), json!({"plan": "bronze"}), json!({"due": "2026-02-31"})] {
        assert_eq!(app.patch(&path, json!({"fields": bad})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let set = ok(
        &app,
        Method::PATCH,
        &path,
        Some(json!({"fields": {"order_no": "4411", "plan": "gold", "vip": "on", "due": "2026-01-31"}})),
    )
    .await;
    assert_eq!(set["fields"], json!({"order_no": 4411, "plan": "gold", "vip": true, "due": "2026-01-31"}));
    assert_eq!(ok(&app, Method::PATCH, &path, Some(json!({"status": "solved"}))).await["status"], "solved");
}

#[tokio::test]
async fn a_macro_replies_with_the_customers_first_name_and_sets_status_tags_and_assignee() {
    let app = TestApp::spawn().await;
    let (agent, _) = new_agent(&app, "Mo").await;
    let (_, agent_token) = token_for(&app, &agent, "mo").await;
    let body = json!({"name": "Shipped", "body": "Hi {{first_name}}, order #{{ticket_number}} has shipped. {{agent_name}}",
        "status": "pending", "add_tags": ["shipping"], "assignee": "me"});
    let refused = app.request(Method::POST, "/api/v1/macros", Some(&agent_token), Some(body.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let made = app.post("/api/v1/macros", body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let macro_id = s(&made.body["id"]).to_owned();

    let line = app.api_account(SECRET).await;
    let sent = app
        .deliver(
            &line,
            SECRET,
            json!([{"id": "m1", "from": {"id": "u9", "name": "Mira Santos"}, "text": "where is it?"}]),
        )
        .await;
    let ticket = s(&sent.body["messages"][0]["ticket_id"]).to_owned();
    let number = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}"), None).await["number"].clone();

    // Any agent applies it; the reply is theirs.
    let applied = app
        .request(Method::POST, &format!("/api/v1/tickets/{ticket}/macros/{macro_id}"), Some(&agent_token), None)
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.body);
    assert_eq!(applied.body["status"], "pending");
    assert_eq!(applied.body["assignee_id"], agent.as_str());
    assert!(applied.body["tags"].as_array().unwrap().contains(&json!("shipping")));
    let messages = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/messages"), None).await;
    let reply = messages["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(reply["body"], format!("Hi Mira, order #{number} has shipped. Mo"));
    let events = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/events"), None).await;
    assert!(events["events"].as_array().unwrap().iter().any(|e| e["kind"] == "macro_applied"), "{events}");
}

#[tokio::test]
async fn a_macro_whose_reply_the_channel_refuses_changes_nothing() {
    let app = TestApp::spawn().await;
    let made = app
        .post("/api/v1/macros", json!({"name": "Close", "body": "Thanks!", "status": "solved", "add_tags": ["done"]}))
        .await;
    let macro_id = s(&made.body["id"]).to_owned();
    let wa = app
        .connect_account("whatsapp", "1555000", json!({"app_secret": "a", "verify_token": "v", "access_token": "t"}))
        .await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    // A customer wrote two days ago: WhatsApp's 24-hour window is closed.
    let account = app.service.get_account(&actor, s(&wa["id"]).parse().unwrap()).await.unwrap();
    let item = switchboard_domain::InboundItem {
        platform_message_id: "wamid.old".into(),
        sender: switchboard_domain::InboundSender {
            external_id: "628111".into(),
            name: Some("Ola".into()),
            ..Default::default()
        },
        thread: switchboard_domain::ThreadRef::Direct { key: None },
        body: Some("hello".into()),
        attachments: Vec::new(),
        sent_at: Some(epoch() - time::Duration::days(2)),
    };
    let reports = app.service.ingest(account, vec![item]).await.unwrap();
    let ticket = reports[0].ticket_id.unwrap();

    let applied = app.post(&format!("/api/v1/tickets/{}/macros/{macro_id}", ticket.0), json!({})).await;
    assert_eq!(applied.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", applied.body);
    assert_eq!(applied.code(), "template_required");
    let t = ok(&app, Method::GET, &format!("/api/v1/tickets/{}", ticket.0), None).await;
    assert_ne!(t["status"], "solved");
    assert!(!t["tags"].as_array().unwrap().contains(&json!("done")), "nothing changed");
}

#[tokio::test]
async fn a_macro_is_one_change_a_failing_step_sends_no_reply() {
    let app = TestApp::spawn().await;
    let (agent, _) = new_agent(&app, "Gone").await;
    let made = app
        .post("/api/v1/macros", json!({"name": "Hand over", "body": "Passing you to a colleague.", "add_tags": ["handover"], "assignee": agent}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let macro_id = s(&made.body["id"]).to_owned();
    // The macro's assignee leaves after it was saved.
    ok(&app, Method::PATCH, &format!("/api/v1/agents/{agent}"), Some(json!({"active": false}))).await;
    let (_, ticket) = customer_ticket(&app).await;
    let before = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/messages"), None).await;

    let applied = app.post(&format!("/api/v1/tickets/{ticket}/macros/{macro_id}"), json!({})).await;
    assert_eq!(applied.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", applied.body);
    let after = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/messages"), None).await;
    assert_eq!(after, before, "the reply was not sent");
    let t = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}"), None).await;
    assert_eq!(t["status"], "new");
    assert!(t["tags"].as_array().unwrap().iter().all(|tag| tag != "handover"), "{t}");
    let events = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}/events"), None).await;
    assert!(events["events"].as_array().unwrap().iter().all(|e| e["kind"] != "macro_applied"), "{events}");
}

#[tokio::test]
async fn fields_and_macros_are_removed_by_admins_and_the_removal_is_logged() {
    let app = TestApp::spawn().await;
    let field = app.post("/api/v1/fields", json!({"key": "plan", "label": "Plan", "kind": "text"})).await;
    let made = app.post("/api/v1/macros", json!({"name": "Solve", "status": "solved"})).await;
    let (field, made) = (s(&field.body["id"]).to_owned(), s(&made.body["id"]).to_owned());
    let (_, ticket) = customer_ticket(&app).await;
    ok(&app, Method::PATCH, &format!("/api/v1/tickets/{ticket}"), Some(json!({"fields": {"plan": "gold"}}))).await;

    for path in [format!("/api/v1/fields/{field}"), format!("/api/v1/macros/{made}")] {
        let gone = app.request(Method::DELETE, &path, Some(&app.token), None).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{path}: {:?}", gone.body);
        let again = app.request(Method::DELETE, &path, Some(&app.token), None).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(ok(&app, Method::GET, "/api/v1/fields", None).await["fields"].as_array().unwrap().is_empty());
    assert!(ok(&app, Method::GET, "/api/v1/macros", None).await["macros"].as_array().unwrap().is_empty());
    // The value stays on the ticket as a plain field, still searchable.
    let t = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}"), None).await;
    assert_eq!(t["fields"]["plan"], "gold");
    let found = ok(&app, Method::GET, "/api/v1/tickets?q=field.plan:gold", None).await;
    assert_eq!(found["tickets"].as_array().unwrap().len(), 1);
    let applied = app.post(&format!("/api/v1/tickets/{ticket}/macros/{made}"), json!({})).await;
    assert_eq!(applied.status, StatusCode::NOT_FOUND);

    let log = ok(&app, Method::GET, "/api/v1/audit-log?limit=2", None).await;
    let actions: Vec<&str> = log["entries"].as_array().unwrap().iter().map(|e| s(&e["action"])).collect();
    assert_eq!(actions, ["macro.deleted", "field.deleted"]);
}
