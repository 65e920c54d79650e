//! The admin audit log: every change an admin makes to the workspace's set-up is written in the
//! transaction of the change, so the log and the change cannot disagree.

use switchboard_store::{Conn, audit};
use time::OffsetDateTime;
use uuid::Uuid;

pub use switchboard_store::audit::Entry as AuditEntry;

use crate::{Actor, Service, ServiceResult};

/// Writes one entry: `action` is `resource.verb`, `target` `resource:id`, `detail` what changed
/// (never a secret or a password).
pub(crate) async fn write(
    conn: &mut Conn<'_>,
    actor: &Actor,
    action: &str,
    target: String,
    detail: serde_json::Value,
    now: OffsetDateTime,
) -> ServiceResult<()> {
    audit::insert(conn, actor.workspace(), Some(actor.agent.id), action, &target, &detail, now).await?;
    Ok(())
}

impl Service {
    /// The workspace's audit log, newest first; `before` an entry's id pages back (admins only).
    pub async fn audit_log(&self, actor: &Actor, before: Option<Uuid>, limit: i64) -> ServiceResult<Vec<AuditEntry>> {
        actor.require_admin()?;
        let mut pooled = self.db().acquire().await?;
        Ok(audit::list(&mut pooled.conn(), actor.workspace(), before, crate::page_limit(limit)).await?)
    }
}
