//! Channel accounts: the business's connected lines, with their secrets.
//! Secrets come out only through [`get_with_secrets`], for verifying and sending.

use switchboard_domain::{ChannelAccount, ChannelAccountId, ChannelKind, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, StoreError, from_millis, json, parse, to_millis, with_conn};

pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// A channel account to create.
#[derive(Debug, Clone)]
pub struct NewChannelAccount {
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: String,
    pub external_id: String,
    pub secrets: JsonMap,
    pub settings: JsonMap,
    pub api_base_url: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    workspace_id: Uuid,
    kind: String,
    name: String,
    external_id: String,
    secrets: String,
    settings: String,
    api_base_url: Option<String>,
    enabled: bool,
    created_at: i64,
}

impl Row {
    fn into_account(self) -> Result<(ChannelAccount, JsonMap)> {
        let account = ChannelAccount {
            id: self.id.into(),
            workspace_id: self.workspace_id.into(),
            kind: parse(&self.kind, "channel kind")?,
            name: self.name,
            external_id: self.external_id,
            settings: json(&self.settings, "channel settings")?,
            api_base_url: self.api_base_url,
            enabled: self.enabled,
            created_at: from_millis(self.created_at),
        };
        Ok((account, json(&self.secrets, "channel secrets")?))
    }
}

const COLUMNS: &str = "SELECT id, workspace_id, kind, name, external_id, secrets, settings, api_base_url, \
                       enabled, created_at FROM channel_accounts";

pub async fn create(conn: &mut Conn<'_>, new: &NewChannelAccount, now: OffsetDateTime) -> Result<ChannelAccount> {
    let id = Uuid::now_v7();
    let secrets = serde_json::to_string(&new.secrets).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let settings = serde_json::to_string(&new.settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO channel_accounts \
             (id, workspace_id, kind, name, external_id, secrets, settings, api_base_url, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9)",
        )
        .bind(id)
        .bind(new.workspace_id.0)
        .bind(new.kind.as_str())
        .bind(&new.name)
        .bind(&new.external_id)
        .bind(secrets)
        .bind(settings)
        .bind(&new.api_base_url)
        .bind(to_millis(now))
        .execute(&mut *c)
        .await?
            .rows_affected()
    });
    get(conn, new.workspace_id, id.into()).await?.ok_or_else(|| StoreError::Corrupt("channel account vanished".into()))
}

pub async fn get(conn: &mut Conn<'_>, workspace: WorkspaceId, id: ChannelAccountId) -> Result<Option<ChannelAccount>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE workspace_id = $1 AND id = $2")))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(|r| r.into_account().map(|(a, _)| a)).transpose()
}

/// The account a webhook names, with its secrets. A webhook URL carries only the account id:
/// this is the one lookup not scoped by workspace, because it is how the workspace is found.
pub async fn get_with_secrets(conn: &mut Conn<'_>, id: ChannelAccountId) -> Result<Option<(ChannelAccount, JsonMap)>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE id = $1")))
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(Row::into_account).transpose()
}

pub async fn list(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<ChannelAccount>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        )))
            .bind(workspace.0)
            .fetch_all(&mut *c)
            .await?
    });
    rows.into_iter().map(|r| r.into_account().map(|(a, _)| a)).collect()
}

/// The names of the workspace's lines, deleted ones too (their tickets still name them).
pub async fn names(conn: &mut Conn<'_>, workspace: WorkspaceId) -> Result<Vec<(ChannelAccountId, String)>> {
    let rows: Vec<(Uuid, String)> = with_conn!(conn, c => {
        sqlx::query_as("SELECT id, name FROM channel_accounts WHERE workspace_id = $1")
            .bind(workspace.0)
            .fetch_all(&mut *c)
            .await?
    });
    Ok(rows.into_iter().map(|(id, name)| (id.into(), name)).collect())
}

/// The enabled lines of `kind` with the platform id `external_id`, in any workspace, with their
/// secrets: one Meta callback carries entries for several lines, each named by its platform id.
pub async fn find_by_external_id(
    conn: &mut Conn<'_>,
    kind: ChannelKind,
    external_id: &str,
) -> Result<Vec<(ChannelAccount, JsonMap)>> {
    let rows: Vec<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE kind = $1 AND external_id = $2 AND enabled = TRUE ORDER BY created_at, id"
        )))
        .bind(kind.as_str())
        .bind(external_id)
        .fetch_all(&mut *c)
        .await?
    });
    rows.into_iter().map(Row::into_account).collect()
}

/// Points a line's platform calls at another address (`None`: the platform's own). Returns
/// whether the line exists in the workspace.
pub async fn set_api_base_url(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    id: ChannelAccountId,
    api_base_url: Option<&str>,
) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query("UPDATE channel_accounts SET api_base_url = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(api_base_url)
            .bind(workspace.0)
            .bind(id.0)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// The line of the workspace unless it was deleted.
pub async fn get_live(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    id: ChannelAccountId,
) -> Result<Option<(ChannelAccount, JsonMap)>> {
    let row: Option<Row> = with_conn!(conn, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL"
        )))
        .bind(workspace.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(Row::into_account).transpose()
}

/// Writes what an admin changed of a line: name, secrets, settings (whole maps, merged by
/// the caller) and whether it takes webhooks and sends.
pub async fn update(conn: &mut Conn<'_>, account: &ChannelAccount, secrets: &JsonMap) -> Result<()> {
    let secrets = serde_json::to_string(secrets).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let settings = serde_json::to_string(&account.settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    with_conn!(conn, c => {
        sqlx::query(
            "UPDATE channel_accounts SET name = $1, secrets = $2, settings = $3, enabled = $4 \
             WHERE workspace_id = $5 AND id = $6 AND deleted_at IS NULL",
        )
        .bind(&account.name)
        .bind(secrets)
        .bind(settings)
        .bind(account.enabled)
        .bind(account.workspace_id.0)
        .bind(account.id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Deletes a line but keeps the row: its conversations and tickets still name it. It takes no
/// webhooks any more, sends nothing, and its platform id may be connected again.
pub async fn soft_delete(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    id: ChannelAccountId,
    now: OffsetDateTime,
) -> Result<bool> {
    let n = with_conn!(conn, c => {
        sqlx::query(
            "UPDATE channel_accounts SET deleted_at = $1, enabled = FALSE \
             WHERE workspace_id = $2 AND id = $3 AND deleted_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(workspace.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Which health mark a webhook leaves on its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    WebhookReceived,
    SignatureFailed,
}

/// Notes when a line last received a webhook, or last refused one's signature.
pub async fn mark(conn: &mut Conn<'_>, id: ChannelAccountId, mark: Mark, at: OffsetDateTime) -> Result<()> {
    let sql = match mark {
        Mark::WebhookReceived => "UPDATE channel_accounts SET last_webhook_at = $1 WHERE id = $2",
        Mark::SignatureFailed => "UPDATE channel_accounts SET last_signature_failure_at = $1 WHERE id = $2",
    };
    with_conn!(conn, c => {
        sqlx::query(sql).bind(to_millis(at)).bind(id.0).execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// How a line is doing, as its admin page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub last_webhook_at: Option<OffsetDateTime>,
    pub last_signature_failure_at: Option<OffsetDateTime>,
    /// The platform's last refusal of a reply through this line, and when that reply was queued.
    pub last_send_error: Option<(String, OffsetDateTime)>,
    /// Dead letters not (successfully) replayed yet.
    pub dead_letters_waiting: i64,
}

pub async fn health(conn: &mut Conn<'_>, workspace: WorkspaceId, id: ChannelAccountId) -> Result<Health> {
    let marks: Option<(Option<i64>, Option<i64>)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT last_webhook_at, last_signature_failure_at FROM channel_accounts \
             WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
    });
    let (webhook, signature) = marks.unwrap_or_default();
    let error: Option<(Option<String>, i64)> = with_conn!(conn, c => {
        sqlx::query_as(
            "SELECT last_error, created_at FROM outbox \
             WHERE workspace_id = $1 AND channel_account_id = $2 AND last_error IS NOT NULL \
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(workspace.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
    });
    let waiting: i64 = with_conn!(conn, c => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM dead_letters WHERE workspace_id = $1 AND channel_account_id = $2 \
             AND (replayed_at IS NULL OR replay_error IS NOT NULL)",
        )
        .bind(workspace.0)
        .bind(id.0)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(Health {
        last_webhook_at: webhook.map(from_millis),
        last_signature_failure_at: signature.map(from_millis),
        last_send_error: error.and_then(|(e, at)| e.map(|e| (e, from_millis(at)))),
        dead_letters_waiting: waiting,
    })
}
