//! The visitor's live stream: the workspace's live events (the same durable log and per-node
//! hub agents use), filtered down to the tickets of the visitor's own conversations on the
//! line. A visitor learns only *that* one of their tickets changed — the panel then reads
//! it through the widget API, which checks ownership again.

use std::collections::HashSet;
use std::time::Duration;

use switchboard_domain::TicketId;
use switchboard_store::{Db, widget};

use super::WidgetVisitor;
use crate::live::{LiveEventKind, LiveStream, Resume, StreamItem};
use crate::{Service, ServiceResult};

/// What a visitor's stream sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WidgetStreamItem {
    /// The stream is open: read the current state now.
    Ready,
    /// One of the visitor's tickets changed (a reply, a status, a read receipt).
    Changed { ticket_id: TicketId },
    /// Events may have been missed: read everything again.
    Reset,
}

/// One visitor's stream.
pub struct WidgetStream {
    inner: LiveStream,
    db: Db,
    visitor: WidgetVisitor,
    tickets: HashSet<TicketId>,
}

impl WidgetStream {
    /// The next items; `Some(empty)` when a heartbeat is due, `None` when the stream is over.
    pub async fn next_batch(&mut self, idle: Duration) -> Option<Vec<WidgetStreamItem>> {
        loop {
            let items = self.inner.next_batch(idle).await?;
            if items.is_empty() {
                return Some(Vec::new());
            }
            let mut out = Vec::new();
            for item in items {
                match item {
                    StreamItem::Ready { .. } => out.push(WidgetStreamItem::Ready),
                    StreamItem::Reset { .. } => out.push(WidgetStreamItem::Reset),
                    StreamItem::Event(record) => {
                        // A ticket made for this visitor by someone else (an agent starting a
                        // chat) is not known yet: look again, but only when a ticket is new.
                        if !self.tickets.contains(&record.ticket_id)
                            && record.kind == LiveEventKind::TicketCreated
                            && let Err(e) = self.reload().await
                        {
                            tracing::warn!(error = %e, "widget stream: reading the visitor's tickets failed");
                        }
                        if self.tickets.contains(&record.ticket_id) {
                            out.push(WidgetStreamItem::Changed { ticket_id: record.ticket_id });
                        }
                    }
                }
            }
            if !out.is_empty() {
                return Some(out);
            }
        }
    }

    async fn reload(&mut self) -> ServiceResult<()> {
        self.tickets = own_tickets(&self.db, &self.visitor).await?;
        Ok(())
    }
}

async fn own_tickets(db: &Db, visitor: &WidgetVisitor) -> ServiceResult<HashSet<TicketId>> {
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let Some(contact) = visitor.contact(&mut conn).await? else { return Ok(HashSet::new()) };
    let ids = widget::ticket_ids(&mut conn, visitor.account.workspace_id, visitor.account.id, contact).await?;
    Ok(ids.into_iter().collect())
}

impl Service {
    /// Opens the visitor's live stream, from now.
    pub async fn widget_stream(&self, visitor: &WidgetVisitor) -> ServiceResult<WidgetStream> {
        let inner = self.workspace_stream(visitor.account.workspace_id, Resume::Now).await?;
        let tickets = own_tickets(self.db(), visitor).await?;
        Ok(WidgetStream { inner, db: self.db().clone(), visitor: visitor.clone(), tickets })
    }
}
