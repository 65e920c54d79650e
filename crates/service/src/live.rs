//! The live bus: after a use case commits, it publishes what changed so that open agent pages
//! and streams update without polling. In-process for now (a Tokio broadcast channel).

use serde::Serialize;
use switchboard_domain::{TicketId, WorkspaceId};
use tokio::sync::broadcast;

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

#[derive(Clone)]
pub struct LiveBus {
    sender: broadcast::Sender<LiveEvent>,
}

impl Default for LiveBus {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveBus {
    pub fn new() -> Self {
        Self { sender: broadcast::channel(4096).0 }
    }

    /// Publishes; with nobody listening the event is simply dropped.
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }
}
