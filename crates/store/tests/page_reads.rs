//! The reads a page of tickets or contacts makes in one query for all its rows answer, row by
//! row, what the single-row reads answer.

use std::collections::HashMap;

use switchboard_domain::{
    AuthorKind, ChannelAccount, ChannelKind, ContactId, Conversation, ConversationKind, Direction, InboundSender,
    Visibility, WorkspaceId,
};
use switchboard_store::accounts::NewChannelAccount;
use switchboard_store::conversations::NewConversation;
use switchboard_store::messages::NewMessage;
use switchboard_store::{Conn, Db, accounts, contacts, conversations, messages, workspaces};
use switchboard_testkit::{TestDb, epoch};
use time::{Duration, OffsetDateTime};

async fn workspace(db: &Db, name: &str) -> (WorkspaceId, ChannelAccount) {
    let mut tx = db.begin().await.unwrap();
    let ws = workspaces::get_or_create(&mut tx.conn(), name, epoch()).await.unwrap();
    let new = NewChannelAccount {
        workspace_id: ws.id,
        kind: ChannelKind::Wechat,
        name: "Support".into(),
        external_id: format!("gh_{name}"),
        secrets: Default::default(),
        settings: Default::default(),
        api_base_url: None,
    };
    let account = accounts::create(&mut tx.conn(), &new, epoch()).await.unwrap();
    tx.commit().await.unwrap();
    (ws.id, account)
}

async fn conversation(conn: &mut Conn<'_>, account: &ChannelAccount, key: &str) -> Conversation {
    let contact = contacts::create(conn, account.workspace_id, &Default::default(), epoch()).await.unwrap();
    let new = NewConversation {
        workspace_id: account.workspace_id,
        channel_account_id: account.id,
        kind: ConversationKind::Direct,
        thread_key: key,
        contact_id: Some(contact),
        title: None,
    };
    conversations::create(conn, &new, epoch()).await.unwrap()
}

/// Stores a message written at `at`; an inbound one moves the conversation's last inbound time.
async fn message(conn: &mut Conn<'_>, conversation: &Conversation, direction: Direction, at: OffsetDateTime) {
    let new = NewMessage {
        workspace_id: conversation.workspace_id,
        conversation_id: conversation.id,
        ticket_id: None,
        channel_account_id: conversation.channel_account_id,
        direction,
        visibility: Visibility::Public,
        author_kind: if direction == Direction::Inbound { AuthorKind::Contact } else { AuthorKind::Agent },
        author_id: None,
        body: Some("hello".into()),
        attachments: vec![],
        template: None,
        platform_message_id: None,
        delivery_status: None,
        private_reply_to: None,
        reply_to: None,
        sent_at: None,
    };
    messages::insert(conn, &new, at).await.unwrap();
    if direction == Direction::Inbound {
        conversations::note_inbound(conn, conversation.id, at).await.unwrap();
    }
}

#[tokio::test]
async fn outbound_counts_of_many_conversations_are_each_counted_from_its_own_last_inbound_message() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let (ws, account) = workspace(&db, "Acme").await;
    let (_, elsewhere) = workspace(&db, "Other").await;
    let t = epoch();
    let minutes = |n: i64| t + Duration::minutes(n);
    let mut tx = db.begin().await.unwrap();
    let mut conn = tx.conn();
    // Answered twice since the customer wrote.
    let answered = conversation(&mut conn, &account, "answered").await;
    message(&mut conn, &answered, Direction::Inbound, minutes(0)).await;
    message(&mut conn, &answered, Direction::Outbound, minutes(1)).await;
    message(&mut conn, &answered, Direction::Outbound, minutes(2)).await;
    // Answered, then the customer wrote again, then one more answer: only that one counts.
    let wrote_again = conversation(&mut conn, &account, "wrote_again").await;
    message(&mut conn, &wrote_again, Direction::Inbound, minutes(0)).await;
    for n in 1..=5 {
        message(&mut conn, &wrote_again, Direction::Outbound, minutes(n)).await;
    }
    message(&mut conn, &wrote_again, Direction::Inbound, minutes(10)).await;
    message(&mut conn, &wrote_again, Direction::Outbound, minutes(11)).await;
    // Started by an agent: the customer never wrote, every outbound message counts.
    let never_wrote = conversation(&mut conn, &account, "never_wrote").await;
    for n in 1..=3 {
        message(&mut conn, &never_wrote, Direction::Outbound, minutes(n)).await;
    }
    // Waiting for an answer.
    let waiting = conversation(&mut conn, &account, "waiting").await;
    message(&mut conn, &waiting, Direction::Inbound, minutes(3)).await;
    // Another workspace's conversation.
    let foreign = conversation(&mut conn, &elsewhere, "foreign").await;
    message(&mut conn, &foreign, Direction::Inbound, minutes(0)).await;
    message(&mut conn, &foreign, Direction::Outbound, minutes(1)).await;

    let ids = [answered.id, wrote_again.id, never_wrote.id, waiting.id, foreign.id];
    let found = conversations::get_many(&mut conn, ws, &ids).await.unwrap();
    let mut found_ids: Vec<_> = found.iter().map(|c| c.id).collect();
    found_ids.sort();
    let mut expected = vec![answered.id, wrote_again.id, never_wrote.id, waiting.id];
    expected.sort();
    assert_eq!(found_ids, expected, "the workspace's conversations, and no other's");

    let since: Vec<_> = found.iter().map(|c| (c.id, c.last_inbound_at)).collect();
    let counts = messages::outbound_since_each(&mut conn, &since).await.unwrap();
    let expected = HashMap::from([(answered.id, 2), (wrote_again.id, 1), (never_wrote.id, 3)]);
    assert_eq!(counts, expected, "a conversation without answers since is left out");
    for c in &found {
        let one = conversations::get(&mut conn, ws, c.id).await.unwrap().unwrap();
        assert_eq!(one.last_inbound_at, c.last_inbound_at);
        let single = messages::outbound_since(&mut conn, c.id, c.last_inbound_at).await.unwrap();
        assert_eq!(counts.get(&c.id).copied().unwrap_or(0), single, "conversation {}", c.thread_key);
    }
    assert!(conversations::get(&mut conn, ws, foreign.id).await.unwrap().is_none());
    assert!(messages::outbound_since_each(&mut conn, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn identities_of_many_contacts_come_grouped_by_contact_oldest_first() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let (ws, account) = workspace(&db, "Acme").await;
    let (other_ws, elsewhere) = workspace(&db, "Other").await;
    let mut tx = db.begin().await.unwrap();
    let mut conn = tx.conn();
    let mut make = async |ws: WorkspaceId, account: &ChannelAccount, ids: &[&str]| -> ContactId {
        let contact = contacts::create(&mut conn, ws, &Default::default(), epoch()).await.unwrap();
        for (n, id) in ids.iter().enumerate() {
            let sender = InboundSender { external_id: (*id).into(), ..Default::default() };
            let at = epoch() + Duration::minutes(n as i64);
            contacts::create_identity(&mut conn, ws, contact, account.id, &sender, at).await.unwrap();
        }
        contact
    };
    let two = make(ws, &account, &["first", "second"]).await;
    let one = make(ws, &account, &["only"]).await;
    let none = make(ws, &account, &[]).await;
    let foreign = make(other_ws, &elsewhere, &["foreign"]).await;

    let each = contacts::identities_of_each(&mut conn, ws, &[two, one, none, foreign]).await.unwrap();
    let external = |c: ContactId| -> Vec<String> {
        each.get(&c).map(|all| all.iter().map(|i| i.external_id.clone()).collect()).unwrap_or_default()
    };
    assert_eq!(external(two), ["first", "second"]);
    assert_eq!(external(one), ["only"]);
    assert!(!each.contains_key(&none) && !each.contains_key(&foreign), "{each:?}");
    for c in [two, one, none] {
        let single = contacts::identities_of(&mut conn, ws, c).await.unwrap();
        assert_eq!(single.iter().map(|i| i.external_id.clone()).collect::<Vec<_>>(), external(c));
    }

    let found = contacts::get_many(&mut conn, ws, &[two, one, none, foreign]).await.unwrap();
    let mut ids: Vec<_> = found.iter().map(|c| c.id).collect();
    ids.sort();
    let mut expected = vec![two, one, none];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_read_of_more_ids_than_one_statement_binds_finds_each_of_them_once() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let (ws, account) = workspace(&db, "Acme").await;
    let mut tx = db.begin().await.unwrap();
    let mut conn = tx.conn();
    // The participants of a viral post.
    let mut ids = Vec::new();
    for n in 0..2100 {
        let contact = contacts::create(&mut conn, ws, &Default::default(), epoch()).await.unwrap();
        let sender = InboundSender { external_id: format!("psid-{n}"), ..Default::default() };
        contacts::create_identity(&mut conn, ws, contact, account.id, &sender, epoch()).await.unwrap();
        ids.push(contact);
    }
    // The first ones again, as a customer who is also a participant.
    let asked: Vec<ContactId> = ids.iter().chain(&ids[..10]).copied().collect();
    assert_eq!(contacts::get_many(&mut conn, ws, &asked).await.unwrap().len(), 2100);
    let each = contacts::identities_of_each(&mut conn, ws, &asked).await.unwrap();
    assert_eq!(each.len(), 2100);
    assert!(each.values().all(|identities| identities.len() == 1));
}
