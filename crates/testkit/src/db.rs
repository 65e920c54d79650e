//! A database of its own for each test.

use switchboard_store::Db;

/// The backend the suites run on, from `SWITCHBOARD_TEST_DATABASE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn under_test() -> Backend {
        match std::env::var("SWITCHBOARD_TEST_DATABASE").as_deref() {
            Ok("postgres") => Backend::Postgres,
            Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
            Ok(other) => panic!("SWITCHBOARD_TEST_DATABASE must be sqlite or postgres, not `{other}`"),
        }
    }
}

/// One test's database. SQLite: a file in a temp folder removed on drop. Postgres: a fresh
/// schema in the database of `SWITCHBOARD_TEST_POSTGRES_URL`, dropped by a later run once stale.
pub struct TestDb {
    pub backend: Backend,
    url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
    probe: Db,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match Backend::under_test() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let probe = Db::connect(&url).await.expect("open SQLite");
                TestDb { backend: Backend::Sqlite, url, schema: None, _dir: Some(dir), probe }
            }
            Backend::Postgres => {
                let url = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
                    .expect("SWITCHBOARD_TEST_DATABASE=postgres needs SWITCHBOARD_TEST_POSTGRES_URL");
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| panic!("Postgres unreachable: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&admin)
                    .await
                    .expect("create schema");
                drop_stale_schemas(&admin).await;
                admin.close().await;
                let probe = Db::connect_with(&url, Some(&schema)).await.expect("open Postgres");
                TestDb { backend: Backend::Postgres, url, schema: Some(schema), _dir: None, probe }
            }
        }
    }

    /// A new pool on this database, as a separate node would open one.
    pub async fn connect(&self) -> Db {
        Db::connect_with(&self.url, self.schema.as_deref()).await.expect("connect to the test database")
    }

    /// A pool on this database for direct assertions.
    pub fn db(&self) -> &Db {
        &self.probe
    }

    /// Runs `SELECT COUNT(*) …` and returns the number.
    pub async fn count(&self, sql: &'static str) -> i64 {
        match &self.probe {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.expect("count"),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.expect("count"),
        }
    }
}

/// Schemas of test runs older than this are dropped when a new test starts. A test cannot
/// drop its own schema as it ends: its pools may still hold an open transaction, which the
/// blocked runtime could never roll back, so the drop would wait forever.
const STALE_SCHEMA_AGE_MS: u64 = 60 * 60 * 1000;

async fn drop_stale_schemas(admin: &sqlx::PgPool) {
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%' AND length(nspname) = 34",
    )
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    for schema in schemas {
        // The name is a UUIDv7: its first 48 bits are the creation time in milliseconds.
        let Some(created) = schema.get(2..14).and_then(|hex| u64::from_str_radix(hex, 16).ok()) else { continue };
        if now.saturating_sub(created) > STALE_SCHEMA_AGE_MS {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                .execute(admin)
                .await;
        }
    }
}
