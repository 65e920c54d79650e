//! One agent's stream: what it missed, read from the log, then the workspace's channel,
//! dropping what it has sent and reading the log again whenever it falls behind.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard_domain::WorkspaceId;
use switchboard_store::live_events;
use switchboard_store::{Db, StoreError};
use tokio::sync::broadcast;

use super::{LiveRecord, MAX_REPLAY, PAGE, read_log};
use crate::{Actor, Service, ServiceResult};

/// Where a stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// From now on (a new stream).
    Now,
    /// After the event with this id (`Last-Event-ID`).
    After(i64),
    /// The client named a position this server cannot read: it must reload.
    Unknown,
}

/// What a stream sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// A new stream starts after this id (so that a reconnect before any event resumes here).
    Ready {
        last_event_id: i64,
    },
    Event(Arc<LiveRecord>),
    /// Events the client missed are no longer kept (or its position is unknown): reload what
    /// is shown, then carry on after this id.
    Reset {
        last_event_id: i64,
    },
}

/// One agent's stream of their workspace's live events.
pub struct LiveStream {
    db: Db,
    workspace: WorkspaceId,
    rx: broadcast::Receiver<Arc<LiveRecord>>,
    stopped: Arc<AtomicBool>,
    /// Ticks when a heartbeat is due. One timer for the stream's life: re-arming one on every
    /// event would cost each of thousands of listeners a timer registration per event.
    heartbeat: Option<tokio::time::Interval>,
    /// The last id handed out.
    last: i64,
    /// Whether the log may hold events after `last` that the channel will not bring.
    behind: bool,
    pending: VecDeque<StreamItem>,
}

impl LiveStream {
    /// The next events, as soon as there are any. `Some(empty)` means a heartbeat is due (every
    /// `idle`, whatever came meanwhile); `None` that the stream is over (shutdown).
    pub async fn next_batch(&mut self, idle: Duration) -> Option<Vec<StreamItem>> {
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return None;
            }
            if !self.pending.is_empty() {
                return Some(self.pending.drain(..).collect());
            }
            if self.behind {
                match self.read_behind().await {
                    Ok(()) => continue,
                    Err(e) => {
                        // Try again on the next wake-up rather than end the stream.
                        tracing::warn!(error = %e, "live stream: reading the log failed");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                }
            }
            let heartbeat = self.heartbeat.get_or_insert_with(|| {
                let mut every = tokio::time::interval_at(tokio::time::Instant::now() + idle, idle);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                every
            });
            tokio::select! {
                _ = heartbeat.tick() => return Some(Vec::new()),
                received = self.rx.recv() => match received {
                    Ok(record) => {
                        self.take(record);
                        // Whatever else is already waiting goes out in the same write.
                        loop {
                            match self.rx.try_recv() {
                                Ok(record) => self.take(record),
                                Err(broadcast::error::TryRecvError::Lagged(_)) => self.behind = true,
                                Err(_) => break,
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => self.behind = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }

    fn take(&mut self, record: Arc<LiveRecord>) {
        if record.id <= self.last || self.behind {
            // Seen already, or the log read that follows will bring it in order.
            return;
        }
        if record.id == self.last + 1 {
            self.last = record.id;
            self.pending.push_back(StreamItem::Event(record));
        } else {
            self.behind = true;
        }
    }

    /// One page of the log after `last`.
    async fn read_behind(&mut self) -> Result<(), StoreError> {
        let rows = read_log(&self.db, self.workspace, self.last).await?;
        self.behind = rows.len() as i64 == PAGE;
        if let Some(first) = rows.first()
            && first.id != self.last + 1
        {
            // Pruned while the client was away.
            self.pending.push_back(StreamItem::Reset { last_event_id: first.id - 1 });
        }
        for record in rows {
            self.last = record.id;
            self.pending.push_back(StreamItem::Event(Arc::new(record)));
        }
        Ok(())
    }
}

impl Service {
    /// Opens the caller's stream of their workspace's live events, from now or resumed after
    /// an event id.
    pub async fn live_stream(&self, actor: &Actor, resume: Resume) -> ServiceResult<LiveStream> {
        let workspace = actor.workspace();
        let bus = self.live();
        let rx = bus.follow(workspace).await?;
        let bounds = {
            let mut pooled = self.db().acquire().await?;
            live_events::bounds(&mut pooled.conn(), workspace).await?
        };
        let mut stream = LiveStream {
            db: self.db().clone(),
            workspace,
            rx,
            stopped: bus.stopped.clone(),
            heartbeat: None,
            last: bounds.last,
            behind: false,
            pending: VecDeque::new(),
        };
        match resume {
            Resume::After(after) if bounds.can_resume_after(after) && bounds.last - after <= MAX_REPLAY => {
                stream.last = after;
                stream.behind = after < bounds.last;
            }
            Resume::Now => stream.pending.push_back(StreamItem::Ready { last_event_id: bounds.last }),
            Resume::After(_) | Resume::Unknown => {
                stream.pending.push_back(StreamItem::Reset { last_event_id: bounds.last });
            }
        }
        Ok(stream)
    }
}
