//! The contact page: profile, identities with the platforms' user info, every ticket, merge.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use switchboard_domain::ContactId;
use switchboard_service::contacts::ContactPatch;
use switchboard_service::overview::ContactOverview;
use uuid::Uuid;

use super::{CsrfForm, Layout, Page, PageError, Session, see_other, view};
use crate::AppState;

pub struct IdentityRow {
    pub channel: &'static str,
    pub account: String,
    pub external_id: String,
    pub name: String,
    pub username: String,
    pub phone: String,
    pub email: String,
    pub last_wrote: String,
}

pub struct TicketRow {
    pub id: Uuid,
    pub number: i64,
    pub subject: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub channel: &'static str,
    pub updated: String,
}

pub struct Candidate {
    pub id: Uuid,
    pub name: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    layout: Layout,
    id: Uuid,
    name: String,
    /// The profile as stored (blank when unset), for the edit form.
    profile_name: String,
    email: String,
    phone: String,
    blocked: bool,
    identities: Vec<IdentityRow>,
    tickets: Vec<TicketRow>,
    merge_q: String,
    candidates: Vec<Candidate>,
    searched: bool,
    /// Other contacts with the same phone or e-mail.
    duplicates: Vec<Candidate>,
}

#[derive(Debug, Deserialize)]
pub struct ContactQuery {
    merge_q: Option<String>,
}

/// `GET /contacts/{id}`; `?merge_q=` looks for the contact to merge into this one.
pub async fn show_contact(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
    Query(q): Query<ContactQuery>,
) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let ContactOverview { contact, tickets, accounts } = state.service.contact_overview(actor, ContactId(id)).await?;
    let merge_q = q.merge_q.unwrap_or_default();
    let candidates = if merge_q.trim().is_empty() {
        Vec::new()
    } else {
        state.service.list_contacts(actor, Some(merge_q.trim()), None, 20).await?.contacts
    };
    let duplicates = state.service.suggested_duplicates(actor, ContactId(id)).await?;
    let now = state.service.now();
    let account_name =
        |a: switchboard_domain::ChannelAccountId| accounts.iter().find(|x| x.id == a).map(|x| (x.kind, x.name.clone()));
    let c = &contact.contact;
    let platform_name =
        contact.identities.iter().find_map(|i| i.name.clone().or_else(|| i.username.clone().map(|u| format!("@{u}"))));
    let name = c.name.clone().or(platform_name).unwrap_or_else(|| "Unnamed customer".into());
    let page = ContactPage {
        layout: Layout::new(&session.session, name.clone()),
        id,
        name,
        profile_name: c.name.clone().unwrap_or_default(),
        email: c.email.clone().unwrap_or_default(),
        phone: c.phone.clone().unwrap_or_default(),
        blocked: c.blocked,
        identities: contact
            .identities
            .iter()
            .map(|i| {
                let (kind, account) =
                    account_name(i.channel_account_id).unwrap_or((switchboard_domain::ChannelKind::Api, String::new()));
                IdentityRow {
                    channel: view::channel(kind),
                    account,
                    external_id: i.external_id.clone(),
                    name: i.name.clone().unwrap_or_default(),
                    username: i.username.clone().unwrap_or_default(),
                    phone: i.phone.clone().unwrap_or_default(),
                    email: i.email.clone().unwrap_or_default(),
                    last_wrote: i.last_inbound_at.map(|at| view::ago(now, at)).unwrap_or_else(|| "never".into()),
                }
            })
            .collect(),
        tickets: tickets.iter().map(|t| ticket_row(&t.ticket, now)).collect(),
        duplicates: duplicates
            .into_iter()
            .map(|d| Candidate {
                id: d.contact.id.0,
                name: d.contact.name.unwrap_or_else(|| "Unnamed customer".into()),
                detail: match d.field {
                    "email" => format!("same e-mail {}", d.value),
                    _ => format!("same phone number {}", d.value),
                },
            })
            .collect(),
        searched: !merge_q.trim().is_empty(),
        merge_q,
        candidates: candidates
            .into_iter()
            .filter(|v| v.contact.id.0 != id)
            .map(|v| Candidate {
                id: v.contact.id.0,
                name: v.contact.name.unwrap_or_else(|| "Unnamed customer".into()),
                detail: [v.contact.email, v.contact.phone].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            })
            .collect(),
    };
    Page::render(&page)
}

pub fn ticket_row(t: &switchboard_domain::Ticket, now: time::OffsetDateTime) -> TicketRow {
    TicketRow {
        id: t.id.0,
        number: t.number,
        subject: t.subject.clone().unwrap_or_else(|| "(no subject)".into()),
        status: view::status(t.status),
        status_class: t.status.as_str(),
        channel: view::channel(t.channel),
        updated: view::ago(now, t.updated_at),
    }
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    name: String,
    email: String,
    phone: String,
}

/// `POST /contacts/{id}`: the profile's name, e-mail and phone; a blank one is cleared.
pub async fn update_contact(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: CsrfForm<ProfileForm>,
) -> Result<Response, PageError> {
    let f = form.form;
    let value = |v: String| Some(Some(v).filter(|v| !v.trim().is_empty()));
    let patch = ContactPatch { name: value(f.name), email: value(f.email), phone: value(f.phone), blocked: None };
    state.service.patch_contact(&form.session.session.actor, ContactId(id), patch).await?;
    Ok(see_other(&format!("/contacts/{id}")))
}

#[derive(Debug, Deserialize)]
pub struct MergeForm {
    from_contact_id: Uuid,
}

/// `POST /contacts/{id}/merge`: the other contact's identities and tickets move to this one.
pub async fn merge_contact(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: CsrfForm<MergeForm>,
) -> Result<Response, PageError> {
    let actor = &form.session.session.actor;
    state.service.merge_contacts(actor, ContactId(id), ContactId(form.form.from_contact_id)).await?;
    Ok(see_other(&format!("/contacts/{id}")))
}
