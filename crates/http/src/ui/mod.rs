//! The agent UI: server-rendered pages (askama templates in `crates/http/templates`, which
//! escape everything by default — customer text is never marked safe), one small script and
//! one stylesheet embedded in the binary (`assets`). Sign-in makes a database session
//! (`sb_session` cookie, HttpOnly, SameSite=Lax, Secure behind https); every state-changing
//! form carries the session's CSRF token, checked by [`CsrfForm`] and [`CsrfMultipart`].
//!
//! Handlers follow the API's shape: extract, one service call, render. Errors become one
//! HTML page ([`PageError`]), mapped from the service error in one place.

pub mod admin;
pub mod assets;
pub mod compose;
pub mod contacts;
mod conversation;
mod error;
mod extract;
pub mod inbox;
pub mod session;
pub mod setup;
pub mod tickets;
mod view;
mod view_table;
pub mod views;

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use switchboard_domain::Availability;
use switchboard_service::sessions::SessionActor;

pub use error::PageError;
pub use extract::{ClientAddr, CsrfForm, CsrfMultipart, Session, UploadedFile};

/// The policy of every page: scripts and styles only from this server's files (no inline
/// script can run, whatever a customer manages to write), no framing, forms post here only.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
                            media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                            frame-ancestors 'none'; form-action 'self'";

/// A rendered page, answered with the page security headers.
pub struct Page(pub StatusCode, pub String);

impl Page {
    pub fn render(template: &impl Template) -> Result<Self, PageError> {
        Ok(Self(StatusCode::OK, template.render().map_err(PageError::render)?))
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.0, Html(self.1)).into_response();
        secure_headers(response.headers_mut());
        response
    }
}

/// Headers every page carries.
pub fn secure_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    headers.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    headers.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// What the frame of every signed-in page shows: who is signed in, their availability, the
/// CSRF token its forms carry.
pub struct Layout {
    pub title: String,
    pub agent_name: String,
    pub online: bool,
    pub csrf: String,
    pub assets: &'static str,
    /// What the search box holds.
    pub query: String,
    /// Whether the Admin link shows.
    pub admin: bool,
}

impl Layout {
    pub fn new(session: &SessionActor, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            agent_name: session.actor.agent.name.clone(),
            online: session.availability == Availability::Online,
            csrf: session.csrf_token.clone(),
            assets: assets::version(),
            query: String::new(),
            admin: session.actor.require_admin().is_ok(),
        }
    }
}

/// A redirect after a successful form post (303: the browser follows with a GET).
pub fn see_other(to: &str) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to.to_owned())]).into_response();
    secure_headers(response.headers_mut());
    response
}
