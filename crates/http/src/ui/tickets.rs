//! The ticket page: the conversation, the reply box, the log, and the ticket's properties.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use switchboard_domain::{AgentId, Direction, MessageId, Tag, TeamId, TicketId, TicketStatus, Visibility, WindowState};
use switchboard_service::compose::{Draft, TemplateRequest};
use switchboard_service::overview::{TicketLink, TicketOverview, author_names};
use switchboard_service::tickets::{NewReply, TicketPatch};
use time::OffsetDateTime;
use uuid::Uuid;

use super::conversation::{EventRow, MessageRow, event_row, message_row};
use super::{CsrfForm, CsrfMultipart, Layout, Page, PageError, Session, see_other, view};
use crate::AppState;

/// An option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct TemplateChoice {
    pub value: String,
    pub label: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
pub struct TicketPage {
    layout: Layout,
    id: Uuid,
    number: i64,
    subject: String,
    status: &'static str,
    status_class: &'static str,
    channel: &'static str,
    account: String,
    contact: Option<(Uuid, String)>,
    participants: Vec<(Uuid, String)>,
    tags: String,
    fields_text: String,
    /// The fields admins defined, with inputs of their kind.
    custom_fields: Vec<crate::ui::admin::fields::FieldInput>,
    /// Macros to apply: (id, name, what it does).
    macros: Vec<(Uuid, String, String)>,
    status_value: &'static str,
    assignee_value: String,
    team_value: String,
    previous: Option<TicketLink>,
    follow_ups: Vec<TicketLink>,
    public_thread: Option<TicketLink>,
    messages: Vec<MessageRow>,
    events: Vec<EventRow>,
    window: String,
    window_warning: bool,
    template_required: bool,
    can_reply: bool,
    closed: bool,
    templates: Vec<TemplateChoice>,
    /// In a public thread: the comments a reply may answer, latest first.
    comments: Vec<Choice>,
    /// Facebook and Instagram comments may be answered privately.
    private_replies: bool,
    agents: Vec<Choice>,
    teams: Vec<Choice>,
    statuses: Vec<Choice>,
    submit_statuses: Vec<Choice>,
    error: Option<String>,
    draft: String,
}

/// The page, with an error and the agent's draft kept when a send was refused.
fn page(session: &Session, o: TicketOverview, now: OffsetDateTime, error: Option<String>, draft: String) -> TicketPage {
    let names = author_names(&o);
    let t = &o.view.ticket;
    let public = t.kind != switchboard_domain::TicketKind::Direct;
    let (window, window_warning) = view::window(o.account.kind, public, &o.view.reply_window, now);
    let state = o.view.reply_window.state;
    let contact_name = |c: &switchboard_domain::Contact| c.name.clone().unwrap_or_else(|| "Unnamed customer".into());
    let statuses = TicketStatus::ALL
        .into_iter()
        .filter(|s| *s == t.status || t.status.can_become(*s))
        .map(|s| Choice { value: s.as_str().into(), label: view::status(s).into(), selected: s == t.status })
        .collect();
    let submit_statuses = [TicketStatus::Open, TicketStatus::Pending, TicketStatus::OnHold, TicketStatus::Solved]
        .into_iter()
        .filter(|s| *s == t.status || t.status.can_become(*s))
        .map(|s| Choice { value: s.as_str().into(), label: view::status(s).into(), selected: false })
        .collect();
    let mut agents = vec![Choice { value: String::new(), label: "Nobody".into(), selected: t.assignee_id.is_none() }];
    agents.extend(o.agents.iter().filter(|a| a.active).map(|a| Choice {
        value: a.id.0.to_string(),
        label: if o.online.contains(&a.id) { format!("{} (online)", a.name) } else { format!("{} (away)", a.name) },
        selected: t.assignee_id == Some(a.id),
    }));
    let mut teams = vec![Choice { value: String::new(), label: "No team".into(), selected: t.team_id.is_none() }];
    teams.extend(o.teams.iter().map(|g| Choice {
        value: g.id.0.to_string(),
        label: g.name.clone(),
        selected: t.team_id == Some(g.id),
    }));
    TicketPage {
        layout: Layout::new(&session.session, format!("#{} {}", t.number, t.subject.clone().unwrap_or_default())),
        id: t.id.0,
        number: t.number,
        subject: t.subject.clone().unwrap_or_else(|| "(no subject)".into()),
        status: view::status(t.status),
        status_class: t.status.as_str(),
        channel: view::channel(t.channel),
        account: o.account.name.clone(),
        contact: o.contact.as_ref().map(|c| (c.id.0, contact_name(c))),
        participants: o.participants.iter().map(|c| (c.id.0, contact_name(c))).collect(),
        tags: t.tags.join(" "),
        custom_fields: crate::ui::admin::fields::ticket_inputs(&o.field_defs, &t.fields),
        macros: o.macros.iter().map(|m| (m.id, m.name.clone(), macro_summary(m, &o.agents))).collect(),
        // Defined fields have their own inputs; the free-form list holds the others.
        fields_text: t
            .fields
            .iter()
            .filter(|(k, _)| !o.field_defs.iter().any(|d| &d.key == *k))
            .map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
            .collect::<Vec<_>>()
            .join("\n"),
        status_value: t.status.as_str(),
        assignee_value: t.assignee_id.map(|a| a.0.to_string()).unwrap_or_default(),
        team_value: t.team_id.map(|a| a.0.to_string()).unwrap_or_default(),
        previous: o.previous.clone(),
        follow_ups: o.follow_ups.clone(),
        public_thread: o.public_thread.clone(),
        messages: o.messages.iter().map(|m| message_row(m, &names, now)).collect(),
        events: o.events.iter().map(|e| event_row(e, &names, &o.teams)).collect(),
        window,
        window_warning,
        template_required: state == WindowState::TemplateRequired,
        can_reply: state != WindowState::Closed && t.status != TicketStatus::Closed,
        closed: t.status == TicketStatus::Closed,
        templates: o
            .templates
            .iter()
            .map(|tpl| TemplateChoice {
                value: format!("{}|{}", tpl.name, tpl.language),
                label: format!("{} ({})", tpl.name, tpl.language),
                body: tpl.body.clone(),
            })
            .collect(),
        comments: if public {
            o.messages
                .iter()
                .rev()
                .filter(|m| m.direction == Direction::Inbound)
                .map(|m| Choice {
                    value: m.id.0.to_string(),
                    label: format!(
                        "{}: {}",
                        m.author_id.and_then(|id| names.get(&id)).map(String::as_str).unwrap_or("Customer"),
                        m.body.as_deref().unwrap_or("(attachment)").chars().take(60).collect::<String>()
                    ),
                    selected: false,
                })
                .collect()
        } else {
            Vec::new()
        },
        private_replies: public
            && matches!(
                o.account.kind,
                switchboard_domain::ChannelKind::Messenger | switchboard_domain::ChannelKind::Instagram
            ),
        agents,
        teams,
        statuses,
        submit_statuses,
        error,
        draft,
    }
}

/// `GET /tickets/{id}`
pub async fn show_ticket(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> Result<Page, PageError> {
    let overview = state.service.ticket_overview(&session.session.actor, TicketId(id)).await?;
    Page::render(&page(&session, overview, state.service.now(), None, String::new()))
}

/// `POST /tickets/{id}/messages`: a reply or an internal note, with files and a status.
/// A send the channel refuses shows the page again with the reason and the draft kept.
pub async fn reply(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: CsrfMultipart,
) -> Result<Response, PageError> {
    let actor = &form.session.session.actor;
    let body = form.field("body").map(str::to_owned);
    let internal = form.field("internal").is_some();
    let status = form.field("status").map(str::parse::<TicketStatus>).transpose()?;
    let comment = form
        .field("reply_to")
        .map(|v| v.parse::<Uuid>().map(MessageId).map_err(|_| PageError::bad_request("Not a comment.")))
        .transpose()?;
    let private = form.field("private").is_some();
    // A note is never sent, so a template picked before switching to a note is dropped.
    let template = form.field("template").filter(|_| !internal).map(|value| {
        let (name, language) = value.split_once('|').unwrap_or((value, ""));
        let parameters = form.field("parameters").unwrap_or("").lines().map(str::trim).map(str::to_owned);
        TemplateRequest {
            name: name.to_owned(),
            language: language.to_owned(),
            parameters: parameters.filter(|p| !p.is_empty()).collect(),
        }
    });
    let result = async {
        let mut files = Vec::with_capacity(form.files.len());
        for file in &form.files {
            let stored = state.service.upload_file(actor, &file.filename, &file.mime_type, file.bytes.to_vec()).await?;
            files.push(stored.id);
        }
        let reply = NewReply {
            draft: Draft {
                body: if template.is_some() { None } else { body.clone() },
                files,
                template,
                ..Draft::default()
            },
            visibility: if internal { Visibility::Internal } else { Visibility::Public },
            status,
            reply_to: comment.filter(|_| !private && !internal),
            private_reply_to: comment.filter(|_| private && !internal),
        };
        state.service.add_message(actor, TicketId(id), reply).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/tickets/{id}"))),
        Err(err) => {
            let message = PageError::from(err).message();
            let overview = state.service.ticket_overview(actor, TicketId(id)).await?;
            let mut page = Page::render(&page(
                &form.session,
                overview,
                state.service.now(),
                Some(message),
                body.unwrap_or_default(),
            ))?;
            page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(axum::response::IntoResponse::into_response(page))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PropertiesForm {
    status: Option<String>,
    assignee: Option<String>,
    team: Option<String>,
    #[serde(default)]
    status_before: String,
    #[serde(default)]
    assignee_before: String,
    #[serde(default)]
    team_before: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    tags_before: String,
    /// `name=value` lines; a name with an empty value removes the field.
    #[serde(default)]
    fields: String,
    #[serde(default)]
    fields_before: String,
}

fn tag_set(raw: &str) -> Result<BTreeSet<String>, PageError> {
    raw.split([' ', ',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Tag::parse(t).map(|t| t.as_str().to_owned()).map_err(PageError::from))
        .collect()
}

fn field_map(raw: &str) -> Result<HashMap<String, String>, PageError> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| PageError::bad_request(format!("Fields are `name=value` lines; `{l}` is not.")))
        })
        .collect()
}

/// `POST /tickets/{id}/properties`: status, assignee, team, tags and fields. The form carries
/// the values it was shown with, and only what the agent changed is sent, so a colleague's
/// change made meanwhile is kept.
pub async fn update_properties(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: CsrfForm<PropertiesForm>,
) -> Result<Response, PageError> {
    let f = &form.form;
    let changed = |now: &Option<String>, before: &str| now.clone().filter(|v| v != before);
    let parse_id = |raw: Option<String>| -> Result<Option<Option<Uuid>>, PageError> {
        match raw.as_deref() {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(v) => v.parse().map(|u| Some(Some(u))).map_err(|_| PageError::bad_request("Not an id.")),
        }
    };
    let (tags, before) = (tag_set(&f.tags)?, tag_set(&f.tags_before)?);
    let (fields, fields_before) = (field_map(&f.fields)?, field_map(&f.fields_before)?);
    let mut changed_fields = std::collections::BTreeMap::new();
    for (k, v) in &fields {
        if fields_before.get(k) != Some(v) {
            let value = if v.is_empty() { serde_json::Value::Null } else { serde_json::Value::String(v.clone()) };
            changed_fields.insert(k.clone(), value);
        }
    }
    for k in fields_before.keys().filter(|k| !fields.contains_key(*k)) {
        changed_fields.insert(k.clone(), serde_json::Value::Null);
    }
    let patch = TicketPatch {
        status: changed(&f.status, &f.status_before)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<TicketStatus>())
            .transpose()?,
        assignee_id: parse_id(changed(&f.assignee, &f.assignee_before))?.map(|a| a.map(AgentId)),
        team_id: parse_id(changed(&f.team, &f.team_before))?.map(|t| t.map(TeamId)),
        add_tags: tags.difference(&before).map(|t| Tag::parse(t)).collect::<Result<_, _>>()?,
        remove_tags: before.difference(&tags).map(|t| Tag::parse(t)).collect::<Result<_, _>>()?,
        fields: changed_fields,
        ..TicketPatch::default()
    };
    state.service.patch_ticket(&form.session.session.actor, TicketId(id), patch).await?;
    Ok(see_other(&format!("/tickets/{id}")))
}

/// What applying a macro does, in a sentence: "Replies “Hi …”; sets Pending; adds shipping; assigns you."
fn macro_summary(m: &switchboard_service::macros::Macro, agents: &[switchboard_domain::Agent]) -> String {
    let mut parts = Vec::new();
    if let Some(body) = &m.body {
        let short: String = body.chars().take(60).collect();
        let more = if body.chars().count() > 60 { "…" } else { "" };
        parts.push(format!("replies \u{201c}{short}{more}\u{201d}"));
    }
    if let Some(status) = m.status.as_deref().and_then(|s| s.parse::<switchboard_domain::TicketStatus>().ok()) {
        parts.push(format!("sets {}", view::status(status)));
    }
    if !m.add_tags.is_empty() {
        parts.push(format!("adds {}", m.add_tags.join(" ")));
    }
    match m.assignee.as_deref() {
        None => {}
        Some("me") => parts.push("assigns you".into()),
        Some("none") => parts.push("unassigns".into()),
        Some(id) => {
            let name = agents.iter().find(|a| a.id.0.to_string() == id).map_or("an agent", |a| a.name.as_str());
            parts.push(format!("assigns {name}"));
        }
    }
    let sentence = parts.join("; ");
    let mut chars = sentence.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
}
