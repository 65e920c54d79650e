//! Errors a domain rule can raise. Each one is something a user did that the rules refuse,
//! so each carries a message fit to show them.

use crate::ticket::TicketStatus;

/// A rule of the domain refused a value or a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The lifecycle of DESIGN §4 does not allow this status change.
    #[error("a ticket cannot go from {from} to {to}")]
    InvalidTransition { from: TicketStatus, to: TicketStatus },
    /// A value could not be parsed into the domain type it stands for.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { field, reason: reason.into() }
    }
}
