//! The JSON shapes of the API (DESIGN §9), with their OpenAPI schemas. Requests are parsed
//! here and validated into domain values at the edge; responses are built from domain types.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use switchboard_domain::{Attachment, ChannelAccount, CustomerStatus, Event, Identity, Message, ReplyWindow, Ticket};
use switchboard_service::contacts::ContactView;
use switchboard_service::tickets::TicketView;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Reads a field that may be absent (leave as is), `null` (clear) or a value (set).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

// ---------------------------------------------------------------- channel accounts

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountIn {
    /// whatsapp, messenger, instagram, x, line, wechat, telegram, twilio, dialpad, justcall,
    /// shopee, lazada, email, widget, api
    pub kind: String,
    pub name: String,
    /// The platform's id of the business side (phone_number_id, page id, …).
    pub external_id: String,
    /// Named as the platform names them; never returned.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub secrets: JsonMap,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: JsonMap,
    /// Overrides the platform's API address (tests, the demo, proxies).
    pub api_base_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub external_id: String,
    #[schema(value_type = Object)]
    pub settings: JsonMap,
    pub api_base_url: Option<String>,
    pub enabled: bool,
    /// The address to paste into the platform's webhook settings.
    pub webhook_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl AccountOut {
    pub fn new(a: ChannelAccount, public_url: &str) -> Self {
        Self {
            webhook_url: format!("{}/webhooks/{}/{}", public_url.trim_end_matches('/'), a.kind, a.id),
            id: a.id.0,
            kind: a.kind.as_str().to_owned(),
            name: a.name,
            external_id: a.external_id,
            settings: a.settings,
            api_base_url: a.api_base_url,
            enabled: a.enabled,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub channel_accounts: Vec<AccountOut>,
}

// ---------------------------------------------------------------- tickets

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyWindowOut {
    /// always, open, human_agent, template_required, closed
    pub state: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closes_at: Option<OffsetDateTime>,
}

impl From<ReplyWindow> for ReplyWindowOut {
    fn from(w: ReplyWindow) -> Self {
        let state = serde_json::to_value(w.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        Self { state, closes_at: w.closes_at }
    }
}

fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketOut {
    pub id: Uuid,
    /// The per-workspace number people say out loud.
    pub number: i64,
    /// direct, public, review
    pub kind: String,
    /// new, open, pending, on_hold, solved, closed, spam
    pub status: String,
    /// What the customer sees: active or resolved.
    pub customer_status: String,
    pub priority: String,
    /// customer or agent: who started it.
    pub origin: String,
    pub subject: Option<String>,
    pub channel: String,
    pub channel_account_id: Uuid,
    pub conversation_id: Uuid,
    /// The customer; null for public threads.
    pub contact_id: Option<Uuid>,
    /// Everyone who wrote in a public thread.
    pub participants: Vec<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, serde_json::Value>,
    pub follow_up_of: Option<Uuid>,
    pub public_ticket_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub solved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_inbound_at: Option<OffsetDateTime>,
    pub reply_window: ReplyWindowOut,
}

impl From<TicketView> for TicketOut {
    fn from(v: TicketView) -> Self {
        let t: Ticket = v.ticket;
        Self {
            id: t.id.0,
            number: t.number,
            kind: t.kind.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            customer_status: match t.status.customer_status() {
                CustomerStatus::Active => "active".into(),
                CustomerStatus::Resolved => "resolved".into(),
            },
            priority: t.priority.as_str().to_owned(),
            origin: name_of(&t.origin),
            subject: t.subject,
            channel: t.channel.as_str().to_owned(),
            channel_account_id: t.channel_account_id.0,
            conversation_id: t.conversation_id.0,
            contact_id: t.contact_id.map(|c| c.0),
            participants: t.participants.into_iter().map(|c| c.0).collect(),
            assignee_id: t.assignee_id.map(|a| a.0),
            team_id: t.team_id.map(|t| t.0),
            tags: t.tags,
            fields: t.fields,
            follow_up_of: t.follow_up_of.map(|t| t.0),
            public_ticket_id: t.public_ticket_id.map(|t| t.0),
            created_at: t.created_at,
            updated_at: t.updated_at,
            solved_at: t.solved_at,
            last_inbound_at: t.last_inbound_at,
            reply_window: v.reply_window.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub tickets: Vec<TicketOut>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagChanges {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatchIn {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub subject: Option<String>,
    /// An agent id, or null to unassign.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    /// A team id, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    #[serde(default)]
    pub tags: TagChanges,
    /// Custom fields to set; null removes one.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIo {
    /// image, video, audio, document, sticker, location, …
    pub kind: String,
    pub url: Option<String>,
    pub media_id: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
}

impl From<AttachmentIo> for Attachment {
    fn from(a: AttachmentIo) -> Self {
        Attachment { kind: a.kind, url: a.url, media_id: a.media_id, mime_type: a.mime_type, filename: a.filename }
    }
}

impl From<Attachment> for AttachmentIo {
    fn from(a: Attachment) -> Self {
        AttachmentIo { kind: a.kind, url: a.url, media_id: a.media_id, mime_type: a.mime_type, filename: a.filename }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSendIn {
    pub name: String,
    /// e.g. en_US
    pub language: String,
    /// The values of `{{1}}`, `{{2}}`… in order.
    #[serde(default)]
    pub parameters: Vec<String>,
}

impl From<TemplateSendIn> for switchboard_service::compose::TemplateRequest {
    fn from(t: TemplateSendIn) -> Self {
        Self { name: t.name, language: t.language, parameters: t.parameters }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    pub body: Option<String>,
    /// public (a reply to the customer, the default) or internal (a note).
    pub visibility: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentIo>,
    /// Uploaded files (`POST /api/v1/files`) to attach.
    #[serde(default)]
    pub files: Vec<Uuid>,
    /// A WhatsApp template instead of a body (the only way to write outside the 24-hour window).
    pub template: Option<TemplateSendIn>,
    /// The status to leave the ticket in.
    pub status: Option<String>,
    /// In a public thread: the comment (message id) the reply answers; the latest by default.
    pub reply_to: Option<Uuid>,
    /// Answer this public comment (message id) privately, in the commenter's direct conversation.
    pub private_reply_to: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageErrorOut {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: Uuid,
    pub ticket_id: Option<Uuid>,
    /// inbound, outbound, note
    pub direction: String,
    /// public, internal
    pub visibility: String,
    pub author: AuthorOut,
    pub body: Option<String>,
    pub attachments: Vec<AttachmentIo>,
    #[schema(value_type = Option<Object>)]
    pub template: Option<serde_json::Value>,
    pub platform_message_id: Option<String>,
    /// queued, sent, delivered, read, failed (outbound only)
    pub delivery_status: Option<String>,
    pub error: Option<MessageErrorOut>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorOut {
    /// contact, agent, automation, system
    pub kind: String,
    pub id: Option<Uuid>,
}

impl From<Message> for MessageOut {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.0,
            ticket_id: m.ticket_id.map(|t| t.0),
            direction: name_of(&m.direction),
            visibility: name_of(&m.visibility),
            author: AuthorOut { kind: name_of(&m.author_kind), id: m.author_id },
            body: m.body,
            attachments: m.attachments.into_iter().map(Into::into).collect(),
            template: m.template,
            platform_message_id: m.platform_message_id,
            delivery_status: m.delivery_status.map(|d| d.as_str().to_owned()),
            error: m.error.map(|e| MessageErrorOut { code: e.code, message: e.message }),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: Uuid,
    pub kind: String,
    pub actor: AuthorOut,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<Event> for EventOut {
    fn from(e: Event) -> Self {
        Self {
            id: e.id.0,
            kind: e.kind,
            actor: AuthorOut { kind: name_of(&e.actor_kind), id: e.actor_id },
            data: e.data,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstMessageIn {
    pub body: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentIo>,
    /// Uploaded files (`POST /api/v1/files`) to attach.
    #[serde(default)]
    pub files: Vec<Uuid>,
    /// A WhatsApp template (needed outside the 24-hour window).
    pub template: Option<TemplateSendIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketIn {
    pub contact_id: Uuid,
    pub channel_account_id: Uuid,
    pub message: FirstMessageIn,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewTicketOut {
    pub ticket: TicketOut,
    pub message: MessageOut,
}

// ---------------------------------------------------------------- contacts

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityOut {
    pub id: Uuid,
    pub channel_account_id: Uuid,
    /// The platform's id of the person (wa_id, PSID, phone, e-mail, …).
    pub external_id: String,
    /// The platform's user info.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_inbound_at: Option<OffsetDateTime>,
}

impl From<Identity> for IdentityOut {
    fn from(i: Identity) -> Self {
        Self {
            id: i.id.0,
            channel_account_id: i.channel_account_id.0,
            external_id: i.external_id,
            name: i.name,
            phone: i.phone,
            email: i.email,
            username: i.username,
            avatar_url: i.avatar_url,
            last_inbound_at: i.last_inbound_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub blocked: bool,
    pub identities: Vec<IdentityOut>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<ContactView> for ContactOut {
    fn from(v: ContactView) -> Self {
        let c = v.contact;
        Self {
            id: c.id.0,
            name: c.name,
            email: c.email,
            phone: c.phone,
            blocked: c.blocked,
            identities: v.identities.into_iter().map(Into::into).collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<ContactOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatchIn {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Marked as a spammer: later messages are stored but raise no ticket.
    pub blocked: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    /// The contact merged away; the one in the path survives.
    pub from_contact_id: Uuid,
}

// ---------------------------------------------------------------- cursors

/// Cursors are `<millis>_<uuid>`: opaque to callers, stable for us.
pub fn encode_cursor(cursor: Option<(i64, Uuid)>) -> Option<String> {
    cursor.map(|(at, id)| format!("{at}_{id}"))
}

pub fn decode_cursor(raw: Option<&str>) -> Result<Option<(i64, Uuid)>, crate::error::ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    raw.split_once('_').and_then(|(at, id)| Some((at.parse().ok()?, id.parse().ok()?))).map(Some).ok_or_else(|| {
        crate::error::ApiError::bad_request("invalid_cursor", "cursor: pass back a next_cursor as given")
    })
}

// ---------------------------------------------------------------- templates

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// lowercase letters, digits and _
    pub name: String,
    /// e.g. en_US
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION
    pub category: String,
    /// The text with numbered placeholders `{{1}}`, `{{2}}`…
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub id: Uuid,
    pub channel_account_id: Uuid,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    /// approved, pending, rejected (the platform's verdict, after a sync) or local
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<switchboard_service::templates::TemplateRow> for TemplateOut {
    fn from(t: switchboard_service::templates::TemplateRow) -> Self {
        Self {
            updated_at: t.updated_at(),
            id: t.id,
            channel_account_id: t.channel_account_id,
            name: t.name,
            language: t.language,
            category: t.category,
            body: t.body,
            status: t.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateOut>,
}
