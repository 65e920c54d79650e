//! Agents, their API tokens, and teams.

use switchboard_domain::{Agent, AgentId, Availability, Role, Team, TeamId, TokenId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, to_millis, with_conn};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    email: String,
    name: String,
    role: String,
    active: bool,
}

impl TryFrom<Row> for Agent {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        agent_from_parts(r.id, r.workspace_id, r.email, r.name, &r.role, r.active)
    }
}

/// An agent from its columns, for queries that join agents to something else.
pub(crate) fn agent_from_parts(
    id: Uuid,
    workspace_id: Uuid,
    email: String,
    name: String,
    role: &str,
    active: bool,
) -> Result<Agent> {
    Ok(Agent {
        id: id.into(),
        workspace_id: workspace_id.into(),
        email,
        name,
        role: match role {
            "admin" => Role::Admin,
            "agent" => Role::Agent,
            other => return Err(StoreError::Corrupt(format!("agent role `{other}`"))),
        },
        active,
    })
}

const COLUMNS: &str = "SELECT a.id, a.workspace_id, a.email, a.name, a.role, a.active FROM agents a";

/// Creates the agent, or updates name, role and password of the one with that e-mail in the
/// same workspace. An e-mail that belongs to another workspace is a conflict.
pub async fn upsert(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    email: &str,
    name: &str,
    role: Role,
    password_hash: Option<&str>,
    now: OffsetDateTime,
) -> Result<Agent> {
    if let Some(existing) = find_by_email(conn, email).await? {
        if existing.workspace_id != workspace {
            return Err(StoreError::Conflict(format!("{email} belongs to another workspace")));
        }
        with_conn!(conn, c => {
            sqlx::query(
                "UPDATE agents SET name = $1, role = $2, password_hash = COALESCE($3, password_hash), active = TRUE \
                 WHERE id = $4",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(existing.id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
    } else {
        with_conn!(conn, c => {
            sqlx::query(
                "INSERT INTO agents (id, workspace_id, email, name, role, password_hash, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)",
            )
            .bind(Uuid::now_v7())
            .bind(workspace.0)
            .bind(email)
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(to_millis(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
    }
    find_by_email(conn, email).await?.ok_or_else(|| StoreError::Corrupt("agent vanished".into()))
}

pub async fn find_by_email(conn: &mut Conn<'_>, email: &str) -> Result<Option<Agent>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE a.email = $1")))
            .bind(email.to_lowercase())
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(Agent::try_from).transpose()
}

pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: AgentId) -> Result<Option<Agent>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE a.workspace_id = $1 AND a.id = $2")))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(Agent::try_from).transpose()
}

pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<Agent>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE a.workspace_id = $1 ORDER BY a.name, a.id")))
            .bind(workspace.0)
            .fetch_all(&mut *c)
            .await?
    });
    rows.into_iter().map(Agent::try_from).collect()
}

/// Stores a new API token by its hash; the token itself is never stored.
pub async fn create_token(
    conn: &mut Conn<'_>,
    agent: &Agent,
    token_hash: &str,
    label: &str,
    now: OffsetDateTime,
) -> Result<TokenId> {
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO api_tokens (id, workspace_id, agent_id, token_hash, label, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(agent.workspace_id.0)
        .bind(agent.id.0)
        .bind(token_hash)
        .bind(label)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(id.into())
}

/// The active agent that holds a live token with this hash.
pub async fn agent_by_token_hash(conn: &mut Conn<'_>, token_hash: &str) -> Result<Option<Agent>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} JOIN api_tokens t ON t.agent_id = a.id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.active = TRUE"
        )))
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(Agent::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    workspace_id: Uuid,
    name: String,
}

impl From<TeamRow> for Team {
    fn from(r: TeamRow) -> Self {
        Team { id: r.id.into(), workspace_id: r.workspace_id.into(), name: r.name }
    }
}

pub async fn create_team(conn: &mut Conn<'_>, workspace: WorkspaceId, name: &str, now: OffsetDateTime) -> Result<Team> {
    let id = Uuid::now_v7();
    with_conn!(conn, c => {
        sqlx::query("INSERT INTO teams (id, workspace_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(workspace.0)
            .bind(name)
            .bind(to_millis(now))
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(Team { id: id.into(), workspace_id: workspace, name: name.to_owned() })
}

pub async fn get_team(conn: &mut Conn<'_>, workspace: WorkspaceId, id: TeamId) -> Result<Option<Team>> {
    let row: Option<TeamRow> = with_conn!(conn, c => {
        sqlx::query_as("SELECT id, workspace_id, name FROM teams WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row.map(Into::into))
}

pub async fn list_teams(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<Team>> {
    let rows: Vec<TeamRow> = with_conn!(conn, c => {
        sqlx::query_as("SELECT id, workspace_id, name FROM teams WHERE workspace_id = $1 ORDER BY name")
            .bind(workspace.0)
            .fetch_all(&mut *c)
            .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn add_team_member(conn: &mut Conn<'_>, team: &Team, agent: AgentId) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO team_members (workspace_id, team_id, agent_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(team.workspace_id.0)
        .bind(team.id.0)
        .bind(agent.0)
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    Ok(())
}

/// Sets an agent's availability.
pub async fn set_availability(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    agent: AgentId,
    availability: Availability,
) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE agents SET availability = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(availability.as_str())
            .bind(workspace.0)
            .bind(agent.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The agent with this e-mail and their password hash (`None` for agents who have none).
pub async fn find_with_password(conn: &mut Conn<'_>, email: &str) -> Result<Option<(Agent, Option<String>)>> {
    #[derive(sqlx::FromRow)]
    struct WithHash {
        #[sqlx(flatten)]
        agent: Row,
        password_hash: Option<String>,
    }
    let row: Option<WithHash> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT a.id, a.workspace_id, a.email, a.name, a.role, a.active, a.password_hash FROM agents a \
             WHERE a.email = $1",
        )
        .bind(email.to_lowercase())
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(|r| Ok((Agent::try_from(r.agent)?, r.password_hash))).transpose()
}

/// Who of the workspace is online.
pub async fn online(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<AgentId>> {
    let rows: Vec<(Uuid,)> = with_conn!(conn, c => {
        sqlx::query_as("SELECT id FROM agents WHERE workspace_id = $1 AND availability = 'online' AND active = TRUE")
            .bind(workspace.0)
            .fetch_all(&mut *c)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id.into()).collect())
}

/// Writes an agent's name, role and active flag, and the password hash if one is given.
pub async fn update(conn: &mut Conn<'_>, agent: &Agent, password_hash: Option<&str>) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE agents SET name = $1, role = $2, active = $3, password_hash = COALESCE($4, password_hash) \
             WHERE workspace_id = $5 AND id = $6",
        )
        .bind(&agent.name)
        .bind(agent.role.as_str())
        .bind(agent.active)
        .bind(password_hash)
        .bind(agent.workspace_id.0)
        .bind(agent.id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// How many active admins the workspace has: the last one may not be demoted or deactivated.
pub async fn active_admins(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<i64> {
    let n: i64 = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND role = 'admin' AND active = TRUE")
            .bind(workspace.0)
            .fetch_one(&mut *c)
            .await?
    });
    Ok(n)
}

/// Ends every session of an agent (deactivated, or given a new password).
pub async fn end_sessions(conn: &mut Conn<'_>, workspace: WorkspaceId, agent: AgentId) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND agent_id = $2")
            .bind(workspace.0)
            .bind(agent.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// An API token as admins see it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: TokenId,
    pub agent_id: AgentId,
    pub agent_name: String,
    pub label: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// The workspace's tokens, by label.
pub async fn list_tokens(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<TokenInfo>> {
    let rows: Vec<(Uuid, Uuid, String, String, i64, Option<i64>)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT t.id, t.agent_id, a.name, t.label, t.created_at, t.revoked_at FROM api_tokens t \
             JOIN agents a ON a.id = t.agent_id WHERE t.workspace_id = $1 ORDER BY t.label, t.created_at, t.id",
        )
        .bind(workspace.0)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, agent, name, label, created, revoked)| TokenInfo {
            id: id.into(),
            agent_id: agent.into(),
            agent_name: name,
            label,
            created_at: crate::from_millis(created),
            revoked_at: revoked.map(crate::from_millis),
        })
        .collect())
}

/// Revokes a token of the workspace; returns whether one was live.
pub async fn revoke_token(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    id: TokenId,
    now: OffsetDateTime,
) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(workspace.0)
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

pub async fn rename_team(conn: &mut Conn<'_>, team: &Team) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("UPDATE teams SET name = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(&team.name)
            .bind(team.workspace_id.0)
            .bind(team.id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The members of every team of the workspace, as (team, agent) pairs.
pub async fn team_members(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<(TeamId, AgentId)>> {
    let rows: Vec<(Uuid, Uuid)> = with_conn!(conn, c => {
        sqlx::query_as("SELECT team_id, agent_id FROM team_members WHERE workspace_id = $1")
            .bind(workspace.0)
            .fetch_all(&mut *c)
            .await?
    });
    Ok(rows.into_iter().map(|(t, a)| (t.into(), a.into())).collect())
}

/// Makes `members` the team's members.
pub async fn set_team_members(conn: &mut Conn<'_>, team: &Team, members: &[AgentId]) -> Result<()> {
    with_conn!(conn, c => {
        sqlx::query("DELETE FROM team_members WHERE workspace_id = $1 AND team_id = $2")
            .bind(team.workspace_id.0)
            .bind(team.id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    for member in members {
        add_team_member(conn, team, *member).await?;
    }
    Ok(())
}

/// Whether no agent exists in any workspace: a server nobody has set up. On PostgreSQL the
/// agents table is first locked against other writers until the transaction ends, so two
/// first admins cannot both be made (SQLite writers are one at a time already).
pub async fn none_yet_locked(conn: &mut Conn<'_>) -> Result<bool> {
    if conn.backend() == crate::Backend::Postgres {
        with_conn!(conn, c => {
            sqlx::query("LOCK TABLE agents IN SHARE ROW EXCLUSIVE MODE").execute(&mut *c).await?.rows_affected()
        });
    }
    none_yet(conn).await
}

/// Whether no agent exists in any workspace.
pub async fn none_yet(conn: &mut Conn<'_>) -> Result<bool> {
    // `SELECT 1` is an INT4 on Postgres.
    let any: Option<i32> = with_conn!(conn, c => {
        sqlx::query_scalar("SELECT 1 FROM agents LIMIT 1").fetch_optional(&mut *c).await?
    });
    Ok(any.is_none())
}
