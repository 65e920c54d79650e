//! The ingest use case, called as the platform adapters call it.

use switchboard_domain::{ChannelAccount, ChannelAccountId, InboundItem, InboundSender, ThreadRef};
use switchboard_service::Actor;
use switchboard_service::ingest::Outcome;
use switchboard_testkit::TestApp;
use time::{Duration, OffsetDateTime};

async fn whatsapp(app: &TestApp) -> (Actor, ChannelAccount) {
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let secrets = serde_json::json!({"app_secret": "a", "verify_token": "v", "access_token": "t"});
    let body = app.connect_account("whatsapp", "1555", secrets).await;
    let id: ChannelAccountId = body["id"].as_str().unwrap().parse().unwrap();
    let account = app.service.get_account(&actor, id).await.unwrap();
    (actor, account)
}

fn item(id: &str, from: &str, name: Option<&str>, sent_at: OffsetDateTime) -> InboundItem {
    InboundItem {
        platform_message_id: id.into(),
        sender: InboundSender { external_id: from.into(), name: name.map(Into::into), ..Default::default() },
        thread: ThreadRef::Direct { key: None },
        body: Some(format!("message {id}")),
        attachments: vec![],
        sent_at: Some(sent_at),
    }
}

#[tokio::test]
async fn a_delivery_carrying_the_same_message_twice_stores_it_once() {
    let app = TestApp::spawn().await;
    let (_, account) = whatsapp(&app).await;
    let now = app.clock.peek();
    let reports = app
        .service
        .ingest(account, vec![item("wamid.1", "155501", None, now), item("wamid.1", "155501", None, now)])
        .await
        .unwrap();
    assert_eq!(reports[0].outcome, Outcome::Created);
    assert_eq!(reports[1].outcome, Outcome::Duplicate);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn social_tickets_get_their_channel_tag_and_messaging_support() {
    let app = TestApp::spawn().await;
    let (actor, account) = whatsapp(&app).await;
    let reports = app.service.ingest(account, vec![item("wamid.1", "155501", None, app.clock.peek())]).await.unwrap();
    let ticket = app.service.get_ticket(&actor, reports[0].ticket_id.unwrap()).await.unwrap().ticket;
    assert_eq!(ticket.tags, vec!["messaging_support".to_owned(), "whatsapp".to_owned()]);
}

#[tokio::test]
async fn the_platforms_user_info_is_kept_on_the_identity_and_refreshed() {
    let app = TestApp::spawn().await;
    let (actor, account) = whatsapp(&app).await;
    let now = app.clock.peek();
    let first = app.service.ingest(account.clone(), vec![item("m1", "155501", Some("Ana"), now)]).await.unwrap();
    // The next delivery has no name: the one we know is kept. Then the customer renames.
    app.service.ingest(account.clone(), vec![item("m2", "155501", None, now)]).await.unwrap();
    let ticket = app.service.get_ticket(&actor, first[0].ticket_id.unwrap()).await.unwrap().ticket;
    let contact = app.service.get_contact(&actor, ticket.contact_id.unwrap()).await.unwrap();
    assert_eq!(contact.identities[0].name.as_deref(), Some("Ana"));
    assert_eq!(contact.contact.name.as_deref(), Some("Ana"));
    app.service.ingest(account, vec![item("m3", "155501", Some("Ana Lima"), now)]).await.unwrap();
    let contact = app.service.get_contact(&actor, ticket.contact_id.unwrap()).await.unwrap();
    assert_eq!(contact.identities[0].name.as_deref(), Some("Ana Lima"));
    assert_eq!(contact.identities[0].external_id, "155501");
}

#[tokio::test]
async fn a_late_delivery_of_an_old_message_does_not_move_the_reply_window_back() {
    let app = TestApp::spawn().await;
    let (actor, account) = whatsapp(&app).await;
    let now = app.clock.peek();
    let recent = app.service.ingest(account.clone(), vec![item("m2", "155501", None, now - Duration::hours(1))]).await;
    let ticket_id = recent.unwrap()[0].ticket_id.unwrap();
    // The platform delivers a message written 30 hours ago only now.
    app.service.ingest(account, vec![item("m1", "155501", None, now - Duration::hours(30))]).await.unwrap();
    let view = app.service.get_ticket(&actor, ticket_id).await.unwrap();
    assert_eq!(view.ticket.last_inbound_at, Some(now - Duration::hours(1)));
    assert_eq!(view.reply_window.closes_at, Some(now - Duration::hours(1) + Duration::hours(24)));
}

#[tokio::test]
async fn comments_from_three_people_on_one_post_are_one_public_ticket_without_an_owner() {
    let app = TestApp::spawn().await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let secrets = serde_json::json!({"app_secret": "a", "verify_token": "v", "access_token": "t"});
    let id: ChannelAccountId =
        app.connect_account("messenger", "page-1", secrets).await["id"].as_str().unwrap().parse().unwrap();
    let page = app.service.get_account(&actor, id).await.unwrap();
    let comment = |id: &str, from: &str| InboundItem {
        thread: ThreadRef::Public { root_id: "post-9".into(), title: Some("Our new shoes".into()) },
        ..item(id, from, None, app.clock.peek())
    };
    let reports = app
        .service
        .ingest(
            page,
            vec![comment("c1", "psid-1"), comment("c2", "psid-2"), comment("c3", "psid-3"), comment("c4", "psid-1")],
        )
        .await
        .unwrap();
    let ticket_id = reports[0].ticket_id.unwrap();
    assert!(reports.iter().all(|r| r.ticket_id == Some(ticket_id)));
    let ticket = app.service.get_ticket(&actor, ticket_id).await.unwrap().ticket;
    assert_eq!(ticket.kind, switchboard_domain::TicketKind::Public);
    assert_eq!(ticket.contact_id, None);
    assert_eq!(ticket.participants.len(), 3);
    assert_eq!(ticket.subject.as_deref(), Some("Our new shoes"));
    assert!(ticket.tags.contains(&"facebook".to_owned()), "{:?}", ticket.tags);
}

#[tokio::test]
async fn a_ticket_taken_out_of_spam_takes_the_customers_next_message() {
    let app = TestApp::spawn().await;
    let (actor, account) = whatsapp(&app).await;
    let now = app.clock.peek();
    let first = app.service.ingest(account.clone(), vec![item("m1", "155501", None, now)]).await.unwrap();
    let spam = first[0].ticket_id.unwrap();
    let patch = |status| switchboard_service::tickets::TicketPatch { status: Some(status), ..Default::default() };
    app.service.patch_ticket(&actor, spam, patch(switchboard_domain::TicketStatus::Spam)).await.unwrap();
    let second = app.service.ingest(account.clone(), vec![item("m2", "155501", None, now)]).await.unwrap();
    let follow_up = second[0].ticket_id.unwrap();
    assert_ne!(follow_up, spam);
    app.service.patch_ticket(&actor, follow_up, patch(switchboard_domain::TicketStatus::Closed)).await.unwrap();
    // A mistake corrected: the spam ticket is open again, older than the closed follow-up.
    app.service.patch_ticket(&actor, spam, patch(switchboard_domain::TicketStatus::Open)).await.unwrap();
    let third = app.service.ingest(account, vec![item("m3", "155501", None, now)]).await.unwrap();
    assert_eq!(third[0].ticket_id, Some(spam), "the live ticket takes the message");
}

#[tokio::test]
async fn a_timestamp_far_in_the_future_counts_as_now() {
    let app = TestApp::spawn().await;
    let (actor, account) = whatsapp(&app).await;
    let future = time::macros::datetime!(9999-01-01 0:00 UTC);
    let reports = app.service.ingest(account, vec![item("m1", "155501", None, future)]).await.unwrap();
    let view = app.service.get_ticket(&actor, reports[0].ticket_id.unwrap()).await.unwrap();
    let closes = view.reply_window.closes_at.unwrap();
    assert!(closes < app.clock.peek() + Duration::hours(25), "the window counts from now: {closes}");
}
