//! The one HTML error of the agent UI, built `From` the service error and mapped to a status
//! here and only here. Not signed in is a redirect to the sign-in page; a 500 shows nothing
//! of its cause (the log has it).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_service::{ServiceError, StoreError};

use super::{Page, assets, see_other};

#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then come back to `next`.
    SignIn { next: String },
    /// A page that explains what went wrong.
    Shown { status: StatusCode, title: &'static str, message: String },
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    assets: &'static str,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self::Shown { status, title, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "That request was not understood", message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", "There is nothing here, or it belongs to another workspace.")
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "The form has expired",
            "This form was not sent from a page of your current session. Go back, reload the page and try again.",
        )
    }

    pub(crate) fn render(err: askama::Error) -> Self {
        tracing::error!(error = %err, "page template failed");
        Self::internal()
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Something went wrong on our side.")
    }

    /// The message an agent should read, for errors shown next to a form.
    pub fn message(&self) -> String {
        match self {
            Self::SignIn { .. } => "Your session has ended: sign in again.".to_owned(),
            Self::Shown { message, .. } => message.clone(),
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound(_) => Self::not_found(),
            ServiceError::Invalid { field, message } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "That cannot be done", format!("{field}: {message}"))
            }
            ServiceError::Refused(refusal) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "The channel does not allow this", refusal.message())
            }
            ServiceError::Conflict { message, .. } => Self::new(StatusCode::CONFLICT, "That cannot be done", message),
            ServiceError::Unauthenticated => Self::SignIn { next: "/".to_owned() },
            ServiceError::Forbidden => Self::new(StatusCode::FORBIDDEN, "Not allowed", "This needs the admin role."),
            ServiceError::Denied { message, .. } => Self::new(StatusCode::FORBIDDEN, "Not allowed", message),
            ServiceError::RateLimited { .. } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests", "Wait a minute, then try again.")
            }
            ServiceError::TooManyAttempts { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!("Too many failed sign-ins. Try again in {} minutes.", (retry_after_secs + 59) / 60),
            ),
            ServiceError::InvalidQuery(err) => {
                Self::new(StatusCode::BAD_REQUEST, "The search could not be read", format!("{err}"))
            }
            ServiceError::WebhookRefused(_) | ServiceError::InvalidBody(_) => {
                Self::bad_request("That request was refused.")
            }
            ServiceError::Store(StoreError::Transient(cause)) => {
                tracing::warn!(error = %cause, "transient store error");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "Busy", "The server is busy; try again in a moment.")
            }
            ServiceError::Store(StoreError::Conflict(_)) => Self::new(
                StatusCode::CONFLICT,
                "Changed meanwhile",
                "Someone changed this at the same time; reload and try again.",
            ),
            ServiceError::Store(cause) => {
                tracing::error!(error = %cause, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<switchboard_domain::DomainError> for PageError {
    fn from(err: switchboard_domain::DomainError) -> Self {
        ServiceError::from(err).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { next } => {
                let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("next", &next).finish();
                see_other(&format!("/sign-in?{query}"))
            }
            Self::Shown { status, title, message } => {
                let page = ErrorPage { title, message: &message, assets: assets::version() };
                match page.render() {
                    Ok(html) => Page(status, html).into_response(),
                    Err(_) => Page(status, title.to_owned()).into_response(),
                }
            }
        }
    }
}
