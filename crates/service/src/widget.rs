//! The customer's messenger (the website widget, DESIGN §6): who the visitor is, and what
//! they may do.
//!
//! A visitor holds a token the server issued (kept as its SHA-256) and writes as an identity
//! of the widget line: `visitor:<id>` while anonymous, `user:<id>` once the host site vouched
//! for them with an HMAC of the user id. Everything a visitor reaches is found through that
//! identity's contact and the line, so another visitor's conversation is simply not found.
//! Messages go through the ordinary ingest (routing, tickets, live events are the same as on
//! every channel); reading and listing are in [`inbox`], the visitor's live stream in [`stream`].
//!
//! Knows the domain and the store; nothing of HTTP.

pub mod inbox;
pub mod stream;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_domain::{AuthorKind, ChannelAccount, ChannelAccountId, ChannelKind, ContactId, InboundSender};
use switchboard_store::{Conn, accounts, contacts, widget};
use uuid::Uuid;

pub use crate::limiter::Limiter;

use crate::auth::{random_hex, token_hash};
use crate::{Service, ServiceError, ServiceResult};

/// Messages one visitor may send per minute.
pub(crate) const MESSAGES_PER_MINUTE: u32 = 20;
/// Messages one client address may send per minute. Generous: many visitors share an address
/// behind an office's NAT (and, without a forwarded-for policy, behind a reverse proxy).
pub(crate) const MESSAGES_PER_MINUTE_PER_CLIENT: u32 = 300;
/// Visitor tokens one client address may be issued per minute (same caveat).
pub(crate) const NEW_VISITORS_PER_MINUTE: u32 = 300;

/// Widget tokens start with this, so a stray agent token is never mistaken for one.
const TOKEN_PREFIX: &str = "sbw_";
/// Prefixes of the visitor's identity on the line.
const ANONYMOUS: &str = "visitor:";
const VERIFIED: &str = "user:";
/// The longest user id a host site may pass.
const MAX_USER_ID: usize = 200;

/// What the admin set on a widget line (`settings` of the channel account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSettings {
    /// Whether customers see the Tickets space (and the Home card). Default on.
    pub tickets_space: bool,
    /// The site origins allowed to frame the panel (`https://shop.example`).
    pub allowed_origins: Vec<String>,
    /// Whether only visitors the host site vouched for may write.
    pub require_verification: bool,
}

impl WidgetSettings {
    pub fn of(account: &ChannelAccount) -> Self {
        let s = &account.settings;
        let flag = |name: &str, default: bool| s.get(name).and_then(serde_json::Value::as_bool).unwrap_or(default);
        let allowed_origins = s
            .get("allowed_origins")
            .and_then(serde_json::Value::as_array)
            .map(|list| list.iter().filter_map(|o| o.as_str()).filter_map(clean_origin).collect())
            .unwrap_or_default();
        Self {
            tickets_space: flag("tickets_space", true),
            allowed_origins,
            require_verification: flag("require_verification", false),
        }
    }
}

/// An origin fit for a CSP source list — `scheme://host[:port]` and nothing else — or none.
/// A value with a space or semicolon would otherwise add directives of its own.
fn clean_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/');
    let (scheme, rest) = origin.split_once("://")?;
    let scheme_ok = matches!(scheme, "http" | "https");
    let rest_ok = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]*".contains(&b));
    (scheme_ok && rest_ok).then(|| origin.to_ascii_lowercase())
}

/// A visitor of one widget line, as found by their token.
#[derive(Debug, Clone)]
pub struct WidgetVisitor {
    pub id: Uuid,
    pub account: ChannelAccount,
    /// The identity they write as.
    pub external_id: String,
    pub settings: WidgetSettings,
}

impl WidgetVisitor {
    /// Whether the host site vouched for them.
    pub fn verified(&self) -> bool {
        self.external_id.starts_with(VERIFIED)
    }

    /// "Visitor 3f9a2c": what agents call an anonymous visitor (the end of their id, which is
    /// random; its start is a timestamp shared by visitors of the same moment).
    pub fn display_name(&self) -> String {
        let hex = self.id.simple().to_string();
        format!("Visitor {}", &hex[hex.len() - 6..])
    }

    /// Their contact, once they have one (an anonymous visitor gets one with their first message).
    pub(crate) async fn contact(&self, conn: &mut Conn<'_>) -> ServiceResult<Option<ContactId>> {
        Ok(contacts::find_identity(conn, self.account.id, &self.external_id).await?.map(|(i, _)| i.contact_id))
    }
}

/// A newly issued visitor token: shown once, never stored.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    pub token: String,
    pub visitor: WidgetVisitor,
}

/// What the host page says about its signed-in user.
#[derive(Debug, Clone, Default)]
pub struct Identify {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Hex HMAC-SHA256 of `user_id` with the line's secret. Without it the name and e-mail are
    /// taken as the anonymous visitor's own say-so.
    pub user_hash: Option<String>,
}

impl Service {
    /// The enabled widget line `id` (any workspace: the widget's entry points are public, and
    /// the line is how the workspace is found — like a webhook's).
    pub async fn widget_account(&self, id: ChannelAccountId) -> ServiceResult<ChannelAccount> {
        let mut pooled = self.db().acquire().await?;
        let (account, _) = accounts::get_with_secrets(&mut pooled.conn(), id)
            .await?
            .filter(|(a, _)| a.kind == ChannelKind::Widget && a.enabled)
            .ok_or(ServiceError::NotFound("widget"))?;
        Ok(account)
    }

    /// Issues an anonymous visitor of widget line `account`. `client` (the caller's address)
    /// is rate-limited, so one client cannot mint tokens without end.
    pub async fn widget_new_visitor(&self, account: ChannelAccountId, client: &str) -> ServiceResult<NewVisitor> {
        self.widget_limiter.check(&format!("visitor|{client}"), self.now(), NEW_VISITORS_PER_MINUTE)?;
        let account = self.widget_account(account).await?;
        let token = format!("{TOKEN_PREFIX}{}", random_hex()?);
        let id = Uuid::now_v7();
        let external_id = format!("{ANONYMOUS}{id}");
        let mut tx = self.begin().await?;
        widget::create_visitor(
            &mut tx.conn(),
            account.workspace_id,
            account.id,
            id,
            &token_hash(&token),
            &external_id,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        let settings = WidgetSettings::of(&account);
        Ok(NewVisitor { token, visitor: WidgetVisitor { id, account, external_id, settings } })
    }

    /// The visitor holding `token`, on a line that is still an enabled widget.
    pub async fn widget_visitor(&self, token: &str) -> ServiceResult<WidgetVisitor> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let found = {
            let mut pooled = self.db().acquire().await?;
            widget::find_visitor(&mut pooled.conn(), &token_hash(token)).await?
        };
        let found = found.ok_or(ServiceError::Unauthenticated)?;
        let account = self.widget_account(found.channel_account_id).await.map_err(|_| ServiceError::Unauthenticated)?;
        let settings = WidgetSettings::of(&account);
        Ok(WidgetVisitor { id: found.id, account, external_id: found.external_id, settings })
    }

    /// The host site tells who its signed-in user is. With a good `user_hash` the visitor
    /// becomes that user (on every device), and what they wrote anonymously moves to the
    /// user's contact (a contact merge). Without one, the name and e-mail are only kept on the
    /// anonymous contact — unless the line requires verification, which refuses it. A wrong
    /// hash is always refused.
    pub async fn widget_identify(&self, visitor: &WidgetVisitor, who: Identify) -> ServiceResult<WidgetVisitor> {
        let user_id = who.user_id.trim();
        if user_id.is_empty() || user_id.chars().count() > MAX_USER_ID {
            return Err(ServiceError::invalid(
                "user_id",
                format!("give the host site's user id (1 to {MAX_USER_ID} characters)"),
            ));
        }
        let name = who.name.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
        let email = who.email.map(|e| e.trim().chars().take(200).collect::<String>()).filter(|e| !e.is_empty());
        let Some(hash) = who.user_hash.as_deref().map(str::trim).filter(|h| !h.is_empty()) else {
            if visitor.settings.require_verification {
                return Err(ServiceError::Denied {
                    code: "verification_required",
                    message: "this site requires a signed identity: pass user_hash".into(),
                });
            }
            self.widget_keep_profile(visitor, name, email).await?;
            return Ok(visitor.clone());
        };
        if !self.widget_hash_ok(visitor.account.id, user_id, hash).await? {
            return Err(ServiceError::Denied {
                code: "invalid_user_hash",
                message: "user_hash is not the HMAC-SHA256 of user_id with this widget's secret".into(),
            });
        }
        let target = format!("{VERIFIED}{user_id}");
        let now = self.now();
        let ws = visitor.account.workspace_id;
        let account = &visitor.account;
        let sender = InboundSender {
            external_id: target.clone(),
            name: name.clone(),
            email: email.clone(),
            ..Default::default()
        };
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let verified = contacts::find_identity(&mut conn, account.id, &target).await?.map(|(i, _)| i.contact_id);
        // Only what was written anonymously follows the visitor: a browser that was another
        // signed-in user before keeps that user's conversations apart.
        let anonymous =
            if visitor.external_id.starts_with(ANONYMOUS) { visitor.contact(&mut conn).await? } else { None };
        let contact = match (anonymous, verified) {
            (_, Some(user)) => {
                if let Some(anon) = anonymous.filter(|a| *a != user) {
                    let who = switchboard_store::events::Actor { kind: AuthorKind::Contact, id: Some(user.0) };
                    crate::contacts::merge_in(&mut conn, ws, user, anon, who, now).await?;
                }
                user
            }
            (Some(anon), None) => {
                contacts::create_identity(&mut conn, ws, anon, account.id, &sender, now).await?;
                anon
            }
            (None, None) => {
                let workspace = switchboard_store::workspaces::get(&mut conn, ws)
                    .await?
                    .ok_or(ServiceError::NotFound("workspace"))?;
                crate::ingest::identify(&mut conn, now, &workspace, account, &sender).await?.1
            }
        };
        // The anonymous name ("Visitor 3f9a2c") was only ever a stand-in: it does not become
        // the signed-in user's name through the merge.
        fill_profile(&mut conn, ws, contact, name, email, Some(&visitor.display_name()), now).await?;
        widget::set_external_id(&mut conn, visitor.id, &target, now).await?;
        tx.commit().await?;
        Ok(WidgetVisitor { external_id: target, ..visitor.clone() })
    }

    async fn widget_hash_ok(&self, account: ChannelAccountId, user_id: &str, hash: &str) -> ServiceResult<bool> {
        let secrets = {
            let mut pooled = self.db().acquire().await?;
            accounts::get_with_secrets(&mut pooled.conn(), account).await?.map(|(_, s)| s).unwrap_or_default()
        };
        let Some(secret) = secrets.get("secret").and_then(|s| s.as_str()).filter(|s| !s.is_empty()) else {
            // No secret, no verification: nobody can vouch.
            return Ok(false);
        };
        Ok(verify_user_hash(secret, user_id, hash))
    }

    /// An unverified visitor's name and e-mail, on their contact (made now if need be).
    async fn widget_keep_profile(
        &self,
        visitor: &WidgetVisitor,
        name: Option<String>,
        email: Option<String>,
    ) -> ServiceResult<()> {
        let now = self.now();
        let ws = visitor.account.workspace_id;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let contact = match visitor.contact(&mut conn).await? {
            Some(c) => c,
            None => {
                let workspace = switchboard_store::workspaces::get(&mut conn, ws)
                    .await?
                    .ok_or(ServiceError::NotFound("workspace"))?;
                let sender = InboundSender { external_id: visitor.external_id.clone(), ..Default::default() };
                crate::ingest::identify(&mut conn, now, &workspace, &visitor.account, &sender).await?.1
            }
        };
        fill_profile(&mut conn, ws, contact, name, email, None, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Sets the fields the host page gave on the contact, leaving the others as they are — except
/// a `placeholder` name, which goes.
async fn fill_profile(
    conn: &mut Conn<'_>,
    ws: switchboard_domain::WorkspaceId,
    contact: ContactId,
    name: Option<String>,
    email: Option<String>,
    placeholder: Option<&str>,
    now: time::OffsetDateTime,
) -> ServiceResult<()> {
    let mut found = contacts::get(conn, ws, contact).await?.ok_or(ServiceError::NotFound("contact"))?;
    let stand_in = placeholder.is_some() && found.name.as_deref() == placeholder;
    if name.is_none() && email.is_none() && !stand_in {
        return Ok(());
    }
    found.name = name.or(if stand_in { None } else { found.name });
    found.email = email.or(found.email);
    contacts::update(conn, &found, now).await?;
    Ok(())
}

/// Whether `hash` is the hex HMAC-SHA256 of `user_id` keyed with `secret` (compared in
/// constant time).
pub fn verify_user_hash(secret: &str, user_id: &str, hash: &str) -> bool {
    let Ok(given) = hex::decode(hash.trim()) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(user_id.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The hex HMAC-SHA256 a host site computes for `user_id` (tests, examples).
pub fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_hash_verifies_for_its_user_and_secret_only() {
        let hash = user_hash("s3cret", "42");
        assert!(verify_user_hash("s3cret", "42", &hash));
        assert!(!verify_user_hash("s3cret", "43", &hash));
        assert!(!verify_user_hash("other", "42", &hash));
        assert!(!verify_user_hash("s3cret", "42", "zz"));
    }

    #[test]
    fn only_plain_origins_reach_the_frame_ancestors_list() {
        assert_eq!(clean_origin("https://Shop.example/").as_deref(), Some("https://shop.example"));
        assert_eq!(clean_origin("http://127.0.0.1:5173").as_deref(), Some("http://127.0.0.1:5173"));
        assert_eq!(clean_origin("https://a.example; script-src *"), None);
        assert_eq!(clean_origin("javascript:alert(1)"), None);
        assert_eq!(clean_origin("https://"), None);
    }
}
