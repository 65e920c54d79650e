//! The agent UI over HTTP: signing in, sessions on the pages and the API, CSRF refusals,
//! throttled guessing, and customer text escaped in pages. Runs on both backends.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_testkit::{Browser, TestApp, hidden};

const PASSWORD: &str = "a long enough password";

async fn agent(app: &TestApp) -> String {
    let email = format!("agent-{}@example.com", uuid::Uuid::now_v7().simple());
    app.service.create_admin(switchboard_service::DEFAULT_WORKSPACE, &email, PASSWORD, Some("Ana")).await.unwrap();
    email
}

/// A customer writes `text` on the generic webhook; returns the ticket's id.
async fn customer_ticket(app: &TestApp, text: &str) -> String {
    let account = app.api_account("s3cret").await;
    let sent =
        app.deliver(&account, "s3cret", json!([{"id": "m1", "from": {"id": "u1", "name": "Eve"}, "text": text}])).await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    app.get("/api/v1/tickets").await.body["tickets"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_agent_signs_in_with_the_password_and_works_in_the_session() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let mut browser = Browser::new(&app);

    let first = browser.get("/inbox").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location.as_deref(), Some("/sign-in?next=%2Finbox"));

    let wrong = browser.sign_in(&email, "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("do not match"));

    let signed = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(signed.location.as_deref(), Some("/inbox"));
    let session = signed.set_cookies.iter().find(|c| c.starts_with("sb_session=")).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "not Secure on a plain-http public URL: {session}");

    let inbox = browser.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Your social messaging tickets"));
    assert!(inbox.csp.unwrap().contains("script-src 'self'"));

    // Signing out ends the session: the old cookie opens nothing any more.
    let old = browser.cookies.clone();
    let csrf = hidden(&inbox.body, "csrf");
    let out = browser.post_form("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    browser.cookies = old;
    assert_eq!(browser.get("/inbox").await.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/api/v1/tickets").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_sign_in_posted_without_the_form_token_is_refused() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let mut browser = Browser::new(&app);
    let page =
        browser.post_form("/sign-in", &[("email", &email), ("password", PASSWORD), ("login_csrf", "forged")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.set_cookies.iter().all(|c| !c.starts_with("sb_session=")));
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_even_for_the_right_one() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(browser.sign_in(&email, "guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.body.contains("Too many failed sign-ins"));
    // Another agent from the same address is not held up.
    let other = agent(&app).await;
    assert_eq!(browser.sign_in(&other, PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_form_without_the_session_csrf_token_changes_nothing() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let ticket = customer_ticket(&app, "hello").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    let page = browser.get(&format!("/tickets/{ticket}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "csrf");

    let path = format!("/tickets/{ticket}/properties");
    let forged = browser.post_form(&path, &[("csrf", "0000"), ("status", "pending"), ("status_before", "new")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = browser.post_form(&path, &[("status", "pending"), ("status_before", "new")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/tickets/{ticket}")).await.body["status"], "new");

    let real = browser.post_form(&path, &[("csrf", &csrf), ("status", "pending"), ("status_before", "new")]).await;
    assert_eq!(real.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/tickets/{ticket}")).await.body["status"], "pending");
}

#[tokio::test]
async fn the_api_takes_the_session_cookie_and_wants_the_csrf_header_to_write() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let ticket = customer_ticket(&app, "hello").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    let csrf = hidden(&browser.get("/inbox").await.body, "csrf");

    let list = browser.get("/api/v1/tickets").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&ticket));

    let url = format!("{}/api/v1/tickets/{ticket}", app.address);
    let patch = json!({"status": "open"});
    let without = browser.client.patch(&url).json(&patch);
    let refused = browser.send(without).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("csrf_failed"));
    let with = browser.client.patch(&url).header("x-csrf-token", &csrf).json(&patch);
    assert_eq!(browser.send(with).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/tickets/{ticket}")).await.body["status"], "open");
}

#[tokio::test]
async fn customer_text_is_escaped_on_every_page_it_shows_on() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let evil = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
    let ticket = customer_ticket(&app, evil).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    for path in [format!("/tickets/{ticket}"), "/inbox?view=all_open".to_owned(), "/notifier".to_owned()] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains("<script>alert"), "{path} shows raw script");
        assert!(!page.body.contains("<img src=x"), "{path} shows a raw tag");
    }
    let page = browser.get(&format!("/tickets/{ticket}")).await;
    let shown = page.body.find("class=\"body\">").map(|i| &page.body[i..i + 120]).unwrap_or("");
    assert!(
        shown.starts_with("class=\"body\">&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#60;img src=x"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let db = switchboard_testkit::TestDb::new().await;
    let clock = std::sync::Arc::new(switchboard_testkit::TestClock::new(switchboard_testkit::epoch()));
    let service = switchboard_service::Service::new(db.connect().await, clock);
    service.create_admin(switchboard_service::DEFAULT_WORKSPACE, "sec@example.com", PASSWORD, None).await.unwrap();
    let app = switchboard_http::router(switchboard_http::AppState {
        service,
        public_url: "https://inbox.example.com".to_owned(),
    });

    let form = app.clone().oneshot(Request::get("/sign-in").body(Body::empty()).unwrap()).await.unwrap();
    let login_cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(login_cookie.contains("; Secure"), "{login_cookie}");
    let html = String::from_utf8(axum::body::to_bytes(form.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    let token = hidden(&html, "login_csrf");
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("email", "sec@example.com"), ("password", PASSWORD), ("login_csrf", token.as_str())])
        .finish();
    let request = Request::post("/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", login_cookie.split(';').next().unwrap())
        .body(Body::from(body))
        .unwrap();
    let signed = app.oneshot(request).await.unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let session = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sb_session="))
        .expect("a session cookie");
    assert!(session.contains("; Secure") && session.contains("HttpOnly"), "{session}");
}

#[tokio::test]
async fn an_agent_sets_themself_away_and_online_again() {
    let app = TestApp::spawn().await;
    let email = agent(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    let page = browser.get("/inbox").await;
    assert!(page.body.contains("● Online"), "signing in sets the agent online");
    let csrf = hidden(&page.body, "csrf");
    let away = browser
        .post_form("/me/availability", &[("csrf", &csrf), ("availability", "away"), ("back", "/notifier")])
        .await;
    assert_eq!(away.location.as_deref(), Some("/notifier"));
    assert!(browser.get("/inbox").await.body.contains("○ Away"));
    let elsewhere = browser
        .post_form("/me/availability", &[("csrf", &csrf), ("availability", "online"), ("back", "//evil.example")])
        .await;
    assert_eq!(elsewhere.location.as_deref(), Some("/"), "never sent to another site");
    assert!(browser.get("/inbox").await.body.contains("● Online"));
}

#[tokio::test]
async fn a_fresh_server_is_set_up_in_the_browser_with_its_one_time_key() {
    let app = TestApp::spawn_empty().await;
    let key = app.service.open_first_run().await.unwrap().expect("no agent yet: a setup key");
    let mut browser = Browser::new(&app);

    let sign_in = browser.get("/sign-in").await;
    assert!(sign_in.body.contains("no admin yet"), "the sign-in page says where to go");
    // Without the key, or with a wrong one, the page explains and offers no form.
    let bare = browser.get("/setup").await;
    assert_eq!(bare.status, StatusCode::OK);
    assert!(!bare.body.contains("setup-form") && bare.body.contains("switchboard serve"));
    assert_eq!(browser.get("/setup?key=guess").await.status, StatusCode::FORBIDDEN);
    let guessed = [
        ("key", "guess"),
        ("name", "Mallory"),
        ("email", "m@example.com"),
        ("password", PASSWORD),
        ("password_again", PASSWORD),
    ];
    assert_eq!(browser.post_form("/setup", &guessed).await.status, StatusCode::FORBIDDEN);

    let form = browser.get(&format!("/setup?key={key}")).await;
    assert!(form.body.contains("setup-form"));
    let mut fields = vec![
        ("key", key.as_str()),
        ("business_name", "Toko Ana"),
        ("name", "Ana Owner"),
        ("email", "ana@example.com"),
        ("password", PASSWORD),
        ("password_again", "another one entirely"),
    ];
    let mismatch = browser.post_form("/setup", &fields).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        mismatch.body.contains("two passwords differ") && mismatch.body.contains("Toko Ana"),
        "kept what was typed"
    );
    fields[5] = ("password_again", PASSWORD);
    fields[3] = ("email", "not an address");
    let bad = browser.post_form("/setup", &fields).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("not an e-mail address"), "{}", bad.body);

    fields[3] = ("email", "ana@example.com");
    let made = browser.post_form("/setup", &fields).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(made.location.as_deref(), Some("/admin/channels"));
    let admin = browser.get("/admin/channels").await;
    assert_eq!(admin.status, StatusCode::OK, "signed in as an admin");

    // Once: the key is spent, the page sends people to sign in, and the business is named.
    let again = Browser::new(&app).post_form("/setup", &fields).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location.as_deref(), Some("/sign-in"));
    assert!(!Browser::new(&app).get("/sign-in").await.body.contains("no admin yet"));
    assert_eq!(app.service.open_first_run().await.unwrap(), None);
    let settings = browser.get("/admin/settings").await;
    assert!(settings.body.contains("Toko Ana"), "the business name was saved");
    let audit = browser.get("/admin/audit").await;
    assert!(audit.body.contains("first-run setup"), "the audit log says how the admin was made");
}

/// A customer writes on `kind` from `from`; returns their contact's id.
async fn customer_on(app: &TestApp, kind: &str, external_id: &str, secrets: serde_json::Value, from: &str) -> String {
    let line = app.connect_account(kind, external_id, secrets).await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let account = app.service.get_account(&actor, line["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    let item = switchboard_domain::InboundItem {
        platform_message_id: format!("m-{from}"),
        sender: switchboard_domain::InboundSender {
            external_id: from.into(),
            name: Some(format!("Rina via {kind}")),
            ..Default::default()
        },
        thread: switchboard_domain::ThreadRef::Direct { key: None },
        body: Some("hello".into()),
        attachments: Vec::new(),
        sent_at: Some(app.clock.peek()),
    };
    let report = app.service.ingest(account, vec![item]).await.unwrap();
    let ticket = report[0].ticket_id.unwrap();
    app.get(&format!("/api/v1/tickets/{}", ticket.0)).await.body["contact_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_contact_page_suggests_the_same_phone_on_whatsapp_and_sms_and_the_same_email() {
    let app = TestApp::spawn().await;
    let meta = json!({"app_secret": "s", "verify_token": "v", "access_token": "t"});
    let wa = customer_on(&app, "whatsapp", "1550001", meta, "6281234567890").await;
    let sms =
        customer_on(&app, "twilio", "+15550002", json!({"account_sid": "AC1", "auth_token": "t"}), "+62 812-3456-7890")
            .await;
    let tg = customer_on(&app, "telegram", "tg-bot", json!({"bot_token": "1:a", "secret_token": "s"}), "tg-9").await;
    let other =
        customer_on(&app, "twilio", "+15550003", json!({"account_sid": "AC2", "auth_token": "t"}), "+1 555 0100").await;
    for (id, email) in [(&wa, "Rina@Example.com"), (&tg, "rina@example.com")] {
        let answer = app.patch(&format!("/api/v1/contacts/{id}"), json!({"email": email})).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    }
    let email = agent(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;

    let page = browser.get(&format!("/contacts/{wa}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let start = page.body.find("id=\"duplicates\"").expect("a list of possible duplicates");
    let list = &page.body[start..start + page.body[start..].find("</ul>").unwrap()];
    assert!(list.contains(&sms) && list.contains("same phone number 6281234567890"), "{list}");
    assert!(list.contains(&tg) && list.contains("same e-mail rina@example.com"), "{list}");
    assert!(!list.contains(&other), "a different number is not suggested");

    // Merging one in takes it off the list.
    let csrf = hidden(&page.body, "csrf");
    let merged =
        browser.post_form(&format!("/contacts/{wa}/merge"), &[("csrf", &csrf), ("from_contact_id", &sms)]).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER);
    let page = browser.get(&format!("/contacts/{wa}")).await;
    let start = page.body.find("id=\"duplicates\"").unwrap();
    let list = &page.body[start..start + page.body[start..].find("</ul>").unwrap()];
    assert!(!list.contains(&sms) && list.contains(&tg), "{list}");
}

#[tokio::test]
async fn an_admin_made_on_the_command_line_closes_the_setup_page() {
    let app = TestApp::spawn_empty().await;
    let key = app.service.open_first_run().await.unwrap().expect("a setup key");
    let mut browser = Browser::new(&app);
    assert!(browser.get("/sign-in").await.body.contains("no admin yet"));
    // `switchboard admin create` while the server runs.
    agent(&app).await;
    assert!(!browser.get("/sign-in").await.body.contains("no admin yet"));
    let setup = browser.get(&format!("/setup?key={key}")).await;
    assert_eq!(setup.status, StatusCode::SEE_OTHER);
    assert_eq!(setup.location.as_deref(), Some("/sign-in"));
}
