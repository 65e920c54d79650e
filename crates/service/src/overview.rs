//! What an agent's screens gather in one read: a ticket with everything around it (the
//! conversation, the log, who is who, the line's templates, linked tickets), a contact with
//! their identities and tickets, and what a new ticket may send to a contact on a line.

use std::collections::HashMap;

use switchboard_domain::reply_rules::{self, SendContext, SendKind, SendVerdict};
use switchboard_domain::{
    Agent, ChannelAccount, ChannelAccountId, ChannelKind, Contact, ContactId, ConversationKind, Event, Message,
    ReplyWindow, Team, TicketId,
};
use switchboard_store::templates::TemplateRow;
use switchboard_store::tickets::TicketFilter;
use switchboard_store::{accounts, agents, contacts, conversations, events, messages, templates, tickets};

use crate::contacts::ContactView;
use crate::tickets::TicketView;
use crate::{Actor, Service, ServiceError, ServiceResult};

/// Another ticket a ticket links to, by number.
#[derive(Debug, Clone)]
pub struct TicketLink {
    pub id: TicketId,
    pub number: i64,
}

/// A ticket page's worth of data.
#[derive(Debug, Clone)]
pub struct TicketOverview {
    pub view: TicketView,
    pub messages: Vec<Message>,
    pub events: Vec<Event>,
    pub account: ChannelAccount,
    /// The customer of a direct ticket. Contacts here carry a name to show when a platform
    /// gave one (see [`named_contacts`]).
    pub contact: Option<Contact>,
    /// Everyone who wrote in a public thread.
    pub participants: Vec<Contact>,
    /// The workspace's agents and teams, to assign and to name authors.
    pub agents: Vec<Agent>,
    /// The agents who are online now.
    pub online: Vec<switchboard_domain::AgentId>,
    pub teams: Vec<Team>,
    /// Templates of the line that may be sent (approved or made here).
    pub templates: Vec<TemplateRow>,
    pub previous: Option<TicketLink>,
    pub follow_ups: Vec<TicketLink>,
    pub public_thread: Option<TicketLink>,
    /// The custom fields admins defined, to show and edit on the ticket.
    pub field_defs: Vec<crate::fields::FieldDef>,
    /// The macros an agent may apply from the reply box.
    pub macros: Vec<crate::macros::Macro>,
}

/// A contact page's worth of data.
#[derive(Debug, Clone)]
pub struct ContactOverview {
    pub contact: ContactView,
    /// Every ticket of the contact, on every channel, latest activity first.
    pub tickets: Vec<TicketView>,
    /// The workspace's lines, to name each identity's.
    pub accounts: Vec<ChannelAccount>,
}

/// What an agent may send to a contact on a line now, said before they write.
#[derive(Debug, Clone)]
pub struct SendOptions {
    pub account: ChannelAccount,
    /// Free text may be sent.
    pub free_form: bool,
    /// A template may be sent (WhatsApp).
    pub template: bool,
    /// The window as a reply box shows it.
    pub window: ReplyWindow,
    /// When nothing may be sent, or only a template: why, in words.
    pub refusal: Option<String>,
    /// The contact already has a live ticket on this line: answer it there.
    pub open_ticket: Option<TicketLink>,
    /// The line's templates, when a template may be sent.
    pub templates: Vec<TemplateRow>,
}

/// What the "+ New" composer shows once a contact is picked.
#[derive(Debug, Clone)]
pub struct NewTicketOverview {
    pub contact: Contact,
    /// The workspace's enabled lines to pick from.
    pub accounts: Vec<ChannelAccount>,
    /// What the picked line allows now.
    pub options: Option<SendOptions>,
}

impl Service {
    /// The composer of a new ticket for `contact`, and what `account` (if picked) allows.
    pub async fn new_ticket_overview(
        &self,
        actor: &Actor,
        contact: ContactId,
        account: Option<ChannelAccountId>,
    ) -> ServiceResult<NewTicketOverview> {
        let found = self.get_contact(actor, contact).await?.contact;
        let accounts = self.list_accounts(actor).await?.into_iter().filter(|a| a.enabled).collect();
        let options = match account {
            Some(account) => Some(self.send_options(actor, contact, account).await?),
            None => None,
        };
        Ok(NewTicketOverview { contact: found, accounts, options })
    }

    /// The workspace's agents and teams, to pick from.
    pub async fn people(&self, actor: &Actor) -> ServiceResult<(Vec<Agent>, Vec<Team>)> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let agents = agents::list(&mut conn, actor.workspace()).await?;
        let teams = agents::list_teams(&mut conn, actor.workspace()).await?;
        Ok((agents, teams))
    }

    /// A ticket with its conversation, log, people, templates and links.
    pub async fn ticket_overview(&self, actor: &Actor, id: TicketId) -> ServiceResult<TicketOverview> {
        let ws = actor.workspace();
        let view = self.get_ticket(actor, id).await?;
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let ticket = &view.ticket;
        let messages = messages::list_for_ticket(&mut conn, ws, id).await?;
        let field_defs = switchboard_store::fields::list(&mut conn, ws).await?;
        let macros = switchboard_store::macros::list(&mut conn, ws).await?;
        let events = events::list_for_ticket(&mut conn, ws, id).await?;
        let account = accounts::get(&mut conn, ws, ticket.channel_account_id)
            .await?
            .ok_or(ServiceError::NotFound("channel account"))?;
        // The customer and everyone who wrote in a public thread (hundreds on a busy post): two
        // queries for all of them.
        let people: Vec<ContactId> = ticket.contact_id.into_iter().chain(ticket.participants.iter().copied()).collect();
        let people = named_contacts(&mut conn, ws, &people).await?;
        let contact = ticket.contact_id.and_then(|c| people.get(&c).cloned());
        let participants = ticket.participants.iter().filter_map(|p| people.get(p).cloned()).collect();
        let agents = agents::list(&mut conn, ws).await?;
        let online = agents::online(&mut conn, ws).await?;
        let teams = agents::list_teams(&mut conn, ws).await?;
        let templates = if account.kind == ChannelKind::Whatsapp {
            sendable(templates::list(&mut conn, ws, account.id).await?)
        } else {
            Vec::new()
        };
        let link = |t: &switchboard_domain::Ticket| TicketLink { id: t.id, number: t.number };
        let previous = match ticket.follow_up_of {
            Some(p) => tickets::get(&mut conn, ws, p).await?.as_ref().map(link),
            None => None,
        };
        let public_thread = match ticket.public_ticket_id {
            Some(p) => tickets::get(&mut conn, ws, p).await?.as_ref().map(link),
            None => None,
        };
        let follow_ups = tickets::follow_ups(&mut conn, ws, id)
            .await?
            .into_iter()
            .map(|(id, number)| TicketLink { id, number })
            .collect();
        Ok(TicketOverview {
            view,
            messages,
            events,
            account,
            contact,
            participants,
            agents,
            online,
            teams,
            templates,
            previous,
            follow_ups,
            public_thread,
            field_defs,
            macros,
        })
    }

    /// A contact with their identities, every ticket and the lines they are known on.
    pub async fn contact_overview(&self, actor: &Actor, id: ContactId) -> ServiceResult<ContactOverview> {
        let contact = self.get_contact(actor, id).await?;
        let filter = TicketFilter { contact: Some(id), ..TicketFilter::default() };
        let tickets = self.list_tickets(actor, &filter, None, 100).await?.tickets;
        let accounts = self.list_accounts(actor).await?;
        Ok(ContactOverview { contact, tickets, accounts })
    }

    /// What may be sent to `contact` on `account` now, as the reply rules see it, without
    /// storing anything.
    pub async fn send_options(
        &self,
        actor: &Actor,
        contact: ContactId,
        account: ChannelAccountId,
    ) -> ServiceResult<SendOptions> {
        let ws = actor.workspace();
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let found = contacts::get(&mut conn, ws, contact).await?.ok_or(ServiceError::NotFound("contact"))?;
        let account = accounts::get(&mut conn, ws, account).await?.ok_or(ServiceError::NotFound("channel account"))?;
        let identity = contacts::identity_on(&mut conn, ws, contact, account.id).await?;
        let address = reply_rules::address_on(
            account.kind,
            identity.as_ref().map(|i| i.external_id.as_str()),
            found.email.as_deref(),
            found.phone.as_deref(),
        );
        let address = match address {
            Ok(address) => address,
            Err(why) => {
                let window = ReplyWindow { state: switchboard_domain::WindowState::Closed, closes_at: None };
                return Ok(SendOptions {
                    account,
                    free_form: false,
                    template: false,
                    window,
                    refusal: Some(format!("{} {why}", found.name.as_deref().unwrap_or("This contact"))),
                    open_ticket: None,
                    templates: Vec::new(),
                });
            }
        };
        let conversation = conversations::find(&mut conn, account.id, ConversationKind::Direct, &address).await?;
        let (last_inbound_at, sent) = match &conversation {
            Some(c) => (c.last_inbound_at, messages::outbound_since(&mut conn, c.id, c.last_inbound_at).await?),
            None => (None, 0),
        };
        let ctx = SendContext {
            channel: account.kind,
            conversation: ConversationKind::Direct,
            last_inbound_at,
            now: self.now(),
            sent_since_last_inbound: sent,
        };
        let free = reply_rules::can_send(&ctx, SendKind::FreeForm);
        let template = matches!(reply_rules::can_send(&ctx, SendKind::Template), SendVerdict::Allowed);
        let open_ticket = match &conversation {
            Some(c) => match tickets::latest_in_conversation(&mut conn, c.id).await? {
                Some(t) if t.status.is_active() => {
                    tickets::get(&mut conn, ws, t.id).await?.map(|t| TicketLink { id: t.id, number: t.number })
                }
                _ => None,
            },
            None => None,
        };
        let templates = if template { sendable(templates::list(&mut conn, ws, account.id).await?) } else { Vec::new() };
        Ok(SendOptions {
            free_form: !matches!(free, SendVerdict::Refused(_)),
            template,
            window: reply_rules::reply_window(&ctx),
            refusal: match free {
                SendVerdict::Refused(r) => Some(r.message()),
                _ => None,
            },
            account,
            open_ticket,
            templates,
        })
    }
}

/// The live contacts among `ids`, by id, each with a name to show: their own, else the one a
/// platform gave an identity of theirs, else `@username` (comments often carry only that).
/// Two queries whatever their number (the second only for contacts without a name).
pub(crate) async fn named_contacts(
    conn: &mut switchboard_store::Conn<'_>,
    ws: switchboard_domain::WorkspaceId,
    ids: &[ContactId],
) -> ServiceResult<HashMap<ContactId, Contact>> {
    let found = contacts::get_many(conn, ws, ids).await?;
    let unnamed: Vec<ContactId> = found.iter().filter(|c| c.name.is_none()).map(|c| c.id).collect();
    let identities = contacts::identities_of_each(conn, ws, &unnamed).await?;
    Ok(found
        .into_iter()
        .map(|mut contact| {
            if let (None, Some(identities)) = (&contact.name, identities.get(&contact.id)) {
                contact.name = identities
                    .iter()
                    .find_map(|i| i.name.clone())
                    .or_else(|| identities.iter().find_map(|i| i.username.as_ref().map(|u| format!("@{u}"))));
            }
            (contact.id, contact)
        })
        .collect())
}

/// Templates that can be sent: the platform approved them, or they were made here.
fn sendable(all: Vec<TemplateRow>) -> Vec<TemplateRow> {
    all.into_iter().filter(|t| t.status == "approved" || t.status == "local").collect()
}

/// Names of the authors of a ticket's messages: agents by id, contacts by id.
pub fn author_names(overview: &TicketOverview) -> HashMap<uuid::Uuid, String> {
    let mut names: HashMap<uuid::Uuid, String> = overview.agents.iter().map(|a| (a.id.0, a.name.clone())).collect();
    for c in overview.contact.iter().chain(&overview.participants) {
        names.insert(c.id.0, c.name.clone().unwrap_or_else(|| "Customer".to_owned()));
    }
    names
}
