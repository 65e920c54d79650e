//! The visitor's live stream: the workspace's live events (the same durable log and per-node
//! hub agents use), filtered down to the tickets of the visitor's own conversations on the
//! line. A visitor learns only *that* one of their tickets changed — the panel then reads
//! it through the widget API, which checks ownership again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_domain::{ChannelAccountId, ContactId, TicketId};
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

/// A ticket's line and customer.
type Owner = (ChannelAccountId, Option<ContactId>);

/// Whose new tickets are, looked up once per node whatever the number of visitors' streams
/// that hear of them (a new ticket is news to every stream of the workspace).
#[derive(Clone, Default)]
pub struct Owners {
    known: Arc<Mutex<HashMap<TicketId, Option<Owner>>>>,
}

/// Past this many tickets the cache starts again: it only serves tickets just created.
const OWNERS_KEPT: usize = 20_000;

impl Owners {
    async fn of(&self, db: &Db, ticket: TicketId) -> ServiceResult<Option<Owner>> {
        if let Some(found) = self.known.lock().unwrap_or_else(|e| e.into_inner()).get(&ticket) {
            return Ok(*found);
        }
        let found = {
            let mut pooled = db.acquire().await?;
            widget::ticket_owner(&mut pooled.conn(), ticket).await?
        };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= OWNERS_KEPT {
            known.clear();
        }
        known.insert(ticket, found);
        Ok(found)
    }
}

/// One visitor's stream.
pub struct WidgetStream {
    inner: LiveStream,
    db: Db,
    owners: Owners,
    visitor: WidgetVisitor,
    /// Their contact, once they have one.
    contact: Option<ContactId>,
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
                        // A new ticket may be the visitor's (their first message, an agent
                        // starting a chat with them): ask whose it is.
                        if !self.tickets.contains(&record.ticket_id)
                            && record.kind == LiveEventKind::TicketCreated
                            && let Err(e) = self.consider(record.ticket_id).await
                        {
                            tracing::warn!(error = %e, "widget stream: reading a ticket's owner failed");
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

    /// Adds `ticket` to what the stream lets through if it is the visitor's.
    async fn consider(&mut self, ticket: TicketId) -> ServiceResult<()> {
        let Some((account, owner)) = self.owners.of(&self.db, ticket).await? else { return Ok(()) };
        if account != self.visitor.account.id || owner.is_none() {
            return Ok(());
        }
        if self.contact.is_none() {
            // An anonymous visitor gets a contact with their first message.
            let mut pooled = self.db.acquire().await?;
            self.contact = self.visitor.contact(&mut pooled.conn()).await?;
        }
        if owner == self.contact {
            self.tickets.insert(ticket);
        }
        Ok(())
    }
}

async fn own_tickets(db: &Db, visitor: &WidgetVisitor) -> ServiceResult<(Option<ContactId>, HashSet<TicketId>)> {
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let Some(contact) = visitor.contact(&mut conn).await? else { return Ok((None, HashSet::new())) };
    let ids = widget::ticket_ids(&mut conn, visitor.account.workspace_id, visitor.account.id, contact).await?;
    Ok((Some(contact), ids.into_iter().collect()))
}

impl Service {
    /// Opens the visitor's live stream, from now.
    pub async fn widget_stream(&self, visitor: &WidgetVisitor) -> ServiceResult<WidgetStream> {
        let inner = self.workspace_stream(visitor.account.workspace_id, Resume::Now).await?;
        let (contact, tickets) = own_tickets(self.db(), visitor).await?;
        Ok(WidgetStream {
            inner,
            db: self.db().clone(),
            owners: self.widget_owners.clone(),
            visitor: visitor.clone(),
            contact,
            tickets,
        })
    }
}
