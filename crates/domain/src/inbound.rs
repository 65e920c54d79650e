//! A normalised inbound item: what every channel adapter turns a platform's payload into,
//! and what the ingest use case routes. One webhook delivery may carry many.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Who sent an inbound item, as the platform knows them. `external_id` is the platform's id
/// of the person on this account (wa_id, PSID, IGSID, LINE userId, phone, e-mail…); the rest
/// is the "social messaging user info" the platform pushed, kept on the identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InboundSender {
    pub external_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub avatar_url: Option<String>,
}

/// Which conversation an inbound item belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThreadRef {
    /// A private conversation with the sender. `key` names the thread when a platform has
    /// several per person (an e-mail thread); by default it is the sender's external id.
    Direct { key: Option<String> },
    /// A public thread keyed by its root post (or review) id; the sender is a participant.
    Public { root_id: String, title: Option<String> },
}

/// One attachment as the platform described it; the media itself is fetched later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// image, video, audio, document, sticker, location, contacts, …
    pub kind: String,
    pub url: Option<String>,
    /// The platform's media id, to download it with the account's credentials.
    pub media_id: Option<String>,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
}

/// A message from a customer, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundItem {
    /// The platform's id of the message; unique per channel account, the idempotency key.
    pub platform_message_id: String,
    pub sender: InboundSender,
    pub thread: ThreadRef,
    pub body: Option<String>,
    pub attachments: Vec<Attachment>,
    /// When the platform says the customer sent it. Reply windows count from this, not
    /// from when the webhook reached us.
    pub sent_at: Option<OffsetDateTime>,
}

impl InboundItem {
    /// The key of the conversation this item belongs to on its account.
    pub fn thread_key(&self) -> &str {
        match &self.thread {
            ThreadRef::Direct { key: Some(key) } => key,
            ThreadRef::Direct { key: None } => &self.sender.external_id,
            ThreadRef::Public { root_id, .. } => root_id,
        }
    }

    pub fn is_public(&self) -> bool {
        matches!(self.thread, ThreadRef::Public { .. })
    }
}

/// A delivery receipt for a message the business sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The platform's id of the outbound message the receipt is about.
    pub platform_message_id: String,
    pub status: crate::message::DeliveryStatus,
    /// The platform's error, for `failed`.
    pub error: Option<crate::model::MessageError>,
    pub at: Option<OffsetDateTime>,
}

/// Everything a platform can tell us about a line, normalised. An adapter turns one webhook
/// delivery into a list of these; the ingest use case stores them all in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboundEvent {
    /// A customer's message (or a participant's comment in a public thread).
    Message(InboundItem),
    /// A message the business sent from elsewhere (the platform's own app), echoed back to us.
    /// `sender` is the customer it was sent to. Recorded once, as outbound; an echo of a message
    /// Switchboard sent itself is recognised by its platform id and changes nothing.
    Echo(InboundItem),
    /// A delivery receipt (sent, delivered, read, failed) for an outbound message.
    Status(StatusUpdate),
    /// The customer read everything the business sent in the conversation up to `up_to`.
    ReadUpTo { customer: String, thread_key: Option<String>, up_to: OffsetDateTime },
    /// A customer reacted to a message; `emoji: None` takes the reaction back.
    Reaction { sender: InboundSender, target_platform_message_id: String, emoji: Option<String>, at: OffsetDateTime },
    /// A public comment was edited on the platform.
    Edited { platform_message_id: String, body: Option<String>, at: OffsetDateTime },
    /// A public comment was removed on the platform.
    Removed { platform_message_id: String, at: OffsetDateTime },
    /// A token to answer the customer's last message, valid until `expires_at` (LINE).
    ReplyToken { customer: String, token: String, expires_at: OffsetDateTime },
    /// The customer stopped (`subscribed: false`: LINE unfollow, Telegram block, SMS STOP) or
    /// resumed accepting messages on this line.
    Subscription { sender: InboundSender, subscribed: bool, at: OffsetDateTime },
}
