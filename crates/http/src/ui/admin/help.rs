//! What an admin needs to connect a line of each kind: the platform's id of the business side,
//! the secrets as the platform names them, the settings Switchboard reads, and what to do on
//! the platform's side (from the channel digests in `shared/channels`).

use switchboard_domain::ChannelKind;

/// One input of the connect form.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub required: bool,
}

/// How to connect one kind of line.
pub struct KindHelp {
    pub external_id: &'static str,
    pub secrets: Vec<Input>,
    /// Text settings (the widget's switches have their own controls).
    pub settings: Vec<Input>,
    /// Steps on the platform's side; `{webhook_url}` and the verify token are shown beside them.
    pub steps: &'static [&'static str],
    /// Whether the platform asks for a verify token we choose (Meta's handshake).
    pub verify_token: bool,
}

const fn secret(name: &'static str, label: &'static str, hint: &'static str) -> Input {
    Input { name, label, hint, required: true }
}

const META_STEPS: &[&str] = &[
    "In the Meta App Dashboard open Webhooks (WhatsApp: WhatsApp → Configuration) and paste the webhook URL shown here as the callback URL.",
    "Enter the verify token shown here; Meta calls the URL once to check it.",
    "One Meta app has one callback URL for all its numbers, Pages and Instagram accounts: point it at any one line; the others' events reach their own lines.",
];

pub fn help(kind: ChannelKind) -> KindHelp {
    let meta = |external_id, token_hint| KindHelp {
        external_id,
        secrets: vec![
            secret("app_secret", "App secret", "App Dashboard → App settings → Basic; signs every webhook"),
            secret("verify_token", "Verify token", "any phrase you choose; you paste it into Meta's webhook settings"),
            secret("access_token", "Access token", token_hint),
        ],
        settings: Vec::new(),
        steps: META_STEPS,
        verify_token: true,
    };
    match kind {
        ChannelKind::Whatsapp => {
            let mut h = meta(
                "Phone number ID (WhatsApp → API Setup)",
                "a system user's permanent token with whatsapp_business_messaging",
            );
            h.settings.push(Input {
                name: "waba_id",
                label: "WhatsApp Business Account ID",
                hint: "needed to read the approved templates from WhatsApp",
                required: false,
            });
            h
        }
        ChannelKind::Messenger => meta("Page ID", "the Page access token (pages_messaging)"),
        ChannelKind::Instagram => meta("Instagram account ID", "a token with instagram_manage_messages"),
        ChannelKind::X => KindHelp {
            external_id: "The business's X user id",
            secrets: vec![
                secret(
                    "consumer_secret",
                    "Consumer secret",
                    "the app's API key secret; signs webhooks and the CRC check",
                ),
                secret(
                    "access_token",
                    "Access token",
                    "OAuth 2.0 user token of the business account (dm.write, tweet.write)",
                ),
            ],
            settings: Vec::new(),
            steps: &[
                "Register the webhook URL with the Account Activity API; X sends a CRC check that Switchboard answers.",
                "Subscribe the business account to the webhook.",
            ],
            verify_token: false,
        },
        ChannelKind::Line => KindHelp {
            external_id: "The bot's user id (Messaging API → Basic settings)",
            secrets: vec![
                secret("channel_secret", "Channel secret", "signs every webhook (x-line-signature)"),
                secret("channel_access_token", "Channel access token", "long-lived token, to reply and push"),
            ],
            settings: Vec::new(),
            steps: &[
                "LINE Developers console → your channel → Messaging API: paste the webhook URL and turn on “Use webhook”.",
                "Turn off the automatic greeting and reply messages if agents answer.",
            ],
            verify_token: false,
        },
        ChannelKind::Wechat => KindHelp {
            external_id: "The official account's original id (gh_…)",
            secrets: vec![
                secret("token", "Token", "any phrase; the same on the platform's Basic configuration page"),
                secret("app_id", "AppID", "Basic configuration → AppID"),
                secret("app_secret", "AppSecret", "Basic configuration → AppSecret"),
                Input {
                    name: "encoding_aes_key",
                    label: "EncodingAESKey",
                    hint: "only for safe mode",
                    required: false,
                },
            ],
            settings: Vec::new(),
            steps: &[
                "Official Account platform → Basic configuration → Server configuration: server URL = the webhook URL, token = the token above.",
                "Choose plain or safe mode (safe mode needs the EncodingAESKey) and enable the configuration.",
            ],
            verify_token: false,
        },
        ChannelKind::Telegram => KindHelp {
            external_id: "The bot's id (the digits before the colon of its token)",
            secrets: vec![
                secret("bot_token", "Bot token", "from @BotFather"),
                secret(
                    "secret_token",
                    "Secret token",
                    "any 1–256 letters, digits, _ or -; Telegram sends it with every update",
                ),
            ],
            settings: Vec::new(),
            steps: &[
                "Call setWebhook with url = the webhook URL and secret_token = the secret token above; allowed_updates: message, edited_message, callback_query.",
            ],
            verify_token: false,
        },
        ChannelKind::Twilio => KindHelp {
            external_id: "The SMS number in E.164 (+15551234567)",
            secrets: vec![
                secret("account_sid", "Account SID", "Twilio console → Account info"),
                secret("auth_token", "Auth token", "signs every webhook (X-Twilio-Signature)"),
            ],
            settings: Vec::new(),
            steps: &[
                "Phone numbers → the number → Messaging: “A message comes in” = the webhook URL (HTTP POST).",
                "Twilio signs the exact URL: SWITCHBOARD_PUBLIC_URL must be the address Twilio calls.",
            ],
            verify_token: false,
        },
        ChannelKind::Dialpad => KindHelp {
            external_id: "The SMS number",
            secrets: vec![
                secret("webhook_secret", "Webhook secret", "any phrase; Dialpad signs its JWTs with it"),
                secret("api_key", "API key", "Dialpad admin settings → API keys"),
            ],
            settings: Vec::new(),
            steps: &[
                "POST /api/v2/webhooks with hook_url = the webhook URL and secret = the webhook secret, then an SMS event subscription (inbound) for that webhook.",
            ],
            verify_token: false,
        },
        ChannelKind::Justcall => KindHelp {
            external_id: "The SMS number",
            secrets: vec![
                secret("webhook_secret", "Webhook secret", "JustCall → Settings → Webhooks"),
                secret("api_key", "API key", "JustCall → Settings → API"),
                secret("api_secret", "API secret", "JustCall → Settings → API"),
            ],
            settings: Vec::new(),
            steps: &["JustCall → Settings → Webhooks: add the webhook URL for “SMS received”."],
            verify_token: false,
        },
        ChannelKind::Shopee => KindHelp {
            external_id: "The shop id",
            secrets: vec![
                secret("partner_id", "Partner id", "Open Platform console"),
                secret("partner_key", "Partner key", "signs push notifications"),
                secret("access_token", "Access token", "the shop's authorised token"),
            ],
            settings: Vec::new(),
            steps: &["Open Platform → App → Push settings: callback URL = the webhook URL; turn on the webchat push."],
            verify_token: false,
        },
        ChannelKind::Lazada => KindHelp {
            external_id: "The seller id",
            secrets: vec![
                secret("app_key", "App key", "Lazada Open Platform console"),
                secret("app_secret", "App secret", "signs calls and pushes"),
                secret("access_token", "Access token", "the seller's authorised token"),
            ],
            settings: Vec::new(),
            steps: &["Open Platform → App management → Push mechanism: IM push callback URL = the webhook URL."],
            verify_token: false,
        },
        ChannelKind::Widget => KindHelp {
            external_id: "A name for this website (e.g. its domain)",
            secrets: vec![secret(
                "secret",
                "Identity secret",
                "your site signs verified customers' ids with it (HMAC-SHA256)",
            )],
            settings: Vec::new(),
            steps: &["Add the widget's script to your site; see the widget's documentation for the snippet."],
            verify_token: false,
        },
        ChannelKind::Api => KindHelp {
            external_id: "Any id you choose for this source",
            secrets: vec![secret("secret", "Signing secret", "the sender signs each body with it")],
            settings: Vec::new(),
            steps: &[
                "POST JSON to the webhook URL with X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, body)>.",
            ],
            verify_token: false,
        },
        ChannelKind::Email => KindHelp {
            external_id: "The support address",
            secrets: Vec::new(),
            settings: Vec::new(),
            steps: &["Relay inbound mail to the webhook URL."],
            verify_token: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use switchboard_domain::ChannelKind;

    #[test]
    fn the_connect_form_asks_for_every_secret_a_line_needs() {
        for kind in ChannelKind::ALL {
            let help = super::help(kind);
            for needed in kind.required_secrets() {
                assert!(help.secrets.iter().any(|s| s.name == *needed), "{kind}: the form lacks `{needed}`");
            }
        }
    }
}
