//! Channel kinds: which platform a channel account talks to, and what follows from it
//! (its tags, whether it is a social channel, the name of its webhook route).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// The platform of a channel account. The snake_case name is the `kind` of the public
/// contract (DESIGN §9) and the `{kind}` segment of `/webhooks/{kind}/{account_id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Whatsapp,
    /// A Facebook page: Messenger DMs and the page's feed (posts and comments).
    Messenger,
    /// An Instagram professional account: DMs, comments and mentions.
    Instagram,
    X,
    Line,
    Wechat,
    Telegram,
    Twilio,
    Dialpad,
    Justcall,
    Shopee,
    Lazada,
    Email,
    /// The business's own website chat widget.
    Widget,
    /// The generic signed webhook for integrators (`POST /webhooks/api/{account_id}`).
    Api,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 15] = [
        Self::Whatsapp,
        Self::Messenger,
        Self::Instagram,
        Self::X,
        Self::Line,
        Self::Wechat,
        Self::Telegram,
        Self::Twilio,
        Self::Dialpad,
        Self::Justcall,
        Self::Shopee,
        Self::Lazada,
        Self::Email,
        Self::Widget,
        Self::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Whatsapp => "whatsapp",
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
            Self::X => "x",
            Self::Line => "line",
            Self::Wechat => "wechat",
            Self::Telegram => "telegram",
            Self::Twilio => "twilio",
            Self::Dialpad => "dialpad",
            Self::Justcall => "justcall",
            Self::Shopee => "shopee",
            Self::Lazada => "lazada",
            Self::Email => "email",
            Self::Widget => "widget",
            Self::Api => "api",
        }
    }

    /// The channel tag every ticket of this channel carries (DESIGN §2 step 4), or `None` for
    /// channels that are not social messaging. A Facebook page's feed is `facebook`, its DMs
    /// `messenger`; the three SMS providers share `sms`.
    pub fn channel_tag(self, conversation: ConversationKind) -> Option<&'static str> {
        match (self, conversation) {
            (Self::Whatsapp, _) => Some("whatsapp"),
            (Self::Messenger, ConversationKind::Direct) => Some("messenger"),
            (Self::Messenger, ConversationKind::Public) => Some("facebook"),
            (Self::Instagram, _) => Some("instagram"),
            (Self::X, _) => Some("x"),
            (Self::Line, _) => Some("line"),
            (Self::Wechat, _) => Some("wechat"),
            (Self::Telegram, _) => Some("telegram"),
            (Self::Twilio | Self::Dialpad | Self::Justcall, _) => Some("sms"),
            (Self::Shopee | Self::Lazada | Self::Email | Self::Widget | Self::Api, _) => None,
        }
    }

    /// The secrets a channel account of this kind needs, named as the platform names them
    /// (DESIGN §9). Creating an account without one of them is refused.
    pub fn required_secrets(self) -> &'static [&'static str] {
        match self {
            Self::Whatsapp | Self::Messenger | Self::Instagram => &["app_secret", "verify_token", "access_token"],
            Self::X => &["consumer_secret", "access_token"],
            Self::Line => &["channel_secret", "channel_access_token"],
            Self::Wechat => &["token", "app_id", "app_secret"],
            Self::Telegram => &["bot_token", "secret_token"],
            Self::Twilio => &["account_sid", "auth_token"],
            Self::Dialpad => &["webhook_secret", "api_key"],
            Self::Justcall => &["webhook_secret", "api_key", "api_secret"],
            Self::Shopee => &["partner_id", "partner_key", "access_token"],
            Self::Lazada => &["app_key", "app_secret", "access_token"],
            Self::Api | Self::Widget => &["secret"],
            Self::Email => &[],
        }
    }

    /// The secret a platform signs (or authenticates) its webhooks with. Lines that share it
    /// belong to one platform app, which may deliver events of all of them to one URL.
    pub fn signing_secret(self) -> Option<&'static str> {
        match self {
            Self::Whatsapp | Self::Messenger | Self::Instagram | Self::Lazada => Some("app_secret"),
            Self::X => Some("consumer_secret"),
            Self::Line => Some("channel_secret"),
            Self::Wechat => Some("token"),
            Self::Telegram => Some("secret_token"),
            Self::Twilio => Some("auth_token"),
            Self::Dialpad | Self::Justcall => Some("webhook_secret"),
            Self::Shopee => Some("partner_key"),
            Self::Api | Self::Widget => Some("secret"),
            Self::Email => None,
        }
    }

    /// The tags a new ticket of this channel gets automatically: its channel tag and
    /// `messaging_support`, which the built-in social views and the notifier select on.
    pub fn automatic_tags(self, conversation: ConversationKind) -> Vec<&'static str> {
        match self.channel_tag(conversation) {
            Some(tag) => vec![tag, MESSAGING_SUPPORT_TAG],
            None => Vec::new(),
        }
    }
}

/// The tag that marks a ticket as social messaging (DESIGN §2 step 4).
pub const MESSAGING_SUPPORT_TAG: &str = "messaging_support";

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("kind", format!("unknown channel kind `{s}`")))
    }
}

/// Whether a conversation belongs to one customer or is a public thread under a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// One contact × one channel account.
    Direct,
    /// One post (or review) and everything said under it; many participants, no owner.
    Public,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Public => "public",
        }
    }
}

impl FromStr for ConversationKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct" => Ok(Self::Direct),
            "public" => Ok(Self::Public),
            _ => Err(DomainError::invalid("conversation kind", format!("unknown `{s}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in ChannelKind::ALL {
            assert_eq!(kind.as_str().parse::<ChannelKind>().unwrap(), kind);
        }
        assert!("myspace".parse::<ChannelKind>().is_err());
    }

    #[test]
    fn social_channels_get_their_tag_and_messaging_support() {
        let cases = [
            (ChannelKind::Whatsapp, ConversationKind::Direct, vec!["whatsapp", "messaging_support"]),
            (ChannelKind::Messenger, ConversationKind::Direct, vec!["messenger", "messaging_support"]),
            (ChannelKind::Messenger, ConversationKind::Public, vec!["facebook", "messaging_support"]),
            (ChannelKind::Instagram, ConversationKind::Public, vec!["instagram", "messaging_support"]),
            (ChannelKind::Twilio, ConversationKind::Direct, vec!["sms", "messaging_support"]),
            (ChannelKind::Justcall, ConversationKind::Direct, vec!["sms", "messaging_support"]),
            (ChannelKind::Email, ConversationKind::Direct, vec![]),
            (ChannelKind::Api, ConversationKind::Public, vec![]),
        ];
        for (kind, conv, tags) in cases {
            assert_eq!(kind.automatic_tags(conv), tags, "{kind} {conv:?}");
        }
    }
}
