//! The entities of DESIGN §1 as the rest of the system reads them. Every one belongs to
//! exactly one workspace; nothing ever crosses workspaces.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::{ChannelKind, ConversationKind};
use crate::ids::*;
use crate::inbound::Attachment;
use crate::message::{AuthorKind, DeliveryStatus, Direction, Visibility};
use crate::ticket::{Priority, TicketKind, TicketStatus};

/// One business: the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub settings: crate::routing::Settings,
}

/// Agents are admins (channels, agents, settings) or agents (tickets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// Whether an agent is at work: automations hand tickets only to agents who are online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Online,
    Away,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
        }
    }
}

impl std::str::FromStr for Availability {
    type Err = crate::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "online" => Ok(Self::Online),
            "away" => Ok(Self::Away),
            _ => Err(crate::DomainError::invalid("availability", format!("unknown `{s}` (online, away)"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub workspace_id: WorkspaceId,
    pub name: String,
}

/// A connected line of the business. Secrets are held by the store and handed only to the
/// code that verifies webhooks or sends; they never leave through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelAccount {
    pub id: ChannelAccountId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: String,
    pub external_id: String,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub api_base_url: Option<String>,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
}

/// One customer, however many channels they use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub workspace_id: WorkspaceId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Marked as a spammer: their messages are stored but raise no ticket.
    pub blocked: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// How a contact is known on one channel account, with the user info the platform pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: IdentityId,
    pub contact_id: ContactId,
    pub channel_account_id: ChannelAccountId,
    pub external_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    /// When the platform says this person last wrote to us: reply windows count from it.
    pub last_inbound_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub channel_account_id: ChannelAccountId,
    pub kind: ConversationKind,
    /// The sender's thread key (direct) or the root post id (public).
    pub thread_key: String,
    /// The customer of a direct conversation; `None` for public threads.
    pub contact_id: Option<ContactId>,
    pub title: Option<String>,
    /// The customer's last message here, as the platform timestamped it.
    pub last_inbound_at: Option<OffsetDateTime>,
}

/// Who started a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Customer,
    Agent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub workspace_id: WorkspaceId,
    /// Per-workspace number people say out loud ("ticket 1042").
    pub number: i64,
    pub kind: TicketKind,
    pub status: TicketStatus,
    pub priority: Priority,
    pub origin: Origin,
    pub subject: Option<String>,
    pub channel: ChannelKind,
    pub channel_account_id: ChannelAccountId,
    pub conversation_id: ConversationId,
    /// The customer; `None` for public threads.
    pub contact_id: Option<ContactId>,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub tags: Vec<String>,
    pub fields: BTreeMap<String, serde_json::Value>,
    /// The ticket this one carries on from (the previous one in the conversation).
    pub follow_up_of: Option<TicketId>,
    /// For a direct ticket opened by a private reply: the public thread it came from.
    pub public_ticket_id: Option<TicketId>,
    pub participants: Vec<ContactId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub solved_at: Option<OffsetDateTime>,
    /// When the customer last wrote in this ticket, as the platform timestamped it.
    pub last_inbound_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub workspace_id: WorkspaceId,
    pub ticket_id: Option<TicketId>,
    pub conversation_id: ConversationId,
    pub direction: Direction,
    pub visibility: Visibility,
    pub author_kind: AuthorKind,
    /// The agent (author_kind agent) or contact (author_kind contact) who wrote it.
    pub author_id: Option<uuid::Uuid>,
    pub body: Option<String>,
    pub attachments: Vec<Attachment>,
    pub template: Option<serde_json::Value>,
    pub platform_message_id: Option<String>,
    pub delivery_status: Option<DeliveryStatus>,
    pub error: Option<MessageError>,
    /// For an outbound private reply: the public comment it answers.
    pub private_reply_to: Option<MessageId>,
    pub created_at: OffsetDateTime,
}

/// The platform's error on a failed outbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageError {
    pub code: String,
    pub message: String,
}

/// What an event records (DESIGN §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    MessageReceived,
    StatusChanged,
    Assigned,
    TeamChanged,
    TagAdded,
    TagRemoved,
    FieldChanged,
    PriorityChanged,
    MessageQueued,
    MessageSent,
    NoteAdded,
    DeliveryFailed,
    Merged,
    MacroApplied,
    AutomationFired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::MessageReceived => "message_received",
            Self::StatusChanged => "status_changed",
            Self::Assigned => "assigned",
            Self::TeamChanged => "team_changed",
            Self::TagAdded => "tag_added",
            Self::TagRemoved => "tag_removed",
            Self::FieldChanged => "field_changed",
            Self::PriorityChanged => "priority_changed",
            Self::MessageQueued => "message_queued",
            Self::MessageSent => "message_sent",
            Self::NoteAdded => "note_added",
            Self::DeliveryFailed => "delivery_failed",
            Self::Merged => "merged",
            Self::MacroApplied => "macro_applied",
            Self::AutomationFired => "automation_fired",
        }
    }
}

/// One append-only entry of a ticket's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub ticket_id: TicketId,
    pub kind: String,
    pub actor_kind: AuthorKind,
    pub actor_id: Option<uuid::Uuid>,
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
}
