//! Outbound delivery through the fake platforms: what an agent sends reaches the platform in its
//! documented shape, from the right line; refusals, failures and retries are shown on the ticket.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_domain::{ChannelAccount, ChannelAccountId, InboundItem, InboundSender, ThreadRef};
use switchboard_fakes::Fault;
use switchboard_testkit::{Delivery, TestApp};
use time::{Duration, OffsetDateTime};

fn secrets_of(kind: &str) -> Value {
    match kind {
        "whatsapp" | "messenger" | "instagram" => {
            json!({"app_secret": "s", "verify_token": "v", "access_token": "tok"})
        }
        "line" => json!({"channel_secret": "s", "channel_access_token": "tok"}),
        "telegram" => json!({"bot_token": "123:abc", "secret_token": "s"}),
        "x" => json!({"consumer_secret": "s", "access_token": "tok"}),
        "twilio" => json!({"account_sid": "ACtest", "auth_token": "tok"}),
        "wechat" => json!({"token": "t", "app_id": "wxapp", "app_secret": "sec"}),
        "dialpad" => json!({"webhook_secret": "s", "api_key": "key"}),
        "justcall" => json!({"webhook_secret": "s", "api_key": "key", "api_secret": "sec"}),
        "shopee" => json!({"partner_id": "2000001", "partner_key": "pk", "access_token": "tok"}),
        "lazada" => json!({"app_key": "100001", "app_secret": "sec", "access_token": "tok"}),
        other => panic!("no secrets for {other}"),
    }
}

async fn line(app: &TestApp, kind: &str, external_id: &str) -> ChannelAccount {
    let body = app.connect_account(kind, external_id, secrets_of(kind)).await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let id: ChannelAccountId = body["id"].as_str().unwrap().parse().unwrap();
    app.service.get_account(&actor, id).await.unwrap()
}

fn item(id: &str, from: &str, thread: ThreadRef, sent_at: OffsetDateTime) -> InboundItem {
    InboundItem {
        platform_message_id: id.into(),
        sender: InboundSender { external_id: from.into(), name: Some("Mira".into()), ..Default::default() },
        thread,
        body: Some("Hello, where is my parcel?".into()),
        attachments: vec![],
        sent_at: Some(sent_at),
    }
}

/// A customer writes on `account` (`ago` before now); returns their ticket's id.
async fn customer_writes(app: &TestApp, account: &ChannelAccount, from: &str, ago: Duration) -> String {
    let at = app.clock.peek() - ago;
    let id = format!("in-{from}-{}", at.unix_timestamp());
    let reports =
        app.service.ingest(account.clone(), vec![item(&id, from, ThreadRef::Direct { key: None }, at)]).await.unwrap();
    reports[0].ticket_id.unwrap().to_string()
}

async fn reply(app: &TestApp, ticket: &str, body: Value) -> reqwest::StatusCode {
    let answer = app.post(&format!("/api/v1/tickets/{ticket}/messages"), body).await;
    answer.status
}

/// Sends a WhatsApp template on the ticket; returns the API's answer.
async fn send_template(app: &TestApp, ticket: &str, name: &str, parameters: &[&str]) -> switchboard_testkit::Answer {
    let template = json!({"template": {"name": name, "language": "en_US", "parameters": parameters}});
    app.post(&format!("/api/v1/tickets/{ticket}/messages"), template).await
}

async fn last_message(app: &TestApp, ticket: &str) -> Value {
    let messages = app.get(&format!("/api/v1/tickets/{ticket}/messages")).await.body;
    messages["messages"].as_array().unwrap().last().unwrap().clone()
}

async fn event_kinds(app: &TestApp, ticket: &str) -> Vec<String> {
    let events = app.get(&format!("/api/v1/tickets/{ticket}/events")).await.body;
    events["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

fn body_json(recorded: &switchboard_fakes::Recorded) -> Value {
    serde_json::from_str(&recorded.body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_whatsapp_reply_reaches_the_platform_from_the_number_the_customer_wrote_to() {
    let app = TestApp::spawn().await;
    let delivery: Delivery = app.delivery().await;
    let sales = line(&app, "whatsapp", "1110001").await;
    let support = line(&app, "whatsapp", "2220002").await;
    let ticket = customer_writes(&app, &support, "447700900123", Duration::minutes(5)).await;
    let _other = customer_writes(&app, &sales, "447700900999", Duration::minutes(5)).await;

    assert_eq!(reply(&app, &ticket, json!({"body": "Your parcel ships today."})).await, StatusCode::CREATED);
    assert_eq!(delivery.run().await, 1);

    let sent = delivery.fake.state.accepted("whatsapp");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].path.contains("2220002"), "sent from the support number: {}", sent[0].path);
    let body = body_json(&sent[0]);
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["to"].as_str().unwrap().trim_start_matches('+'), "447700900123");
    assert_eq!(body["text"]["body"], "Your parcel ships today.");

    let message = last_message(&app, &ticket).await;
    assert_eq!(message["delivery_status"], "sent");
    assert_eq!(message["platform_message_id"].as_str(), sent[0].platform_message_id.as_deref());
    assert!(event_kinds(&app, &ticket).await.contains(&"message_sent".to_owned()));
}

#[tokio::test]
async fn a_reply_on_every_platform_arrives_at_its_fake() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    for (kind, business, customer) in [
        ("messenger", "page-1", "psid-1"),
        ("instagram", "ig-1", "igsid-1"),
        ("line", "bot-1", "U0123456789abcdef0123456789abcdef"),
        ("telegram", "900", "700100200"),
        ("x", "4400000000000000001", "4400000000000000777"),
        ("twilio", "+4930123456789", "+4915112345678"),
        ("wechat", "gh_0a1b2c3d4e5f", "oTEST_openid"),
        ("dialpad", "+14155550100", "+14155559876"),
        ("justcall", "+14155550101", "+14155559877"),
        ("shopee", "880001", "30001"),
        ("lazada", "lz-seller-1", "session-77"),
    ] {
        let account = line(&app, kind, business).await;
        let ticket = customer_writes(&app, &account, customer, Duration::minutes(5)).await;
        assert_eq!(reply(&app, &ticket, json!({"body": format!("hello from {kind}")})).await, StatusCode::CREATED);
        delivery.run().await;
        let accepted = delivery.fake.state.accepted(kind);
        assert!(
            // Form bodies (Twilio) encode spaces as `+`.
            accepted.iter().any(|r| r.body.replace('+', " ").contains(&format!("hello from {kind}"))),
            "{kind}: {:?}",
            delivery.fake.state.requests()
        );
        let message = last_message(&app, &ticket).await;
        assert_eq!(message["delivery_status"], "sent", "{kind}: {message}");
    }
}

#[tokio::test]
async fn a_permanent_platform_error_marks_the_message_failed_with_the_platforms_code() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "whatsapp", "1110001").await;
    let ticket = customer_writes(&app, &account, "447700900123", Duration::hours(1)).await;
    delivery.fake.state.fail_next("whatsapp", Fault::Permanent("131047".into()), 1);

    assert_eq!(reply(&app, &ticket, json!({"body": "Hello?"})).await, StatusCode::CREATED);
    delivery.run().await;

    let message = last_message(&app, &ticket).await;
    assert_eq!(message["delivery_status"], "failed");
    assert_eq!(message["error"]["code"], "131047");
    assert!(!message["error"]["message"].as_str().unwrap().is_empty());
    assert!(event_kinds(&app, &ticket).await.contains(&"delivery_failed".to_owned()));
    // Permanent: not tried again.
    app.clock.advance(Duration::hours(1));
    assert_eq!(delivery.run().await, 0);
    assert_eq!(delivery.fake.state.requests().len(), 1);
}

#[tokio::test]
async fn transient_failures_are_retried_later_and_stop_at_the_limit() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "telegram", "900").await;
    let ticket = customer_writes(&app, &account, "700100200", Duration::minutes(1)).await;

    // A 5xx, then success on the retry.
    delivery.fake.state.fail_next("telegram", Fault::ServerError, 1);
    assert_eq!(reply(&app, &ticket, json!({"body": "first"})).await, StatusCode::CREATED);
    delivery.run().await;
    assert_eq!(last_message(&app, &ticket).await["delivery_status"], "queued");
    assert_eq!(delivery.run().await, 0, "not due yet");
    app.clock.advance(Duration::minutes(1));
    delivery.run().await;
    assert_eq!(last_message(&app, &ticket).await["delivery_status"], "sent");

    // Rate limited and failing until the limit of 3 attempts: then failed.
    delivery.fake.state.fail_next("telegram", Fault::RateLimited, 1);
    delivery.fake.state.fail_next("telegram", Fault::ServerError, 2);
    assert_eq!(reply(&app, &ticket, json!({"body": "second"})).await, StatusCode::CREATED);
    for _ in 0..3 {
        delivery.run().await;
        app.clock.advance(Duration::minutes(10));
    }
    let message = last_message(&app, &ticket).await;
    assert_eq!(message["delivery_status"], "failed", "{message}");
    assert_eq!(message["error"]["code"], "gave_up");
    assert_eq!(delivery.run().await, 0);
}

#[tokio::test]
async fn outside_the_window_a_template_is_sent_filled_and_in_the_platforms_shape() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "whatsapp", "1110001").await;
    let created = app
        .post(
            &format!("/api/v1/channel-accounts/{}/templates", account.id),
            json!({"name": "ticket_followup", "language": "en_US", "category": "UTILITY",
                   "body": "Hi {{1}}, your ticket {{2}} is solved."}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let ticket = customer_writes(&app, &account, "447700900123", Duration::hours(30)).await;

    assert_eq!(reply(&app, &ticket, json!({"body": "free text"})).await, StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = send_template(&app, &ticket, "ticket_followup", &["Mira"]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body["error"]["message"].as_str().unwrap().contains("2 parameter"), "{:?}", wrong.body);

    let sent = send_template(&app, &ticket, "ticket_followup", &["Mira", "#4411"]).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["body"], "Hi Mira, your ticket #4411 is solved.");
    assert_eq!(sent.body["template"]["name"], "ticket_followup");
    delivery.run().await;
    let body = body_json(&delivery.fake.state.accepted("whatsapp")[0]);
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "ticket_followup");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    assert_eq!(body["template"]["components"][0]["parameters"][1]["text"], "#4411");
}

#[tokio::test]
async fn instagram_replies_between_one_and_seven_days_carry_the_human_agent_tag() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "instagram", "ig-1").await;
    let ticket = customer_writes(&app, &account, "igsid-1", Duration::days(3)).await;
    assert_eq!(reply(&app, &ticket, json!({"body": "Sorry for the wait"})).await, StatusCode::CREATED);
    delivery.run().await;
    let body = body_json(&delivery.fake.state.accepted("instagram")[0]);
    assert_eq!(body["messaging_type"], "MESSAGE_TAG");
    assert_eq!(body["tag"], "HUMAN_AGENT");
}

#[tokio::test]
async fn a_comment_gets_one_private_reply_which_opens_the_commenters_direct_ticket() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let page = line(&app, "messenger", "page-1").await;
    let thread = ThreadRef::Public { root_id: "post-9".into(), title: Some("New shoes".into()) };
    let at = app.clock.peek() - Duration::hours(2);
    let reports = app.service.ingest(page.clone(), vec![item("comment-1", "psid-7", thread, at)]).await.unwrap();
    let public = reports[0].ticket_id.unwrap().to_string();
    let comment = app.get(&format!("/api/v1/tickets/{public}/messages")).await.body["messages"][0]["id"].clone();

    // No attachments on Facebook public replies.
    let refused = app
        .post(
            &format!("/api/v1/tickets/{public}/messages"),
            json!({"body": "see picture", "attachments": [{"kind": "image", "url": "https://cdn.test/a.png"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let private = app
        .post(
            &format!("/api/v1/tickets/{public}/messages"),
            json!({"body": "I sent you the size chart", "private_reply_to": comment}),
        )
        .await;
    assert_eq!(private.status, StatusCode::CREATED, "{:?}", private.body);
    let direct = private.body["ticket_id"].as_str().unwrap().to_owned();
    assert_ne!(direct, public);
    let direct_ticket = app.get(&format!("/api/v1/tickets/{direct}")).await.body;
    assert_eq!(direct_ticket["kind"], "direct");
    assert_eq!(direct_ticket["public_ticket_id"].as_str(), Some(public.as_str()));

    let again = app
        .post(&format!("/api/v1/tickets/{public}/messages"), json!({"body": "twice", "private_reply_to": comment}))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.code(), "private_reply_used");

    delivery.run().await;
    let body = body_json(&delivery.fake.state.accepted("messenger")[0]);
    assert_eq!(body["recipient"]["comment_id"], "comment-1");

    // A public reply answers the comment on the platform.
    assert_eq!(reply(&app, &public, json!({"body": "Thanks for asking!"})).await, StatusCode::CREATED);
    delivery.run().await;
    let public_reply = &delivery.fake.state.accepted("messenger")[1];
    assert!(public_reply.path.contains("comment-1"), "{}", public_reply.path);
}

#[tokio::test]
async fn a_send_interrupted_by_a_crash_is_never_sent_twice() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "whatsapp", "1110001").await;
    let ticket = customer_writes(&app, &account, "447700900123", Duration::minutes(5)).await;
    assert_eq!(reply(&app, &ticket, json!({"body": "hello"})).await, StatusCode::CREATED);

    // A node claims the row and stops before it writes the outcome.
    {
        let mut tx = app.db.db().begin().await.unwrap();
        let claimed =
            switchboard_store::outbox::claim_due(&mut tx.conn(), app.clock.peek(), "crashed-node", 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        tx.commit().await.unwrap();
    }
    assert_eq!(delivery.run().await, 0, "another node's claim is left alone while its lease runs");
    app.clock.advance(Duration::minutes(5));
    delivery.run().await;
    let message = last_message(&app, &ticket).await;
    assert_eq!(message["delivery_status"], "failed");
    assert_eq!(message["error"]["code"], "delivery_uncertain");
    assert!(delivery.fake.state.requests().is_empty(), "nothing was sent blindly again");
    assert_eq!(metric(&app, "switchboard_sends_total{kind=\"whatsapp\",result=\"uncertain\"}").await, 1.0);
}

#[tokio::test]
async fn line_uses_a_fresh_reply_token_and_pushes_once_it_has_expired() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "line", "bot-1").await;
    let customer = "U0123456789abcdef0123456789abcdef";
    let ticket = customer_writes(&app, &account, customer, Duration::seconds(1)).await;
    // The platform handed a reply token with the message.
    let token = switchboard_domain::InboundEvent::ReplyToken {
        customer: customer.into(),
        token: "reply-token-1".into(),
        expires_at: app.clock.peek() + Duration::seconds(50),
    };
    app.service.ingest_events(vec![(account.clone(), vec![token])]).await.unwrap();

    assert_eq!(reply(&app, &ticket, json!({"body": "quick answer"})).await, StatusCode::CREATED);
    delivery.run().await;
    assert_eq!(reply(&app, &ticket, json!({"body": "later answer"})).await, StatusCode::CREATED);
    delivery.run().await;
    let sent = delivery.fake.state.accepted("line");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].path.contains("reply"), "{}", sent[0].path);
    assert!(sent[1].path.contains("push"), "a reply token is good for one message: {}", sent[1].path);
}

#[tokio::test]
async fn templates_sync_from_whatsapp_and_only_approved_ones_can_be_sent() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let plain = line(&app, "whatsapp", "1110001").await;
    let refused = app.post(&format!("/api/v1/channel-accounts/{}/templates/sync", plain.id), json!({})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("waba_id"));

    let connected = app
        .post(
            "/api/v1/channel-accounts",
            json!({"kind": "whatsapp", "name": "Sales", "external_id": "3330003", "secrets": secrets_of("whatsapp"),
                   "settings": {"waba_id": "waba-1"}}),
        )
        .await;
    let account_id = connected.body["id"].as_str().unwrap().to_owned();
    let synced = app.post(&format!("/api/v1/channel-accounts/{account_id}/templates/sync"), json!({})).await;
    assert_eq!(synced.status, StatusCode::OK, "{:?}", synced.body);
    let statuses: Vec<(String, String)> = synced.body["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["status"].as_str().unwrap().to_owned()))
        .collect();
    assert!(statuses.contains(&("ticket_followup".into(), "approved".into())), "{statuses:?}");
    assert!(statuses.contains(&("order_update".into(), "pending".into())), "{statuses:?}");

    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let account = app.service.get_account(&actor, account_id.parse().unwrap()).await.unwrap();
    let ticket = customer_writes(&app, &account, "447700900555", Duration::hours(40)).await;
    let pending = send_template(&app, &ticket, "order_update", &["A-1"]).await;
    assert_eq!(pending.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(pending.body["error"]["message"].as_str().unwrap().contains("pending"), "{:?}", pending.body);
    let approved = send_template(&app, &ticket, "ticket_followup", &["Mira", "#1"]).await;
    assert_eq!(approved.status, StatusCode::CREATED, "{:?}", approved.body);
    delivery.run().await;
    assert_eq!(last_message(&app, &ticket).await["delivery_status"], "sent");
}

#[tokio::test]
async fn an_agent_starts_a_whatsapp_ticket_with_a_template_when_the_window_is_closed() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "whatsapp", "1110001").await;
    app.post(
        &format!("/api/v1/channel-accounts/{}/templates", account.id),
        json!({"name": "checking_in", "language": "en_US", "category": "UTILITY", "body": "Hi {{1}}, any news?"}),
    )
    .await;
    let old = customer_writes(&app, &account, "447700900123", Duration::days(3)).await;
    let contact = app.get(&format!("/api/v1/tickets/{old}")).await.body["contact_id"].clone();
    app.patch(&format!("/api/v1/tickets/{old}"), json!({"status": "closed"})).await;
    let tickets_before = app.count("SELECT COUNT(*) FROM tickets").await;

    let free = app
        .post(
            "/api/v1/tickets",
            json!({"contact_id": contact, "channel_account_id": account.id, "message": {"body": "Hi"}}),
        )
        .await;
    assert_eq!(free.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(free.code(), "template_required");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, tickets_before, "a refused start stores nothing");

    let started = app
        .post(
            "/api/v1/tickets",
            json!({"contact_id": contact, "channel_account_id": account.id,
                   "message": {"template": {"name": "checking_in", "language": "en_US", "parameters": ["Mira"]}}}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    assert_eq!(started.body["ticket"]["origin"], "agent");
    assert_eq!(started.body["ticket"]["follow_up_of"].as_str(), Some(old.as_str().trim_matches('"')));
    assert_eq!(started.body["message"]["body"], "Hi Mira, any news?");
    delivery.run().await;
    assert_eq!(body_json(&delivery.fake.state.accepted("whatsapp")[0])["template"]["name"], "checking_in");
}

async fn upload(app: &TestApp, name: &str, mime: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = app
        .client
        .post(format!("{}/api/v1/files", app.address))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_uploaded_image_is_sent_as_a_link_the_platform_can_fetch_and_only_agents_can_list() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "whatsapp", "1110001").await;
    let ticket = customer_writes(&app, &account, "447700900123", Duration::minutes(5)).await;

    let png = b"\\x89PNG fake image bytes".to_vec();
    let (status, file) = upload(&app, "receipt.png", "image/png", png.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (refused, body) = upload(&app, "page.html", "text/html", b"<script>".to_vec()).await;
    assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let sent = app
        .post(
            &format!("/api/v1/tickets/{ticket}/messages"),
            json!({"body": "Here is your receipt", "files": [file["id"]]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    delivery.run().await;
    let request = body_json(&delivery.fake.state.accepted("whatsapp")[0]);
    let link = request["image"]["link"].as_str().unwrap_or_else(|| panic!("an image by link: {request}")).to_owned();
    assert!(link.starts_with(&format!("{}/media/", app.address)), "{link}");

    // The platform fetches the link without our credentials; a forged one finds nothing.
    let fetched = app.client.get(&link).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png);
    let last = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &link[..link.len() - 1]);
    assert_eq!(app.client.get(&forged).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Agents download it through the API; another workspace cannot.
    let id = file["id"].as_str().unwrap();
    let own =
        app.client.get(format!("{}/api/v1/files/{id}", app.address)).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let other = app.other_workspace("Elsewhere").await;
    let theirs = app.client.get(format!("{}/api/v1/files/{id}", app.address)).bearer_auth(&other).send().await.unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_customers_whatsapp_image_is_fetched_from_the_platform_on_first_view_and_kept() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "whatsapp", "1110001").await;
    let mut photo = item("wamid.photo", "447700900123", ThreadRef::Direct { key: None }, app.clock.peek());
    photo.attachments = vec![switchboard_domain::Attachment {
        kind: "image".into(),
        url: None,
        media_id: Some("media-777".into()),
        mime_type: Some("image/jpeg".into()),
        filename: None,
    }];
    let reports = app.service.ingest(account, vec![photo]).await.unwrap();
    let ticket = reports[0].ticket_id.unwrap().to_string();
    let message = last_message(&app, &ticket).await;
    let url = format!("{}/api/v1/messages/{}/attachments/0", app.address, message["id"].as_str().unwrap());

    let first = app.client.get(&url).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let bytes = first.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    let calls = delivery.fake.state.requests().len();
    let second = app.client.get(&url).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(second.bytes().await.unwrap(), bytes, "the kept copy");
    assert_eq!(delivery.fake.state.requests().len(), calls, "the platform is asked once");
    let missing = app.client.get(format!("{url}9")).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_echo_of_our_own_reply_arriving_before_its_outcome_is_not_a_second_message() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let page = line(&app, "messenger", "page-1").await;
    let ticket = customer_writes(&app, &page, "psid-1", Duration::minutes(5)).await;
    assert_eq!(reply(&app, &ticket, json!({"body": "On its way"})).await, StatusCode::CREATED);
    // Meta echoes the send at once; the fake will name it m_FAKE000001.
    let echo = switchboard_domain::InboundEvent::Echo(InboundItem {
        body: Some("On its way".into()),
        ..item("m_FAKE000001", "psid-1", ThreadRef::Direct { key: None }, app.clock.peek())
    });
    app.service.ingest_events(vec![(page.clone(), vec![echo])]).await.unwrap();
    delivery.run().await;

    let messages = app.get(&format!("/api/v1/tickets/{ticket}/messages")).await.body;
    let outbound: Vec<&Value> =
        messages["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "outbound").collect();
    assert_eq!(outbound.len(), 1, "{outbound:?}");
    assert_eq!(outbound[0]["delivery_status"], "sent");
    assert_eq!(outbound[0]["author"]["kind"], "agent");
    assert!(outbound[0]["author"]["id"].is_string(), "the agent's own message is the one kept");
}

#[tokio::test]
async fn a_line_reply_that_fails_after_using_the_reply_token_is_not_pushed_again() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let account = line(&app, "line", "bot-1").await;
    let customer = "U0123456789abcdef0123456789abcdef";
    let ticket = customer_writes(&app, &account, customer, Duration::seconds(1)).await;
    let token = switchboard_domain::InboundEvent::ReplyToken {
        customer: customer.into(),
        token: "reply-token-1".into(),
        expires_at: app.clock.peek() + Duration::seconds(50),
    };
    app.service.ingest_events(vec![(account.clone(), vec![token])]).await.unwrap();
    delivery.fake.state.fail_next("line", Fault::ServerError, 1);
    assert_eq!(reply(&app, &ticket, json!({"body": "quick answer"})).await, StatusCode::CREATED);
    delivery.run().await;
    app.clock.advance(Duration::hours(1));
    delivery.run().await;
    let message = last_message(&app, &ticket).await;
    assert_eq!(message["delivery_status"], "failed", "{message}");
    assert_eq!(message["error"]["code"], "delivery_uncertain");
    assert_eq!(delivery.fake.state.requests().len(), 1, "no second attempt by push");
}

#[tokio::test]
async fn a_send_the_platform_never_answered_is_not_repeated_unless_the_platform_de_duplicates() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    // WhatsApp has no idempotency key: a timeout may hide an accepted message.
    let account = line(&app, "whatsapp", "1110001").await;
    let ticket = customer_writes(&app, &account, "447700900123", Duration::minutes(5)).await;
    delivery.fake.state.fail_next("whatsapp", Fault::Timeout, 1);
    assert_eq!(reply(&app, &ticket, json!({"body": "hello"})).await, StatusCode::CREATED);
    delivery.run().await;
    app.clock.advance(Duration::hours(1));
    delivery.run().await;
    let message = last_message(&app, &ticket).await;
    assert_eq!(message["error"]["code"], "delivery_uncertain", "{message}");
    assert_eq!(delivery.fake.state.requests().iter().filter(|r| r.kind == "whatsapp").count(), 1);

    // LINE pushes carry our retry key: the same send is tried again, and taken once.
    let bot = line(&app, "line", "bot-1").await;
    let chat = customer_writes(&app, &bot, "U0123456789abcdef0123456789abcdef", Duration::hours(2)).await;
    delivery.fake.state.fail_next("line", Fault::Timeout, 1);
    assert_eq!(reply(&app, &chat, json!({"body": "hello on LINE"})).await, StatusCode::CREATED);
    delivery.run().await;
    app.clock.advance(Duration::minutes(1));
    delivery.run().await;
    assert_eq!(last_message(&app, &chat).await["delivery_status"], "sent");
    assert_eq!(delivery.fake.state.accepted("line").len(), 1);
}

#[tokio::test]
async fn an_agent_starts_whatsapp_on_the_profile_phone_of_a_customer_met_elsewhere() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let telegram = line(&app, "telegram", "tg-bot").await;
    let whatsapp = line(&app, "whatsapp", "1110002").await;
    app.post(
        &format!("/api/v1/channel-accounts/{}/templates", whatsapp.id),
        json!({"name": "hello", "language": "en_US", "category": "UTILITY", "body": "Hi {{1}}!"}),
    )
    .await;
    let first = customer_writes(&app, &telegram, "tg-user-7", Duration::hours(1)).await;
    let contact = app.get(&format!("/api/v1/tickets/{first}")).await.body["contact_id"].as_str().unwrap().to_owned();
    let start = |body: Value| {
        let app = &app;
        let contact = contact.clone();
        let account = whatsapp.id;
        async move {
            let mut request = json!({"contact_id": contact, "channel_account_id": account});
            request["message"] = body;
            app.post("/api/v1/tickets", request).await
        }
    };
    let template = json!({"template": {"name": "hello", "language": "en_US", "parameters": ["Mira"]}});

    // No phone, then a local one: nobody to write to, said plainly.
    let none = start(template.clone()).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body["error"]["message"].as_str().unwrap().contains("never written"), "{:?}", none.body);
    app.patch(&format!("/api/v1/contacts/{contact}"), json!({"phone": "0812 3456 7890"})).await;
    let local = start(template.clone()).await;
    assert_eq!(local.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(local.body["error"]["message"].as_str().unwrap().contains("international"), "{:?}", local.body);

    app.patch(&format!("/api/v1/contacts/{contact}"), json!({"phone": "+62 812-3456-7890"})).await;
    let free = start(json!({"body": "Hi"})).await;
    assert_eq!(free.code(), "template_required", "WhatsApp is opened with a template: {:?}", free.body);
    let started = start(template).await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let ticket = started.body["ticket"]["id"].as_str().unwrap().to_owned();
    delivery.run().await;
    let sent = body_json(&delivery.fake.state.accepted("whatsapp")[0]);
    assert_eq!(sent["to"], "6281234567890");

    // The customer answers on WhatsApp: the same contact, the same ticket.
    customer_writes(&app, &whatsapp, "6281234567890", Duration::ZERO).await;
    let t = app.get(&format!("/api/v1/tickets/{ticket}")).await.body;
    assert_eq!(t["contact_id"], json!(contact));
    let messages = app.get(&format!("/api/v1/tickets/{ticket}/messages")).await.body;
    assert_eq!(messages["messages"].as_array().unwrap().len(), 2, "{messages}");
}

/// The value of one sample of `GET /metrics`.
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.rsplit_once(' ').is_some_and(|(s, _)| s == series));
    line.unwrap_or_else(|| panic!("no {series} in\n{text}")).rsplit_once(' ').unwrap().1.parse().unwrap()
}

#[tokio::test]
async fn metrics_count_webhooks_refusals_dead_letters_stored_items_sends_and_open_streams() {
    let app = TestApp::spawn().await;
    let delivery = app.delivery().await;
    let api = app.api_account("s3cret").await;
    let sent = app.deliver(&api, "s3cret", json!([{"id": "m1", "from": {"id": "u1"}, "text": "hi"}])).await;
    assert_eq!(sent.status, StatusCode::OK);
    let forged = app.post_webhook(&api, b"{\"messages\": []}", Some("sha256=00")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let unreadable = b"not json at all";
    let bad = app.post_webhook(&api, unreadable, Some(&switchboard_testkit::sign("s3cret", unreadable))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(metric(&app, "switchboard_webhooks_total{kind=\"api\",outcome=\"accepted\"}").await, 1.0);
    assert_eq!(metric(&app, "switchboard_webhooks_total{kind=\"api\",outcome=\"refused\"}").await, 1.0);
    assert_eq!(metric(&app, "switchboard_webhooks_total{kind=\"api\",outcome=\"invalid\"}").await, 1.0);

    // A platform's signed delivery for a number not connected is kept as a dead letter.
    let whatsapp = line(&app, "whatsapp", "1110009").await;
    let stray = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "w", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "1999", "phone_number_id": "1999"},
         "messages": [{"from": "1", "id": "wamid.x", "timestamp": "1", "type": "text", "text": {"body": "?"}}]}}]}]}))
    .unwrap();
    let kept = app
        .client
        .post(format!("{}/webhooks/whatsapp/{}", app.address, whatsapp.id))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", switchboard_testkit::sign("s", &stray))
        .body(stray)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::OK);
    assert_eq!(metric(&app, "switchboard_webhooks_total{kind=\"whatsapp\",outcome=\"dead_letter\"}").await, 1.0);

    let ticket = customer_writes(&app, &whatsapp, "447700900777", Duration::minutes(5)).await;
    assert_eq!(metric(&app, "switchboard_inbound_items_total{outcome=\"created\"}").await, 2.0);
    assert_eq!(reply(&app, &ticket, json!({"body": "On its way"})).await, StatusCode::CREATED);
    delivery.run().await;
    assert_eq!(metric(&app, "switchboard_sends_total{kind=\"whatsapp\",result=\"sent\"}").await, 1.0);
    assert!(metric(&app, "switchboard_http_requests_total{group=\"webhooks\",status=\"4xx\"}").await >= 1.0);
    assert!(metric(&app, "process_resident_memory_bytes").await > 0.0);

    // An open stream is counted while it is open.
    let stream = app.client.get(format!("{}/api/v1/stream", app.address)).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(metric(&app, "switchboard_live_streams{holder=\"agent\"}").await, 1.0);
    drop(stream);
    let mut open = 1.0;
    for _ in 0..50 {
        open = metric(&app, "switchboard_live_streams{holder=\"agent\"}").await;
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(open, 0.0, "a closed stream is no longer counted");
}
