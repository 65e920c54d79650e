//! The live bus: what changed, for agents' open pages and streams (DESIGN §5, §9).
//!
//! A use case records its live events *inside* its transaction ([`record`]: rows of the
//! workspace's durable log, `live_events`, numbered per workspace without gaps) and publishes
//! them after commit ([`LiveBus::publish`]). Each node fans out once: one hub task per node
//! keeps a broadcast channel per workspace that has listeners, delivers every event in id
//! order, and reads the log (one query per node, never per listener) to fill a gap — events
//! another node committed (announced by Postgres `NOTIFY`), or a publish that overtook an
//! earlier one. A listener ([`LiveStream`]) first reads what it missed from the log, then
//! follows the channel, dropping ids it has seen; should it fall behind, it reads the log again.
//! So a stream resumed on any node, after any gap, misses nothing and repeats nothing — unless
//! what it missed was pruned (older than a day), which it is told (`Reset`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use switchboard_domain::{TicketId, WorkspaceId};
use switchboard_store::live_events::{self, Announcements, Heard, LiveEventRow, NewLiveEvent};
use switchboard_store::{Conn, Db, StoreError};
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{Service, ServiceError, ServiceResult};

mod stream;
pub use stream::{LiveStream, Resume, StreamItem};

/// Something that changed, for live listeners of one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveEvent {
    #[serde(skip)]
    pub workspace_id: WorkspaceId,
    pub kind: LiveEventKind,
    pub ticket_id: TicketId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveEventKind {
    TicketCreated,
    MessageReceived,
    TicketUpdated,
}

impl LiveEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TicketCreated => "ticket_created",
            Self::MessageReceived => "message_received",
            Self::TicketUpdated => "ticket_updated",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "ticket_created" => Ok(Self::TicketCreated),
            "message_received" => Ok(Self::MessageReceived),
            "ticket_updated" => Ok(Self::TicketUpdated),
            other => Err(StoreError::Corrupt(format!("live event kind `{other}`"))),
        }
    }
}

/// A live event as the log holds it: numbered within its workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRecord {
    /// The event's id: 1, 2, 3… per workspace. Streams send it as the SSE `id`.
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub kind: LiveEventKind,
    pub ticket_id: TicketId,
    pub at: OffsetDateTime,
    /// The event as JSON (`{"id", "kind", "ticket_id", "at"}`), made once for every listener.
    pub json: Arc<str>,
}

impl LiveRecord {
    fn from_row(row: LiveEventRow) -> Result<Self, StoreError> {
        let kind = LiveEventKind::parse(&row.kind)?;
        let at = row.created_at;
        let json = serde_json::json!({
            "id": row.id,
            "kind": kind.as_str(),
            "ticket_id": row.ticket_id,
            "at": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        })
        .to_string();
        Ok(Self {
            id: row.id,
            workspace_id: row.workspace_id,
            kind,
            ticket_id: row.ticket_id.into(),
            at,
            json: json.into(),
        })
    }
}

/// Events written in a transaction that has not committed yet: hand them to
/// [`LiveBus::publish`] once it has.
#[derive(Debug, Default)]
#[must_use = "publish the recorded events once the transaction commits"]
pub struct Recorded(Vec<LiveRecord>);

/// Writes `events` to the live log inside the caller's transaction: the one call every use
/// case that publishes makes before it commits. Workspaces are taken in id order, so two
/// transactions touching the same workspaces lock their head rows in the same order.
pub async fn record(conn: &mut Conn<'_>, now: OffsetDateTime, events: &[LiveEvent]) -> Result<Recorded, StoreError> {
    let mut by_workspace: BTreeMap<WorkspaceId, Vec<NewLiveEvent<'_>>> = BTreeMap::new();
    for e in events {
        by_workspace
            .entry(e.workspace_id)
            .or_default()
            .push(NewLiveEvent { kind: e.kind.as_str(), ticket_id: e.ticket_id.0 });
    }
    let mut recorded = Vec::with_capacity(events.len());
    for (workspace, new) in by_workspace {
        for row in live_events::append(conn, workspace, &new, now).await? {
            recorded.push(LiveRecord::from_row(row)?);
        }
    }
    Ok(Recorded(recorded))
}

/// How many events a workspace's channel buffers for a slow listener before it must read
/// the log to catch up.
const CHANNEL_CAPACITY: usize = 1024;
/// Rows per read of the log.
const PAGE: i64 = 500;
/// The most events a resuming stream replays; further behind, it is told to reload.
pub const MAX_REPLAY: i64 = 10_000;
/// How long events are kept for resuming streams.
pub const RETENTION: time::Duration = time::Duration::hours(24);

enum Input {
    /// Committed on this node.
    Local(Vec<LiveRecord>),
    /// Committed on another node (or this one), announced by the database.
    Announced { workspace: WorkspaceId, first: i64, last: i64 },
    /// Announcements may have been lost: read every followed workspace's log.
    Resync,
    /// A listener joined: learn where the workspace's log ends, then answer.
    Follow { workspace: WorkspaceId, ready: oneshot::Sender<()> },
}

type Channels = Arc<Mutex<HashMap<WorkspaceId, broadcast::Sender<Arc<LiveRecord>>>>>;

/// The node's live bus. Cheap to clone.
#[derive(Clone)]
pub struct LiveBus {
    db: Db,
    input: mpsc::UnboundedSender<Input>,
    channels: Channels,
    stopped: Arc<AtomicBool>,
    listening: Arc<tokio::sync::OnceCell<()>>,
}

impl LiveBus {
    /// Starts the node's hub on the current Tokio runtime. It ends when the last handle goes.
    pub fn start(db: Db) -> Self {
        let (input, rx) = mpsc::unbounded_channel();
        let channels = Channels::default();
        tokio::spawn(Hub { db: db.clone(), channels: channels.clone(), high: HashMap::new() }.run(rx));
        Self { db, input, channels, stopped: Arc::default(), listening: Arc::default() }
    }

    /// Hands what a committed transaction recorded to this node's listeners.
    pub fn publish(&self, recorded: Recorded) {
        if !recorded.0.is_empty() {
            let _ = self.input.send(Input::Local(recorded.0));
        }
    }

    /// Ends every stream (the server is shutting down): open responses finish, so a graceful
    /// shutdown does not wait on them for ever. Streams opened afterwards end at once.
    pub fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Dropping the channels closes them: every listener's next wait ends. (A flag each
        // listener polled would cost every one of them a wake-up registration per event.)
        self.channels.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Joins the workspace's channel. Returns once the hub knows where the log ends, so that
    /// everything committed after the caller's next read of the log reaches the channel.
    async fn follow(&self, workspace: WorkspaceId) -> ServiceResult<broadcast::Receiver<Arc<LiveRecord>>> {
        if let Db::Postgres(_) = self.db {
            self.listening.get_or_try_init(|| self.listen()).await?;
        }
        let rx = {
            let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
            if self.stopped.load(Ordering::SeqCst) {
                // Shutting down: a channel that is closed already.
                return Ok(broadcast::channel(1).1);
            }
            channels.entry(workspace).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe()
        };
        let (ready, answer) = oneshot::channel();
        self.input.send(Input::Follow { workspace, ready }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?;
        Ok(rx)
    }

    /// Starts hearing other nodes' commits; returns once `LISTEN` is in force.
    async fn listen(&self) -> ServiceResult<()> {
        let Some(mut heard) = Announcements::listen(&self.db).await? else { return Ok(()) };
        let input = self.input.clone();
        tokio::spawn(async move {
            loop {
                let message = match heard.next().await {
                    Ok(Heard::New(a)) => Input::Announced { workspace: a.workspace_id, first: a.first, last: a.last },
                    Ok(Heard::Reconnected) => Input::Resync,
                    Ok(Heard::Ended) => break,
                    Err(e) => {
                        // The database is away; once back, whatever was announced meanwhile is
                        // read from the log.
                        tracing::warn!(error = %e, "live announcements interrupted");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Input::Resync
                    }
                };
                if input.send(message).is_err() {
                    break;
                }
            }
        });
        Ok(())
    }
}

fn stopped() -> ServiceError {
    ServiceError::Store(StoreError::Transient("the live hub has stopped".into()))
}

/// The node's one fan-out task.
struct Hub {
    db: Db,
    channels: Channels,
    /// Per followed workspace: the last id delivered to its channel.
    high: HashMap<WorkspaceId, i64>,
}

impl Hub {
    async fn run(mut self, mut input: mpsc::UnboundedReceiver<Input>) {
        while let Some(message) = input.recv().await {
            match message {
                Input::Follow { workspace, ready } => {
                    if !self.high.contains_key(&workspace) {
                        match self.bounds(workspace).await {
                            Ok(last) => {
                                self.high.insert(workspace, last);
                            }
                            // The listener's own read of the log covers what the hub misses.
                            Err(e) => tracing::warn!(error = %e, "live hub: reading the log's end failed"),
                        }
                    }
                    let _ = ready.send(());
                }
                Input::Local(records) => {
                    let mut by_workspace: BTreeMap<WorkspaceId, Vec<LiveRecord>> = BTreeMap::new();
                    for r in records {
                        by_workspace.entry(r.workspace_id).or_default().push(r);
                    }
                    for (workspace, mut records) in by_workspace {
                        records.sort_by_key(|r| r.id);
                        self.deliver(workspace, records).await;
                    }
                }
                Input::Announced { workspace, first, last } => {
                    if self.sender(workspace).is_some() {
                        // This node's own commits were mostly delivered already.
                        let high = *self.high.entry(workspace).or_insert(first - 1);
                        if last > high {
                            self.catch_up(workspace, high).await;
                        }
                    }
                }
                Input::Resync => {
                    let followed: Vec<(WorkspaceId, i64)> = self.high.iter().map(|(w, h)| (*w, *h)).collect();
                    for (workspace, high) in followed {
                        self.catch_up(workspace, high).await;
                    }
                }
            }
        }
    }

    async fn bounds(&self, workspace: WorkspaceId) -> Result<i64, StoreError> {
        let mut pooled = self.db.acquire().await?;
        Ok(live_events::bounds(&mut pooled.conn(), workspace).await?.last)
    }

    /// The workspace's channel while anyone listens; forgets the workspace once nobody does.
    fn sender(&mut self, workspace: WorkspaceId) -> Option<broadcast::Sender<Arc<LiveRecord>>> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        match channels.get(&workspace) {
            Some(tx) if tx.receiver_count() > 0 => Some(tx.clone()),
            Some(_) => {
                channels.remove(&workspace);
                self.high.remove(&workspace);
                None
            }
            None => {
                self.high.remove(&workspace);
                None
            }
        }
    }

    /// Sends committed records of one workspace in id order; a record that skips ids means
    /// others committed first and are not here yet (another node's, or a slower publish):
    /// the log has them.
    async fn deliver(&mut self, workspace: WorkspaceId, records: Vec<LiveRecord>) {
        let Some(tx) = self.sender(workspace) else { return };
        let mut high = *self.high.entry(workspace).or_insert(records[0].id - 1);
        for record in records {
            if record.id <= high {
                continue;
            }
            if record.id != high + 1 {
                self.catch_up(workspace, high).await;
                return;
            }
            high = record.id;
            let _ = tx.send(Arc::new(record));
        }
        self.high.insert(workspace, high);
    }

    /// Reads the workspace's log after `high` and sends what it finds.
    async fn catch_up(&mut self, workspace: WorkspaceId, mut high: i64) {
        let Some(tx) = self.sender(workspace) else { return };
        loop {
            let rows = match read_log(&self.db, workspace, high).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "live hub: reading the log failed");
                    break;
                }
            };
            let full = rows.len() as i64 == PAGE;
            for record in rows {
                high = high.max(record.id);
                let _ = tx.send(Arc::new(record));
            }
            if !full {
                break;
            }
        }
        self.high.insert(workspace, high);
    }
}

async fn read_log(db: &Db, workspace: WorkspaceId, after: i64) -> Result<Vec<LiveRecord>, StoreError> {
    let mut pooled = db.acquire().await?;
    live_events::since(&mut pooled.conn(), workspace, after, PAGE)
        .await?
        .into_iter()
        .map(LiveRecord::from_row)
        .collect()
}

impl Service {
    /// Deletes live events older than [`RETENTION`]; streams that missed them are told to
    /// reload. Run in the background by `serve`.
    pub async fn prune_live_events(&self) -> ServiceResult<u64> {
        let mut tx = self.begin().await?;
        let deleted = live_events::prune(&mut tx.conn(), self.now() - RETENTION).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
