//! Lists of tickets (views, search, a contact's tickets) read the details of a whole page at
//! once; each ticket must still show what it shows on its own.

use std::collections::HashMap;

use switchboard_domain::{
    ChannelAccount, ChannelAccountId, InboundItem, InboundSender, ThreadRef, TicketId, Visibility, WindowState,
};
use switchboard_service::Actor;
use switchboard_service::compose::Draft;
use switchboard_service::contacts::ContactPatch;
use switchboard_service::tickets::{NewReply, TicketFilter};
use switchboard_testkit::TestApp;
use time::{Duration, OffsetDateTime};

async fn line(
    app: &TestApp,
    actor: &Actor,
    kind: &str,
    external_id: &str,
    secrets: serde_json::Value,
) -> ChannelAccount {
    let body = app.connect_account(kind, external_id, secrets).await;
    let id: ChannelAccountId = body["id"].as_str().unwrap().parse().unwrap();
    app.service.get_account(actor, id).await.unwrap()
}

fn item(id: &str, from: &str, thread: ThreadRef, sent_at: OffsetDateTime) -> InboundItem {
    InboundItem {
        platform_message_id: id.into(),
        sender: InboundSender {
            external_id: from.into(),
            name: Some(format!("Customer {from}")),
            ..Default::default()
        },
        thread,
        body: Some(format!("message {id}")),
        attachments: vec![],
        sent_at: Some(sent_at),
    }
}

fn direct(id: &str, from: &str, sent_at: OffsetDateTime) -> InboundItem {
    item(id, from, ThreadRef::Direct { key: None }, sent_at)
}

fn draft(body: &str) -> Draft {
    Draft { body: Some(body.into()), attachments: vec![], files: vec![], template: None }
}

async fn reply(app: &TestApp, actor: &Actor, ticket: TicketId, times: usize) {
    for n in 0..times {
        let reply = NewReply {
            draft: draft(&format!("answer {n}")),
            visibility: Visibility::Public,
            status: None,
            reply_to: None,
            private_reply_to: None,
        };
        app.service.add_message(actor, ticket, reply).await.unwrap();
    }
}

async fn ingest(app: &TestApp, account: &ChannelAccount, item: InboundItem) -> TicketId {
    app.service.ingest(account.clone(), vec![item]).await.unwrap()[0].ticket_id.unwrap()
}

#[tokio::test]
async fn every_ticket_of_a_page_gets_the_reply_window_it_has_on_its_own() {
    let app = TestApp::spawn().await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let wechat =
        line(&app, &actor, "wechat", "gh_1", serde_json::json!({"token": "t", "app_id": "a", "app_secret": "s"})).await;
    let meta = serde_json::json!({"app_secret": "a", "verify_token": "v", "access_token": "t"});
    let whatsapp = line(&app, &actor, "whatsapp", "1555", meta.clone()).await;
    let messenger = line(&app, &actor, "messenger", "page-1", meta).await;
    let email = line(&app, &actor, "email", "support@shop.example", serde_json::json!({})).await;
    let now = app.clock.peek();
    let hours = |n: i64| now - Duration::hours(n);

    // WeChat allows five messages per customer message: one conversation used them all, one
    // used two, and in one the customer wrote again after five answers, which starts over.
    let capped = ingest(&app, &wechat, direct("w1", "open-1", hours(1))).await;
    reply(&app, &actor, capped, 5).await;
    let two_sent = ingest(&app, &wechat, direct("w2", "open-2", hours(1))).await;
    reply(&app, &actor, two_sent, 2).await;
    let started_over = ingest(&app, &wechat, direct("w3", "open-3", hours(2))).await;
    reply(&app, &actor, started_over, 5).await;
    app.clock.advance(Duration::minutes(1));
    let again = direct("w4", "open-3", app.clock.peek());
    assert_eq!(ingest(&app, &wechat, again).await, started_over);
    let expired = ingest(&app, &wechat, direct("w5", "open-5", hours(50))).await;
    // WhatsApp: one within the day, one past it.
    let fresh = ingest(&app, &whatsapp, direct("wa1", "155501", hours(2))).await;
    reply(&app, &actor, fresh, 1).await;
    let stale = ingest(&app, &whatsapp, direct("wa2", "155502", hours(30))).await;
    // Comments under a post: a public thread, answered.
    let post = ThreadRef::Public { root_id: "post-9".into(), title: Some("Our new shoes".into()) };
    let public = ingest(&app, &messenger, item("c1", "psid-1", post, hours(3))).await;
    reply(&app, &actor, public, 1).await;
    // An e-mail an agent started: the customer never wrote on that line.
    let customer = app.service.get_ticket(&actor, fresh).await.unwrap().ticket.contact_id.unwrap();
    let patch = ContactPatch { email: Some(Some("ana@example.com".into())), ..Default::default() };
    app.service.patch_contact(&actor, customer, patch).await.unwrap();
    let (started, _) = app.service.start_ticket(&actor, customer, email.id, draft("Your invoice")).await.unwrap();
    let started = started.ticket.id;

    let expected = HashMap::from([
        (capped, WindowState::Closed),
        (two_sent, WindowState::Open),
        (started_over, WindowState::Open),
        (expired, WindowState::Closed),
        (fresh, WindowState::Open),
        (stale, WindowState::TemplateRequired),
        (public, WindowState::Always),
        (started, WindowState::Always),
    ]);
    let page = app.service.list_tickets(&actor, &TicketFilter::default(), None, 25).await.unwrap();
    assert_eq!(page.tickets.len(), expected.len());
    for view in &page.tickets {
        let id = view.ticket.id;
        assert_eq!(Some(&view.reply_window.state), expected.get(&id), "ticket {}", view.ticket.number);
        let alone = app.service.get_ticket(&actor, id).await.unwrap();
        assert_eq!(view.reply_window, alone.reply_window, "ticket {}", view.ticket.number);
        assert_eq!(view.ticket.tags, alone.ticket.tags);
    }
    let two = app.service.get_ticket(&actor, two_sent).await.unwrap();
    assert_eq!(two.reply_window.closes_at, Some(hours(1) + Duration::hours(48)));

    // Paged two by two, the same tickets in the same order with the same windows.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let next = app.service.list_tickets(&actor, &TicketFilter::default(), cursor, 2).await.unwrap();
        paged.extend(next.tickets.into_iter().map(|v| (v.ticket.id, v.reply_window)));
        match next.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let whole: Vec<_> = page.tickets.iter().map(|v| (v.ticket.id, v.reply_window)).collect();
    assert_eq!(paged, whole);
}

#[tokio::test]
async fn a_page_of_contacts_carries_each_contacts_identities() {
    let app = TestApp::spawn().await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let meta = serde_json::json!({"app_secret": "a", "verify_token": "v", "access_token": "t"});
    let whatsapp = line(&app, &actor, "whatsapp", "1555", meta.clone()).await;
    let messenger = line(&app, &actor, "messenger", "page-1", meta).await;
    let now = app.clock.peek();
    let mut contacts = Vec::new();
    for n in 0..3 {
        let ticket = ingest(&app, &whatsapp, direct(&format!("wa{n}"), &format!("15550{n}"), now)).await;
        ingest(&app, &messenger, direct(&format!("m{n}"), &format!("psid-{n}"), now)).await;
        contacts.push(app.service.get_ticket(&actor, ticket).await.unwrap().ticket.contact_id.unwrap());
    }
    // The customer of psid-0 is the one of 155500: merged, they have both identities.
    let page = app.service.list_contacts(&actor, None, None, 25).await.unwrap();
    let merged_away = page
        .contacts
        .iter()
        .find(|c| c.identities.iter().any(|i| i.external_id == "psid-0"))
        .map(|c| c.contact.id)
        .unwrap();
    app.service.merge_contacts(&actor, contacts[0], merged_away).await.unwrap();

    let page = app.service.list_contacts(&actor, None, None, 25).await.unwrap();
    assert_eq!(page.contacts.len(), 5);
    for view in &page.contacts {
        let alone = app.service.get_contact(&actor, view.contact.id).await.unwrap();
        let ids = |v: &switchboard_service::contacts::ContactView| {
            v.identities.iter().map(|i| i.external_id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(view), ids(&alone));
        let expected = if view.contact.id == contacts[0] { 2 } else { 1 };
        assert_eq!(view.identities.len(), expected, "{:?}", ids(view));
    }
    let found = app.service.search(&actor, "type:user name:\"Customer\"", 25).await.unwrap();
    assert_eq!(found.users.len(), 5);
    for view in &found.users {
        assert_eq!(view.identities.len(), if view.contact.id == contacts[0] { 2 } else { 1 });
    }
}
