//! Macros: a saved reply (with placeholders) plus the status, tags and assignee to set, applied
//! to a ticket in one click, in one transaction. The reply goes through the same use case as a
//! typed one, so the channel's rules decide whether it may be sent; a refused macro changes nothing.

use switchboard_domain::{AgentId, EventKind, Tag, TicketId, TicketStatus, Visibility};
use switchboard_store::{contacts, events, macros, tickets};

pub use switchboard_store::macros::Macro;

use crate::compose::Draft;
use crate::live::{LiveEvent, LiveEventKind, record};
use crate::tickets::{NewReply, TicketPatch, TicketView};
use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// A macro to save.
#[derive(Debug, Clone, Default)]
pub struct NewMacro {
    pub name: String,
    pub body: Option<String>,
    pub status: Option<TicketStatus>,
    pub add_tags: Vec<Tag>,
    /// `me`, `none` or an agent's id.
    pub assignee: Option<String>,
}

/// The placeholders a macro's reply may hold.
pub const PLACEHOLDERS: [&str; 4] = ["{{first_name}}", "{{name}}", "{{agent_name}}", "{{ticket_number}}"];

/// Fills the placeholders; a customer with no name is "there" ("Hi {{first_name}}" → "Hi there").
pub fn fill(body: &str, customer: Option<&str>, agent: &str, number: i64) -> String {
    let name = customer.map(str::trim).filter(|n| !n.is_empty());
    let first = name.and_then(|n| n.split_whitespace().next()).unwrap_or("there");
    body.replace("{{first_name}}", first)
        .replace("{{name}}", name.unwrap_or("there"))
        .replace("{{agent_name}}", agent)
        .replace("{{ticket_number}}", &number.to_string())
}

impl Service {
    /// The workspace's macros; every agent reads them (the reply box).
    pub async fn list_macros(&self, actor: &Actor) -> ServiceResult<Vec<Macro>> {
        let mut pooled = self.db().acquire().await?;
        Ok(macros::list(&mut pooled.conn(), actor.workspace()).await?)
    }

    /// Saves a macro (admins only).
    pub async fn create_macro(&self, actor: &Actor, new: NewMacro) -> ServiceResult<Macro> {
        actor.require_admin()?;
        let name = crate::required_text("name", &new.name, 100)?;
        let body = new.body.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
        let assignee = new.assignee.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if let Some(a) = &assignee
            && a != "me"
            && a != "none"
            && a.parse::<uuid::Uuid>().is_err()
        {
            return Err(ServiceError::invalid("assignee", "`me`, `none` or an agent's id"));
        }
        if body.is_none() && new.status.is_none() && new.add_tags.is_empty() && assignee.is_none() {
            return Err(ServiceError::invalid("macro", "a macro does at least one thing"));
        }
        let m = Macro {
            id: uuid::Uuid::now_v7(),
            name: name.to_owned(),
            body,
            status: new.status.map(|s| s.as_str().to_owned()),
            add_tags: new.add_tags.iter().map(|t| t.as_str().to_owned()).collect(),
            assignee,
        };
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        macros::insert(&mut conn, actor.workspace(), &m, self.now()).await.map_err(|e| match e {
            switchboard_store::StoreError::Conflict(_) => {
                ServiceError::conflict("macro_exists", format!("a macro named {name} exists"))
            }
            other => other.into(),
        })?;
        let detail = serde_json::json!({"name": m.name, "status": m.status, "add_tags": m.add_tags,
            "assignee": m.assignee, "sends_reply": m.body.is_some()});
        audit::write(&mut conn, actor, "macro.created", format!("macro:{}", m.id), detail, self.now()).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Removes a macro (admins only).
    pub async fn delete_macro(&self, actor: &Actor, id: uuid::Uuid) -> ServiceResult<()> {
        actor.require_admin()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        if !macros::delete(&mut conn, actor.workspace(), id).await? {
            return Err(ServiceError::NotFound("macro"));
        }
        audit::write(&mut conn, actor, "macro.deleted", format!("macro:{id}"), serde_json::json!({}), self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies a macro to a ticket in one transaction: its reply (through the reply use case,
    /// so the channel's rules may refuse it) with its status, then its tags and assignee, and a
    /// `macro_applied` event. A refused reply or a bad change leaves the ticket untouched.
    pub async fn apply_macro(&self, actor: &Actor, ticket: TicketId, id: uuid::Uuid) -> ServiceResult<TicketView> {
        let now = self.now();
        let ws = actor.workspace();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let current = tickets::get(&mut conn, ws, ticket).await?.ok_or(ServiceError::NotFound("ticket"))?;
        let m = macros::get(&mut conn, ws, id).await?.ok_or(ServiceError::NotFound("macro"))?;
        let customer = match current.contact_id {
            Some(c) => contacts::get(&mut conn, ws, c).await?.and_then(|c| c.name),
            None => None,
        };
        let status = m.status.as_deref().map(str::parse::<TicketStatus>).transpose()?;
        let mut patch = TicketPatch {
            add_tags: m.add_tags.iter().map(|t| Tag::parse(t)).collect::<Result<_, _>>()?,
            assignee_id: match m.assignee.as_deref() {
                None => None,
                Some("none") => Some(None),
                Some("me") => Some(Some(actor.agent.id)),
                Some(other) => Some(Some(AgentId(
                    other.parse().map_err(|_| ServiceError::invalid("assignee", "not an agent id"))?,
                ))),
            },
            ..TicketPatch::default()
        };
        let sends = m.body.is_some();
        if let Some(body) = &m.body {
            let text = fill(body, customer.as_deref(), &actor.agent.name, current.number);
            let draft = Draft { body: Some(text), attachments: Vec::new(), files: Vec::new(), template: None };
            let reply =
                NewReply { draft, visibility: Visibility::Public, status, reply_to: None, private_reply_to: None };
            self.write_reply(&mut conn, actor, ticket, reply, now).await?;
        } else {
            patch.status = status;
        }
        self.apply_patch(&mut conn, actor, ticket, patch, now).await?;
        let data = serde_json::json!({"macro_id": m.id, "name": m.name});
        events::insert(&mut conn, ws, ticket, EventKind::MacroApplied, actor.store_actor(), data, now).await?;
        let updated = LiveEvent { workspace_id: ws, kind: LiveEventKind::TicketUpdated, ticket_id: ticket };
        let recorded = record(&mut conn, now, &[updated]).await?;
        tx.commit().await?;
        if sends {
            self.outbox_signal.notify_one();
        }
        self.live().publish(recorded);
        self.get_ticket(actor, ticket).await
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn placeholders_are_filled_and_a_nameless_customer_is_there() {
        assert_eq!(
            fill("Hi {{first_name}}, {{agent_name}} here about #{{ticket_number}}", Some("Mira Santos"), "Ana", 4411),
            "Hi Mira, Ana here about #4411"
        );
        assert_eq!(fill("Hi {{first_name}}", None, "Ana", 1), "Hi there");
    }
}
