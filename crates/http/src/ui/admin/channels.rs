//! `/admin/channels`: connecting a line of any kind (with what to do on the platform's side),
//! changing, disabling and deleting it, its health, and replaying its dead letters.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_domain::{ChannelAccount, ChannelAccountId, ChannelKind};
use switchboard_service::accounts::ConnectAccount;
use switchboard_service::admin_accounts::AccountPatch;
use uuid::Uuid;

use super::help::{KindHelp, help};
use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::extract::Empty;
use crate::ui::tickets::Choice;
use crate::ui::{Layout, Page, PageError, Session, see_other, view};

type Pairs = Vec<(String, String)>;

pub struct LineRow {
    pub id: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub external_id: String,
    pub enabled: bool,
}

fn row(a: &ChannelAccount) -> LineRow {
    LineRow {
        id: a.id.0,
        name: a.name.clone(),
        kind: view::channel(a.kind),
        external_id: a.external_id.clone(),
        enabled: a.enabled,
    }
}

fn webhook_url(state: &AppState, a: &ChannelAccount) -> String {
    format!("{}/webhooks/{}/{}", state.public_url.trim_end_matches('/'), a.kind, a.id)
}

#[derive(Template)]
#[template(path = "admin/channels.html")]
struct ChannelsPage {
    layout: Layout,
    nav: Nav,
    lines: Vec<LineRow>,
    kinds: Vec<Choice>,
}

fn kinds() -> Vec<Choice> {
    ChannelKind::ALL
        .iter()
        .filter(|k| **k != ChannelKind::Email)
        .map(|k| Choice { value: k.as_str().to_owned(), label: view::channel(*k).to_owned(), selected: false })
        .collect()
}

/// `GET /admin/channels`
pub async fn list_channels(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Page, PageError> {
    let lines = state.service.list_accounts(&session.session.actor).await?;
    Page::render(&ChannelsPage {
        layout: layout(&session, "Channels"),
        nav: Nav { current: "channels" },
        lines: lines.iter().map(row).collect(),
        kinds: kinds(),
    })
}

/// An input of the connect form with what was typed.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub required: bool,
    pub value: String,
}

#[derive(Template)]
#[template(path = "admin/channel_new.html")]
struct NewChannelPage {
    layout: Layout,
    nav: Nav,
    kind: &'static str,
    kind_label: &'static str,
    external_id_label: &'static str,
    name: String,
    external_id: String,
    secrets: Vec<Field>,
    settings: Vec<Field>,
    widget: bool,
    steps: &'static [&'static str],
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct KindQuery {
    kind: String,
}

fn parse_kind(kind: &str) -> Result<ChannelKind, PageError> {
    kind.parse().map_err(|_| PageError::bad_request(format!("There is no kind of line called `{kind}`.")))
}

fn fields(inputs: &[super::help::Input], values: &Pairs, prefix: &str, default: impl Fn(&str) -> String) -> Vec<Field> {
    inputs
        .iter()
        .map(|i| Field {
            name: i.name,
            label: i.label,
            hint: i.hint,
            required: i.required,
            value: values
                .iter()
                .find(|(k, _)| k.strip_prefix(prefix) == Some(i.name))
                .map_or_else(|| default(i.name), |(_, v)| v.clone()),
        })
        .collect()
}

fn new_page(session: &Session, kind: ChannelKind, values: &Pairs, error: Option<String>) -> NewChannelPage {
    let h: KindHelp = help(kind);
    // Meta's verify token is a phrase we choose: offer one, so the admin only copies it.
    let suggested = Uuid::now_v7().simple().to_string();
    let value = |key: &str| values.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    NewChannelPage {
        layout: layout(session, &format!("Connect {}", view::channel(kind))),
        nav: Nav { current: "channels" },
        kind: kind.as_str(),
        kind_label: view::channel(kind),
        external_id_label: h.external_id,
        name: value("name"),
        external_id: value("external_id"),
        secrets: fields(&h.secrets, values, "secret.", |name| {
            if name == "verify_token" && h.verify_token { suggested.clone() } else { String::new() }
        }),
        settings: fields(&h.settings, values, "setting.", |_| String::new()),
        widget: kind == ChannelKind::Widget,
        steps: h.steps,
        error,
    }
}

/// `GET /admin/channels/new?kind=`
pub async fn new_channel(AdminSession(session): AdminSession, Query(q): Query<KindQuery>) -> Result<Page, PageError> {
    let kind = parse_kind(&q.kind)?;
    Page::render(&new_page(&session, kind, &Vec::new(), None))
}

#[derive(Template)]
#[template(path = "admin/channel_connected.html")]
struct ConnectedPage {
    layout: Layout,
    nav: Nav,
    id: Uuid,
    name: String,
    kind_label: &'static str,
    webhook_url: String,
    verify_token: Option<String>,
    steps: &'static [&'static str],
}

/// Settings typed into a form: text settings by name, the widget's switches and origins.
fn settings_from(pairs: &Pairs, kind: ChannelKind) -> serde_json::Map<String, serde_json::Value> {
    let mut settings = serde_json::Map::new();
    for (key, value) in pairs {
        if let Some(name) = key.strip_prefix("setting.") {
            let value = value.trim();
            settings.insert(name.to_owned(), if value.is_empty() { serde_json::Value::Null } else { value.into() });
        }
    }
    if kind == ChannelKind::Widget {
        // A checkbox sends nothing when off: its `…_form` marker says the form had it.
        let on = |name: &str| pairs.iter().any(|(k, _)| k == name);
        for flag in ["tickets_space", "require_verification"] {
            if on(&format!("{flag}_form")) {
                settings.insert(flag.into(), on(flag).into());
            }
        }
        if let Some((_, origins)) = pairs.iter().find(|(k, _)| k == "allowed_origins") {
            let list: Vec<serde_json::Value> =
                origins.split_whitespace().map(|o| serde_json::Value::from(o.trim_end_matches('/'))).collect();
            settings.insert("allowed_origins".into(), list.into());
        }
    }
    settings
}

fn secrets_from(pairs: &Pairs) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("secret.").map(|name| (name.to_owned(), v.trim().into())))
        .filter(|(_, v): &(String, serde_json::Value)| v.as_str().is_some_and(|s| !s.is_empty()))
        .collect()
}

/// `POST /admin/channels`: connects the line and shows, once, what to paste on the platform.
pub async fn connect_channel(State(state): State<AppState>, form: AdminForm<Pairs>) -> Result<Response, PageError> {
    let pairs = form.form;
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let kind = parse_kind(&value("kind"))?;
    let secrets = secrets_from(&pairs);
    let verify_token = secrets.get("verify_token").and_then(|v| v.as_str()).map(str::to_owned);
    let mut settings = settings_from(&pairs, kind);
    settings.retain(|_, v| !v.is_null());
    let api_base_url = Some(value("api_base_url")).filter(|u| !u.is_empty());
    let input = ConnectAccount {
        kind,
        name: value("name"),
        external_id: value("external_id"),
        secrets,
        settings,
        api_base_url,
    };
    match state.service.connect_account(&form.session.session.actor, input).await {
        Ok(account) => Ok(Page::render(&ConnectedPage {
            layout: layout(&form.session, "Line connected"),
            nav: Nav { current: "channels" },
            id: account.id.0,
            webhook_url: webhook_url(&state, &account),
            name: account.name,
            kind_label: view::channel(kind),
            verify_token: verify_token.filter(|_| help(kind).verify_token),
            steps: help(kind).steps,
        })?
        .into_response()),
        Err(err) => {
            let message = PageError::from(err).message();
            let mut page = Page::render(&new_page(&form.session, kind, &pairs, Some(message)))?;
            page.0 = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page.into_response())
        }
    }
}

pub struct LetterRow {
    pub id: Uuid,
    pub reason: String,
    pub received: String,
    pub state: String,
    pub waiting: bool,
}

#[derive(Template)]
#[template(path = "admin/channel.html")]
struct ChannelPage {
    layout: Layout,
    nav: Nav,
    line: LineRow,
    webhook_url: String,
    steps: &'static [&'static str],
    secret_names: Vec<(&'static str, &'static str)>,
    settings: Vec<Field>,
    widget: Option<WidgetSettings>,
    last_webhook: String,
    last_signature_failure: String,
    last_send_error: String,
    dead_letters_waiting: i64,
    letters: Vec<LetterRow>,
    notice: Option<&'static str>,
}

pub struct WidgetSettings {
    pub tickets_space: bool,
    pub require_verification: bool,
    pub allowed_origins: String,
}

pub fn widget_settings(a: &ChannelAccount) -> WidgetSettings {
    let flag = |k: &str| a.settings.get(k).and_then(serde_json::Value::as_bool);
    WidgetSettings {
        // The Tickets space shows unless an admin turned it off.
        tickets_space: flag("tickets_space").unwrap_or(true),
        require_verification: flag("require_verification").unwrap_or(false),
        allowed_origins: a
            .settings
            .get("allowed_origins")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|o| o.as_str()).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// `GET /admin/channels/{id}`
pub async fn show_channel(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> Result<Page, PageError> {
    let (account, health, letters) = state.service.account_health(&session.session.actor, ChannelAccountId(id)).await?;
    let now = state.service.now();
    let h = help(account.kind);
    let never = || "never".to_owned();
    let text_settings = h
        .settings
        .iter()
        .map(|i| super::channels::Field {
            name: i.name,
            label: i.label,
            hint: i.hint,
            required: false,
            value: account.settings.get(i.name).and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
        })
        .collect();
    Page::render(&ChannelPage {
        layout: layout(&session, &account.name),
        nav: Nav { current: "channels" },
        webhook_url: webhook_url(&state, &account),
        steps: h.steps,
        secret_names: h.secrets.iter().map(|s| (s.name, s.label)).collect(),
        settings: text_settings,
        widget: (account.kind == ChannelKind::Widget).then(|| widget_settings(&account)),
        last_webhook: health.last_webhook_at.map_or_else(never, |at| view::ago(now, at)),
        last_signature_failure: health.last_signature_failure_at.map_or_else(never, |at| view::ago(now, at)),
        last_send_error: health
            .last_send_error
            .map_or_else(|| "none".to_owned(), |(e, at)| format!("{e} (reply queued {})", view::ago(now, at))),
        dead_letters_waiting: health.dead_letters_waiting,
        letters: letters
            .into_iter()
            .map(|l| {
                let waiting = l.replayed_at.is_none() || l.replay_error.is_some();
                LetterRow {
                    id: l.id,
                    reason: l.reason,
                    received: view::ago(now, l.received_at),
                    state: match (&l.replayed_at, &l.replay_error) {
                        (None, _) => "waiting".to_owned(),
                        (Some(_), Some(e)) => format!("replay failed: {e}"),
                        (Some(at), None) => format!("replayed {}", view::ago(now, *at)),
                    },
                    waiting,
                }
            })
            .collect(),
        notice: match q.notice.as_deref() {
            Some("saved") => Some("Saved."),
            Some("replayed") => Some("The delivery was stored."),
            Some("still_failing") => Some("The delivery still cannot be stored; the reason is below."),
            _ => None,
        },
        line: row(&account),
    })
}

/// `POST /admin/channels/{id}`: name, settings, replaced secrets, enabled.
pub async fn update_channel(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Pairs>,
) -> Result<Response, PageError> {
    let actor = &form.session.session.actor;
    let kind = state.service.get_account(actor, ChannelAccountId(id)).await?.kind;
    let pairs = form.form;
    let patch = AccountPatch {
        name: pairs.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()),
        settings: settings_from(&pairs, kind),
        secrets: secrets_from(&pairs),
        // A checkbox sends nothing when off: the marker says the form had one.
        enabled: pairs.iter().any(|(k, _)| k == "enabled_form").then(|| pairs.iter().any(|(k, _)| k == "enabled")),
    };
    state.service.update_account(actor, ChannelAccountId(id), patch).await?;
    let to = match pairs.iter().any(|(k, v)| k == "back" && v == "settings") {
        true => "/admin/settings?notice=saved".to_owned(),
        false => format!("/admin/channels/{id}?notice=saved"),
    };
    Ok(see_other(&to))
}

/// `POST /admin/channels/{id}/delete`
pub async fn delete_channel(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Empty>,
) -> Result<Response, PageError> {
    state.service.delete_account(&form.session.session.actor, ChannelAccountId(id)).await?;
    Ok(see_other("/admin/channels"))
}

/// `POST /admin/dead-letters/{id}/replay`: back to the line's page, saying how it went.
pub async fn replay_dead_letter(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Pairs>,
) -> Result<Response, PageError> {
    let line = form.form.iter().find(|(k, _)| k == "line").and_then(|(_, v)| v.parse::<Uuid>().ok());
    let notice = match state.service.replay_dead_letter(&form.session.session.actor, id).await {
        Ok(_) => "replayed",
        Err(switchboard_service::ServiceError::Conflict { .. }) => "still_failing",
        Err(other) => return Err(other.into()),
    };
    Ok(match line {
        Some(line) => see_other(&format!("/admin/channels/{line}?notice={notice}")),
        None => see_other("/admin/channels"),
    })
}
