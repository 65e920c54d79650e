//! Routing: how an inbound item finds its ticket (DESIGN §2, step 3 "thread").
//!
//! A pure function of the conversation's stored state and the incoming item. The store
//! loads the state, asks [`route`], and carries out the [`Route`] it gets back — in the same
//! transaction, under the database's uniqueness constraints, so two nodes racing on one
//! customer still make one ticket.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::TicketId;
use crate::ticket::TicketStatus;

/// The workspace settings routing and the lifecycle depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// A solved ticket reopens when the customer writes within this many seconds of its
    /// solving (default 7 days); after that their message makes a follow-up ticket.
    pub reopen_window_secs: i64,
    /// A solved ticket becomes closed after this many seconds (default 4 days).
    pub close_solved_after_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { reopen_window_secs: 7 * 86_400, close_solved_after_secs: 4 * 86_400 }
    }
}

impl Settings {
    pub fn reopen_window(&self) -> Duration {
        Duration::seconds(self.reopen_window_secs)
    }
    pub fn close_solved_after(&self) -> Duration {
        Duration::seconds(self.close_solved_after_secs)
    }
}

/// The conversation's latest ticket, as routing needs to see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestTicket {
    pub id: TicketId,
    pub status: TicketStatus,
    pub solved_at: Option<OffsetDateTime>,
}

/// What the store knows about the conversation an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConversationState {
    /// This account already holds a message with the item's platform id (a redelivery).
    pub already_seen: bool,
    /// The sender is a blocked contact (marked as a spammer).
    pub sender_blocked: bool,
    /// Whether the conversation is a public thread (post, mention, review).
    pub public: bool,
    /// The conversation's most recent ticket, if it has any.
    pub latest_ticket: Option<LatestTicket>,
}

/// What to do with an inbound item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The platform redelivered a message we hold: change nothing, still answer 200.
    Duplicate,
    /// The sender is blocked: store the message (nothing is lost) on `ticket` if the
    /// conversation has one that is not closed, but raise no ticket and no notification.
    StoredBlocked { ticket: Option<TicketId> },
    /// Add to the ticket; `status` is its new status when the message changes it
    /// (a pending ticket becomes open: the customer answered).
    Append { ticket: TicketId, status: Option<TicketStatus> },
    /// A solved ticket and the customer wrote within the reopen window: append and reopen.
    Reopen { ticket: TicketId },
    /// Make a new ticket (status new, unassigned). `follow_up_of` links it to the ticket the
    /// conversation had before; `close_previous` is a solved ticket past its reopen window,
    /// closed now because a conversation has at most one live ticket.
    NewTicket { follow_up_of: Option<TicketId>, close_previous: Option<TicketId> },
    /// The first item under a post: a new public ticket for the thread.
    NewPublicThread,
}

/// Routes an inbound item, written by the customer at `at` (the platform's timestamp, or
/// the time it reached us when the platform gives none).
pub fn route(state: &ConversationState, settings: &Settings, at: OffsetDateTime) -> Route {
    if state.already_seen {
        return Route::Duplicate;
    }
    if state.sender_blocked {
        let ticket = state.latest_ticket.filter(|t| t.status != TicketStatus::Closed).map(|t| t.id);
        return Route::StoredBlocked { ticket };
    }
    let Some(latest) = state.latest_ticket else {
        return if state.public {
            Route::NewPublicThread
        } else {
            Route::NewTicket { follow_up_of: None, close_previous: None }
        };
    };
    match latest.status {
        TicketStatus::Pending => Route::Append { ticket: latest.id, status: Some(TicketStatus::Open) },
        TicketStatus::New | TicketStatus::Open | TicketStatus::OnHold => {
            Route::Append { ticket: latest.id, status: None }
        }
        TicketStatus::Solved => {
            // A ticket solved without a timestamp (imported, say) counts as solved long ago.
            let within = latest.solved_at.is_some_and(|solved| at - solved < settings.reopen_window());
            if within {
                Route::Reopen { ticket: latest.id }
            } else {
                Route::NewTicket { follow_up_of: Some(latest.id), close_previous: Some(latest.id) }
            }
        }
        TicketStatus::Closed | TicketStatus::Spam => {
            Route::NewTicket { follow_up_of: Some(latest.id), close_previous: None }
        }
    }
}

/// Where a private reply to a public comment goes: into the commenter's direct conversation
/// on the same account (DESIGN §2, "comments and reviews").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateReplyRoute {
    /// The commenter already has a live direct ticket: the reply continues it.
    Continue { ticket: TicketId },
    /// A new direct ticket, linked to the public one, following the commenter's closed (or
    /// spam) ticket if there was one.
    NewTicket { follow_up_of: Option<TicketId> },
}

/// Decides where a private reply goes, given the commenter's direct conversation's latest ticket.
pub fn route_private_reply(latest: Option<LatestTicket>) -> PrivateReplyRoute {
    match latest {
        Some(t) if t.status.is_live() => PrivateReplyRoute::Continue { ticket: t.id },
        Some(t) => PrivateReplyRoute::NewTicket { follow_up_of: Some(t.id) },
        None => PrivateReplyRoute::NewTicket { follow_up_of: None },
    }
}

#[cfg(test)]
mod tests;
