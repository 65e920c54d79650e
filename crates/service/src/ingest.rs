//! Ingest: inbound items from any channel become messages on tickets (DESIGN §2).
//!
//! Requests are committed in groups (DESIGN §11): one writer task takes every request that is
//! waiting, runs each in its own savepoint of one shared transaction, commits once, and only
//! then answers each request — nobody is acknowledged before their data is durable. A
//! request whose writes hit a uniqueness constraint (a racing node made the same customer
//! first) is rolled back to its savepoint and run again, and then finds what the other node
//! made: that is how two nodes racing on one new customer still make one ticket.

use std::sync::Arc;

use serde::Serialize;
use switchboard_domain::routing::{self, ConversationState, Route};
use switchboard_domain::{
    AuthorKind, ChannelAccount, Clock, ConversationKind, Direction, EventKind, InboundEvent, InboundItem, Origin,
    ThreadRef, TicketId, TicketKind, TicketStatus, Visibility, Workspace, WorkspaceId,
};
use switchboard_store::conversations::NewConversation;
use switchboard_store::events::Actor;
use switchboard_store::messages::NewMessage;
use switchboard_store::tickets::NewTicket;
use switchboard_store::{Conn, Db, StoreError, Tx, contacts, conversations, events, messages, tickets, workspaces};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::live::{LiveBus, LiveEvent, LiveEventKind, Recorded};
use crate::{ServiceError, ServiceResult};

/// The most requests one transaction takes.
const MAX_BATCH: usize = 512;
/// How often a request is retried after a conflict with a racing writer.
const MAX_ATTEMPTS: usize = 4;

/// What became of one inbound item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new ticket (first contact, a follow-up, or a new public thread).
    Created,
    /// Added to the live ticket.
    Appended,
    /// Added to a solved ticket, which reopened.
    Reopened,
    /// Already held: the platform redelivered it.
    Duplicate,
    /// Stored, but the sender is blocked: no ticket raised.
    Blocked,
    /// A receipt, reaction, edit, removal, reply token or subscription change was applied.
    Updated,
    /// About something we do not hold (a receipt for a message sent elsewhere): nothing to do.
    Ignored,
}

/// The result for one inbound event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemReport {
    /// The platform's id of the message the event is (about), when it names one.
    pub platform_message_id: String,
    pub outcome: Outcome,
    pub ticket_id: Option<TicketId>,
    /// The workspace of the line the event came in on: live events go to it alone (one Meta
    /// delivery can carry lines of several workspaces).
    #[serde(skip)]
    pub workspace_id: Option<WorkspaceId>,
}

/// The events of one webhook delivery, per line: stored all together or not at all.
pub type Lines = Vec<(ChannelAccount, Vec<InboundEvent>)>;

struct Job {
    lines: Lines,
    reply: oneshot::Sender<ServiceResult<Vec<ItemReport>>>,
}

/// The handle to the group-commit writer.
#[derive(Clone)]
pub struct Ingestor {
    jobs: mpsc::Sender<Job>,
}

impl Ingestor {
    pub(crate) fn start(db: Db, clock: Arc<dyn Clock>, live: LiveBus) -> Self {
        let (jobs, rx) = mpsc::channel(8192);
        tokio::spawn(writer(db, clock, live, rx));
        Self { jobs }
    }
}

impl crate::Service {
    /// Routes and stores customer messages received on `account`. Returns once they are
    /// committed (or were already held).
    pub async fn ingest(&self, account: ChannelAccount, items: Vec<InboundItem>) -> ServiceResult<Vec<ItemReport>> {
        self.ingest_events(vec![(account, items.into_iter().map(InboundEvent::Message).collect())]).await
    }

    /// Stores every event of one webhook delivery — messages, echoes, receipts, reactions,
    /// edits — for each line it names, in one transaction. Returns once they are committed.
    pub async fn ingest_events(&self, lines: Lines) -> ServiceResult<Vec<ItemReport>> {
        if lines.iter().all(|(_, events)| events.is_empty()) {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.ingestor
            .jobs
            .send(Job { lines, reply })
            .await
            .map_err(|_| ServiceError::Store(StoreError::Transient("the ingest writer has stopped".into())))?;
        answer
            .await
            .map_err(|_| ServiceError::Store(StoreError::Transient("the ingest writer dropped a request".into())))?
    }
}

async fn writer(db: Db, clock: Arc<dyn Clock>, live: LiveBus, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (results, recorded) = commit_batch(&db, clock.as_ref(), &batch).await;
        live.publish(recorded);
        for (job, result) in batch.into_iter().zip(results) {
            // The caller may have gone away (client hung up); the data is committed anyway.
            let _ = job.reply.send(result);
        }
    }
}

/// What agents watching live should hear of the stored items.
fn live_events(reports: &[ItemReport]) -> impl Iterator<Item = LiveEvent> + '_ {
    reports.iter().filter_map(|r| {
        let kind = match r.outcome {
            Outcome::Created => LiveEventKind::TicketCreated,
            Outcome::Appended | Outcome::Reopened => LiveEventKind::MessageReceived,
            Outcome::Updated => LiveEventKind::TicketUpdated,
            Outcome::Duplicate | Outcome::Blocked | Outcome::Ignored => return None,
        };
        Some(LiveEvent { workspace_id: r.workspace_id?, kind, ticket_id: r.ticket_id? })
    })
}

/// Runs every job of the batch in one transaction; retries the whole batch when the database
/// reports a transient failure at commit (a deadlock between nodes, say).
async fn commit_batch(db: &Db, clock: &dyn Clock, batch: &[Job]) -> (Vec<ServiceResult<Vec<ItemReport>>>, Recorded) {
    let mut last_error = String::new();
    for _ in 0..MAX_ATTEMPTS {
        match try_batch(db, clock, batch).await {
            Ok(done) => return done,
            Err(StoreError::Transient(e)) => last_error = e,
            Err(e) => {
                tracing::error!(error = %e, "ingest batch failed");
                last_error = e.to_string();
                break;
            }
        }
    }
    let failed = batch.iter().map(|_| Err(ServiceError::Store(StoreError::Transient(last_error.clone())))).collect();
    (failed, Recorded::default())
}

async fn try_batch(
    db: &Db,
    clock: &dyn Clock,
    batch: &[Job],
) -> Result<(Vec<ServiceResult<Vec<ItemReport>>>, Recorded), StoreError> {
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(run_job(&mut tx, clock, job).await?);
    }
    // Recorded last, outside the requests' savepoints: only what is kept is announced, and
    // the workspace's head row is locked only for the moment before commit.
    let events: Vec<LiveEvent> = results.iter().flatten().flat_map(|reports| live_events(reports)).collect();
    let recorded = crate::live::record(&mut tx.conn(), clock.now(), &events).await?;
    tx.commit().await?;
    Ok((results, recorded))
}

/// One request inside its savepoint, retried after conflicts. An error that is the
/// request's own (a corrupt row) is answered to it alone; the batch goes on.
async fn run_job(tx: &mut Tx, clock: &dyn Clock, job: &Job) -> Result<ServiceResult<Vec<ItemReport>>, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        tx.savepoint("ingest_job").await?;
        let mut outcome = Ok(Vec::new());
        for (account, events) in &job.lines {
            match ingest_line(&mut tx.conn(), clock.now(), account, events).await {
                Ok(reports) => {
                    if let Ok(all) = &mut outcome {
                        all.extend(reports);
                    }
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        match outcome {
            Ok(reports) => {
                tx.release("ingest_job").await?;
                return Ok(Ok(reports));
            }
            Err(StoreError::Conflict(_) | StoreError::Transient(_)) if attempt < MAX_ATTEMPTS => {
                tx.rollback_to("ingest_job").await?;
            }
            Err(e) => {
                tx.rollback_to("ingest_job").await?;
                tx.release("ingest_job").await?;
                tracing::warn!(error = %e, "ingest request failed");
                return Ok(Err(ServiceError::Store(e)));
            }
        }
    }
}

/// Stores each event of one line. Runs inside a transaction; the caller commits.
pub async fn ingest_line(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    account: &ChannelAccount,
    events: &[InboundEvent],
) -> Result<Vec<ItemReport>, StoreError> {
    let workspace = workspaces::get(conn, account.workspace_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("channel account without workspace".into()))?;
    let mut reports = Vec::with_capacity(events.len());
    for event in events {
        let report = match event {
            InboundEvent::Message(item) => ingest_item(conn, now, &workspace, account, item).await?,
            other => ItemReport {
                workspace_id: Some(workspace.id),
                ..crate::ingest_events::apply(conn, now, &workspace, account, other).await?
            },
        };
        reports.push(report);
    }
    Ok(reports)
}

async fn ingest_item(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    item: &InboundItem,
) -> Result<ItemReport, StoreError> {
    let report = |outcome, ticket_id| ItemReport {
        platform_message_id: item.platform_message_id.clone(),
        outcome,
        ticket_id,
        workspace_id: Some(workspace.id),
    };
    if messages::exists(conn, account.id, &item.platform_message_id).await? {
        return Ok(report(Outcome::Duplicate, None));
    }
    // A platform clock a little ahead is fine; a timestamp far in the future (a bug or a forged
    // payload) would keep the reply window open for ever, so it counts as now.
    let at = item.sent_at.filter(|t| *t <= now + time::Duration::minutes(5)).unwrap_or(now);

    let found = locate(conn, now, workspace, account, &item.sender, &item.thread, Some(at)).await?;
    let (contact_id, blocked, conversation) = (found.contact_id, found.blocked, found.conversation);
    let kind = conversation.kind;

    let state = ConversationState {
        already_seen: false,
        sender_blocked: blocked,
        public: kind == ConversationKind::Public,
        latest_ticket: tickets::latest_in_conversation(conn, conversation.id).await?,
    };
    let customer = Actor { kind: AuthorKind::Contact, id: Some(contact_id.0) };
    let (ticket_id, outcome) = match routing::route(&state, &workspace.settings, at) {
        Route::Duplicate => return Ok(report(Outcome::Duplicate, None)),
        Route::StoredBlocked { ticket } => (ticket, Outcome::Blocked),
        Route::Append { ticket, status } => {
            if let Some(status) = status {
                change_status(conn, workspace.id, ticket, TicketStatus::Pending, status, customer, now).await?;
            }
            (Some(ticket), Outcome::Appended)
        }
        Route::Reopen { ticket } => {
            change_status(conn, workspace.id, ticket, TicketStatus::Solved, TicketStatus::Open, customer, now).await?;
            (Some(ticket), Outcome::Reopened)
        }
        Route::NewTicket { follow_up_of, close_previous } => {
            if let Some(previous) = close_previous {
                change_status(
                    conn,
                    workspace.id,
                    previous,
                    TicketStatus::Solved,
                    TicketStatus::Closed,
                    Actor::SYSTEM,
                    now,
                )
                .await?;
            }
            let id = open_ticket(conn, now, workspace, account, &conversation, contact_id, item, follow_up_of).await?;
            (Some(id), Outcome::Created)
        }
        Route::NewPublicThread => {
            let id = open_ticket(conn, now, workspace, account, &conversation, contact_id, item, None).await?;
            (Some(id), Outcome::Created)
        }
    };

    let message = NewMessage {
        workspace_id: workspace.id,
        conversation_id: conversation.id,
        ticket_id,
        channel_account_id: account.id,
        direction: Direction::Inbound,
        visibility: Visibility::Public,
        author_kind: AuthorKind::Contact,
        author_id: Some(contact_id.0),
        body: item.body.clone(),
        attachments: item.attachments.clone(),
        template: None,
        platform_message_id: Some(item.platform_message_id.clone()),
        delivery_status: None,
        private_reply_to: None,
        reply_to: None,
        sent_at: item.sent_at,
    };
    messages::insert(conn, &message, now).await?;
    if let Some(ticket) = ticket_id {
        if kind == ConversationKind::Public {
            tickets::add_participant(conn, workspace.id, ticket, contact_id, now).await?;
        }
        // A blocked sender's message is kept but is no activity: it must not float the
        // ticket to the top of anyone's view.
        if outcome != Outcome::Blocked {
            tickets::touch(conn, ticket, now, Some(at)).await?;
        }
    }
    Ok(report(outcome, ticket_id))
}

/// Where an item from `sender` belongs: their identity and contact (made on first contact)
/// and the conversation (made on its first item).
pub(crate) struct Located {
    pub contact_id: switchboard_domain::ContactId,
    pub blocked: bool,
    pub conversation: switchboard_domain::Conversation,
}

/// Finds or makes the sender's identity (refreshing the platform's user info, and its last
/// inbound time when `inbound_at` is given) and the conversation of `thread`.
pub(crate) async fn locate(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    sender: &switchboard_domain::InboundSender,
    thread: &ThreadRef,
    inbound_at: Option<OffsetDateTime>,
) -> Result<Located, StoreError> {
    let (identity_id, contact_id, blocked) = identify(conn, now, workspace, account, sender).await?;
    if let Some(at) = inbound_at {
        contacts::refresh_identity(conn, identity_id, sender, at).await?;
    }
    let (kind, key, title) = match thread {
        ThreadRef::Direct { key } => (ConversationKind::Direct, key.as_deref().unwrap_or(&sender.external_id), None),
        ThreadRef::Public { root_id, title } => (ConversationKind::Public, root_id.as_str(), title.as_deref()),
    };
    let conversation = match conversations::find(conn, account.id, kind, key).await? {
        Some(c) => c,
        None => {
            let new = NewConversation {
                workspace_id: workspace.id,
                channel_account_id: account.id,
                kind,
                thread_key: key,
                contact_id: (kind == ConversationKind::Direct).then_some(contact_id),
                title,
            };
            conversations::create(conn, &new, now).await?
        }
    };
    if let Some(at) = inbound_at {
        conversations::note_inbound(conn, conversation.id, at).await?;
    }
    Ok(Located { contact_id, blocked, conversation })
}

/// Finds the sender's identity on the account, or makes identity and contact.
pub(crate) async fn identify(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    sender: &switchboard_domain::InboundSender,
) -> Result<(switchboard_domain::IdentityId, switchboard_domain::ContactId, bool), StoreError> {
    if let Some((identity, blocked)) = contacts::find_identity(conn, account.id, &sender.external_id).await? {
        return Ok((identity.id, identity.contact_id, blocked));
    }
    let new =
        contacts::NewContact { name: sender.name.clone(), email: sender.email.clone(), phone: sender.phone.clone() };
    let contact = contacts::create(conn, workspace.id, &new, now).await?;
    let identity = contacts::create_identity(conn, workspace.id, contact, account.id, sender, now).await?;
    Ok((identity, contact, false))
}

/// Changes a ticket's status with its event.
pub(crate) async fn change_status(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    ticket: TicketId,
    from: TicketStatus,
    to: TicketStatus,
    actor: Actor,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    tickets::set_status(conn, ticket, to, now).await?;
    let data = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
    events::insert(conn, workspace, ticket, EventKind::StatusChanged, actor, data, now).await
}

/// The subject of a ticket: the thread's title, else the first line of the first message.
pub(crate) fn subject_from(title: Option<&str>, body: Option<&str>) -> Option<String> {
    let line = title.or_else(|| body.and_then(|b| b.lines().map(str::trim).find(|l| !l.is_empty())))?;
    let mut subject: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        subject.push('…');
    }
    Some(subject)
}

#[expect(clippy::too_many_arguments, reason = "one call site; a struct would only rename the arguments")]
async fn open_ticket(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    conversation: &switchboard_domain::Conversation,
    contact: switchboard_domain::ContactId,
    item: &InboundItem,
    follow_up_of: Option<TicketId>,
) -> Result<TicketId, StoreError> {
    let public = conversation.kind == ConversationKind::Public;
    let new = NewTicket {
        workspace_id: workspace.id,
        kind: if public { TicketKind::Public } else { TicketKind::Direct },
        origin: Origin::Customer,
        subject: subject_from(conversation.title.as_deref(), item.body.as_deref()),
        channel: account.kind,
        channel_account_id: account.id,
        conversation_id: conversation.id,
        contact_id: (!public).then_some(contact),
        assignee_id: None,
        follow_up_of,
        public_ticket_id: None,
        last_inbound_at: None,
    };
    let (id, number) = tickets::create(conn, &new, now).await?;
    finish_new_ticket(conn, workspace.id, account, conversation.kind, id, number, follow_up_of, Actor::SYSTEM, now)
        .await?;
    Ok(id)
}

/// What every new ticket gets, whoever opened it: its automatic tags and its `created` event.
#[expect(clippy::too_many_arguments, reason = "shared by the two ways a ticket is opened")]
pub(crate) async fn finish_new_ticket(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    account: &ChannelAccount,
    kind: ConversationKind,
    id: TicketId,
    number: i64,
    follow_up_of: Option<TicketId>,
    actor: Actor,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for tag in account.kind.automatic_tags(kind) {
        tickets::add_tag(conn, workspace, id, tag).await?;
    }
    let data = serde_json::json!({
        "number": number,
        "channel": account.kind.as_str(),
        "follow_up_of": follow_up_of,
    });
    events::insert(conn, workspace, id, EventKind::Created, actor, data, now).await
}

#[cfg(test)]
mod tests {
    use super::subject_from;

    #[test]
    fn the_subject_is_the_title_or_the_first_nonblank_line_cut_at_120() {
        assert_eq!(subject_from(Some("Post"), Some("hi")).as_deref(), Some("Post"));
        assert_eq!(subject_from(None, Some("\n  \nHello there\nmore")).as_deref(), Some("Hello there"));
        assert_eq!(subject_from(None, None), None);
        let long = "x".repeat(130);
        assert_eq!(subject_from(None, Some(&long)).unwrap().chars().count(), 121);
    }
}
