//! Forward-only migrations, embedded in the binary, one folder per backend. Applied on
//! start; never edit one that has landed — add the next.

use crate::db::Db;
use crate::{Conn, Result, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sqlite: include_str!("../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "inbound_channels",
        sqlite: include_str!("../migrations/sqlite/0002_inbound_channels.sql"),
        postgres: include_str!("../migrations/postgres/0002_inbound_channels.sql"),
    },
    Migration {
        version: 3,
        name: "outbound",
        sqlite: include_str!("../migrations/sqlite/0003_outbound.sql"),
        postgres: include_str!("../migrations/postgres/0003_outbound.sql"),
    },
    Migration {
        version: 4,
        name: "files",
        sqlite: include_str!("../migrations/sqlite/0004_files.sql"),
        postgres: include_str!("../migrations/postgres/0004_files.sql"),
    },
    Migration {
        version: 5,
        name: "outbox_reply_token",
        sqlite: include_str!("../migrations/sqlite/0005_outbox_reply_token.sql"),
        postgres: include_str!("../migrations/postgres/0005_outbox_reply_token.sql"),
    },
    Migration {
        version: 6,
        name: "search",
        sqlite: include_str!("../migrations/sqlite/0006_search.sql"),
        postgres: include_str!("../migrations/postgres/0006_search.sql"),
    },
    Migration {
        version: 7,
        name: "sessions",
        sqlite: include_str!("../migrations/sqlite/0007_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0007_sessions.sql"),
    },
    Migration {
        version: 8,
        name: "live_events",
        sqlite: include_str!("../migrations/sqlite/0008_live_events.sql"),
        postgres: include_str!("../migrations/postgres/0008_live_events.sql"),
    },
    Migration {
        version: 9,
        name: "widget",
        sqlite: include_str!("../migrations/sqlite/0009_widget.sql"),
        postgres: include_str!("../migrations/postgres/0009_widget.sql"),
    },
    Migration {
        version: 10,
        name: "admin",
        sqlite: include_str!("../migrations/sqlite/0010_admin.sql"),
        postgres: include_str!("../migrations/postgres/0010_admin.sql"),
    },
    Migration {
        version: 11,
        name: "view_columns",
        sqlite: include_str!("../migrations/sqlite/0011_view_columns.sql"),
        postgres: include_str!("../migrations/postgres/0011_view_columns.sql"),
    },
    Migration {
        version: 12,
        name: "duplicates",
        sqlite: include_str!("../migrations/sqlite/0012_duplicates.sql"),
        postgres: include_str!("../migrations/postgres/0012_duplicates.sql"),
    },
];

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// An arbitrary constant: the advisory lock that keeps two Postgres nodes starting at once
/// from migrating at the same time.
const PG_MIGRATION_LOCK: i64 = 0x5357_4254_4348;

pub(crate) async fn run(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    if let Conn::Postgres(c) = &mut conn {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_MIGRATION_LOCK).execute(&mut **c).await?;
    }
    crate::with_conn!(&mut conn, c => sqlx::raw_sql(BOOKKEEPING).execute(&mut *c).await?.rows_affected());
    for m in MIGRATIONS {
        let applied: Option<i64> = crate::with_conn!(&mut conn, c => {
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *c)
                .await?
        });
        if applied.is_some() {
            continue;
        }
        let sql = match conn.backend() {
            crate::Backend::Sqlite => m.sqlite,
            crate::Backend::Postgres => m.postgres,
        };
        let now = crate::to_millis(time::OffsetDateTime::now_utc());
        crate::with_conn!(&mut conn, c => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *c)
                .await
                .map_err(|source| StoreError::Migration { version: m.version, source })?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now)
                .execute(&mut *c)
                .await?;
        });
        if m.version == 6 {
            // The handles of the contacts that existed before search are computed in Rust
            // (digits, lowercasing), as every later change computes them.
            crate::search::reindex_unindexed(&mut conn).await?;
        }
        tracing::info!(migration.version = m.version, migration.name = m.name, "applied migration");
    }
    tx.commit().await
}
