//! Messages: direction, visibility, author and the delivery status of outbound messages.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From a customer (or a participant of a public thread).
    Inbound,
    /// To the customer, through the channel.
    Outbound,
    /// An internal note: never sent anywhere.
    Note,
}

/// Who may see a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Internal,
}

impl FromStr for Visibility {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Self::Public),
            "internal" => Ok(Self::Internal),
            _ => Err(DomainError::invalid("visibility", format!("unknown `{s}` (public, internal)"))),
        }
    }
}

/// Who wrote a message or caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Contact,
    Agent,
    Automation,
    System,
}

/// Where an outbound message is on its way to the customer. Statuses only move forward:
/// a late "delivered" receipt never takes a "read" message back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }

    /// The status after a receipt saying `next` arrives. Receipts arrive out of order, so a
    /// status only moves forward; `failed` can only replace a status that was not yet
    /// delivered (a platform cannot fail a message the customer has read).
    pub fn advance(self, next: DeliveryStatus) -> DeliveryStatus {
        match (self, next) {
            (Self::Failed, _) => Self::Failed,
            (Self::Queued | Self::Sent, Self::Failed) => Self::Failed,
            (_, Self::Failed) => self,
            _ => self.max(next),
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "queued" => Ok(Self::Queued),
            "sent" => Ok(Self::Sent),
            "delivered" => Ok(Self::Delivered),
            "read" => Ok(Self::Read),
            "failed" => Ok(Self::Failed),
            _ => Err(DomainError::invalid("delivery_status", format!("unknown `{s}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::*;

    #[test]
    fn delivery_statuses_only_move_forward() {
        let cases = [
            (Queued, Sent, Sent),
            (Sent, Delivered, Delivered),
            (Delivered, Read, Read),
            (Read, Delivered, Read),
            (Read, Sent, Read),
            (Sent, Failed, Failed),
            (Queued, Failed, Failed),
            (Read, Failed, Read),
            (Failed, Delivered, Failed),
        ];
        for (from, next, expected) in cases {
            assert_eq!(from.advance(next), expected, "{from:?} + {next:?}");
        }
    }
}
