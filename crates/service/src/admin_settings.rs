//! The workspace's settings: how long a solved ticket may be reopened by the customer, when
//! solved becomes closed, the business's name and time zone. Admins only; audited.

use switchboard_domain::Settings;
use switchboard_store::workspaces;
pub use switchboard_store::workspaces::Profile;

use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// The settings as the settings page and `GET /api/v1/settings` show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSettings {
    /// The workspace's own name (fixed; the business name is what customers see).
    pub workspace_name: String,
    pub settings: Settings,
    pub profile: Profile,
}

/// What an admin changes; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    pub reopen_window_secs: Option<i64>,
    pub close_solved_after_secs: Option<i64>,
    /// `Some("")` clears it.
    pub business_name: Option<String>,
    pub time_zone: Option<String>,
}

/// The longest either delay may be: a year.
const MAX_SECS: i64 = 366 * 24 * 3600;

/// `UTC`, or an IANA name such as `Asia/Jakarta` or `America/Argentina/Buenos_Aires`. Without
/// a time-zone database in the binary this checks the shape only.
fn check_time_zone(tz: &str) -> ServiceResult<()> {
    let parts: Vec<&str> = tz.split('/').collect();
    let shaped = tz == "UTC"
        || (parts.len() >= 2
            && parts.iter().all(|p| {
                !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
            })
            && parts[0].chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    if shaped && tz.len() <= 64 {
        Ok(())
    } else {
        Err(ServiceError::invalid("time_zone", format!("`{tz}` is not a time zone name such as UTC or Asia/Jakarta")))
    }
}

impl Service {
    /// The workspace's settings (admins only).
    pub async fn workspace_settings(&self, actor: &Actor) -> ServiceResult<WorkspaceSettings> {
        actor.require_admin()?;
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let ws = workspaces::get(&mut conn, actor.workspace()).await?.ok_or(ServiceError::NotFound("workspace"))?;
        let profile = workspaces::profile(&mut conn, actor.workspace()).await?;
        Ok(WorkspaceSettings { workspace_name: ws.name, settings: ws.settings, profile })
    }

    /// Changes the workspace's settings (admins only).
    pub async fn update_workspace_settings(
        &self,
        actor: &Actor,
        patch: SettingsPatch,
    ) -> ServiceResult<WorkspaceSettings> {
        actor.require_admin()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let ws = workspaces::get(&mut conn, actor.workspace()).await?.ok_or(ServiceError::NotFound("workspace"))?;
        let mut settings = ws.settings;
        let mut profile = workspaces::profile(&mut conn, actor.workspace()).await?;
        let mut detail = serde_json::Map::new();
        for (field, asked, current) in [
            ("reopen_window_secs", patch.reopen_window_secs, &mut settings.reopen_window_secs),
            ("close_solved_after_secs", patch.close_solved_after_secs, &mut settings.close_solved_after_secs),
        ] {
            if let Some(secs) = asked {
                if !(0..=MAX_SECS).contains(&secs) {
                    return Err(ServiceError::invalid(field, "from 0 seconds to a year"));
                }
                if secs != *current {
                    detail.insert(field.into(), secs.into());
                    *current = secs;
                }
            }
        }
        if let Some(name) = patch.business_name {
            let name = crate::optional_text("business_name", Some(name), 100)?;
            if name != profile.business_name {
                detail.insert("business_name".into(), serde_json::json!(name));
                profile.business_name = name;
            }
        }
        if let Some(tz) = patch.time_zone {
            let tz = tz.trim();
            check_time_zone(tz)?;
            if tz != profile.time_zone {
                detail.insert("time_zone".into(), tz.into());
                profile.time_zone = tz.to_owned();
            }
        }
        if !detail.is_empty() {
            workspaces::update_settings(&mut conn, actor.workspace(), &settings, &profile).await?;
            let target = format!("workspace:{}", actor.workspace());
            audit::write(&mut conn, actor, "settings.updated", target, detail.into(), self.now()).await?;
        }
        tx.commit().await?;
        Ok(WorkspaceSettings { workspace_name: ws.name, settings, profile })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_utc_or_area_and_place() {
        for ok in ["UTC", "Asia/Jakarta", "America/Argentina/Buenos_Aires", "Etc/GMT+7"] {
            assert!(check_time_zone(ok).is_ok(), "{ok}");
        }
        for bad in ["", "utc", "Jakarta", "Asia/", "Asia/Jak arta", "asia/jakarta"] {
            assert!(check_time_zone(bad).is_err(), "{bad}");
        }
    }
}
