//! `/admin/settings` (reopen window, solved → closed delay, business name and time zone, the
//! widget lines' Tickets space) and `/admin/audit` (who changed what, when).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use switchboard_domain::ChannelKind;
use switchboard_service::admin_settings::SettingsPatch;
use uuid::Uuid;

use super::channels::widget_settings;
use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::{Layout, Page, PageError, see_other, view};

pub struct WidgetLine {
    pub id: Uuid,
    pub name: String,
    pub tickets_space: bool,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    nav: Nav,
    workspace_name: String,
    business_name: String,
    time_zone: String,
    reopen_days: String,
    close_days: String,
    widgets: Vec<WidgetLine>,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// Days as the form shows them: whole numbers plainly, else with up to two decimals.
fn days(secs: i64) -> String {
    let d = secs as f64 / 86_400.0;
    if secs % 86_400 == 0 { format!("{}", secs / 86_400) } else { format!("{d:.2}") }
}

/// `GET /admin/settings`
pub async fn show_settings(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Query(q): Query<NoticeQuery>,
) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let s = state.service.workspace_settings(actor).await?;
    let lines = state.service.list_accounts(actor).await?;
    Page::render(&SettingsPage {
        layout: layout(&session, "Settings"),
        nav: Nav { current: "settings" },
        workspace_name: s.workspace_name,
        business_name: s.profile.business_name.unwrap_or_default(),
        time_zone: s.profile.time_zone,
        reopen_days: days(s.settings.reopen_window_secs),
        close_days: days(s.settings.close_solved_after_secs),
        widgets: lines
            .iter()
            .filter(|a| a.kind == ChannelKind::Widget)
            .map(|a| WidgetLine { id: a.id.0, name: a.name.clone(), tickets_space: widget_settings(a).tickets_space })
            .collect(),
        saved: q.notice.as_deref() == Some("saved"),
    })
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    business_name: String,
    time_zone: String,
    reopen_days: String,
    close_days: String,
}

fn secs(field: &'static str, days: &str) -> Result<i64, PageError> {
    let d: f64 = days
        .trim()
        .parse()
        .map_err(|_| PageError::bad_request(format!("{field}: a number of days, such as 7 or 0.5")))?;
    if !d.is_finite() || d < 0.0 {
        return Err(PageError::bad_request(format!("{field}: a number of days, such as 7 or 0.5")));
    }
    Ok((d * 86_400.0).round() as i64)
}

/// `POST /admin/settings`
pub async fn update_settings(
    State(state): State<AppState>,
    form: AdminForm<SettingsForm>,
) -> Result<Response, PageError> {
    let f = form.form;
    let patch = SettingsPatch {
        reopen_window_secs: Some(secs("Reopen window", &f.reopen_days)?),
        close_solved_after_secs: Some(secs("Solved to closed", &f.close_days)?),
        business_name: Some(f.business_name),
        time_zone: Some(f.time_zone),
    };
    state.service.update_workspace_settings(&form.session.session.actor, patch).await?;
    Ok(see_other("/admin/settings?notice=saved"))
}

pub struct AuditRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    nav: Nav,
    entries: Vec<AuditRow>,
    next: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    before: Option<Uuid>,
}

/// `GET /admin/audit`
pub async fn show_audit(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Query(q): Query<AuditQuery>,
) -> Result<Page, PageError> {
    const PAGE: i64 = 50;
    let entries = state.service.audit_log(&session.session.actor, q.before, PAGE).await?;
    let next = (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.id)).flatten();
    Page::render(&AuditPage {
        layout: layout(&session, "Audit log"),
        nav: Nav { current: "audit" },
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                when: view::when(e.created_at),
                who: e.agent_name.unwrap_or_else(|| "system".into()),
                action: e.action,
                target: e.target,
                detail: e.detail.to_string(),
            })
            .collect(),
        next,
    })
}
