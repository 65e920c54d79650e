//! The live stream as a use case: a heartbeat when nothing happens, events in order with their
//! ids, the end of every stream on shutdown.

use std::time::Duration;

use switchboard_domain::{ChannelAccountId, InboundItem, InboundSender, ThreadRef};
use switchboard_service::live::{LiveEventKind, Resume, StreamItem};
use switchboard_testkit::TestApp;

fn item(id: &str, from: &str) -> InboundItem {
    InboundItem {
        platform_message_id: id.into(),
        sender: InboundSender { external_id: from.into(), ..Default::default() },
        thread: ThreadRef::Direct { key: None },
        body: Some("hello".into()),
        attachments: vec![],
        sent_at: None,
    }
}

#[tokio::test]
async fn a_quiet_stream_beats_and_a_busy_one_brings_each_event_once_in_order() {
    let app = TestApp::spawn().await;
    let actor = app.service.authenticate_token(&app.token).await.unwrap();
    let body = app
        .connect_account("telegram", "100200300", serde_json::json!({"bot_token": "1:x", "secret_token": "s"}))
        .await;
    let id: ChannelAccountId = body["id"].as_str().unwrap().parse().unwrap();
    let account = app.service.get_account(&actor, id).await.unwrap();

    let mut stream = app.service.live_stream(&actor, Resume::Now).await.unwrap();
    let idle = Duration::from_millis(100);
    assert_eq!(stream.next_batch(idle).await, Some(vec![StreamItem::Ready { last_event_id: 0 }]));
    assert_eq!(stream.next_batch(idle).await, Some(vec![]), "nothing happened: a heartbeat");

    app.service.ingest(account.clone(), vec![item("1", "501"), item("2", "502")]).await.unwrap();
    app.service.ingest(account, vec![item("3", "501")]).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        for got in stream.next_batch(Duration::from_secs(5)).await.unwrap() {
            match got {
                StreamItem::Event(record) => seen.push((record.id, record.kind)),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    use LiveEventKind::*;
    assert_eq!(seen, vec![(1, TicketCreated), (2, TicketCreated), (3, MessageReceived)]);

    app.service.live().shutdown();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), stream.next_batch(idle)).await, Ok(None));
    // A stream opened while shutting down ends at once.
    let mut late = app.service.live_stream(&actor, Resume::After(3)).await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), late.next_batch(idle)).await, Ok(None));
}
