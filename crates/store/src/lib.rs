//! Switchboard's storage: the schema (one migrations folder per backend), the queries, and
//! the [`Db`] handle that hides whether they run on SQLite or PostgreSQL.
//!
//! Every query is written once, in SQL both backends accept (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`, partial indexes), and run through [`with_conn!`], which expands the same
//! code once per driver — the drivers stay concrete (no `Any`), the SQL stays single.
//! Every table carries `workspace_id` and every query a user can reach is scoped by it.
//! Uniqueness that matters under concurrency (one identity per account and external id, one
//! message per account and platform id, one live ticket per conversation) is enforced by the
//! database, and a violation comes back as [`StoreError::Conflict`].
//!
//! Depends on the domain crate for its types; knows nothing of HTTP or of use cases.

pub mod accounts;
pub mod agents;
pub mod audit;
pub mod bench;
pub mod contacts;
pub mod conversations;
mod db;
pub mod dead_letters;
pub mod events;
pub mod fields;
pub mod files;
pub mod live_events;
pub mod macros;
pub mod messages;
mod migrate;
pub mod outbox;
mod params;
pub mod search;
pub mod sessions;
pub mod templates;
pub mod tickets;
mod time_codec;
pub mod views;
pub mod widget;
pub mod workspaces;

pub use db::{Backend, Conn, Db, PooledConn, Tx};
pub use params::Param;
pub use time_codec::{from_millis, to_millis};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the database refused the write (a racing writer got there
    /// first, or the value is taken). Callers retry or report a conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Two writers deadlocked or a serialization check failed: the whole transaction may be
    /// retried.
    #[error("transient database error: {0}")]
    Transient(String),
    /// A stored value does not decode into its domain type (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return Self::Conflict(db.constraint().unwrap_or(db.message()).to_owned());
            }
            // Postgres: 40001 serialization_failure, 40P01 deadlock_detected.
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (after busy_timeout ran out).
            if matches!(db.code().as_deref(), Some("40001" | "40P01" | "5" | "6" | "517")) {
                return Self::Transient(db.message().to_owned());
            }
        }
        if matches!(err, sqlx::Error::PoolTimedOut) {
            return Self::Transient(err.to_string());
        }
        Self::Database(err)
    }
}

impl From<switchboard_domain::DomainError> for StoreError {
    fn from(err: switchboard_domain::DomainError) -> Self {
        Self::Corrupt(err.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Decodes a stored enum name into its domain type, or reports the row as corrupt.
pub(crate) fn parse<T: std::str::FromStr>(value: &str, what: &str) -> Result<T> {
    value.parse().map_err(|_| StoreError::Corrupt(format!("{what}: `{value}`")))
}

/// Decodes a stored JSON text column.
pub(crate) fn json<T: serde::de::DeserializeOwned>(value: &str, what: &str) -> Result<T> {
    serde_json::from_str(value).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
