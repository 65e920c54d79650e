//! Tickets: reading, changing, answering, and opening them as an agent.

use std::collections::BTreeMap;

use switchboard_domain::reply_rules::{self, Refusal, SendContext};
use switchboard_domain::{
    AgentId, Attachment, AuthorKind, ChannelAccountId, ChannelKind, ContactId, Conversation, ConversationKind,
    DeliveryStatus, Direction, Event, EventKind, InboundSender, Message, MessageId, Origin, Priority, ReplyWindow, Tag,
    TeamId, Ticket, TicketId, TicketKind, TicketStatus, Visibility,
};
use switchboard_store::conversations::NewConversation;
use switchboard_store::messages::NewMessage;
use switchboard_store::tickets::NewTicket;
pub use switchboard_store::tickets::{AssigneeFilter, Cursor, TicketFilter};
use switchboard_store::{
    Conn, StoreError, accounts, agents, contacts, conversations, events, messages, outbox, tickets,
};
use time::OffsetDateTime;

use crate::compose::{Draft, check_send, compose, private_reply_ticket, validate_body};
use crate::ingest::{change_status, finish_new_ticket, subject_from};
use crate::live::{LiveEvent, LiveEventKind, record};
use crate::{Actor, Service, ServiceError, ServiceResult};

/// A ticket with its reply window as of now.
#[derive(Debug, Clone)]
pub struct TicketView {
    pub ticket: Ticket,
    pub reply_window: ReplyWindow,
}

/// A page of tickets and where the next one starts.
#[derive(Debug, Clone)]
pub struct TicketPage {
    pub tickets: Vec<TicketView>,
    pub next_cursor: Option<Cursor>,
}

/// Changes an agent asks for. `None` leaves a value as it is; for the nullable ones,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub subject: Option<String>,
    pub assignee_id: Option<Option<AgentId>>,
    pub team_id: Option<Option<TeamId>>,
    pub add_tags: Vec<Tag>,
    pub remove_tags: Vec<Tag>,
    /// Custom fields to set; a `null` value removes the field.
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// An agent's message on a ticket: a reply to the customer or an internal note.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub draft: Draft,
    pub visibility: Visibility,
    /// The status to leave the ticket in ("submit as pending").
    pub status: Option<TicketStatus>,
    /// In a public thread: the comment (an inbound message of the ticket) the reply answers;
    /// by default the latest one.
    pub reply_to: Option<MessageId>,
    /// Answer this public comment privately, in the commenter's direct conversation.
    pub private_reply_to: Option<MessageId>,
}

/// The reply rules' view of a conversation now.
async fn send_context(
    conn: &mut Conn<'_>,
    channel: ChannelKind,
    conversation: &Conversation,
    now: OffsetDateTime,
) -> ServiceResult<SendContext> {
    let sent = messages::outbound_since(conn, conversation.id, conversation.last_inbound_at).await?;
    Ok(context_of(channel, conversation, now, sent))
}

/// The reply rules' view of a conversation that got `sent` outbound messages since its last
/// inbound one.
fn context_of(channel: ChannelKind, conversation: &Conversation, now: OffsetDateTime, sent: u32) -> SendContext {
    SendContext {
        channel,
        conversation: conversation.kind,
        last_inbound_at: conversation.last_inbound_at,
        now,
        sent_since_last_inbound: sent,
    }
}

impl Service {
    async fn view(&self, conn: &mut Conn<'_>, ticket: Ticket) -> ServiceResult<TicketView> {
        let ws = ticket.workspace_id;
        self.ticket_views(conn, ws, vec![ticket]).await?.pop().ok_or(ServiceError::NotFound("ticket"))
    }

    /// The tickets of workspace `ws` with their reply windows, in their order: two queries
    /// (their conversations, then the outbound messages of each since its last inbound one)
    /// whatever their number, so that a page costs the same few round trips on PostgreSQL
    /// for 1 ticket or 100.
    async fn ticket_views(
        &self,
        conn: &mut Conn<'_>,
        ws: switchboard_domain::WorkspaceId,
        tickets: Vec<Ticket>,
    ) -> ServiceResult<Vec<TicketView>> {
        let ids: Vec<_> = tickets.iter().map(|t| t.conversation_id).collect();
        let found: std::collections::HashMap<_, Conversation> =
            conversations::get_many(conn, ws, &ids).await?.into_iter().map(|c| (c.id, c)).collect();
        let since: Vec<_> = found.values().map(|c| (c.id, c.last_inbound_at)).collect();
        let sent = messages::outbound_since_each(conn, &since).await?;
        let now = self.now();
        tickets
            .into_iter()
            .map(|ticket| {
                let conversation = found.get(&ticket.conversation_id).ok_or(ServiceError::NotFound("conversation"))?;
                let sent = sent.get(&conversation.id).copied().unwrap_or(0);
                let ctx = context_of(ticket.channel, conversation, now, sent);
                Ok(TicketView { ticket, reply_window: reply_rules::reply_window(&ctx) })
            })
            .collect()
    }

    async fn load(&self, conn: &mut Conn<'_>, actor: &Actor, id: TicketId) -> ServiceResult<Ticket> {
        tickets::get(conn, actor.workspace(), id).await?.ok_or(ServiceError::NotFound("ticket"))
    }

    pub async fn get_ticket(&self, actor: &Actor, id: TicketId) -> ServiceResult<TicketView> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let ticket = self.load(&mut conn, actor, id).await?;
        self.view(&mut conn, ticket).await
    }

    pub async fn list_tickets(
        &self,
        actor: &Actor,
        filter: &TicketFilter,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> ServiceResult<TicketPage> {
        let limit = crate::page_limit(limit);
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let found = tickets::list(&mut conn, actor.workspace(), filter, cursor, limit + 1).await?;
        // The cursor holds the key of the list's order (activity, creation or status rank).
        let order = tickets::Order::of(filter);
        let (found, next_cursor) = crate::page(found, limit, |t| (order.key_of(t), t.id.0));
        let tickets = self.ticket_views(&mut conn, actor.workspace(), found).await?;
        Ok(TicketPage { tickets, next_cursor })
    }

    pub async fn list_messages(&self, actor: &Actor, id: TicketId) -> ServiceResult<Vec<Message>> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        self.load(&mut conn, actor, id).await?;
        Ok(messages::list_for_ticket(&mut conn, actor.workspace(), id).await?)
    }

    pub async fn list_events(&self, actor: &Actor, id: TicketId) -> ServiceResult<Vec<Event>> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        self.load(&mut conn, actor, id).await?;
        Ok(events::list_for_ticket(&mut conn, actor.workspace(), id).await?)
    }

    /// Applies an agent's changes, with one event per change, in one transaction.
    pub async fn patch_ticket(&self, actor: &Actor, id: TicketId, patch: TicketPatch) -> ServiceResult<TicketView> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        self.apply_patch(&mut conn, actor, id, patch, now).await?;
        let ticket = self.load(&mut conn, actor, id).await?;
        let view = self.view(&mut conn, ticket).await?;
        let updated = LiveEvent { workspace_id: actor.workspace(), kind: LiveEventKind::TicketUpdated, ticket_id: id };
        let recorded = record(&mut conn, now, &[updated]).await?;
        tx.commit().await?;
        self.live().publish(recorded);
        Ok(view)
    }

    /// The changes of a patch, with their events, inside the caller's transaction.
    pub(crate) async fn apply_patch(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        id: TicketId,
        mut patch: TicketPatch,
        now: OffsetDateTime,
    ) -> ServiceResult<()> {
        let ws = actor.workspace();
        let mut ticket = self.load(conn, actor, id).await?;
        if ticket.status == TicketStatus::Closed {
            return Err(ServiceError::conflict(
                "ticket_closed",
                "a closed ticket cannot change; the customer's next message opens a follow-up",
            ));
        }
        let who = actor.store_actor();
        let mut changes: Vec<(EventKind, serde_json::Value)> = Vec::new();
        let solving = patch.status == Some(TicketStatus::Solved) && ticket.status != TicketStatus::Solved;
        let defs = crate::fields::defs_for(conn, actor, !patch.fields.is_empty(), solving).await?;
        crate::fields::check_values(&defs, &mut patch.fields)?;

        if let Some(status) = patch.status
            && status != ticket.status
        {
            ticket.status.transition(status)?;
            changes.push((EventKind::StatusChanged, serde_json::json!({"from": ticket.status, "to": status})));
            ticket.solved_at = match status {
                TicketStatus::Solved => Some(now),
                TicketStatus::Closed => ticket.solved_at,
                _ => None,
            };
            ticket.status = status;
        }
        if let Some(priority) = patch.priority
            && priority != ticket.priority
        {
            changes.push((EventKind::PriorityChanged, serde_json::json!({"from": ticket.priority, "to": priority})));
            ticket.priority = priority;
        }
        if let Some(subject) = patch.subject {
            let subject = subject.trim().to_owned();
            if subject.is_empty() || subject.chars().count() > 250 {
                return Err(ServiceError::invalid("subject", "a subject has 1 to 250 characters"));
            }
            if ticket.subject.as_deref() != Some(subject.as_str()) {
                changes.push((
                    EventKind::FieldChanged,
                    serde_json::json!({"field": "subject", "from": ticket.subject, "to": subject}),
                ));
                ticket.subject = Some(subject);
            }
        }
        if let Some(assignee) = patch.assignee_id {
            if let Some(agent) = assignee {
                let found = agents::get(conn, ws, agent).await?;
                if !found.is_some_and(|a| a.active) {
                    return Err(ServiceError::invalid("assignee_id", "no active agent with that id in this workspace"));
                }
            }
            if assignee != ticket.assignee_id {
                changes.push((EventKind::Assigned, serde_json::json!({"from": ticket.assignee_id, "to": assignee})));
                ticket.assignee_id = assignee;
            }
        }
        if let Some(team) = patch.team_id {
            if let Some(team) = team
                && agents::get_team(conn, ws, team).await?.is_none()
            {
                return Err(ServiceError::invalid("team_id", "no team with that id in this workspace"));
            }
            if team != ticket.team_id {
                changes.push((EventKind::TeamChanged, serde_json::json!({"from": ticket.team_id, "to": team})));
                ticket.team_id = team;
            }
        }
        for (key, value) in patch.fields {
            if key.trim().is_empty() || key.len() > 64 {
                return Err(ServiceError::invalid("fields", "a field name has 1 to 64 characters"));
            }
            let old = ticket.fields.get(&key).cloned();
            let new = (!value.is_null()).then_some(value);
            if old != new {
                changes.push((EventKind::FieldChanged, serde_json::json!({"field": key, "from": old, "to": new})));
                match new {
                    Some(v) => ticket.fields.insert(key, v),
                    None => ticket.fields.remove(&key),
                };
            }
        }
        for tag in &patch.add_tags {
            if tickets::add_tag(conn, ws, id, tag.as_str()).await? {
                changes.push((EventKind::TagAdded, serde_json::json!({"tag": tag})));
            }
        }
        for tag in &patch.remove_tags {
            if tickets::remove_tag(conn, ws, id, tag.as_str()).await? {
                changes.push((EventKind::TagRemoved, serde_json::json!({"tag": tag})));
            }
        }
        if solving {
            crate::fields::check_solvable(&defs, &ticket.fields)?;
        }
        if !changes.is_empty() {
            ticket.updated_at = now.max(ticket.updated_at);
            tickets::save(conn, &ticket).await?;
            for (kind, data) in changes {
                events::insert(conn, ws, id, kind, who, data, now).await?;
            }
        }
        Ok(())
    }

    /// An agent's reply (queued for delivery through the outbox) or internal note, with the
    /// status to leave the ticket in. A reply the channel's rules refuse stores nothing.
    pub async fn add_message(&self, actor: &Actor, id: TicketId, reply: NewReply) -> ServiceResult<Message> {
        let now = self.now();
        let note = reply.visibility == Visibility::Internal;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let message_id = self.write_reply(&mut conn, actor, id, reply, now).await?;
        let message =
            messages::get(&mut conn, actor.workspace(), message_id).await?.ok_or(ServiceError::NotFound("message"))?;
        let updated = LiveEvent { workspace_id: actor.workspace(), kind: LiveEventKind::TicketUpdated, ticket_id: id };
        let recorded = record(&mut conn, now, &[updated]).await?;
        tx.commit().await?;
        if !note {
            self.outbox_signal.notify_one();
        }
        self.live().publish(recorded);
        Ok(message)
    }

    /// A reply or note and the status it leaves the ticket in, inside the caller's transaction.
    pub(crate) async fn write_reply(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        id: TicketId,
        reply: NewReply,
        now: OffsetDateTime,
    ) -> ServiceResult<MessageId> {
        let ws = actor.workspace();
        let ticket = self.load(conn, actor, id).await?;
        if ticket.status == TicketStatus::Closed {
            return Err(ServiceError::conflict(
                "ticket_closed",
                "a closed ticket cannot change; open a new ticket for the customer instead",
            ));
        }
        let conversation = conversations::get(conn, ws, ticket.conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let account = accounts::get(conn, ws, ticket.channel_account_id)
            .await?
            .ok_or(ServiceError::NotFound("channel account"))?;
        let mut reply = reply;
        self.resolve_files(conn, actor, &mut reply.draft).await?;
        let note = reply.visibility == Visibility::Internal;
        let message_id = if note {
            if reply.draft.template.is_some() || reply.reply_to.is_some() || reply.private_reply_to.is_some() {
                return Err(ServiceError::invalid(
                    "visibility",
                    "an internal note is never sent: it takes no template, reply_to or private_reply_to",
                ));
            }
            let body = validate_body(&reply.draft.body, &reply.draft.attachments)?;
            let draft = AgentMessage::note(body, reply.draft.attachments);
            write_agent_message(conn, ws, &ticket, conversation.id, actor, draft, now).await?
        } else if let Some(comment) = reply.private_reply_to {
            if reply.draft.template.is_some() {
                return Err(ServiceError::invalid("template", "a private reply is free text"));
            }
            let body = validate_body(&reply.draft.body, &reply.draft.attachments)?;
            let (direct, direct_conversation) = private_reply_ticket(conn, actor, &ticket, comment, now).await?;
            let draft = AgentMessage {
                private_reply_to: Some(comment),
                ..AgentMessage::public(body, reply.draft.attachments, None, None)
            };
            let sent =
                write_agent_message(conn, ws, &direct, direct_conversation, actor, draft, now).await.map_err(|e| {
                    match e {
                        // Two agents answering the same comment at once: the database keeps one.
                        ServiceError::Store(StoreError::Conflict(_)) => {
                            ServiceError::Refused(Refusal::PrivateReplyUsed)
                        }
                        other => other,
                    }
                })?;
            let data =
                serde_json::json!({"private_reply_to": comment, "direct_ticket_id": direct.id, "message_id": sent});
            events::insert(conn, ws, id, EventKind::MessageQueued, actor.store_actor(), data, now).await?;
            tickets::touch(conn, direct.id, now, None).await?;
            sent
        } else {
            let composed = compose(conn, &account, reply.draft).await?;
            let public = conversation.kind == switchboard_domain::ConversationKind::Public;
            if public && account.kind == ChannelKind::Messenger && !composed.attachments.is_empty() {
                return Err(ServiceError::invalid(
                    "attachments",
                    "Facebook public replies cannot carry attachments: send text, or reply privately",
                ));
            }
            let reply_to = match reply.reply_to {
                None => None,
                Some(_) if !public => {
                    return Err(ServiceError::invalid("reply_to", "reply_to picks a comment in a public thread"));
                }
                Some(m) => Some(
                    messages::get(conn, ws, m)
                        .await?
                        .filter(|c| c.ticket_id == Some(id) && c.direction == switchboard_domain::Direction::Inbound)
                        .and_then(|c| c.platform_message_id)
                        .ok_or_else(|| ServiceError::invalid("reply_to", "not a comment of this ticket"))?,
                ),
            };
            let ctx = send_context(conn, ticket.channel, &conversation, now).await?;
            check_send(&ctx, composed.kind)?;
            let draft = AgentMessage::public(composed.body, composed.attachments, composed.template, reply_to);
            write_agent_message(conn, ws, &ticket, conversation.id, actor, draft, now).await?
        };
        let who = actor.store_actor();
        // An agent's public reply moves a new ticket to open unless they chose a status.
        let target = reply.status.or((!note && ticket.status == TicketStatus::New).then_some(TicketStatus::Open));
        if let Some(status) = target.filter(|s| *s != ticket.status) {
            ticket.status.transition(status)?;
            if status == TicketStatus::Solved {
                let defs = crate::fields::defs_for(conn, actor, false, true).await?;
                crate::fields::check_solvable(&defs, &ticket.fields)?;
            }
            change_status(conn, ws, id, ticket.status, status, who, now).await?;
        }
        tickets::touch(conn, id, now, None).await?;
        Ok(message_id)
    }

    /// An agent opens a ticket on a contact through one of the workspace's lines and writes
    /// the first message. The channel's rules decide before anything is stored; the agent
    /// becomes the assignee.
    pub async fn start_ticket(
        &self,
        actor: &Actor,
        contact_id: ContactId,
        account_id: ChannelAccountId,
        draft: Draft,
    ) -> ServiceResult<(TicketView, Message)> {
        let now = self.now();
        let ws = actor.workspace();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let contact = contacts::get(&mut conn, ws, contact_id).await?.ok_or(ServiceError::NotFound("contact"))?;
        let account =
            accounts::get(&mut conn, ws, account_id).await?.ok_or(ServiceError::NotFound("channel account"))?;

        // The contact's identity on that line, or the address on their profile where the
        // platform lets a business write first (e-mail, SMS, WhatsApp with a template).
        let known = contacts::identity_on(&mut conn, ws, contact.id, account.id).await?;
        let identity = reply_rules::address_on(
            account.kind,
            known.as_ref().map(|i| i.external_id.as_str()),
            contact.email.as_deref(),
            contact.phone.as_deref(),
        )
        .map_err(|why| ServiceError::invalid("channel_account_id", format!("this contact {why}")))?;
        if known.is_none() {
            if let Some((other, _)) = contacts::find_identity(&mut conn, account.id, &identity).await? {
                return Err(ServiceError::conflict(
                    "identity_taken",
                    format!(
                        "{identity} on this line belongs to another contact ({}): write from their page, or merge the two",
                        other.contact_id
                    ),
                ));
            }
            let phone = (account.kind == ChannelKind::Whatsapp).then(|| contact.phone.clone()).flatten();
            let sender = InboundSender { external_id: identity.clone(), phone, ..InboundSender::default() };
            contacts::create_identity(&mut conn, ws, contact.id, account.id, &sender, now).await?;
        }
        let conversation = match conversations::find(&mut conn, account.id, ConversationKind::Direct, &identity).await?
        {
            Some(c) => c,
            None => {
                let new = NewConversation {
                    workspace_id: ws,
                    channel_account_id: account.id,
                    kind: ConversationKind::Direct,
                    thread_key: &identity,
                    contact_id: Some(contact.id),
                    title: None,
                };
                conversations::create(&mut conn, &new, now).await?
            }
        };
        let mut draft = draft;
        self.resolve_files(&mut conn, actor, &mut draft).await?;
        let composed = compose(&mut conn, &account, draft).await?;
        let ctx = send_context(&mut conn, account.kind, &conversation, now).await?;
        check_send(&ctx, composed.kind)?;

        let latest = tickets::latest_in_conversation(&mut conn, conversation.id).await?;
        let follow_up_of = match latest {
            Some(t) if t.status.is_active() => {
                return Err(ServiceError::conflict(
                    "ticket_open",
                    format!("this contact already has an open ticket on this line ({}); answer it there", t.id),
                ));
            }
            Some(t) => {
                if t.status == TicketStatus::Solved {
                    change_status(&mut conn, ws, t.id, t.status, TicketStatus::Closed, actor.store_actor(), now)
                        .await?;
                }
                Some(t.id)
            }
            None => None,
        };
        let new = NewTicket {
            workspace_id: ws,
            kind: TicketKind::Direct,
            origin: Origin::Agent,
            subject: subject_from(None, composed.body.as_deref()),
            channel: account.kind,
            channel_account_id: account.id,
            conversation_id: conversation.id,
            contact_id: Some(contact.id),
            assignee_id: Some(actor.agent.id),
            follow_up_of,
            public_ticket_id: None,
            last_inbound_at: None,
        };
        let (ticket_id, number) = tickets::create(&mut conn, &new, now).await?;
        let who = actor.store_actor();
        finish_new_ticket(&mut conn, ws, &account, ConversationKind::Direct, ticket_id, number, follow_up_of, who, now)
            .await?;
        let ticket = self.load(&mut conn, actor, ticket_id).await?;
        let draft = AgentMessage::public(composed.body, composed.attachments, composed.template, None);
        let message_id = write_agent_message(&mut conn, ws, &ticket, conversation.id, actor, draft, now).await?;
        change_status(&mut conn, ws, ticket_id, TicketStatus::New, TicketStatus::Open, who, now).await?;
        let ticket = self.load(&mut conn, actor, ticket_id).await?;
        let view = self.view(&mut conn, ticket).await?;
        let message = messages::get(&mut conn, ws, message_id).await?.ok_or(ServiceError::NotFound("message"))?;
        let created = LiveEvent { workspace_id: ws, kind: LiveEventKind::TicketCreated, ticket_id };
        let recorded = record(&mut conn, now, &[created]).await?;
        tx.commit().await?;
        self.outbox_signal.notify_one();
        self.live().publish(recorded);
        Ok((view, message))
    }
}

/// What an agent writes on a ticket.
struct AgentMessage {
    visibility: Visibility,
    body: Option<String>,
    attachments: Vec<Attachment>,
    template: Option<serde_json::Value>,
    reply_to: Option<String>,
    private_reply_to: Option<MessageId>,
}

impl AgentMessage {
    fn note(body: Option<String>, attachments: Vec<Attachment>) -> Self {
        Self {
            visibility: Visibility::Internal,
            body,
            attachments,
            template: None,
            reply_to: None,
            private_reply_to: None,
        }
    }

    fn public(
        body: Option<String>,
        attachments: Vec<Attachment>,
        template: Option<serde_json::Value>,
        reply_to: Option<String>,
    ) -> Self {
        Self { visibility: Visibility::Public, body, attachments, template, reply_to, private_reply_to: None }
    }
}

/// Writes an agent's message with its event: a public one is an outbound message queued in
/// the outbox (delivered by a worker, so a crash never loses or doubles it); an internal one
/// is a note that goes nowhere.
async fn write_agent_message(
    conn: &mut Conn<'_>,
    ws: switchboard_domain::WorkspaceId,
    ticket: &Ticket,
    conversation: switchboard_domain::ConversationId,
    actor: &Actor,
    draft: AgentMessage,
    now: OffsetDateTime,
) -> ServiceResult<switchboard_domain::MessageId> {
    let note = draft.visibility == Visibility::Internal;
    // The widget is our own platform: the customer's messenger reads the message from here,
    // so it is delivered the moment it is stored — no outbox row, no platform call.
    let widget = ticket.channel == ChannelKind::Widget;
    let message_id = messages::insert(
        conn,
        &NewMessage {
            workspace_id: ws,
            conversation_id: conversation,
            ticket_id: Some(ticket.id),
            channel_account_id: ticket.channel_account_id,
            direction: if note { Direction::Note } else { Direction::Outbound },
            visibility: draft.visibility,
            author_kind: AuthorKind::Agent,
            author_id: Some(actor.agent.id.0),
            body: draft.body,
            attachments: draft.attachments,
            template: draft.template,
            platform_message_id: None,
            delivery_status: (!note).then_some(if widget { DeliveryStatus::Delivered } else { DeliveryStatus::Queued }),
            private_reply_to: draft.private_reply_to,
            reply_to: draft.reply_to,
            sent_at: None,
        },
        now,
    )
    .await?;
    let (kind, data) = if note {
        (EventKind::NoteAdded, serde_json::json!({ "message_id": message_id }))
    } else if widget {
        let data = serde_json::json!({
            "message_id": message_id,
            "channel": ChannelKind::Widget.as_str(),
            "text": "sent to the website chat",
        });
        (EventKind::MessageSent, data)
    } else {
        outbox::enqueue(conn, ws, message_id, ticket.channel_account_id, now).await?;
        (EventKind::MessageQueued, serde_json::json!({ "message_id": message_id }))
    };
    events::insert(conn, ws, ticket.id, kind, actor.store_actor(), data, now).await?;
    Ok(message_id)
}
