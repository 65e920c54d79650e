//! `/admin/macros`: saved replies with status, tags and assignee; and `POST /tickets/{id}/macro`,
//! where any agent applies one from the ticket page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_domain::{Tag, TicketId, TicketStatus};
use switchboard_service::macros::{Macro, NewMacro, PLACEHOLDERS};
use uuid::Uuid;

use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::extract::Empty;
use crate::ui::tickets::Choice;
use crate::ui::{CsrfForm, Layout, Page, PageError, Session, see_other, view};

#[derive(Template)]
#[template(path = "admin/macros.html")]
struct MacrosPage {
    layout: Layout,
    nav: Nav,
    macros: Vec<Macro>,
    statuses: Vec<Choice>,
    assignees: Vec<Choice>,
    placeholders: String,
    error: Option<String>,
}

async fn macros_page(state: &AppState, session: &Session, error: Option<String>) -> Result<Response, PageError> {
    let actor = &session.session.actor;
    let macros = state.service.list_macros(actor).await?;
    let agents = state.service.list_agents(actor).await?;
    let choice =
        |value: &str, label: &str| Choice { value: value.to_owned(), label: label.to_owned(), selected: false };
    let mut statuses = vec![choice("", "Leave as it is")];
    statuses.extend(
        TicketStatus::ALL.iter().filter(|s| **s != TicketStatus::Closed).map(|s| choice(s.as_str(), view::status(*s))),
    );
    let mut assignees =
        vec![choice("", "Leave as it is"), choice("me", "Whoever applies it"), choice("none", "Nobody")];
    assignees.extend(agents.iter().filter(|a| a.active).map(|a| choice(&a.id.0.to_string(), &a.name)));
    let failed = error.is_some();
    let mut page = Page::render(&MacrosPage {
        layout: layout(session, "Macros"),
        nav: Nav { current: "macros" },
        macros,
        statuses,
        assignees,
        placeholders: PLACEHOLDERS.join(" "),
        error,
    })?;
    if failed {
        page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page.into_response())
}

/// `GET /admin/macros`
pub async fn list_macros(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Response, PageError> {
    macros_page(&state, &session, None).await
}

#[derive(Debug, Deserialize)]
pub struct MacroForm {
    name: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    assignee: String,
}

/// `POST /admin/macros`
pub async fn create_macro(State(state): State<AppState>, form: AdminForm<MacroForm>) -> Result<Response, PageError> {
    let f = form.form;
    let new = NewMacro {
        name: f.name,
        body: Some(f.body),
        status: Some(f.status).filter(|s| !s.is_empty()).map(|s| s.parse::<TicketStatus>()).transpose()?,
        add_tags: f.tags.split([' ', ',']).filter(|t| !t.is_empty()).map(Tag::parse).collect::<Result<_, _>>()?,
        assignee: Some(f.assignee),
    };
    match state.service.create_macro(&form.session.session.actor, new).await {
        Ok(_) => Ok(see_other("/admin/macros")),
        Err(err) => macros_page(&state, &form.session, Some(PageError::from(err).message())).await,
    }
}

/// `POST /admin/macros/{id}/delete`
pub async fn delete_macro(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Empty>,
) -> Result<Response, PageError> {
    state.service.delete_macro(&form.session.session.actor, id).await?;
    Ok(see_other("/admin/macros"))
}

#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    #[serde(rename = "macro")]
    macro_id: Uuid,
}

/// `POST /tickets/{id}/macro`: applies a macro; a reply the channel refuses shows why.
pub async fn apply_macro(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: CsrfForm<ApplyForm>,
) -> Result<Response, PageError> {
    state.service.apply_macro(&form.session.session.actor, TicketId(id), form.form.macro_id).await?;
    Ok(see_other(&format!("/tickets/{id}")))
}
