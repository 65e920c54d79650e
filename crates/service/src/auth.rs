//! Agents and how they prove who they are: argon2 password hashes, and API tokens that are
//! stored only as their SHA-256 (a token is 32 random bytes, so a fast hash is enough; a
//! password is not, hence argon2).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use switchboard_domain::{Agent, Role};
use switchboard_store::{agents, audit};

use crate::{Actor, Service, ServiceError, ServiceResult};

/// The prefix of every API token, so that a leaked one is recognisable (secret scanners).
const TOKEN_PREFIX: &str = "sb_";

pub(crate) fn hash_password(password: &str) -> ServiceResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ServiceError::invalid("password", format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ServiceError::invalid("password", e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::invalid("password", e.to_string()))
}

/// Whether `password` matches the stored argon2 `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A new API token and its hash.
pub(crate) fn new_token() -> ServiceResult<(String, String)> {
    let token = format!("{TOKEN_PREFIX}{}", random_hex()?);
    let hash = token_hash(&token);
    Ok((token, hash))
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 32 random bytes as hex: session tokens, CSRF tokens.
pub(crate) fn random_hex() -> ServiceResult<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ServiceError::invalid("token", format!("no randomness: {e}")))?;
    Ok(hex::encode(raw))
}

pub(crate) fn normalise_email(email: &str) -> ServiceResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
    if !valid {
        return Err(ServiceError::invalid("email", format!("`{email}` is not an e-mail address")));
    }
    Ok(email)
}

impl Service {
    /// Creates (or updates) an admin agent of the workspace `workspace` (created if needed).
    pub async fn create_admin(
        &self,
        workspace: &str,
        email: &str,
        password: &str,
        name: Option<&str>,
    ) -> ServiceResult<Agent> {
        let email = normalise_email(email)?;
        if password.chars().count() < 8 {
            return Err(ServiceError::invalid("password", "a password has at least 8 characters"));
        }
        let hash = hash_password(password)?;
        let ws = self.ensure_workspace(workspace).await?;
        let name =
            name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or_else(|| email.split('@').next().unwrap_or(""));
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let agent = agents::upsert(&mut conn, ws.id, &email, name, Role::Admin, Some(&hash), self.now())
            .await
            .map_err(|e| match e {
                switchboard_store::StoreError::Conflict(m) => ServiceError::conflict("email_taken", m),
                other => other.into(),
            })?;
        // Written by no agent: the command line (`switchboard admin create`) or the set-up.
        let detail = serde_json::json!({"email": email, "name": agent.name, "role": "admin", "via": "command line"});
        let target = format!("agent:{}", agent.id);
        audit::insert(&mut conn, ws.id, None, "agent.admin_set", &target, &detail, self.now()).await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// Makes a new API token for the agent with that e-mail and returns it. It is shown once:
    /// only its hash is kept.
    pub async fn create_token(&self, email: &str, label: &str) -> ServiceResult<String> {
        let email = normalise_email(email)?;
        let token = format!("{TOKEN_PREFIX}{}", random_hex()?);
        let mut tx = self.begin().await?;
        let agent = agents::find_by_email(&mut tx.conn(), &email)
            .await?
            .filter(|a| a.active)
            .ok_or(ServiceError::NotFound("agent"))?;
        let id = agents::create_token(&mut tx.conn(), &agent, &token_hash(&token), label, self.now()).await?;
        let detail = serde_json::json!({"agent_id": agent.id, "label": label, "via": "command line"});
        let target = format!("token:{id}");
        audit::insert(&mut tx.conn(), agent.workspace_id, None, "token.created", &target, &detail, self.now()).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The agent a bearer token belongs to.
    pub async fn authenticate_token(&self, token: &str) -> ServiceResult<Actor> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let mut pooled = self.db().acquire().await?;
        let agent = agents::agent_by_token_hash(&mut pooled.conn(), &token_hash(token))
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(Actor { agent })
    }
}

impl Actor {
    /// Refuses unless the actor is an admin.
    pub fn require_admin(&self) -> ServiceResult<()> {
        if self.agent.role == Role::Admin { Ok(()) } else { Err(ServiceError::Forbidden) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_nothing_else_does() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalise_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        assert!(normalise_email("ana").is_err());
        assert!(normalise_email("@example.com").is_err());
    }
}
