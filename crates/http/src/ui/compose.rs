//! "+ New": an agent opens a ticket on a contact through a line they pick. Before anything
//! is written, the page says what the line allows now (free text, a template only, nothing).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_domain::{ChannelAccountId, ContactId};
use switchboard_service::compose::{Draft, TemplateRequest};
use switchboard_service::overview::NewTicketOverview;
use uuid::Uuid;

use super::tickets::TemplateChoice;
use super::{CsrfMultipart, Layout, Page, PageError, Session, see_other, view};
use crate::AppState;

pub struct ContactChoice {
    pub id: Uuid,
    pub name: String,
    pub detail: String,
}

pub struct AccountChoice {
    pub id: Uuid,
    pub label: String,
    pub selected: bool,
}

/// What the picked line allows, as the composer shows it.
pub struct Allowance {
    pub account: String,
    pub window: String,
    pub free_form: bool,
    pub template: bool,
    pub refusal: Option<String>,
    pub open_ticket: Option<(Uuid, i64)>,
    pub templates: Vec<TemplateChoice>,
}

#[derive(Template)]
#[template(path = "new_ticket.html")]
struct NewTicketPage {
    layout: Layout,
    q: String,
    contacts: Vec<ContactChoice>,
    contact: Option<(Uuid, String)>,
    accounts: Vec<AccountChoice>,
    allowance: Option<Allowance>,
    error: Option<String>,
    draft: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewTicketQuery {
    q: Option<String>,
    contact: Option<Uuid>,
    account: Option<Uuid>,
}

fn contact_choices(found: Vec<switchboard_service::contacts::ContactView>) -> Vec<ContactChoice> {
    found
        .into_iter()
        .map(|v| ContactChoice {
            id: v.contact.id.0,
            name: v.contact.name.unwrap_or_else(|| "Unnamed customer".into()),
            detail: [v.contact.email, v.contact.phone].into_iter().flatten().collect::<Vec<_>>().join(" · "),
        })
        .collect()
}

fn with_contact(
    layout: Layout,
    o: NewTicketOverview,
    now: time::OffsetDateTime,
    error: Option<String>,
    draft: String,
) -> NewTicketPage {
    let picked = o.options.as_ref().map(|x| x.account.id);
    let allowance = o.options.map(|x| {
        let (window, _) = view::window(x.account.kind, false, &x.window, now);
        Allowance {
            account: format!("{} · {}", view::channel(x.account.kind), x.account.name),
            window,
            free_form: x.free_form,
            template: x.template,
            refusal: x.refusal,
            open_ticket: x.open_ticket.map(|t| (t.id.0, t.number)),
            templates: x
                .templates
                .iter()
                .map(|t| TemplateChoice {
                    value: format!("{}|{}", t.name, t.language),
                    label: format!("{} ({})", t.name, t.language),
                    body: t.body.clone(),
                })
                .collect(),
        }
    });
    NewTicketPage {
        layout,
        q: String::new(),
        contacts: Vec::new(),
        contact: Some((o.contact.id.0, o.contact.name.unwrap_or_else(|| "Unnamed customer".into()))),
        accounts: o
            .accounts
            .iter()
            .map(|a| AccountChoice {
                id: a.id.0,
                label: format!("{} · {}", view::channel(a.kind), a.name),
                selected: picked == Some(a.id),
            })
            .collect(),
        allowance,
        error,
        draft,
    }
}

/// `GET /tickets/new`: search and pick a contact, pick a line, see what it allows, write.
pub async fn new_ticket_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NewTicketQuery>,
) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let layout = Layout::new(&session.session, "New ticket");
    let Some(contact) = q.contact else {
        let text = q.q.unwrap_or_default();
        let found = state.service.list_contacts(actor, Some(text.trim()), None, 20).await?.contacts;
        let page = NewTicketPage {
            layout,
            q: text,
            contacts: contact_choices(found),
            contact: None,
            accounts: Vec::new(),
            allowance: None,
            error: None,
            draft: String::new(),
        };
        return Page::render(&page);
    };
    let overview =
        state.service.new_ticket_overview(actor, ContactId(contact), q.account.map(ChannelAccountId)).await?;
    Page::render(&with_contact(layout, overview, state.service.now(), None, String::new()))
}

/// `POST /tickets/new`: the first message, sent if the line allows it; the agent becomes the
/// assignee of the new ticket.
pub async fn create_ticket(State(state): State<AppState>, form: CsrfMultipart) -> Result<Response, PageError> {
    let actor = &form.session.session.actor;
    let parse = |name: &str| -> Result<Uuid, PageError> {
        form.field(name).and_then(|v| v.parse().ok()).ok_or_else(|| PageError::bad_request(format!("Pick a {name}.")))
    };
    let (contact, account) = (parse("contact")?, parse("account")?);
    let body = form.field("body").map(str::to_owned);
    let template = form.field("template").map(|value| {
        let (name, language) = value.split_once('|').unwrap_or((value, ""));
        TemplateRequest {
            name: name.to_owned(),
            language: language.to_owned(),
            parameters: form
                .field("parameters")
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    });
    let result = async {
        let mut files = Vec::with_capacity(form.files.len());
        for file in &form.files {
            files
                .push(state.service.upload_file(actor, &file.filename, &file.mime_type, file.bytes.to_vec()).await?.id);
        }
        let draft =
            Draft { body: if template.is_some() { None } else { body.clone() }, files, template, ..Draft::default() };
        state.service.start_ticket(actor, ContactId(contact), ChannelAccountId(account), draft).await
    }
    .await;
    match result {
        Ok((ticket, _)) => Ok(see_other(&format!("/tickets/{}", ticket.ticket.id.0))),
        Err(err) => {
            let message = PageError::from(err).message();
            let overview =
                state.service.new_ticket_overview(actor, ContactId(contact), Some(ChannelAccountId(account))).await?;
            let layout = Layout::new(&form.session.session, "New ticket");
            let page = with_contact(layout, overview, state.service.now(), Some(message), body.unwrap_or_default());
            let mut page = Page::render(&page)?;
            page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page.into_response())
        }
    }
}
