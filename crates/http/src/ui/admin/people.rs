//! `/admin/agents`, `/admin/teams`, `/admin/tokens`: people and their access.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use switchboard_domain::{AgentId, Role, TeamId, TokenId};
use switchboard_service::admin_agents::{AgentPatch, NewAgent};
use uuid::Uuid;

use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::extract::Empty;
use crate::ui::{Layout, Page, PageError, Session, see_other, view};

type Pairs = Vec<(String, String)>;

pub struct AgentRow {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub active: bool,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "admin/agents.html")]
struct AgentsPage {
    layout: Layout,
    nav: Nav,
    agents: Vec<AgentRow>,
    error: Option<String>,
}

async fn agents_page(state: &AppState, session: &Session, error: Option<String>) -> Result<Page, PageError> {
    let me = session.session.actor.agent.id;
    let agents = state.service.list_agents(&session.session.actor).await?;
    let mut page = Page::render(&AgentsPage {
        layout: layout(session, "Agents"),
        nav: Nav { current: "agents" },
        agents: agents
            .into_iter()
            .map(|a| AgentRow {
                id: a.id.0,
                me: a.id == me,
                name: a.name,
                email: a.email,
                admin: a.role == Role::Admin,
                active: a.active,
            })
            .collect(),
        error: error.clone(),
    })?;
    if error.is_some() {
        page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// `GET /admin/agents`
pub async fn list_agents(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Page, PageError> {
    agents_page(&state, &session, None).await
}

fn role(value: &str) -> Role {
    if value == "admin" { Role::Admin } else { Role::Agent }
}

#[derive(Debug, Deserialize)]
pub struct AgentForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

/// `POST /admin/agents`: a new agent, who signs in with the password given here.
pub async fn create_agent(State(state): State<AppState>, form: AdminForm<AgentForm>) -> Result<Response, PageError> {
    let f = form.form;
    let new = NewAgent { email: f.email, name: f.name, role: role(&f.role), password: f.password };
    match state.service.create_agent(&form.session.session.actor, new).await {
        Ok(_) => Ok(see_other("/admin/agents")),
        Err(err) => {
            use axum::response::IntoResponse;
            Ok(agents_page(&state, &form.session, Some(PageError::from(err).message())).await?.into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AgentChange {
    /// `role`, `password`, `deactivate` or `reactivate`.
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/agents/{id}`: one change (role, password reset, deactivate, reactivate).
pub async fn update_agent(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<AgentChange>,
) -> Result<Response, PageError> {
    let f = form.form;
    let patch = match f.action.as_str() {
        "role" => AgentPatch { role: Some(role(&f.role)), ..AgentPatch::default() },
        "password" => AgentPatch { password: Some(f.password), ..AgentPatch::default() },
        "deactivate" => AgentPatch { active: Some(false), ..AgentPatch::default() },
        "reactivate" => AgentPatch { active: Some(true), ..AgentPatch::default() },
        _ => return Err(PageError::bad_request("Unknown change.")),
    };
    match state.service.update_agent(&form.session.session.actor, AgentId(id), patch).await {
        Ok(_) => Ok(see_other("/admin/agents")),
        Err(err) => {
            use axum::response::IntoResponse;
            Ok(agents_page(&state, &form.session, Some(PageError::from(err).message())).await?.into_response())
        }
    }
}

pub struct Member {
    pub id: Uuid,
    pub name: String,
    pub member: bool,
}

pub struct TeamRow {
    pub id: Uuid,
    pub name: String,
    pub members: Vec<Member>,
}

#[derive(Template)]
#[template(path = "admin/teams.html")]
struct TeamsPage {
    layout: Layout,
    nav: Nav,
    teams: Vec<TeamRow>,
    agents: Vec<Member>,
}

/// `GET /admin/teams`
pub async fn list_teams(State(state): State<AppState>, AdminSession(session): AdminSession) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let agents: Vec<_> = state.service.list_agents(actor).await?.into_iter().filter(|a| a.active).collect();
    let teams = state.service.list_teams(actor).await?;
    Page::render(&TeamsPage {
        layout: layout(&session, "Teams"),
        nav: Nav { current: "teams" },
        teams: teams
            .into_iter()
            .map(|t| TeamRow {
                id: t.team.id.0,
                name: t.team.name,
                members: agents
                    .iter()
                    .map(|a| Member { id: a.id.0, name: a.name.clone(), member: t.members.contains(&a.id) })
                    .collect(),
            })
            .collect(),
        agents: agents.iter().map(|a| Member { id: a.id.0, name: a.name.clone(), member: false }).collect(),
    })
}

fn members(pairs: &Pairs) -> Result<Vec<AgentId>, PageError> {
    pairs
        .iter()
        .filter(|(k, _)| k == "member")
        .map(|(_, v)| v.parse::<Uuid>().map(AgentId).map_err(|_| PageError::bad_request("A member is not an agent.")))
        .collect()
}

fn text<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// `POST /admin/teams`
pub async fn create_team(State(state): State<AppState>, form: AdminForm<Pairs>) -> Result<Response, PageError> {
    let members = members(&form.form)?;
    state.service.create_team(&form.session.session.actor, text(&form.form, "name"), &members).await?;
    Ok(see_other("/admin/teams"))
}

/// `POST /admin/teams/{id}`: name and members.
pub async fn update_team(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Pairs>,
) -> Result<Response, PageError> {
    let members = members(&form.form)?;
    let name = text(&form.form, "name");
    state.service.update_team(&form.session.session.actor, TeamId(id), Some(name), Some(&members)).await?;
    Ok(see_other("/admin/teams"))
}

pub struct TokenRow {
    pub id: Uuid,
    pub label: String,
    pub agent: String,
    pub created: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    layout: Layout,
    nav: Nav,
    tokens: Vec<TokenRow>,
    agents: Vec<Member>,
    /// A token just made: shown this once.
    created: Option<String>,
}

async fn tokens_page(state: &AppState, session: &Session, created: Option<String>) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let now = state.service.now();
    let tokens = state.service.list_tokens(actor).await?;
    let agents = state.service.list_agents(actor).await?;
    Page::render(&TokensPage {
        layout: layout(session, "API tokens"),
        nav: Nav { current: "tokens" },
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id.0,
                label: t.label,
                agent: t.agent_name,
                created: view::ago(now, t.created_at),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        agents: agents
            .into_iter()
            .filter(|a| a.active)
            .map(|a| Member { member: a.id == actor.agent.id, id: a.id.0, name: a.name })
            .collect(),
        created,
    })
}

/// `GET /admin/tokens`
pub async fn list_tokens(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Page, PageError> {
    tokens_page(&state, &session, None).await
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    label: String,
    agent: Uuid,
}

/// `POST /admin/tokens`: makes a token and shows it once (the page is not stored anywhere).
pub async fn create_token(State(state): State<AppState>, form: AdminForm<TokenForm>) -> Result<Page, PageError> {
    let actor = &form.session.session.actor;
    let (_, token) = state.service.create_agent_token(actor, AgentId(form.form.agent), &form.form.label).await?;
    tokens_page(&state, &form.session, Some(token)).await
}

/// `POST /admin/tokens/{id}/revoke`
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Empty>,
) -> Result<Response, PageError> {
    state.service.revoke_token(&form.session.session.actor, TokenId(id)).await?;
    Ok(see_other("/admin/tokens"))
}
