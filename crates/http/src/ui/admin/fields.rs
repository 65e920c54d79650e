//! `/admin/fields`: custom ticket fields (define, remove); and `POST /tickets/{id}/fields`,
//! where any agent sets them on a ticket through inputs of each field's kind.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use switchboard_domain::TicketId;
use switchboard_service::fields::{FieldDef, KINDS, NewField};
use switchboard_service::tickets::TicketPatch;
use uuid::Uuid;

use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::extract::Empty;
use crate::ui::{CsrfForm, Layout, Page, PageError, Session, see_other};

type Pairs = Vec<(String, String)>;

#[derive(Template)]
#[template(path = "admin/fields.html")]
struct FieldsPage {
    layout: Layout,
    nav: Nav,
    fields: Vec<FieldDef>,
    kinds: [&'static str; 5],
    error: Option<String>,
}

async fn fields_page(state: &AppState, session: &Session, error: Option<String>) -> Result<Response, PageError> {
    let fields = state.service.list_fields(&session.session.actor).await?;
    let failed = error.is_some();
    let mut page = Page::render(&FieldsPage {
        layout: layout(session, "Ticket fields"),
        nav: Nav { current: "fields" },
        fields,
        kinds: KINDS,
        error,
    })?;
    if failed {
        page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page.into_response())
}

/// `GET /admin/fields`
pub async fn list_fields(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Response, PageError> {
    fields_page(&state, &session, None).await
}

/// `POST /admin/fields`
pub async fn create_field(State(state): State<AppState>, form: AdminForm<Pairs>) -> Result<Response, PageError> {
    let text = |key: &str| form.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    let new = NewField {
        key: text("key"),
        label: text("label"),
        kind: text("kind"),
        options: text("options").lines().map(str::to_owned).collect(),
        required_on_solve: form.form.iter().any(|(k, _)| k == "required_on_solve"),
    };
    match state.service.create_field(&form.session.session.actor, new).await {
        Ok(_) => Ok(see_other("/admin/fields")),
        Err(err) => fields_page(&state, &form.session, Some(PageError::from(err).message())).await,
    }
}

/// `POST /admin/fields/{id}/delete`
pub async fn delete_field(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Empty>,
) -> Result<Response, PageError> {
    state.service.delete_field(&form.session.session.actor, id).await?;
    Ok(see_other("/admin/fields"))
}

/// One defined field as the ticket page shows it.
pub struct FieldInput {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
    /// As text (`true`/`false` for a checkbox); empty when unset.
    pub value: String,
}

/// The ticket's values of the defined fields.
pub fn ticket_inputs(
    defs: &[FieldDef],
    values: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<FieldInput> {
    defs.iter()
        .map(|d| FieldInput {
            key: d.key.clone(),
            label: d.label.clone(),
            kind: d.kind.clone(),
            options: d.options.clone(),
            required: d.required_on_solve,
            value: match values.get(&d.key) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            },
        })
        .collect()
}

/// `POST /tickets/{id}/fields`: the defined fields' inputs (`field.<key>`) with the values the
/// page showed (`before.<key>`); only what the agent changed is sent.
pub async fn set_ticket_fields(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: CsrfForm<Pairs>,
) -> Result<Response, PageError> {
    let pairs = &form.form;
    let value = |prefix: &str, key: &str| {
        pairs.iter().find(|(k, _)| k.strip_prefix(prefix) == Some(key)).map(|(_, v)| v.trim().to_owned())
    };
    let mut fields = std::collections::BTreeMap::new();
    for (k, before) in pairs.iter().filter_map(|(k, v)| k.strip_prefix("before.").map(|k| (k, v))) {
        // A checkbox sends nothing when off.
        let now = match value("kind.", k).as_deref() {
            Some("checkbox") => {
                if value("field.", k).is_some() {
                    "true".to_owned()
                } else {
                    "false".to_owned()
                }
            }
            _ => value("field.", k).unwrap_or_default(),
        };
        if &now != before {
            fields.insert(k.to_owned(), if now.is_empty() { serde_json::Value::Null } else { now.into() });
        }
    }
    let patch = TicketPatch { fields, ..TicketPatch::default() };
    state.service.patch_ticket(&form.session.session.actor, TicketId(id), patch).await?;
    Ok(see_other(&format!("/tickets/{id}")))
}
