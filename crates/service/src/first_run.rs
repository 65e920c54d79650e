//! The first admin, made in the browser. A server whose database has no agent yet prints a
//! one-time link (`/setup?key=…`) when it starts; whoever holds it — the person who started the
//! server — names the business and makes the first admin, then runs everything else from the
//! admin pages. The key lives in this node's memory only and is gone once an admin exists, so
//! a server reachable by others before it is set up cannot be claimed by a stranger.

use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use switchboard_domain::{Agent, Role};
use switchboard_store::{agents, audit, workspaces};

use crate::auth::{hash_password, normalise_email};
use crate::{DEFAULT_WORKSPACE, Service, ServiceError, ServiceResult};

/// The setup key of this node, while the database has no agent.
#[derive(Debug, Clone, Default)]
pub(crate) struct FirstRunKey(Arc<Mutex<Option<[u8; 32]>>>);

impl FirstRunKey {
    fn set(&self, key: Option<&str>) {
        if let Ok(mut held) = self.0.lock() {
            *held = key.map(|k| Sha256::digest(k.as_bytes()).into());
        }
    }

    fn matches(&self, key: &str) -> bool {
        let offered: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        // Digests of equal length compared whole: the time taken says nothing of the key.
        self.0
            .lock()
            .ok()
            .and_then(|held| *held)
            .is_some_and(|held| held.iter().zip(offered.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    }

    fn is_open(&self) -> bool {
        self.0.lock().is_ok_and(|held| held.is_some())
    }
}

/// What the setup page asks for.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    /// What customers and agents see the business as (optional).
    pub business_name: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

impl Service {
    /// When no agent exists, makes this node's one-time setup key and returns it (to print);
    /// otherwise `None`.
    pub async fn open_first_run(&self) -> ServiceResult<Option<String>> {
        let mut pooled = self.db().acquire().await?;
        if !agents::none_yet(&mut pooled.conn()).await? {
            self.first_run.set(None);
            return Ok(None);
        }
        let key = crate::auth::random_hex()?;
        self.first_run.set(Some(&key));
        Ok(Some(key))
    }

    /// Whether this node waits for its first admin: it holds a key and still no agent exists
    /// (one may have been made with `switchboard admin create` meanwhile; then the key is dropped).
    pub async fn first_run_open(&self) -> bool {
        if !self.first_run.is_open() {
            return false;
        }
        let none_yet = match self.db().acquire().await {
            Ok(mut pooled) => agents::none_yet(&mut pooled.conn()).await.unwrap_or(true),
            Err(_) => true,
        };
        if !none_yet {
            self.first_run.set(None);
        }
        none_yet
    }

    /// Whether `key` is this node's setup key.
    pub fn first_run_key_matches(&self, key: &str) -> bool {
        self.first_run.matches(key)
    }

    /// Makes the first admin of the default workspace, with the business's name, in one
    /// transaction, if `key` is this node's setup key and no agent exists yet anywhere.
    pub async fn first_admin(&self, key: &str, new: FirstAdmin) -> ServiceResult<Agent> {
        if !self.first_run.matches(key) {
            return Err(ServiceError::Forbidden);
        }
        let email = normalise_email(&new.email)?;
        let name = crate::required_text("name", &new.name, 100)?;
        if new.password.chars().count() < 8 {
            return Err(ServiceError::invalid("password", "a password has at least 8 characters"));
        }
        let business = crate::optional_text("business_name", Some(new.business_name), 100)?;
        let hash = hash_password(&new.password)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        if !agents::none_yet_locked(&mut conn).await? {
            self.first_run.set(None);
            return Err(ServiceError::conflict("already_set_up", "this server has an admin: sign in instead"));
        }
        let ws = workspaces::get_or_create(&mut conn, DEFAULT_WORKSPACE, now).await?;
        workspaces::set_business_name(&mut conn, ws.id, business.as_deref()).await?;
        let agent = agents::upsert(&mut conn, ws.id, &email, &name, Role::Admin, Some(&hash), now).await?;
        let detail = serde_json::json!({"email": email, "name": name, "role": "admin", "business_name": business,
            "via": "first-run setup"});
        audit::insert(&mut conn, ws.id, Some(agent.id), "agent.created", &format!("agent:{}", agent.id), &detail, now)
            .await?;
        tx.commit().await?;
        self.first_run.set(None);
        Ok(agent)
    }
}
