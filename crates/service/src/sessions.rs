//! Agents signing in to the browser UI: argon2 passwords, database-backed sessions (the token
//! is kept only as its SHA-256), a CSRF token per session, failed sign-ins throttled per
//! e-mail and client address, and the agent's availability.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_domain::Availability;
use switchboard_store::{agents, sessions};
use time::{Duration, OffsetDateTime};

use crate::auth::{normalise_email, random_hex, token_hash, verify_password};
use crate::{Actor, Service, ServiceError, ServiceResult};

/// The prefix of session tokens, distinct from API tokens (`sb_`): a session token is not
/// accepted where an API token is expected, and the other way round.
const SESSION_PREFIX: &str = "sbs_";

/// How long a session lasts after signing in.
pub const SESSION_LIFETIME: Duration = Duration::days(14);

/// Failed sign-ins allowed per e-mail and client within [`FAILURE_WINDOW`].
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::minutes(15);

/// A signed-in agent in the browser.
#[derive(Debug, Clone)]
pub struct SessionActor {
    pub actor: Actor,
    /// Must come back with every state-changing request of this session.
    pub csrf_token: String,
    pub availability: Availability,
}

/// A new session: the token for the cookie (shown once) and what it stands for.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: SessionActor,
    pub expires_at: OffsetDateTime,
}

/// Failed sign-ins per `email|client`, in memory: enough to slow a guesser down on one node
/// without a table to clean.
#[derive(Default, Clone)]
pub(crate) struct SignInLimiter {
    failures: Arc<Mutex<HashMap<String, (u32, OffsetDateTime)>>>,
}

impl SignInLimiter {
    /// How long the caller must still wait, if they are over the limit.
    fn blocked_for(&self, key: &str, now: OffsetDateTime) -> Option<Duration> {
        let failures = self.failures.lock().ok()?;
        let (count, first) = failures.get(key)?;
        let until = *first + FAILURE_WINDOW;
        (*count >= MAX_FAILURES && until > now).then(|| until - now)
    }

    fn failed(&self, key: &str, now: OffsetDateTime) {
        if let Ok(mut failures) = self.failures.lock() {
            // Forget windows that are over, so the map only holds recent trouble.
            failures.retain(|_, (_, first)| *first + FAILURE_WINDOW > now);
            let entry = failures.entry(key.to_owned()).or_insert((0, now));
            entry.0 += 1;
        }
    }

    fn succeeded(&self, key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }
}

impl Service {
    /// Checks the password and opens a session. `client` is the caller's address: failures
    /// are counted per e-mail and client, and past the limit the answer is
    /// [`ServiceError::TooManyAttempts`] whatever the password.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> ServiceResult<NewSession> {
        let now = self.now();
        let email = normalise_email(email).map_err(|_| ServiceError::Unauthenticated)?;
        let key = format!("{email}|{client}");
        if let Some(wait) = self.sign_in_limiter.blocked_for(&key, now) {
            return Err(ServiceError::TooManyAttempts { retry_after_secs: wait.whole_seconds().max(1) });
        }
        let found = {
            let mut pooled = self.db().acquire().await?;
            agents::find_with_password(&mut pooled.conn(), &email).await?
        };
        // Verify against a hash even when the agent is unknown, so the answer takes as long
        // either way and does not tell which e-mails exist.
        let (agent, hash) = match found {
            Some((agent, Some(hash))) if agent.active => (Some(agent), hash),
            _ => (None, dummy_hash()?),
        };
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
        let Some(agent) = agent.filter(|_| ok) else {
            self.sign_in_limiter.failed(&key, now);
            return Err(ServiceError::Unauthenticated);
        };
        self.sign_in_limiter.succeeded(&key);

        let token = format!("{SESSION_PREFIX}{}", random_hex()?);
        let csrf_token = random_hex()?;
        let expires_at = now + SESSION_LIFETIME;
        let mut tx = self.begin().await?;
        sessions::delete_expired(&mut tx.conn(), now).await?;
        sessions::create(&mut tx.conn(), &agent, &token_hash(&token), &csrf_token, now, expires_at).await?;
        agents::set_availability(&mut tx.conn(), agent.workspace_id, agent.id, Availability::Online).await?;
        tx.commit().await?;
        let session = SessionActor { actor: Actor { agent }, csrf_token, availability: Availability::Online };
        Ok(NewSession { token, session, expires_at })
    }

    /// The agent behind a session cookie.
    pub async fn authenticate_session(&self, token: &str) -> ServiceResult<SessionActor> {
        if !token.starts_with(SESSION_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let mut pooled = self.db().acquire().await?;
        let found = sessions::find(&mut pooled.conn(), &token_hash(token), self.now())
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(SessionActor {
            actor: Actor { agent: found.agent },
            csrf_token: found.csrf_token,
            availability: found.availability,
        })
    }

    /// Ends the session (signing out) and marks the agent away.
    pub async fn sign_out(&self, session: &SessionActor, token: &str) -> ServiceResult<()> {
        let agent = &session.actor.agent;
        let mut tx = self.begin().await?;
        sessions::delete(&mut tx.conn(), &token_hash(token)).await?;
        agents::set_availability(&mut tx.conn(), agent.workspace_id, agent.id, Availability::Away).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the agent online or away.
    pub async fn set_availability(&self, actor: &Actor, availability: Availability) -> ServiceResult<()> {
        let mut tx = self.begin().await?;
        agents::set_availability(&mut tx.conn(), actor.workspace(), actor.agent.id, availability).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An argon2 hash of a random password nobody knows, verified against when the e-mail is
/// unknown so that unknown and known e-mails take the same time. Made once per process.
fn dummy_hash() -> ServiceResult<String> {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash.clone());
    }
    let hash = crate::auth::hash_password(&random_hex()?)?;
    Ok(HASH.get_or_init(|| hash).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_blocks_after_five_failures_and_lets_go_after_the_window() {
        let limiter = SignInLimiter::default();
        let t0 = time::macros::datetime!(2026-11-21 12:00 UTC);
        for _ in 0..MAX_FAILURES {
            assert!(limiter.blocked_for("a|1", t0).is_none());
            limiter.failed("a|1", t0);
        }
        assert!(limiter.blocked_for("a|1", t0).is_some());
        assert!(limiter.blocked_for("a|2", t0).is_none(), "another client is not blocked");
        assert!(limiter.blocked_for("a|1", t0 + FAILURE_WINDOW).is_none());
    }
}
