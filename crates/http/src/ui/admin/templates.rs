//! `/admin/templates`: the WhatsApp templates of each line — registered here as approved on the
//! platform, or synced from WhatsApp with their status — with a preview that fills the
//! placeholders with the values typed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use switchboard_domain::{ChannelAccountId, ChannelKind, template};
use switchboard_service::templates::TemplateInput;
use uuid::Uuid;

use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::extract::Empty;
use crate::ui::{Layout, Page, PageError, see_other};

pub struct TemplateView {
    pub id: Uuid,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub body: String,
    /// How many `{{n}}` the body has: one preview input each.
    pub placeholders: Vec<usize>,
    /// The body filled with the values typed, when this template was previewed.
    pub preview: Option<String>,
}

pub struct LineTemplates {
    pub id: Uuid,
    pub name: String,
    pub waba: bool,
    pub templates: Vec<TemplateView>,
}

#[derive(Template)]
#[template(path = "admin/templates.html")]
struct TemplatesPage {
    layout: Layout,
    nav: Nav,
    lines: Vec<LineTemplates>,
    notice: Option<String>,
}

/// `?preview=<template id>&p=…&p=…` fills that template's placeholders; `notice` says how a sync went.
#[derive(Debug, Default)]
pub struct TemplatesQuery {
    preview: Option<Uuid>,
    values: Vec<String>,
    notice: Option<String>,
}

impl<'de> Deserialize<'de> for TemplatesQuery {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(d)?;
        let mut q = TemplatesQuery::default();
        for (k, v) in pairs {
            match k.as_str() {
                "preview" => q.preview = v.parse().ok(),
                "p" => q.values.push(v),
                "notice" => q.notice = Some(v),
                _ => {}
            }
        }
        Ok(q)
    }
}

/// `GET /admin/templates`
pub async fn list_templates(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Query(q): Query<TemplatesQuery>,
) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let mut lines = Vec::new();
    for line in state.service.list_accounts(actor).await?.into_iter().filter(|a| a.kind == ChannelKind::Whatsapp) {
        let rows = state.service.list_templates(actor, line.id).await?;
        lines.push(LineTemplates {
            id: line.id.0,
            waba: line.settings.get("waba_id").and_then(|v| v.as_str()).is_some_and(|v| !v.is_empty()),
            name: line.name,
            templates: rows
                .into_iter()
                .map(|t| {
                    let count = template::placeholder_count(&t.body).unwrap_or(0);
                    let preview = (q.preview == Some(t.id)).then(|| {
                        let mut values = q.values.clone();
                        values.resize(count, String::new());
                        template::fill(&t.body, &values).unwrap_or_else(|e| e.to_string())
                    });
                    TemplateView {
                        id: t.id,
                        name: t.name,
                        language: t.language,
                        category: t.category,
                        status: t.status,
                        body: t.body,
                        placeholders: (1..=count).collect(),
                        preview,
                    }
                })
                .collect(),
        });
    }
    Page::render(&TemplatesPage {
        layout: layout(&session, "Templates"),
        nav: Nav { current: "templates" },
        lines,
        notice: q.notice.map(|n| match n.as_str() {
            "saved" => "Saved.".to_owned(),
            "synced" => "Synced from WhatsApp.".to_owned(),
            other => other.to_owned(),
        }),
    })
}

#[derive(Debug, Deserialize)]
pub struct TemplateForm {
    name: String,
    language: String,
    category: String,
    body: String,
}

/// `POST /admin/templates/{line}`: registers a template as approved on the platform.
pub async fn create_template(
    State(state): State<AppState>,
    Path(line): Path<Uuid>,
    form: AdminForm<TemplateForm>,
) -> Result<Response, PageError> {
    let f = form.form;
    let input = TemplateInput { name: f.name, language: f.language, category: f.category, body: f.body };
    state.service.save_template(&form.session.session.actor, ChannelAccountId(line), input).await?;
    Ok(see_other("/admin/templates?notice=saved"))
}

/// `POST /admin/templates/{line}/sync`: reads the line's templates and their status from WhatsApp.
pub async fn sync_templates(
    State(state): State<AppState>,
    Path(line): Path<Uuid>,
    form: AdminForm<Empty>,
) -> Result<Response, PageError> {
    let notice = match state.service.sync_templates(&form.session.session.actor, ChannelAccountId(line)).await {
        Ok(_) => "synced".to_owned(),
        Err(err) => format!("The sync failed: {}", PageError::from(err).message()),
    };
    let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("notice", &notice).finish();
    Ok(see_other(&format!("/admin/templates?{query}")))
}
