//! Administering people: agents (created with a role and a first password, passwords reset,
//! deactivated — their waiting tickets go back to the queue), teams and their members, and
//! API tokens (shown once, listed by label, revoked). Admins only; every change audited.

use switchboard_domain::{Agent, AgentId, EventKind, Role, Team, TeamId, TokenId};
use switchboard_store::agents;
pub use switchboard_store::agents::TokenInfo;
use switchboard_store::{StoreError, events, tickets};

use crate::auth::{hash_password, new_token, normalise_email};
use crate::live::{LiveEvent, LiveEventKind, record};
use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// An agent to create.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The first password, given to the agent by the admin.
    pub password: String,
}

/// What an admin changes of an agent.
#[derive(Debug, Clone, Default)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// A new password (the agent's sessions end).
    pub password: Option<String>,
    pub active: Option<bool>,
}

/// A team with its members.
#[derive(Debug, Clone)]
pub struct TeamView {
    pub team: Team,
    pub members: Vec<AgentId>,
}

fn check_password(password: &str) -> ServiceResult<()> {
    if password.chars().count() < 8 {
        return Err(ServiceError::invalid("password", "a password has at least 8 characters"));
    }
    Ok(())
}

impl Service {
    /// The workspace's agents, active or not. Any agent may read them (assignee pickers).
    pub async fn list_agents(&self, actor: &Actor) -> ServiceResult<Vec<Agent>> {
        let mut pooled = self.db().acquire().await?;
        Ok(agents::list(&mut pooled.conn(), actor.workspace()).await?)
    }

    /// Creates an agent who signs in with `password` (admins only).
    pub async fn create_agent(&self, actor: &Actor, new: NewAgent) -> ServiceResult<Agent> {
        actor.require_admin()?;
        let email = normalise_email(&new.email)?;
        let name = crate::required_text("name", &new.name, 100)?;
        check_password(&new.password)?;
        let hash = hash_password(&new.password)?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        if agents::find_by_email(&mut conn, &email).await?.is_some() {
            return Err(ServiceError::conflict("email_taken", format!("{email} already has an account")));
        }
        let agent = agents::upsert(&mut conn, actor.workspace(), &email, &name, new.role, Some(&hash), self.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => ServiceError::conflict("email_taken", m),
                other => other.into(),
            })?;
        let detail = serde_json::json!({"email": email, "name": name, "role": new.role});
        audit::write(&mut conn, actor, "agent.created", format!("agent:{}", agent.id), detail, self.now()).await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// Changes an agent (admins only). Deactivating unassigns their waiting tickets, with an
    /// `assigned` event on each, and ends their sessions; their API tokens stop working. No
    /// admin may leave the workspace without an active admin.
    pub async fn update_agent(&self, actor: &Actor, id: AgentId, patch: AgentPatch) -> ServiceResult<Agent> {
        actor.require_admin()?;
        let now = self.now();
        let ws = actor.workspace();
        let hash = match &patch.password {
            Some(p) => {
                check_password(p)?;
                Some(hash_password(p)?)
            }
            None => None,
        };
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let mut agent = agents::get(&mut conn, ws, id).await?.ok_or(ServiceError::NotFound("agent"))?;
        let was_active_admin = agent.active && agent.role == Role::Admin;
        let mut detail = serde_json::Map::new();
        if let Some(name) = &patch.name {
            let name = crate::required_text("name", name, 100)?;
            if name != agent.name {
                detail.insert("name".into(), name.clone().into());
                agent.name = name;
            }
        }
        if let Some(role) = patch.role
            && role != agent.role
        {
            detail.insert("role".into(), role.as_str().into());
            agent.role = role;
        }
        if let Some(active) = patch.active
            && active != agent.active
        {
            detail.insert("active".into(), active.into());
            agent.active = active;
        }
        if hash.is_some() {
            detail.insert("password_reset".into(), true.into());
        }
        if was_active_admin
            && !(agent.active && agent.role == Role::Admin)
            && agents::active_admins(&mut conn, ws).await? <= 1
        {
            return Err(ServiceError::conflict("last_admin", "the workspace needs at least one active admin"));
        }
        if detail.is_empty() {
            tx.commit().await?;
            return Ok(agent);
        }
        agents::update(&mut conn, &agent, hash.as_deref()).await?;
        let mut live = Vec::new();
        if !agent.active {
            agents::end_sessions(&mut conn, ws, id).await?;
            let unassigned = tickets::unassign_waiting(&mut conn, ws, id, now).await?;
            for ticket in &unassigned {
                let data = serde_json::json!({"from": id, "to": null, "reason": "agent_deactivated"});
                events::insert(&mut conn, ws, *ticket, EventKind::Assigned, actor.store_actor(), data, now).await?;
                live.push(LiveEvent { workspace_id: ws, kind: LiveEventKind::TicketUpdated, ticket_id: *ticket });
            }
            detail.insert("tickets_unassigned".into(), unassigned.len().into());
        } else if hash.is_some() && id != actor.agent.id {
            // Someone else's password was reset: whoever holds their sessions must sign in again.
            agents::end_sessions(&mut conn, ws, id).await?;
        }
        audit::write(&mut conn, actor, "agent.updated", format!("agent:{id}"), detail.into(), now).await?;
        let recorded = record(&mut conn, now, &live).await?;
        tx.commit().await?;
        self.live().publish(recorded);
        Ok(agent)
    }

    /// The workspace's teams with their members. Any agent may read them.
    pub async fn list_teams(&self, actor: &Actor) -> ServiceResult<Vec<TeamView>> {
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let teams = agents::list_teams(&mut conn, actor.workspace()).await?;
        let pairs = agents::team_members(&mut conn, actor.workspace()).await?;
        Ok(teams
            .into_iter()
            .map(|team| {
                let members = pairs.iter().filter(|(t, _)| *t == team.id).map(|(_, a)| *a).collect();
                TeamView { team, members }
            })
            .collect())
    }

    /// Creates a team with these members (admins only).
    pub async fn create_team(&self, actor: &Actor, name: &str, members: &[AgentId]) -> ServiceResult<TeamView> {
        actor.require_admin()?;
        let name = crate::required_text("name", name, 100)?;
        let ws = actor.workspace();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        if agents::list_teams(&mut conn, ws).await?.iter().any(|t| t.name == name) {
            return Err(ServiceError::conflict("team_exists", format!("a team named {name} exists")));
        }
        let team = agents::create_team(&mut conn, ws, &name, self.now()).await?;
        let members = self.checked_members(&mut conn, actor, members).await?;
        agents::set_team_members(&mut conn, &team, &members).await?;
        let detail = serde_json::json!({"name": name, "members": members});
        audit::write(&mut conn, actor, "team.created", format!("team:{}", team.id), detail, self.now()).await?;
        tx.commit().await?;
        Ok(TeamView { team, members })
    }

    /// Renames a team and/or replaces its members (admins only).
    pub async fn update_team(
        &self,
        actor: &Actor,
        id: TeamId,
        name: Option<&str>,
        members: Option<&[AgentId]>,
    ) -> ServiceResult<TeamView> {
        actor.require_admin()?;
        let ws = actor.workspace();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let mut team = agents::get_team(&mut conn, ws, id).await?.ok_or(ServiceError::NotFound("team"))?;
        let mut detail = serde_json::Map::new();
        if let Some(name) = name {
            let name = crate::required_text("name", name, 100)?;
            if name != team.name {
                if agents::list_teams(&mut conn, ws).await?.iter().any(|t| t.name == name) {
                    return Err(ServiceError::conflict("team_exists", format!("a team named {name} exists")));
                }
                team.name = name.clone();
                agents::rename_team(&mut conn, &team).await?;
                detail.insert("name".into(), name.into());
            }
        }
        if let Some(members) = members {
            let members = self.checked_members(&mut conn, actor, members).await?;
            agents::set_team_members(&mut conn, &team, &members).await?;
            detail.insert("members".into(), serde_json::json!(members));
        }
        if !detail.is_empty() {
            audit::write(&mut conn, actor, "team.updated", format!("team:{id}"), detail.into(), self.now()).await?;
        }
        let members =
            agents::team_members(&mut conn, ws).await?.into_iter().filter(|(t, _)| *t == id).map(|(_, a)| a).collect();
        tx.commit().await?;
        Ok(TeamView { team, members })
    }

    async fn checked_members(
        &self,
        conn: &mut switchboard_store::Conn<'_>,
        actor: &Actor,
        members: &[AgentId],
    ) -> ServiceResult<Vec<AgentId>> {
        let known: Vec<AgentId> = agents::list(conn, actor.workspace()).await?.into_iter().map(|a| a.id).collect();
        let mut checked = Vec::new();
        for member in members {
            if !known.contains(member) {
                return Err(ServiceError::invalid("members", "no agent with that id in this workspace"));
            }
            if !checked.contains(member) {
                checked.push(*member);
            }
        }
        Ok(checked)
    }

    /// The workspace's API tokens by label, never the tokens themselves (admins only).
    pub async fn list_tokens(&self, actor: &Actor) -> ServiceResult<Vec<TokenInfo>> {
        actor.require_admin()?;
        let mut pooled = self.db().acquire().await?;
        Ok(agents::list_tokens(&mut pooled.conn(), actor.workspace()).await?)
    }

    /// Makes an API token for an active agent of the workspace (admins only). The token is
    /// returned this once: only its hash is kept.
    pub async fn create_agent_token(
        &self,
        actor: &Actor,
        agent: AgentId,
        label: &str,
    ) -> ServiceResult<(TokenInfo, String)> {
        actor.require_admin()?;
        let label = crate::required_text("label", label, 100)?;
        let (token, hash) = new_token()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let holder = agents::get(&mut conn, actor.workspace(), agent)
            .await?
            .filter(|a| a.active)
            .ok_or_else(|| ServiceError::invalid("agent_id", "no active agent with that id in this workspace"))?;
        let id = agents::create_token(&mut conn, &holder, &hash, &label, self.now()).await?;
        let detail = serde_json::json!({"agent_id": holder.id, "label": label});
        audit::write(&mut conn, actor, "token.created", format!("token:{id}"), detail, self.now()).await?;
        tx.commit().await?;
        let info = TokenInfo {
            id,
            agent_id: holder.id,
            agent_name: holder.name,
            label: label.to_owned(),
            created_at: self.now(),
            revoked_at: None,
        };
        Ok((info, token))
    }

    /// Revokes a token (admins only); it stops working at once.
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> ServiceResult<()> {
        actor.require_admin()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        if !agents::revoke_token(&mut conn, actor.workspace(), id, self.now()).await? {
            return Err(ServiceError::NotFound("token"));
        }
        audit::write(&mut conn, actor, "token.revoked", format!("token:{id}"), serde_json::json!({}), self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
