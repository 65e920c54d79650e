//! The uniqueness rules the design leans on are enforced by the database itself, so that two
//! nodes cannot break them whatever their timing.

use switchboard_domain::{
    AuthorKind, ChannelKind, ConversationKind, Direction, InboundSender, Origin, TicketKind, TicketStatus, Visibility,
};
use switchboard_store::accounts::NewChannelAccount;
use switchboard_store::conversations::NewConversation;
use switchboard_store::messages::NewMessage;
use switchboard_store::tickets::NewTicket;
use switchboard_store::{Db, StoreError, accounts, contacts, conversations, messages, tickets, workspaces};
use switchboard_testkit::{TestDb, epoch};

struct Fixture {
    _db: TestDb,
    db: Db,
    ws: switchboard_domain::WorkspaceId,
    account: switchboard_domain::ChannelAccount,
}

async fn fixture() -> Fixture {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let mut tx = db.begin().await.unwrap();
    let ws = workspaces::get_or_create(&mut tx.conn(), "Acme", epoch()).await.unwrap();
    let new = NewChannelAccount {
        workspace_id: ws.id,
        kind: ChannelKind::Whatsapp,
        name: "Sales".into(),
        external_id: "1234".into(),
        secrets: Default::default(),
        settings: Default::default(),
        api_base_url: None,
    };
    let account = accounts::create(&mut tx.conn(), &new, epoch()).await.unwrap();
    tx.commit().await.unwrap();
    Fixture { _db: test_db, db, ws: ws.id, account }
}

#[tokio::test]
async fn one_identity_per_account_and_external_id() {
    let f = fixture().await;
    let mut tx = f.db.begin().await.unwrap();
    let sender = InboundSender { external_id: "wa-1".into(), ..Default::default() };
    let a = contacts::create(&mut tx.conn(), f.ws, &Default::default(), epoch()).await.unwrap();
    let b = contacts::create(&mut tx.conn(), f.ws, &Default::default(), epoch()).await.unwrap();
    contacts::create_identity(&mut tx.conn(), f.ws, a, f.account.id, &sender, epoch()).await.unwrap();
    let second = contacts::create_identity(&mut tx.conn(), f.ws, b, f.account.id, &sender, epoch()).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
}

#[tokio::test]
async fn one_message_per_account_and_platform_id_and_one_live_ticket_per_conversation() {
    let f = fixture().await;
    let mut tx = f.db.begin().await.unwrap();
    let contact = contacts::create(&mut tx.conn(), f.ws, &Default::default(), epoch()).await.unwrap();
    let conversation = conversations::create(
        &mut tx.conn(),
        &NewConversation {
            workspace_id: f.ws,
            channel_account_id: f.account.id,
            kind: ConversationKind::Direct,
            thread_key: "wa-1",
            contact_id: Some(contact),
            title: None,
        },
        epoch(),
    )
    .await
    .unwrap();
    let new_ticket = NewTicket {
        workspace_id: f.ws,
        kind: TicketKind::Direct,
        origin: Origin::Customer,
        subject: None,
        channel: ChannelKind::Whatsapp,
        channel_account_id: f.account.id,
        conversation_id: conversation.id,
        contact_id: Some(contact),
        assignee_id: None,
        follow_up_of: None,
        public_ticket_id: None,
        last_inbound_at: None,
    };
    let (first, number) = tickets::create(&mut tx.conn(), &new_ticket, epoch()).await.unwrap();
    assert_eq!(number, 1);

    // A second live ticket in the same conversation is refused by the database…
    tx.savepoint("second").await.unwrap();
    let second = tickets::create(&mut tx.conn(), &new_ticket, epoch()).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    tx.rollback_to("second").await.unwrap();
    // …but once the first is closed, a follow-up may be made, with the next number.
    tickets::set_status(&mut tx.conn(), first, TicketStatus::Closed, epoch()).await.unwrap();
    let (_, next) = tickets::create(&mut tx.conn(), &new_ticket, epoch()).await.unwrap();
    assert_eq!(next, 2, "the refused attempt took no number");

    let message = NewMessage {
        workspace_id: f.ws,
        conversation_id: conversation.id,
        ticket_id: Some(first),
        channel_account_id: f.account.id,
        direction: Direction::Inbound,
        visibility: Visibility::Public,
        author_kind: AuthorKind::Contact,
        author_id: Some(contact.0),
        body: Some("hi".into()),
        attachments: vec![],
        template: None,
        platform_message_id: Some("wamid.1".into()),
        delivery_status: None,
        private_reply_to: None,
        reply_to: None,
        sent_at: None,
    };
    messages::insert(&mut tx.conn(), &message, epoch()).await.unwrap();
    assert!(messages::exists(&mut tx.conn(), f.account.id, "wamid.1").await.unwrap());
    let again = messages::insert(&mut tx.conn(), &message, epoch()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn migrations_run_once_and_reopening_the_database_keeps_its_data() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let mut tx = db.begin().await.unwrap();
    workspaces::get_or_create(&mut tx.conn(), "Kept", epoch()).await.unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    let reopened = test_db.connect().await;
    let mut conn = reopened.acquire().await.unwrap();
    assert!(workspaces::find_by_name(&mut conn.conn(), "Kept").await.unwrap().is_some());
}
