//! The `Db` handle: one pool of either backend, transactions over it, and the `with_conn!`
//! macro that runs one piece of query code on whichever driver is underneath.

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use crate::{Result, StoreError};

/// Which database is underneath, for the rare statement the two spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to the one database of a Switchboard node. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A connection inside a transaction or from the pool: what every query function takes.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend. The body is
/// compiled once per driver, so one SQL text and one piece of Rust serve both.
#[macro_export]
#[doc(hidden)]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::Conn::Sqlite($c) => {
                let $c: &mut sqlx::SqliteConnection = &mut **$c;
                $body
            }
            $crate::Conn::Postgres($c) => {
                let $c: &mut sqlx::PgConnection = &mut **$c;
                $body
            }
        }
    };
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A write transaction. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Marks a point to roll back to without losing the rest of the transaction: group
    /// commit wraps each request in one, so one request's conflict spares the others.
    pub async fn savepoint(&mut self, name: &'static str) -> Result<()> {
        self.raw(format!("SAVEPOINT {name}")).await
    }

    pub async fn rollback_to(&mut self, name: &'static str) -> Result<()> {
        self.raw(format!("ROLLBACK TO SAVEPOINT {name}")).await
    }

    pub async fn release(&mut self, name: &'static str) -> Result<()> {
        self.raw(format!("RELEASE SAVEPOINT {name}")).await
    }

    async fn raw(&mut self, sql: String) -> Result<()> {
        let mut conn = self.conn();
        with_conn!(&mut conn, c => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
        Ok(())
    }
}

/// A connection borrowed from the pool for reads outside a transaction.
pub enum PooledConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
            PooledConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

impl Db {
    /// Connects to `sqlite://FILE` (created if missing, WAL) or `postgres://…`, and applies
    /// the migrations that are not applied yet.
    pub async fn connect(url: &str) -> Result<Db> {
        Self::connect_with(url, None).await
    }

    /// As [`Db::connect`], with every Postgres connection's `search_path` set to `schema`:
    /// how tests give each case its own schema in one database.
    pub async fn connect_with(url: &str, pg_schema: Option<&str>) -> Result<Db> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 16 MiB of page cache per connection (the default 2 MiB makes a search over a
                // large inbox re-read its index pages from the OS on every query), and sorts in
                // memory rather than temp files.
                .pragma("cache_size", "-16384")
                .pragma("temp_store", "memory");
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            Db::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options = PgConnectOptions::from_str(url)?;
            if let Some(schema) = pg_schema {
                options = options.options([("search_path", schema)]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Db::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        crate::migrate::run(&db).await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a read-then-write transaction could otherwise fail to upgrade
    /// when another writer commits in between.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A pooled connection for reads.
    pub async fn acquire(&self) -> Result<PooledConn> {
        Ok(match self {
            Db::Sqlite(pool) => PooledConn::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        })
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        let mut pooled = self.acquire().await?;
        let mut conn = pooled.conn();
        with_conn!(&mut conn, c => sqlx::query("SELECT 1").execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
