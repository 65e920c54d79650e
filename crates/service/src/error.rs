//! The errors a use case returns. The HTTP layer maps each variant to a status in one place.

use switchboard_domain::{DomainError, Refusal};
use switchboard_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Nothing of that kind with that id in the caller's workspace.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input is well-formed but not acceptable.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The channel's reply rules refuse the send; nothing was stored.
    #[error("{}", .0.message())]
    Refused(Refusal),
    /// The change conflicts with the current state (a closed ticket, a taken e-mail…).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Search text that does not parse: where (a character offset) and why.
    #[error("{0}")]
    InvalidQuery(switchboard_domain::search::ParseError),
    #[error("authentication required")]
    Unauthenticated,
    #[error("this needs the admin role")]
    Forbidden,
    /// Not allowed for this caller, for a reason of its own (`code`): a widget visitor whose
    /// identity the host site did not vouch for.
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// Too many failed sign-ins from this client for this e-mail; try again later.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    /// Too many requests from this widget visitor or client; try again later.
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    /// A platform webhook failed authentication; nothing was stored.
    #[error("{0}")]
    WebhookRefused(String),
    /// An authenticated body of the generic webhook that does not read: a 400 for its developer.
    #[error("{0}")]
    InvalidBody(String),
    #[error(transparent)]
    Store(StoreError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<DomainError> for ServiceError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::InvalidTransition { .. } => Self::conflict("invalid_transition", err.to_string()),
            DomainError::Invalid { field, reason } => Self::Invalid { field, message: reason },
        }
    }
}
