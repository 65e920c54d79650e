//! The live log: ids per workspace without gaps, even when transactions race; what a resume
//! can rely on; pruning a prefix.

use switchboard_store::live_events::{self, Bounds, NewLiveEvent};
use switchboard_store::{Db, workspaces};
use switchboard_testkit::{TestDb, epoch};
use uuid::Uuid;

async fn workspace(db: &Db, name: &str) -> switchboard_domain::WorkspaceId {
    let mut tx = db.begin().await.unwrap();
    let ws = workspaces::get_or_create(&mut tx.conn(), name, epoch()).await.unwrap();
    tx.commit().await.unwrap();
    ws.id
}

async fn append(db: &Db, ws: switchboard_domain::WorkspaceId, n: usize, at: time::OffsetDateTime) -> Vec<i64> {
    let events: Vec<NewLiveEvent<'_>> =
        (0..n).map(|_| NewLiveEvent { kind: "ticket_updated", ticket_id: Uuid::now_v7() }).collect();
    let mut tx = db.begin().await.unwrap();
    let rows = live_events::append(&mut tx.conn(), ws, &events, at).await.unwrap();
    tx.commit().await.unwrap();
    rows.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn each_workspace_numbers_its_events_from_one_without_gaps() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let (a, b) = (workspace(&db, "A").await, workspace(&db, "B").await);
    assert_eq!(append(&db, a, 3, epoch()).await, vec![1, 2, 3]);
    assert_eq!(append(&db, b, 1, epoch()).await, vec![1]);
    assert_eq!(append(&db, a, 2, epoch()).await, vec![4, 5]);
    // A transaction that rolls back gives its ids back.
    {
        let mut tx = db.begin().await.unwrap();
        let event = NewLiveEvent { kind: "ticket_created", ticket_id: Uuid::now_v7() };
        live_events::append(&mut tx.conn(), a, &[event], epoch()).await.unwrap();
    }
    assert_eq!(append(&db, a, 1, epoch()).await, vec![6]);
    let mut pooled = db.acquire().await.unwrap();
    let read = live_events::since(&mut pooled.conn(), a, 2, 100).await.unwrap();
    assert_eq!(read.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 4, 5, 6]);
    assert_eq!(live_events::bounds(&mut pooled.conn(), a).await.unwrap(), Bounds { oldest: Some(1), last: 6 });
    let fresh = workspace(&db, "C").await;
    assert_eq!(live_events::bounds(&mut pooled.conn(), fresh).await.unwrap(), Bounds { oldest: None, last: 0 });
}

#[tokio::test]
async fn racing_writers_on_two_pools_never_share_or_skip_an_id() {
    let test_db = TestDb::new().await;
    let (one, two) = (test_db.connect().await, test_db.connect().await);
    let ws = workspace(&one, "A").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let db = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.spawn(async move { append(&db, ws, 1 + i % 3, epoch()).await });
    }
    let mut ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        ids.extend(done.unwrap());
    }
    ids.sort();
    let total = ids.len() as i64;
    assert_eq!(ids, (1..=total).collect::<Vec<_>>());
}

#[tokio::test]
async fn pruning_removes_the_old_prefix_and_resumes_behind_it_are_refused() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let ws = workspace(&db, "A").await;
    append(&db, ws, 3, epoch()).await;
    append(&db, ws, 2, epoch() + time::Duration::hours(30)).await;
    let mut tx = db.begin().await.unwrap();
    let pruned = live_events::prune(&mut tx.conn(), epoch() + time::Duration::hours(24)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(pruned, 3);
    let mut pooled = db.acquire().await.unwrap();
    let bounds = live_events::bounds(&mut pooled.conn(), ws).await.unwrap();
    assert_eq!(bounds, Bounds { oldest: Some(4), last: 5 });
    assert!(bounds.can_resume_after(3));
    assert!(!bounds.can_resume_after(2));
}
