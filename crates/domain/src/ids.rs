//! Newtype ids: a `TicketId` can never be passed where a `ContactId` is expected.
//! All are UUIDv7 (time-ordered, so they index well), made by the caller: the domain never
//! reads a clock or a random source itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    /// A workspace: one business, the tenant.
    WorkspaceId,
    /// A connected line of the business (a WhatsApp number, a page, a mailbox…).
    ChannelAccountId,
    /// One customer.
    ContactId,
    /// How a contact is known on one channel account.
    IdentityId,
    /// A thread on one channel account: direct (one contact) or public (one post).
    ConversationId,
    /// One support session: the unit of work.
    TicketId,
    /// One thing said: inbound, outbound or an internal note.
    MessageId,
    /// One entry of a ticket's audit log.
    EventId,
    /// A person who works tickets.
    AgentId,
    /// A group of agents.
    TeamId,
    /// An API token of an agent.
    TokenId,
);
