//! The widget API's JSON shapes.

use serde::{Deserialize, Serialize};
use switchboard_domain::CustomerStatus;
use switchboard_service::widget::inbox::{
    WidgetConversation, WidgetMessage, WidgetOverview, WidgetThread, WidgetTicket,
};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorIn {
    /// The widget line (channel account) of the site.
    pub account_id: Uuid,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VisitorOut {
    /// Send it as `X-Widget-Token` from now on; it is shown only once.
    pub token: String,
    pub visitor_id: Uuid,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifyIn {
    /// The host site's id of its signed-in user.
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Hex HMAC-SHA256 of `user_id` with the widget line's `secret`, computed by the host
    /// site's server.
    pub user_hash: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentifyOut {
    /// Whether the visitor is now the host site's verified user.
    pub verified: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendIn {
    /// At most 5000 characters.
    pub body: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BadgesOut {
    /// Conversations with team messages the customer has not read.
    pub messages: i64,
    /// Tickets created, or resolved/reopened, since the customer read them.
    pub tickets: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetTicketOut {
    pub id: Uuid,
    pub number: i64,
    pub conversation_id: Uuid,
    /// The subject, or the conversation's first line.
    pub title: String,
    /// `active` or `resolved`: the ticket as the customer sees it.
    pub state: String,
    /// What the row offers: `continue` (active) or `view` (resolved, read-only).
    pub action: String,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub unread: bool,
}

impl From<WidgetTicket> for WidgetTicketOut {
    fn from(t: WidgetTicket) -> Self {
        let active = t.state == CustomerStatus::Active;
        Self {
            id: t.id.0,
            number: t.number,
            conversation_id: t.conversation_id.0,
            title: t.title,
            state: if active { "active" } else { "resolved" }.to_owned(),
            action: if active { "continue" } else { "view" }.to_owned(),
            updated_at: t.updated_at,
            unread: t.unread,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetConversationOut {
    pub id: Uuid,
    pub ticket: Option<WidgetTicketOut>,
    /// The last thing said.
    pub preview: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_activity_at: OffsetDateTime,
    /// Team messages not read yet.
    pub unread: i64,
    /// Resolved: it can be read, not written to.
    pub read_only: bool,
}

impl From<WidgetConversation> for WidgetConversationOut {
    fn from(c: WidgetConversation) -> Self {
        Self {
            id: c.id.0,
            ticket: c.ticket.map(Into::into),
            preview: c.preview,
            last_activity_at: c.last_activity_at,
            unread: c.unread,
            read_only: c.read_only,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverviewOut {
    pub verified: bool,
    /// The line shows the Tickets space at all.
    pub tickets_space: bool,
    /// Show the Tickets space now: it is on and the customer has a ticket.
    pub show_tickets: bool,
    pub badges: BadgesOut,
    /// Home's card: at most three unresolved tickets, newest first (empty when the space is off).
    pub recent_tickets: Vec<WidgetTicketOut>,
    /// Newest activity first (empty when the space is off).
    pub tickets: Vec<WidgetTicketOut>,
    /// Newest activity first.
    pub conversations: Vec<WidgetConversationOut>,
}

impl From<WidgetOverview> for OverviewOut {
    fn from(o: WidgetOverview) -> Self {
        Self {
            verified: o.verified,
            tickets_space: o.tickets_space,
            show_tickets: o.show_tickets(),
            badges: BadgesOut { messages: o.messages_badge, tickets: o.tickets_badge },
            recent_tickets: o.recent_tickets.into_iter().map(Into::into).collect(),
            tickets: o.tickets.into_iter().map(Into::into).collect(),
            conversations: o.conversations.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetConversationList {
    pub conversations: Vec<WidgetConversationOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetTicketList {
    pub tickets_space: bool,
    pub tickets: Vec<WidgetTicketOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetMessageOut {
    pub id: Uuid,
    /// `customer` or `team`.
    pub from: String,
    /// The agent's name, for the team's messages.
    pub agent_name: Option<String>,
    pub body: Option<String>,
    /// `delivered` or `read`.
    pub status: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<WidgetMessage> for WidgetMessageOut {
    fn from(m: WidgetMessage) -> Self {
        Self {
            id: m.id,
            from: if m.from_customer { "customer" } else { "team" }.to_owned(),
            agent_name: m.agent_name,
            body: m.body,
            status: m.status.map(|s| s.as_str().to_owned()),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadOut {
    pub conversation: WidgetConversationOut,
    pub messages: Vec<WidgetMessageOut>,
}

impl From<WidgetThread> for ThreadOut {
    fn from(t: WidgetThread) -> Self {
        Self { conversation: t.conversation.into(), messages: t.messages.into_iter().map(Into::into).collect() }
    }
}
