//! The reply rules of DESIGN §3: may this be sent on this channel now?
//!
//! A pure function of the channel, the kind of conversation, the customer's last inbound
//! message *as the platform timestamped it*, the time now and what is being sent. Every send
//! path (typed reply, macro, template, private reply, agent-initiated ticket) asks it before
//! anything is stored, and the ticket page shows its [`ReplyWindow`].

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::channel::{ChannelKind, ConversationKind};

/// What is being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    /// Free-form text and attachments.
    FreeForm,
    /// A platform-approved template (WhatsApp).
    Template,
    /// A private reply to a public comment (Facebook, Instagram).
    PrivateReply {
        /// The comment already got its one private reply.
        already_used: bool,
        /// When the comment was written.
        comment_at: OffsetDateTime,
    },
}

/// The situation a send happens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendContext {
    pub channel: ChannelKind,
    pub conversation: ConversationKind,
    /// The customer's last inbound message on this conversation, as the platform
    /// timestamped it; `None` if they never wrote.
    pub last_inbound_at: Option<OffsetDateTime>,
    pub now: OffsetDateTime,
    /// How many messages the business sent since that last inbound message (WeChat caps it).
    pub sent_since_last_inbound: u32,
}

/// A tag the platform requires on a message sent outside its standard window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageTag {
    /// Meta's human-agent tag: a person answers up to 7 days after the customer's message.
    HumanAgent,
}

/// Why a send is refused. Each maps to the stable `code` of the 422 the API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The channel's window is closed and nothing may be sent until the customer writes.
    WindowClosed { channel: ChannelKind, hours: i64 },
    /// Outside WhatsApp's 24-hour window only an approved template may be sent.
    TemplateRequired,
    /// A comment gets one private reply, and it has had it.
    PrivateReplyUsed,
    /// The channel has no such thing (templates outside WhatsApp, private replies outside
    /// Facebook and Instagram comments).
    NotSupported { channel: ChannelKind, what: &'static str },
}

impl Refusal {
    /// The stable error code of the public contract (DESIGN §9).
    pub fn code(&self) -> &'static str {
        match self {
            Self::WindowClosed { .. } => "reply_window_closed",
            Self::TemplateRequired => "template_required",
            Self::PrivateReplyUsed => "private_reply_used",
            Self::NotSupported { .. } => "not_supported_by_channel",
        }
    }

    /// What the agent should do, in words.
    pub fn message(&self) -> String {
        match self {
            Self::WindowClosed { channel, hours } if *hours >= 24 * 7 => format!(
                "{channel}: the customer has not written in the last {} days, so nothing can be sent until they write again",
                hours / 24
            ),
            Self::WindowClosed { channel, hours } => format!(
                "{channel}: the customer has not written in the last {hours} hours, so nothing can be sent until they write again"
            ),
            Self::TemplateRequired => {
                "outside the 24-hour window: pick an approved template; the customer's answer reopens the window"
                    .to_owned()
            }
            Self::PrivateReplyUsed => {
                "this comment already has its private reply; continue in the customer's direct conversation".to_owned()
            }
            Self::NotSupported { channel, what } => format!("{channel} does not support {what}"),
        }
    }
}

/// The answer of [`can_send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendVerdict {
    Allowed,
    /// Allowed, with this tag on the platform call.
    AllowedWithTag(MessageTag),
    Refused(Refusal),
}

const HOUR: Duration = Duration::hours(1);
const DAY: Duration = Duration::days(1);
const WECHAT_MAX_MESSAGES: u32 = 5;

fn within(ctx: &SendContext, window: Duration) -> bool {
    ctx.last_inbound_at.is_some_and(|last| ctx.now - last < window)
}

/// May `kind` be sent in `ctx`? See DESIGN §3 for the table this encodes.
pub fn can_send(ctx: &SendContext, kind: SendKind) -> SendVerdict {
    use SendVerdict::{Allowed, AllowedWithTag, Refused};
    let channel = ctx.channel;

    if let SendKind::PrivateReply { already_used, comment_at } = kind {
        if !(matches!(channel, ChannelKind::Messenger | ChannelKind::Instagram)
            && ctx.conversation == ConversationKind::Public)
        {
            return Refused(Refusal::NotSupported { channel, what: "private replies" });
        }
        if already_used {
            return Refused(Refusal::PrivateReplyUsed);
        }
        if ctx.now - comment_at >= 7 * DAY {
            return Refused(Refusal::WindowClosed { channel, hours: 7 * 24 });
        }
        return Allowed;
    }

    if kind == SendKind::Template {
        return if channel == ChannelKind::Whatsapp && ctx.conversation == ConversationKind::Direct {
            Allowed
        } else {
            Refused(Refusal::NotSupported { channel, what: "message templates" })
        };
    }

    // Free-form. Public replies under a post or mention may be written any time.
    if ctx.conversation == ConversationKind::Public {
        return Allowed;
    }
    match channel {
        ChannelKind::Whatsapp => {
            if within(ctx, 24 * HOUR) {
                Allowed
            } else {
                Refused(Refusal::TemplateRequired)
            }
        }
        ChannelKind::Messenger | ChannelKind::Instagram => {
            if within(ctx, 24 * HOUR) {
                Allowed
            } else if within(ctx, 7 * DAY) {
                AllowedWithTag(MessageTag::HumanAgent)
            } else {
                Refused(Refusal::WindowClosed { channel, hours: 7 * 24 })
            }
        }
        ChannelKind::Wechat => {
            if within(ctx, 48 * HOUR) && ctx.sent_since_last_inbound < WECHAT_MAX_MESSAGES {
                Allowed
            } else {
                Refused(Refusal::WindowClosed { channel, hours: 48 })
            }
        }
        ChannelKind::X
        | ChannelKind::Line
        | ChannelKind::Telegram
        | ChannelKind::Twilio
        | ChannelKind::Dialpad
        | ChannelKind::Justcall
        | ChannelKind::Shopee
        | ChannelKind::Lazada
        | ChannelKind::Email
        | ChannelKind::Widget
        | ChannelKind::Api => Allowed,
    }
}

/// The state of a conversation's reply window, as the reply box shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// The channel has no window: send any time.
    Always,
    /// Free-form replies are allowed until `closes_at`.
    Open,
    /// Replies go out with the HUMAN_AGENT tag until `closes_at`.
    HumanAgent,
    /// Only a template may be sent (WhatsApp).
    TemplateRequired,
    /// Nothing can be sent until the customer writes.
    Closed,
}

/// The reply window of a conversation now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyWindow {
    pub state: WindowState,
    /// When the current state ends, if it does.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closes_at: Option<OffsetDateTime>,
}

/// The window a free-form reply would meet in `ctx`, with when it changes.
pub fn reply_window(ctx: &SendContext) -> ReplyWindow {
    let at = |d: Duration| ctx.last_inbound_at.and_then(|last| last.checked_add(d));
    let (state, closes_at) = match can_send(ctx, SendKind::FreeForm) {
        SendVerdict::Refused(Refusal::TemplateRequired) => (WindowState::TemplateRequired, None),
        SendVerdict::Refused(_) => (WindowState::Closed, None),
        SendVerdict::AllowedWithTag(_) => (WindowState::HumanAgent, at(7 * DAY)),
        SendVerdict::Allowed => match (ctx.conversation, ctx.channel) {
            (ConversationKind::Direct, ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram) => {
                (WindowState::Open, at(24 * HOUR))
            }
            (ConversationKind::Direct, ChannelKind::Wechat) => (WindowState::Open, at(48 * HOUR)),
            _ => (WindowState::Always, None),
        },
    };
    ReplyWindow { state, closes_at }
}

/// Where an agent-started conversation goes on a `channel` line: the customer's identity there
/// if they have one; else, where the platform lets a business write first, the address on their
/// profile — the e-mail for e-mail lines, the number for SMS lines, and for WhatsApp (with a
/// template, DESIGN §3) the number in international form, whose digits are the WhatsApp id.
/// `Err` says why nobody can be reached.
pub fn address_on(
    channel: ChannelKind,
    identity: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<String, String> {
    if let Some(id) = identity {
        return Ok(id.to_owned());
    }
    let present = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let never = format!("has never written on this {channel} line, so there is nobody to write to");
    match channel {
        ChannelKind::Email => present(email).ok_or(never),
        ChannelKind::Twilio | ChannelKind::Dialpad | ChannelKind::Justcall => present(phone).ok_or(never),
        ChannelKind::Whatsapp => {
            let Some(number) = present(phone) else { return Err(never) };
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            let shaped = number.starts_with('+')
                && (8..=15).contains(&digits.len())
                && number.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if shaped {
                Ok(digits)
            } else {
                Err(format!(
                    "has never written on this WhatsApp line, and the profile phone `{number}` is not an \
                     international number (+ and the country code, e.g. +62 812 3456 7890)"
                ))
            }
        }
        _ => Err(never),
    }
}

#[cfg(test)]
mod tests;
