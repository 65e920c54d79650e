//! The notifier of the top bar (DESIGN §5): the caller's social tickets, and the ones nobody
//! has taken yet.

use serde::Serialize;
use switchboard_domain::channel::MESSAGING_SUPPORT_TAG;
use switchboard_domain::{ChannelKind, ContactId, TicketId, TicketStatus};
use switchboard_store::tickets::{AssigneeFilter, TicketFilter};
use switchboard_store::{messages, tickets};
use time::OffsetDateTime;

use crate::{Actor, Service, ServiceResult};

/// How many rows each tab shows before "Load more" opens the matching view.
pub const NOTIFIER_ROWS: i64 = 20;

/// What the latest activity on a ticket was, as the notifier words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// "Started a new chat": the ticket holds the customer's first message only.
    StartedNewChat,
    /// "Replied to the conversation".
    Replied,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotifierRow {
    pub ticket_id: TicketId,
    pub number: i64,
    pub status: TicketStatus,
    pub channel: ChannelKind,
    pub customer: Option<String>,
    pub subject: Option<String>,
    pub activity: Activity,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notifier {
    pub assigned: Vec<NotifierRow>,
    pub unassigned: Vec<NotifierRow>,
    /// The red dot: unassigned social tickets are waiting (new or open).
    pub unassigned_waiting: bool,
}

impl Service {
    pub async fn notifier(&self, actor: &Actor) -> ServiceResult<Notifier> {
        let social = vec![MESSAGING_SUPPORT_TAG.to_owned()];
        let assigned = TicketFilter {
            statuses: vec![TicketStatus::New, TicketStatus::Open],
            assignee: Some(AssigneeFilter::Agent(actor.agent.id)),
            tags: social.clone(),
            ..TicketFilter::default()
        };
        // "Any status" of DESIGN §5, less the two that need no one: closed and spam.
        let unassigned = TicketFilter {
            statuses: TicketStatus::ALL.into_iter().filter(|s| s.is_live()).collect(),
            assignee: Some(AssigneeFilter::Nobody),
            tags: social.clone(),
            ..TicketFilter::default()
        };
        let waiting = TicketFilter { statuses: vec![TicketStatus::New, TicketStatus::Open], ..unassigned.clone() };
        let ws = actor.workspace();
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let mut tabs = Vec::with_capacity(2);
        for filter in [assigned, unassigned] {
            let found = tickets::list(&mut conn, ws, &filter, None, NOTIFIER_ROWS).await?;
            let ids: Vec<TicketId> = found.iter().map(|t| t.id).collect();
            let counts = messages::inbound_counts(&mut conn, ws, &ids).await?;
            let customers: Vec<ContactId> = found.iter().filter_map(|t| t.contact_id).collect();
            let customers = crate::overview::named_contacts(&mut conn, ws, &customers).await?;
            let rows = found
                .into_iter()
                .map(|t| {
                    let inbound = counts.get(&t.id).copied().unwrap_or(0);
                    NotifierRow {
                        ticket_id: t.id,
                        number: t.number,
                        status: t.status,
                        channel: t.channel,
                        customer: t.contact_id.and_then(|c| customers.get(&c)).and_then(|c| c.name.clone()),
                        subject: t.subject,
                        activity: if inbound <= 1 { Activity::StartedNewChat } else { Activity::Replied },
                        updated_at: t.updated_at,
                    }
                })
                .collect();
            tabs.push(rows);
        }
        let unassigned_waiting = !tickets::list(&mut conn, ws, &waiting, None, 1).await?.is_empty();
        let unassigned = tabs.pop().unwrap_or_default();
        let assigned = tabs.pop().unwrap_or_default();
        Ok(Notifier { assigned, unassigned, unassigned_waiting })
    }
}
