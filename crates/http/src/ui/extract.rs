//! Extractors of the agent UI: the signed-in session, and form bodies whose CSRF token is
//! checked before anything else reads them.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchboard_service::ServiceError;
use switchboard_service::sessions::SessionActor;

use super::PageError;
use crate::AppState;
use crate::extract::{SESSION_COOKIE, cookie, same_secret};

/// The signed-in agent of a page request, with the session's token (to sign out).
pub struct Session {
    pub session: SessionActor,
    pub token: String,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // After signing in, come back to the page asked for (only pages: a form post is not
        // repeated).
        let next = if parts.method == axum::http::Method::GET {
            parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".to_owned())
        } else {
            "/".to_owned()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::SignIn { next });
        };
        match state.service.authenticate_session(token).await {
            Ok(session) => Ok(Self { session, token: token.to_owned() }),
            Err(ServiceError::Unauthenticated) => Err(PageError::SignIn { next }),
            Err(other) => Err(other.into()),
        }
    }
}

/// An urlencoded form of a signed-in agent whose `csrf` field matches the session's token.
pub struct CsrfForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
            .await
            .map_err(|_| PageError::bad_request("The form is too large."))?;
        let sent = form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
        if !sent.is_some_and(|t| same_secret(&t, &session.session.csrf_token)) {
            return Err(PageError::csrf());
        }
        let req = Request::from_parts(parts, Body::from(bytes));
        let axum::Form(form) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(|r| PageError::bad_request(format!("The form could not be read: {}", r.body_text())))?;
        Ok(Self { session, form })
    }
}

/// A form with nothing but its CSRF token (sign out, delete).
#[derive(Debug, serde::Deserialize)]
pub struct Empty {}

/// A file sent with a multipart form.
pub struct UploadedFile {
    pub filename: String,
    pub mime_type: String,
    pub bytes: Bytes,
}

/// A multipart form (with files) of a signed-in agent whose `csrf` field matches the
/// session's token. Text fields may repeat.
pub struct CsrfMultipart {
    pub session: Session,
    pub fields: HashMap<String, Vec<String>>,
    pub files: Vec<UploadedFile>,
}

impl CsrfMultipart {
    /// The first value of a text field, if sent and not blank.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|v| v.first()).map(String::as_str).filter(|v| !v.trim().is_empty())
    }
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|r| PageError::bad_request(format!("The form could not be read: {}", r.body_text())))?;
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        let mut files = Vec::new();
        let unreadable = |e: axum::extract::multipart::MultipartError| {
            PageError::bad_request(format!("The form could not be read: {}", e.body_text()))
        };
        while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or("").to_owned();
            if let Some(filename) = field.file_name().map(str::to_owned) {
                let mime_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                // A file input left empty still sends a part with no name and no bytes.
                if !bytes.is_empty() {
                    files.push(UploadedFile { filename, mime_type, bytes });
                }
            } else {
                let text = field.text().await.map_err(unreadable)?;
                fields.entry(name).or_default().push(text);
            }
        }
        let sent = fields.get("csrf").and_then(|v| v.first());
        if !sent.is_some_and(|t| same_secret(t, &session.session.csrf_token)) {
            return Err(PageError::csrf());
        }
        Ok(Self { session, fields, files })
    }
}

/// The address of the client that sent the request ("unknown" when the server was not told).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(Self(addr.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())))
    }
}
