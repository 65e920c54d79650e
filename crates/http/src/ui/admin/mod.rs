//! The administration pages (`/admin/…`): lines, agents, teams, API tokens, fields, macros,
//! shared views, settings and the audit log. Every page and form is for admins: an agent gets
//! the 403 page. Handlers follow the agent UI's shape (extract, one service call, render or
//! redirect).

pub mod channels;
pub mod fields;
mod help;
pub mod macros;
pub mod people;
pub mod settings;
pub mod templates;
pub mod views;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::{CsrfForm, Layout, PageError, Session};
use crate::AppState;

/// The signed-in admin of a page request; an agent is refused with the 403 page.
pub struct AdminSession(pub Session);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        session.session.actor.require_admin()?;
        Ok(Self(session))
    }
}

/// A CSRF-checked form of a signed-in admin.
pub struct AdminForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for AdminForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let CsrfForm { session, form } = CsrfForm::<T>::from_request(req, state).await?;
        session.session.actor.require_admin()?;
        Ok(Self { session, form })
    }
}

/// The admin section's left-hand menu, with the current page marked.
pub struct Nav {
    pub current: &'static str,
}

impl Nav {
    pub const ITEMS: [(&'static str, &'static str); 10] = [
        ("channels", "Channels"),
        ("agents", "Agents"),
        ("teams", "Teams"),
        ("fields", "Ticket fields"),
        ("macros", "Macros"),
        ("views", "Views"),
        ("templates", "Templates"),
        ("tokens", "API tokens"),
        ("settings", "Settings"),
        ("audit", "Audit log"),
    ];
}

pub fn layout(session: &Session, title: &str) -> Layout {
    Layout::new(&session.session, title)
}

/// `GET /admin`
pub async fn index(_admin: AdminSession) -> axum::response::Response {
    super::see_other("/admin/channels")
}
