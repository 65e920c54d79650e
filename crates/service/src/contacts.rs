//! Contacts: reading, editing, merging.

use switchboard_domain::{Contact, ContactId, EventKind, Identity};
use switchboard_store::contacts;
pub use switchboard_store::contacts::ContactPatch;
use switchboard_store::events;

use crate::{Actor, Service, ServiceError, ServiceResult};

/// A contact with every identity it is known by.
#[derive(Debug, Clone)]
pub struct ContactView {
    pub contact: Contact,
    pub identities: Vec<Identity>,
}

/// A page of contacts and where the next starts.
#[derive(Debug, Clone)]
pub struct ContactPage {
    pub contacts: Vec<ContactView>,
    pub next_cursor: Option<(i64, uuid::Uuid)>,
}

/// Another contact that may be the same person, and what they share.
#[derive(Debug, Clone)]
pub struct SuggestedDuplicate {
    pub contact: Contact,
    /// `phone` or `email`.
    pub field: &'static str,
    /// The shared number or address, as this contact has it.
    pub value: String,
}

/// The most duplicates a contact page suggests.
const MAX_DUPLICATES: i64 = 10;

impl Service {
    pub async fn list_contacts(
        &self,
        actor: &Actor,
        q: Option<&str>,
        cursor: Option<(i64, uuid::Uuid)>,
        limit: i64,
    ) -> ServiceResult<ContactPage> {
        let limit = crate::page_limit(limit);
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        // `q` is the search language, as the search box reads it for users.
        let query = q.filter(|q| !q.trim().is_empty()).map(crate::search::parse_query).transpose()?;
        let scope = self.scope(actor);
        let found =
            contacts::list(&mut conn, actor.workspace(), query.as_ref().map(|q| (&scope, q)), cursor, limit + 1)
                .await?
                .ok_or_else(crate::search::users_have_no_ticket_fields)?;
        let (found, next_cursor) = crate::page(found, limit, |c| (switchboard_store::to_millis(c.updated_at), c.id.0));
        let contacts = contact_views(&mut conn, actor.workspace(), found).await?;
        Ok(ContactPage { contacts, next_cursor })
    }

    pub async fn get_contact(&self, actor: &Actor, id: ContactId) -> ServiceResult<ContactView> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let contact =
            contacts::get(&mut conn, actor.workspace(), id).await?.ok_or(ServiceError::NotFound("contact"))?;
        let identities = contacts::identities_of(&mut conn, actor.workspace(), id).await?;
        Ok(ContactView { contact, identities })
    }

    /// Edits a contact's profile. Blocking a contact (marking them a spammer) keeps their
    /// later messages but raises no ticket for them.
    pub async fn patch_contact(&self, actor: &Actor, id: ContactId, patch: ContactPatch) -> ServiceResult<ContactView> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let mut contact =
            contacts::get(&mut conn, actor.workspace(), id).await?.ok_or(ServiceError::NotFound("contact"))?;
        if let Some(name) = patch.name {
            contact.name = crate::optional_text("name", name, 200)?;
        }
        if let Some(email) = patch.email {
            let email = crate::optional_text("email", email, 320)?.map(|e| e.to_lowercase());
            if email.as_ref().is_some_and(|e| !e.contains('@')) {
                return Err(ServiceError::invalid("email", "not an e-mail address"));
            }
            contact.email = email;
        }
        if let Some(phone) = patch.phone {
            let phone = crate::optional_text("phone", phone, 40)?;
            if phone.as_ref().is_some_and(|p| !p.chars().any(|c| c.is_ascii_digit())) {
                return Err(ServiceError::invalid("phone", "a phone number has digits"));
            }
            contact.phone = phone;
        }
        if let Some(blocked) = patch.blocked {
            contact.blocked = blocked;
        }
        contacts::update(&mut conn, &contact, self.now()).await?;
        let identities = contacts::identities_of(&mut conn, actor.workspace(), id).await?;
        let contact =
            contacts::get(&mut conn, actor.workspace(), id).await?.ok_or(ServiceError::NotFound("contact"))?;
        tx.commit().await?;
        Ok(ContactView { contact, identities })
    }

    /// Merges contact `from` into `into`: identities, conversations and tickets move to the
    /// survivor, and each moved ticket logs a `merged` event. Profile fields the survivor
    /// lacks are taken from the merged contact.
    pub async fn merge_contacts(&self, actor: &Actor, into: ContactId, from: ContactId) -> ServiceResult<ContactView> {
        if into == from {
            return Err(ServiceError::invalid("from_contact_id", "a contact cannot be merged into itself"));
        }
        let ws = actor.workspace();
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        merge_in(&mut conn, ws, into, from, actor.store_actor(), now).await?;
        let contact = contacts::get(&mut conn, ws, into).await?.ok_or(ServiceError::NotFound("contact"))?;
        let identities = contacts::identities_of(&mut conn, ws, into).await?;
        tx.commit().await?;
        Ok(ContactView { contact, identities })
    }
}

/// `found` with their identities, in their order: one query for a page.
pub(crate) async fn contact_views(
    conn: &mut switchboard_store::Conn<'_>,
    ws: switchboard_domain::WorkspaceId,
    found: Vec<Contact>,
) -> ServiceResult<Vec<ContactView>> {
    let ids: Vec<ContactId> = found.iter().map(|c| c.id).collect();
    let identities = contacts::identities_of_each(conn, ws, &ids).await?;
    Ok(found
        .into_iter()
        .map(|contact| {
            let identities = identities.get(&contact.id).cloned().unwrap_or_default();
            ContactView { contact, identities }
        })
        .collect())
}

/// Merges contact `from` into `into` inside the caller's transaction: identities,
/// conversations and tickets move, each moved ticket logs a `merged` event, and fields the
/// survivor lacks are taken from the merged contact. Shared by agents' merges and the widget
/// (a visitor who signs in on the host site).
pub(crate) async fn merge_in(
    conn: &mut switchboard_store::Conn<'_>,
    ws: switchboard_domain::WorkspaceId,
    into: ContactId,
    from: ContactId,
    who: switchboard_store::events::Actor,
    now: time::OffsetDateTime,
) -> ServiceResult<()> {
    let mut survivor = contacts::get(conn, ws, into).await?.ok_or(ServiceError::NotFound("contact"))?;
    let merged = contacts::get(conn, ws, from).await?.ok_or(ServiceError::NotFound("contact"))?;
    let moved = contacts::merge(conn, ws, from, into, now).await?;
    survivor.name = survivor.name.or(merged.name);
    survivor.email = survivor.email.or(merged.email);
    survivor.phone = survivor.phone.or(merged.phone);
    survivor.blocked = survivor.blocked || merged.blocked;
    contacts::update(conn, &survivor, now).await?;
    let data = serde_json::json!({ "from_contact_id": from, "into_contact_id": into });
    for ticket in moved {
        events::insert(conn, ws, ticket.into(), EventKind::Merged, who, data.clone(), now).await?;
    }
    Ok(())
}

impl Service {
    /// Other contacts with the same phone number (WhatsApp, SMS or profile, by digits) or
    /// e-mail address (DESIGN §5), to merge from the contact page.
    pub async fn suggested_duplicates(&self, actor: &Actor, id: ContactId) -> ServiceResult<Vec<SuggestedDuplicate>> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let found = contacts::duplicates_of(&mut conn, actor.workspace(), id, MAX_DUPLICATES).await?;
        let ids: Vec<ContactId> = found.iter().map(|d| d.contact_id).collect();
        let mut people = contacts::get_many(&mut conn, actor.workspace(), &ids).await?;
        Ok(found
            .into_iter()
            .filter_map(|d| {
                let at = people.iter().position(|c| c.id == d.contact_id)?;
                Some(SuggestedDuplicate { contact: people.swap_remove(at), field: d.field, value: d.value })
            })
            .collect())
    }
}
