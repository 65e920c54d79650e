//! Tickets: kinds, statuses and the lifecycle of DESIGN §4.
//!
//! `new → open → pending → solved → closed`, plus `on_hold` (waiting on a third party) and
//! `spam`. Closed is final: a closed ticket never changes again, and the customer's next
//! message makes a follow-up ticket instead (see `routing`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// What a ticket is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// A private conversation with one customer.
    Direct,
    /// A public thread: a post and its comments, a mention; many participants, no owner.
    Public,
    /// A marketplace review and the answers under it.
    Review,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Public => "public",
            Self::Review => "review",
        }
    }
}

impl FromStr for TicketKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct" => Ok(Self::Direct),
            "public" => Ok(Self::Public),
            "review" => Ok(Self::Review),
            _ => Err(DomainError::invalid("kind", format!("unknown ticket kind `{s}` (direct, public, review)"))),
        }
    }
}

/// A ticket's status. The order of the variants is the order of the search language
/// (`status<solved`): new < open < pending < on_hold < solved < closed; spam sorts last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
    Spam,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 7] =
        [Self::New, Self::Open, Self::Pending, Self::OnHold, Self::Solved, Self::Closed, Self::Spam];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::OnHold => "on_hold",
            Self::Solved => "solved",
            Self::Closed => "closed",
            Self::Spam => "spam",
        }
    }

    /// A ticket the team still works on: new, open, pending or on hold.
    pub fn is_active(self) -> bool {
        matches!(self, Self::New | Self::Open | Self::Pending | Self::OnHold)
    }

    /// Whether the ticket still takes the conversation's new messages (active or solved).
    /// The database allows at most one such ticket per conversation.
    pub fn is_live(self) -> bool {
        self.is_active() || self == Self::Solved
    }

    /// What the customer sees in the widget: active or resolved.
    pub fn customer_status(self) -> CustomerStatus {
        if self.is_active() { CustomerStatus::Active } else { CustomerStatus::Resolved }
    }

    /// Whether an agent (or automation) may move a ticket from `self` to `to`.
    ///
    /// - closed is final: nothing leaves it;
    /// - `new` is only where tickets start: nothing goes back to it;
    /// - everything else may move freely, including out of spam (a mistake corrected) and
    ///   straight to closed (an agent closing a ticket that needs no answer).
    pub fn can_become(self, to: TicketStatus) -> bool {
        if self == to {
            return true;
        }
        !(self == Self::Closed || to == Self::New)
    }

    /// `can_become` as a `Result`, for callers that want the user-facing error.
    pub fn transition(self, to: TicketStatus) -> Result<TicketStatus, DomainError> {
        if self.can_become(to) { Ok(to) } else { Err(DomainError::InvalidTransition { from: self, to }) }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TicketStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            DomainError::invalid(
                "status",
                format!("unknown status `{s}` (new, open, pending, on_hold, solved, closed, spam)"),
            )
        })
    }
}

/// A ticket's status as the customer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Active,
    Resolved,
}

/// How urgent a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

impl FromStr for Priority {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Self::Low),
            "normal" => Ok(Self::Normal),
            "high" => Ok(Self::High),
            "urgent" => Ok(Self::Urgent),
            _ => Err(DomainError::invalid("priority", format!("unknown priority `{s}` (low, normal, high, urgent)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TicketStatus::*;
    use super::*;

    #[test]
    fn closed_is_final() {
        for to in TicketStatus::ALL {
            assert_eq!(Closed.can_become(to), to == Closed, "closed -> {to}");
        }
    }

    #[test]
    fn nothing_goes_back_to_new() {
        for from in [Open, Pending, OnHold, Solved, Spam] {
            assert!(!from.can_become(New), "{from} -> new");
        }
        assert!(New.can_become(New));
    }

    #[test]
    fn the_lifecycle_of_design_4_is_allowed() {
        let allowed = [
            (New, Open),
            (Open, Pending),
            (Pending, Solved),
            (Solved, Closed),
            (New, Solved),
            (Open, OnHold),
            (OnHold, Open),
            (Pending, Open),
            (Solved, Open),
            (Open, Spam),
            (New, Spam),
            (Spam, Open),
            (Open, Closed),
            (Pending, Closed),
        ];
        for (from, to) in allowed {
            assert_eq!(from.transition(to), Ok(to), "{from} -> {to}");
        }
        assert_eq!(Closed.transition(Open), Err(DomainError::InvalidTransition { from: Closed, to: Open }));
    }

    #[test]
    fn statuses_are_ordered_as_the_search_language_says() {
        assert!(New < Open && Open < Pending && Pending < OnHold && OnHold < Solved && Solved < Closed);
    }

    #[test]
    fn the_customer_sees_active_or_resolved() {
        for st in [New, Open, Pending, OnHold] {
            assert_eq!(st.customer_status(), CustomerStatus::Active);
        }
        for st in [Solved, Closed, Spam] {
            assert_eq!(st.customer_status(), CustomerStatus::Resolved);
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for st in TicketStatus::ALL {
            assert_eq!(st.as_str().parse::<TicketStatus>().unwrap(), st);
        }
        assert!("reopened".parse::<TicketStatus>().is_err());
    }
}
