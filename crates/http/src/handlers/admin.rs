//! Administration API: agents, teams, API tokens, workspace settings and the audit log.
//! Writes (and tokens, settings, the audit log) are for admins: an agent gets 403 `forbidden`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_domain::{Agent, AgentId, Role, TeamId, TokenId};
use switchboard_service::admin_agents::TokenInfo;
use switchboard_service::admin_agents::{AgentPatch, NewAgent, TeamView};
use switchboard_service::admin_settings::{SettingsPatch, WorkspaceSettings};
use switchboard_service::audit::AuditEntry;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};

fn role(value: &str) -> Result<Role, ApiError> {
    match value {
        "admin" => Ok(Role::Admin),
        "agent" => Ok(Role::Agent),
        _ => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "role: `admin` or `agent`")),
    }
}

// ---------------------------------------------------------------- agents

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentOut {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// admin or agent
    pub role: String,
    pub active: bool,
}

impl From<Agent> for AgentOut {
    fn from(a: Agent) -> Self {
        Self { id: a.id.0, email: a.email, name: a.name, role: a.role.as_str().to_owned(), active: a.active }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<AgentOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentIn {
    pub email: String,
    pub name: String,
    /// admin or agent (default agent)
    pub role: Option<String>,
    /// The first password (8 characters at least); the admin passes it on.
    pub password: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatchIn {
    pub name: Option<String>,
    pub role: Option<String>,
    /// Resets the password; the agent's sessions end.
    pub password: Option<String>,
    /// `false` deactivates: their waiting tickets become unassigned, they cannot sign in.
    pub active: Option<bool>,
}

/// The workspace's agents.
#[utoipa::path(get, path = "/api/v1/agents", tag = "administration", responses((status = 200, body = AgentList)))]
pub async fn list_agents(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<AgentList>, ApiError> {
    let agents = state.service.list_agents(&actor).await?;
    Ok(Json(AgentList { agents: agents.into_iter().map(Into::into).collect() }))
}

/// Creates an agent with a first password (admins).
#[utoipa::path(post, path = "/api/v1/agents", tag = "administration", request_body = AgentIn,
    responses((status = 201, body = AgentOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_agent(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<AgentIn>,
) -> Result<(StatusCode, Json<AgentOut>), ApiError> {
    let new = NewAgent {
        email: input.email,
        name: input.name,
        role: role(input.role.as_deref().unwrap_or("agent"))?,
        password: input.password,
    };
    Ok((StatusCode::CREATED, Json(state.service.create_agent(&actor, new).await?.into())))
}

/// Renames, changes the role of, resets the password of, deactivates or reactivates an agent (admins).
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "administration", params(("id" = Uuid, Path)),
    request_body = AgentPatchIn, responses((status = 200, body = AgentOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn patch_agent(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<AgentPatchIn>,
) -> Result<Json<AgentOut>, ApiError> {
    let patch = AgentPatch {
        name: input.name,
        role: input.role.as_deref().map(role).transpose()?,
        password: input.password,
        active: input.active,
    };
    Ok(Json(state.service.update_agent(&actor, AgentId(id), patch).await?.into()))
}

// ---------------------------------------------------------------- teams

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamOut {
    pub id: Uuid,
    pub name: String,
    pub member_ids: Vec<Uuid>,
}

impl From<TeamView> for TeamOut {
    fn from(t: TeamView) -> Self {
        Self { id: t.team.id.0, name: t.team.name, member_ids: t.members.into_iter().map(|a| a.0).collect() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    pub teams: Vec<TeamOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamIn {
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatchIn {
    pub name: Option<String>,
    /// Replaces the members.
    pub member_ids: Option<Vec<Uuid>>,
}

/// The workspace's teams and their members.
#[utoipa::path(get, path = "/api/v1/teams", tag = "administration", responses((status = 200, body = TeamList)))]
pub async fn list_teams(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<TeamList>, ApiError> {
    let teams = state.service.list_teams(&actor).await?;
    Ok(Json(TeamList { teams: teams.into_iter().map(Into::into).collect() }))
}

/// Creates a team (admins).
#[utoipa::path(post, path = "/api/v1/teams", tag = "administration", request_body = TeamIn,
    responses((status = 201, body = TeamOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<TeamIn>,
) -> Result<(StatusCode, Json<TeamOut>), ApiError> {
    let members: Vec<AgentId> = input.member_ids.into_iter().map(AgentId).collect();
    Ok((StatusCode::CREATED, Json(state.service.create_team(&actor, &input.name, &members).await?.into())))
}

/// Renames a team or replaces its members (admins).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "administration", params(("id" = Uuid, Path)),
    request_body = TeamPatchIn, responses((status = 200, body = TeamOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn patch_team(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<TeamPatchIn>,
) -> Result<Json<TeamOut>, ApiError> {
    let members: Option<Vec<AgentId>> = input.member_ids.map(|m| m.into_iter().map(AgentId).collect());
    let team = state.service.update_team(&actor, TeamId(id), input.name.as_deref(), members.as_deref()).await?;
    Ok(Json(team.into()))
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub agent_name: String,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Only in the answer that created it: it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenOut {
    fn new(t: TokenInfo, token: Option<String>) -> Self {
        Self {
            id: t.id.0,
            agent_id: t.agent_id.0,
            agent_name: t.agent_name,
            label: t.label,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            token,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    pub label: String,
    /// Whose token it is (default: the caller).
    pub agent_id: Option<Uuid>,
}

/// The workspace's API tokens by label, never the tokens themselves (admins).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "administration",
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<TokenList>, ApiError> {
    let tokens = state.service.list_tokens(&actor).await?;
    Ok(Json(TokenList { tokens: tokens.into_iter().map(|t| TokenOut::new(t, None)).collect() }))
}

/// Makes an API token; the answer holds it once (admins).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "administration", request_body = TokenIn,
    responses((status = 201, body = TokenOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<TokenIn>,
) -> Result<(StatusCode, Json<TokenOut>), ApiError> {
    let agent = input.agent_id.map_or(actor.agent.id, AgentId);
    let (info, token) = state.service.create_agent_token(&actor, agent, &input.label).await?;
    Ok((StatusCode::CREATED, Json(TokenOut::new(info, Some(token)))))
}

/// Revokes a token (admins).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "administration", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_token(&actor, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- settings

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    pub workspace_name: String,
    pub business_name: Option<String>,
    /// IANA name, e.g. `Asia/Jakarta`
    pub time_zone: String,
    /// How long after solving a customer's message reopens the ticket (else: a follow-up).
    pub reopen_window_secs: i64,
    /// How long a solved ticket waits before it is closed.
    pub close_solved_after_secs: i64,
}

impl From<WorkspaceSettings> for SettingsOut {
    fn from(s: WorkspaceSettings) -> Self {
        Self {
            workspace_name: s.workspace_name,
            business_name: s.profile.business_name,
            time_zone: s.profile.time_zone,
            reopen_window_secs: s.settings.reopen_window_secs,
            close_solved_after_secs: s.settings.close_solved_after_secs,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatchIn {
    /// `""` clears it.
    pub business_name: Option<String>,
    pub time_zone: Option<String>,
    pub reopen_window_secs: Option<i64>,
    pub close_solved_after_secs: Option<i64>,
}

/// The workspace's settings (admins).
#[utoipa::path(get, path = "/api/v1/settings", tag = "administration",
    responses((status = 200, body = SettingsOut), (status = 403, body = ErrorBody)))]
pub async fn get_settings(State(state): State<AppState>, Authed(actor): Authed) -> Result<Json<SettingsOut>, ApiError> {
    Ok(Json(state.service.workspace_settings(&actor).await?.into()))
}

/// Changes the workspace's settings (admins).
#[utoipa::path(patch, path = "/api/v1/settings", tag = "administration", request_body = SettingsPatchIn,
    responses((status = 200, body = SettingsOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_settings(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(input): ApiJson<SettingsPatchIn>,
) -> Result<Json<SettingsOut>, ApiError> {
    let patch = SettingsPatch {
        reopen_window_secs: input.reopen_window_secs,
        close_solved_after_secs: input.close_solved_after_secs,
        business_name: input.business_name,
        time_zone: input.time_zone,
    };
    Ok(Json(state.service.update_workspace_settings(&actor, patch).await?.into()))
}

// ---------------------------------------------------------------- audit log

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    pub id: Uuid,
    pub agent_id: Option<Uuid>,
    pub agent_name: Option<String>,
    /// `resource.verb`, e.g. `agent.created`
    pub action: String,
    /// `resource:id`
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<AuditEntry> for AuditEntryOut {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            agent_id: e.agent_id.map(|a| a.0),
            agent_name: e.agent_name,
            action: e.action,
            target: e.target,
            detail: e.detail,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    pub entries: Vec<AuditEntryOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// An entry's id: the entries before it.
    pub before: Option<Uuid>,
    /// 1 to 100, default 50
    pub limit: Option<i64>,
}

/// Every change admins made, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "administration", params(AuditQuery),
    responses((status = 200, body = AuditLog), (status = 403, body = ErrorBody)))]
pub async fn get_audit_log(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditLog>, ApiError> {
    let entries = state.service.audit_log(&actor, q.before, q.limit.unwrap_or(50)).await?;
    Ok(Json(AuditLog { entries: entries.into_iter().map(Into::into).collect() }))
}
