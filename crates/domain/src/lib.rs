//! Switchboard's domain: the vocabulary of DESIGN §1 as types, and the rules that decide what
//! happens — routing an inbound item to its ticket (§2), the reply rules of each channel (§3)
//! and the ticket lifecycle (§4).
//!
//! Pure by design: no I/O, no async, no database, HTTP or runtime crates. Time and ids are
//! handed in by the caller, so every rule here is a plain function that a table test can pin.

pub mod channel;
pub mod clock;
pub mod error;
pub mod ids;
pub mod inbound;
pub mod message;
pub mod model;
pub mod reply_rules;
pub mod routing;
pub mod search;
pub mod tag;
pub mod template;
pub mod ticket;
pub mod view_columns;

pub use channel::{ChannelKind, ConversationKind};
pub use clock::Clock;
pub use error::DomainError;
pub use ids::*;
pub use inbound::{Attachment, InboundEvent, InboundItem, InboundSender, StatusUpdate, ThreadRef};
pub use message::{AuthorKind, DeliveryStatus, Direction, Visibility};
pub use model::*;
pub use reply_rules::{MessageTag, Refusal, ReplyWindow, SendContext, SendKind, SendVerdict, WindowState};
pub use routing::{ConversationState, LatestTicket, Route, Settings};
pub use tag::Tag;
pub use ticket::{CustomerStatus, Priority, TicketKind, TicketStatus};
pub use view_columns::ViewColumn;
