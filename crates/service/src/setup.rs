//! Setting a workspace up beyond what the API offers yet: agents with passwords, teams, and
//! pointing a line's platform calls elsewhere. `serve --demo` uses these to build its
//! workspace; every one is idempotent, so loading twice changes nothing.

use switchboard_domain::{Agent, AgentId, ChannelAccountId, Role, Team};
use switchboard_store::{accounts, agents};

use crate::auth::{hash_password, normalise_email};
use crate::{Actor, Service, ServiceError, ServiceResult};

impl Service {
    /// The agent with that e-mail in the workspace `workspace` (created if needed), made with
    /// `role` and `password` if it does not exist yet. An existing agent is left as it is:
    /// their password may have been changed since.
    pub async fn ensure_agent(
        &self,
        workspace: &str,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> ServiceResult<Agent> {
        let email = normalise_email(email)?;
        let ws = self.ensure_workspace(workspace).await?;
        let mut tx = self.begin().await?;
        if let Some(agent) = agents::find_by_email(&mut tx.conn(), &email).await? {
            if agent.workspace_id != ws.id {
                return Err(ServiceError::conflict("email_taken", format!("{email} belongs to another workspace")));
            }
            return Ok(agent);
        }
        if password.chars().count() < 8 {
            return Err(ServiceError::invalid("password", "a password has at least 8 characters"));
        }
        let hash = hash_password(password)?;
        let agent = agents::upsert(&mut tx.conn(), ws.id, &email, name, role, Some(&hash), self.now()).await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// The team of that name in the actor's workspace (made if needed), with `members` in it
    /// (admins only).
    pub async fn ensure_team(&self, actor: &Actor, name: &str, members: &[AgentId]) -> ServiceResult<Team> {
        actor.require_admin()?;
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "a team needs a name"));
        }
        let ws = actor.workspace();
        let mut tx = self.begin().await?;
        let existing = agents::list_teams(&mut tx.conn(), ws).await?.into_iter().find(|t| t.name == name);
        let team = match existing {
            Some(team) => team,
            None => agents::create_team(&mut tx.conn(), ws, name, self.now()).await?,
        };
        for member in members {
            if agents::get(&mut tx.conn(), ws, *member).await?.is_none() {
                return Err(ServiceError::invalid("members", "no agent with that id in this workspace"));
            }
            agents::add_team_member(&mut tx.conn(), &team, *member).await?;
        }
        tx.commit().await?;
        Ok(team)
    }

    /// Sends a line's platform calls to `api_base_url` (`None`: the platform's own address;
    /// admins only).
    pub async fn set_account_api_base(
        &self,
        actor: &Actor,
        id: ChannelAccountId,
        api_base_url: Option<&str>,
    ) -> ServiceResult<()> {
        actor.require_admin()?;
        if let Some(url) = api_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ServiceError::invalid("api_base_url", "an address starting with http:// or https://"));
        }
        let mut tx = self.begin().await?;
        if !accounts::set_api_base_url(&mut tx.conn(), actor.workspace(), id, api_base_url).await? {
            return Err(ServiceError::NotFound("channel account"));
        }
        tx.commit().await?;
        Ok(())
    }
}
