//! What an agent writes, made ready to store and send: text and attachments, or a WhatsApp
//! template filled from the line's registry; and the private reply to a public comment, which
//! lands in the commenter's direct conversation.

use serde::Serialize;
use switchboard_domain::reply_rules::{self, Refusal, SendContext, SendKind, SendVerdict};
use switchboard_domain::routing::{PrivateReplyRoute, route_private_reply};
use switchboard_domain::{
    Attachment, ChannelAccount, ChannelKind, ConversationKind, Direction, MessageId, Ticket, TicketId, TicketKind,
    TicketStatus, template,
};
use switchboard_store::conversations::NewConversation;
use switchboard_store::tickets::NewTicket;
use switchboard_store::{Conn, accounts, contacts, conversations, messages, templates, tickets};
use time::OffsetDateTime;

use crate::ingest::{change_status, finish_new_ticket, subject_from};
use crate::{Actor, ServiceError, ServiceResult};

/// A template send as the agent asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateRequest {
    pub name: String,
    pub language: String,
    pub parameters: Vec<String>,
}

/// What the agent wrote: text and attachments (links, or files they uploaded), or a template.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub body: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Uploaded files to attach (`POST /api/v1/files`).
    pub files: Vec<uuid::Uuid>,
    pub template: Option<TemplateRequest>,
}

impl crate::Service {
    /// Turns the draft's uploaded files into attachments the platforms can fetch.
    pub(crate) async fn resolve_files(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        draft: &mut Draft,
    ) -> ServiceResult<()> {
        if draft.files.is_empty() {
            return Ok(());
        }
        let links = self.media_links(conn).await?;
        let files = std::mem::take(&mut draft.files);
        draft.attachments.extend(crate::files::attach(conn, actor.workspace(), &links, &files).await?);
        Ok(())
    }
}

/// A draft made ready: the text to store (a template's filled text), and what the reply rules
/// must judge.
pub(crate) struct Composed {
    pub body: Option<String>,
    pub attachments: Vec<Attachment>,
    pub template: Option<serde_json::Value>,
    pub kind: SendKind,
}

/// The largest message body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 64 * 1024;

pub(crate) fn validate_body(body: &Option<String>, attachments: &[Attachment]) -> ServiceResult<Option<String>> {
    let body = body.as_deref().map(str::trim_end).filter(|b| !b.trim().is_empty()).map(str::to_owned);
    if body.is_none() && attachments.is_empty() {
        return Err(ServiceError::invalid("body", "a message needs text or an attachment"));
    }
    if body.as_ref().is_some_and(|b| b.chars().count() > MAX_BODY_CHARS) {
        return Err(ServiceError::invalid("body", format!("a message has at most {MAX_BODY_CHARS} characters")));
    }
    Ok(body)
}

/// Checks the draft against the line and fills a template from its registry.
pub(crate) async fn compose(conn: &mut Conn<'_>, account: &ChannelAccount, draft: Draft) -> ServiceResult<Composed> {
    let Some(request) = draft.template else {
        let body = validate_body(&draft.body, &draft.attachments)?;
        return Ok(Composed { body, attachments: draft.attachments, template: None, kind: SendKind::FreeForm });
    };
    if account.kind != ChannelKind::Whatsapp {
        return Err(ServiceError::Refused(Refusal::NotSupported { channel: account.kind, what: "message templates" }));
    }
    if draft.body.as_deref().is_some_and(|b| !b.trim().is_empty()) || !draft.attachments.is_empty() {
        return Err(ServiceError::invalid("template", "a template send carries no body or attachments of its own"));
    }
    let found = templates::find(conn, account.workspace_id, account.id, &request.name, &request.language)
        .await?
        .ok_or_else(|| {
            ServiceError::invalid(
                "template",
                format!(
                    "this line has no template `{}` in `{}`; create or sync it first",
                    request.name, request.language
                ),
            )
        })?;
    if found.status != "approved" && found.status != "local" {
        return Err(ServiceError::invalid(
            "template",
            format!(
                "the template `{}` is {} on WhatsApp: only approved templates can be sent",
                found.name, found.status
            ),
        ));
    }
    let filled = template::fill(&found.body, &request.parameters)?;
    let stored = serde_json::json!({
        "name": found.name,
        "language": found.language,
        "category": found.category,
        "parameters": request.parameters,
    });
    Ok(Composed { body: Some(filled), attachments: Vec::new(), template: Some(stored), kind: SendKind::Template })
}

/// Refuses what the channel's rules refuse.
pub(crate) fn check_send(ctx: &SendContext, kind: SendKind) -> ServiceResult<()> {
    match reply_rules::can_send(ctx, kind) {
        SendVerdict::Refused(refusal) => Err(ServiceError::Refused(refusal)),
        SendVerdict::Allowed | SendVerdict::AllowedWithTag(_) => Ok(()),
    }
}

/// Where a private reply to `comment` (a message of the public `ticket`) goes: the commenter's
/// direct ticket on the same line, continued or opened (linked to the public one). Checks the
/// one-reply-per-comment and 7-day rules first.
pub(crate) async fn private_reply_ticket(
    conn: &mut Conn<'_>,
    actor: &Actor,
    ticket: &Ticket,
    comment: MessageId,
    now: OffsetDateTime,
) -> ServiceResult<(Ticket, switchboard_domain::ConversationId)> {
    let ws = actor.workspace();
    let account =
        accounts::get(conn, ws, ticket.channel_account_id).await?.ok_or(ServiceError::NotFound("channel account"))?;
    let public =
        conversations::get(conn, ws, ticket.conversation_id).await?.ok_or(ServiceError::NotFound("conversation"))?;
    let message = messages::get(conn, ws, comment)
        .await?
        .filter(|m| m.conversation_id == public.id && m.direction == Direction::Inbound)
        .ok_or_else(|| ServiceError::invalid("private_reply_to", "not a comment of this ticket's thread"))?;
    let comment_at = messages::sent_at(conn, ws, comment).await?.unwrap_or(message.created_at);
    let ctx = SendContext {
        channel: account.kind,
        conversation: public.kind,
        last_inbound_at: public.last_inbound_at,
        now,
        sent_since_last_inbound: 0,
    };
    let already_used = messages::has_private_reply(conn, comment).await?;
    check_send(&ctx, SendKind::PrivateReply { already_used, comment_at })?;

    let commenter = message
        .author_id
        .map(switchboard_domain::ContactId)
        .ok_or_else(|| ServiceError::invalid("private_reply_to", "this comment has no known author"))?;
    let identity = contacts::identity_on(conn, ws, commenter, account.id)
        .await?
        .ok_or_else(|| ServiceError::invalid("private_reply_to", "the commenter is not known on this line"))?;
    let direct = match conversations::find(conn, account.id, ConversationKind::Direct, &identity.external_id).await? {
        Some(c) => c,
        None => {
            let new = NewConversation {
                workspace_id: ws,
                channel_account_id: account.id,
                kind: ConversationKind::Direct,
                thread_key: &identity.external_id,
                contact_id: Some(commenter),
                title: None,
            };
            conversations::create(conn, &new, now).await?
        }
    };
    let latest = tickets::latest_in_conversation(conn, direct.id).await?;
    let who = actor.store_actor();
    let direct_ticket: TicketId = match route_private_reply(latest) {
        PrivateReplyRoute::Continue { ticket: id } => {
            let mut t = tickets::get(conn, ws, id).await?.ok_or(ServiceError::NotFound("ticket"))?;
            if t.public_ticket_id.is_none() {
                t.public_ticket_id = Some(ticket.id);
                tickets::save(conn, &t).await?;
            }
            id
        }
        PrivateReplyRoute::NewTicket { follow_up_of } => {
            let new = NewTicket {
                workspace_id: ws,
                kind: TicketKind::Direct,
                origin: switchboard_domain::Origin::Agent,
                subject: subject_from(None, message.body.as_deref()),
                channel: account.kind,
                channel_account_id: account.id,
                conversation_id: direct.id,
                contact_id: Some(commenter),
                assignee_id: Some(actor.agent.id),
                follow_up_of,
                public_ticket_id: Some(ticket.id),
                last_inbound_at: None,
            };
            let (id, number) = tickets::create(conn, &new, now).await?;
            finish_new_ticket(conn, ws, &account, ConversationKind::Direct, id, number, follow_up_of, who, now).await?;
            change_status(conn, ws, id, TicketStatus::New, TicketStatus::Open, who, now).await?;
            id
        }
    };
    let t = tickets::get(conn, ws, direct_ticket).await?.ok_or(ServiceError::NotFound("ticket"))?;
    Ok((t, direct.id))
}
