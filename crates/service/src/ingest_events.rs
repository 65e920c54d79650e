//! What platforms tell us besides customer messages: echoes of what the business sent from
//! elsewhere, delivery receipts, reactions, edits and removals, reply tokens, subscriptions.
//! Each is applied inside the ingest transaction, like a message.

use switchboard_domain::{
    AuthorKind, ChannelAccount, ConversationKind, DeliveryStatus, Direction, EventKind, InboundEvent, InboundItem,
    StatusUpdate, ThreadRef, Visibility, Workspace,
};
use switchboard_store::conversations::NewConversation;
use switchboard_store::events::Actor;
use switchboard_store::messages::NewMessage;
use switchboard_store::{Conn, StoreError, contacts, conversations, events, messages, tickets};
use time::OffsetDateTime;

use crate::ingest::{ItemReport, Outcome, identify, locate};

fn report(id: &str, outcome: Outcome, ticket_id: Option<switchboard_domain::TicketId>) -> ItemReport {
    // The line's workspace is filled in by `ingest_line`, which knows it.
    ItemReport { platform_message_id: id.to_owned(), outcome, ticket_id, workspace_id: None }
}

/// Applies one event that is not a customer message.
pub(crate) async fn apply(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    event: &InboundEvent,
) -> Result<ItemReport, StoreError> {
    match event {
        InboundEvent::Message(_) => Err(StoreError::Corrupt("a message is not an event to apply".into())),
        InboundEvent::Echo(item) => echo(conn, now, workspace, account, item).await,
        InboundEvent::Status(update) => status(conn, now, workspace, account, update).await,
        InboundEvent::ReadUpTo { customer, thread_key, up_to } => {
            let key = thread_key.as_deref().unwrap_or(customer);
            match conversations::find(conn, account.id, ConversationKind::Direct, key).await? {
                Some(c) => {
                    let n = messages::mark_read_up_to(conn, c.id, *up_to).await?;
                    let outcome = if n > 0 { Outcome::Updated } else { Outcome::Ignored };
                    Ok(report("", outcome, tickets::latest_in_conversation(conn, c.id).await?.map(|t| t.id)))
                }
                None => Ok(report("", Outcome::Ignored, None)),
            }
        }
        InboundEvent::Reaction { sender, target_platform_message_id: target, emoji, at } => {
            let Some((message, ticket, _)) = messages::find_by_platform_id(conn, account.id, target).await? else {
                return Ok(report(target, Outcome::Ignored, None));
            };
            let (_, contact, _) = identify(conn, now, workspace, account, sender).await?;
            messages::set_reaction(conn, message, contact.0, emoji.as_deref(), *at).await?;
            Ok(report(target, Outcome::Updated, ticket))
        }
        InboundEvent::Edited { platform_message_id: id, body, at } => {
            let Some((message, ticket, _)) = messages::find_by_platform_id(conn, account.id, id).await? else {
                return Ok(report(id, Outcome::Ignored, None));
            };
            messages::set_edited(conn, message, body.as_deref(), *at).await?;
            Ok(report(id, Outcome::Updated, ticket))
        }
        InboundEvent::Removed { platform_message_id: id, at } => {
            let Some((message, ticket, _)) = messages::find_by_platform_id(conn, account.id, id).await? else {
                return Ok(report(id, Outcome::Ignored, None));
            };
            messages::set_removed(conn, message, *at).await?;
            Ok(report(id, Outcome::Updated, ticket))
        }
        InboundEvent::ReplyToken { customer, token, expires_at } => {
            // The token answers the chat it came from: the customer's own, or a group's thread.
            let direct = conversations::find(conn, account.id, ConversationKind::Direct, customer).await?;
            let found = match direct {
                Some(c) => Some(c),
                None => conversations::find(conn, account.id, ConversationKind::Public, customer).await?,
            };
            match found {
                Some(c) => {
                    conversations::set_reply_token(conn, c.id, token, *expires_at).await?;
                    Ok(report("", Outcome::Updated, None))
                }
                None => Ok(report("", Outcome::Ignored, None)),
            }
        }
        InboundEvent::Subscription { sender, subscribed, .. } => {
            let (identity, _, _) = identify(conn, now, workspace, account, sender).await?;
            contacts::set_subscribed(conn, identity, *subscribed).await?;
            Ok(report("", Outcome::Updated, None))
        }
    }
}

/// A message the business sent from the platform's own app: recorded once, as outbound, on
/// the conversation's live ticket (a closed ticket never changes, so then on no ticket).
async fn echo(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    item: &InboundItem,
) -> Result<ItemReport, StoreError> {
    // Switchboard's own replies come back as echoes too: their platform id is already stored.
    if messages::exists(conn, account.id, &item.platform_message_id).await? {
        return Ok(report(&item.platform_message_id, Outcome::Duplicate, None));
    }
    // In a public thread the business speaks as itself, not to one customer: no identity is
    // made for it. In a direct conversation the echo's sender is the customer it went to.
    let conversation = match &item.thread {
        ThreadRef::Public { root_id, title } => {
            match conversations::find(conn, account.id, ConversationKind::Public, root_id).await? {
                Some(c) => c,
                None => {
                    let new = NewConversation {
                        workspace_id: workspace.id,
                        channel_account_id: account.id,
                        kind: ConversationKind::Public,
                        thread_key: root_id,
                        contact_id: None,
                        title: title.as_deref(),
                    };
                    conversations::create(conn, &new, now).await?
                }
            }
        }
        ThreadRef::Direct { .. } => {
            locate(conn, now, workspace, account, &item.sender, &item.thread, None).await?.conversation
        }
    };
    let ticket =
        tickets::latest_in_conversation(conn, conversation.id).await?.filter(|t| t.status.is_live()).map(|t| t.id);
    let message = NewMessage {
        workspace_id: workspace.id,
        conversation_id: conversation.id,
        ticket_id: ticket,
        channel_account_id: account.id,
        direction: Direction::Outbound,
        visibility: Visibility::Public,
        author_kind: AuthorKind::Agent,
        author_id: None,
        body: item.body.clone(),
        attachments: item.attachments.clone(),
        template: None,
        platform_message_id: Some(item.platform_message_id.clone()),
        delivery_status: Some(DeliveryStatus::Sent),
        private_reply_to: None,
        reply_to: None,
        sent_at: item.sent_at,
    };
    messages::insert(conn, &message, now).await?;
    if let Some(ticket) = ticket {
        tickets::touch(conn, ticket, now, None).await?;
    }
    Ok(report(&item.platform_message_id, Outcome::Updated, ticket))
}

/// A delivery receipt: moves the message's status forward, and a failure is written to the
/// ticket's event log with the platform's code and text.
async fn status(
    conn: &mut Conn<'_>,
    now: OffsetDateTime,
    workspace: &Workspace,
    account: &ChannelAccount,
    update: &StatusUpdate,
) -> Result<ItemReport, StoreError> {
    let id = &update.platform_message_id;
    let Some((message, ticket, current)) = messages::find_by_platform_id(conn, account.id, id).await? else {
        return Ok(report(id, Outcome::Ignored, None));
    };
    let Some(current) = current else {
        // A receipt naming an inbound message: nothing to move.
        return Ok(report(id, Outcome::Ignored, ticket));
    };
    let next = current.advance(update.status);
    if next == current {
        return Ok(report(id, Outcome::Duplicate, ticket));
    }
    let error = update.error.as_ref().filter(|_| next == DeliveryStatus::Failed);
    messages::set_delivery(conn, message, next, error).await?;
    if let (DeliveryStatus::Failed, Some(ticket)) = (next, ticket) {
        let data = serde_json::json!({
            "message_id": message,
            "code": error.map(|e| e.code.as_str()),
            "error": error.map(|e| e.message.as_str()),
        });
        events::insert(conn, workspace.id, ticket, EventKind::DeliveryFailed, Actor::SYSTEM, data, now).await?;
        tickets::touch(conn, ticket, now, None).await?;
    }
    Ok(report(id, Outcome::Updated, ticket))
}
