//! Reply rules (DESIGN §3): what an agent may send, on which channel, how long after the
//! customer last wrote, and what the reply box shows about the window.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{
    MessageTag, Refusal, ReplyWindow, SendContext, SendKind, SendVerdict, WindowState, can_send, reply_window,
};
use crate::channel::{ChannelKind, ConversationKind};

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

const fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

const fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// A send on `channel` in `conversation`, the customer having last written `ago` before now
/// (`None`: never), with nothing sent since.
fn ctx(channel: ChannelKind, conversation: ConversationKind, ago: Option<Duration>) -> SendContext {
    SendContext { channel, conversation, last_inbound_at: ago.map(|d| NOW - d), now: NOW, sent_since_last_inbound: 0 }
}

fn direct(channel: ChannelKind, ago: Option<Duration>) -> SendContext {
    ctx(channel, ConversationKind::Direct, ago)
}

fn public(channel: ChannelKind, ago: Option<Duration>) -> SendContext {
    ctx(channel, ConversationKind::Public, ago)
}

fn refusal(verdict: SendVerdict) -> Refusal {
    match verdict {
        SendVerdict::Refused(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn private_reply(already_used: bool, comment_ago: Duration) -> SendKind {
    SendKind::PrivateReply { already_used, comment_at: NOW - comment_ago }
}

/// Instagram's and Messenger's refusal once 7 days have passed.
fn closed_after_7_days(channel: ChannelKind) -> SendVerdict {
    SendVerdict::Refused(Refusal::WindowClosed { channel, hours: 7 * 24 })
}

// ---------- WhatsApp ----------

#[test]
fn whatsapp_free_form_is_allowed_within_24_hours_of_the_customers_last_message() {
    for ago in [Duration::minutes(1), hours(3), hours(23), hours(24) - Duration::minutes(1)] {
        assert_eq!(
            can_send(&direct(ChannelKind::Whatsapp, Some(ago)), SendKind::FreeForm),
            SendVerdict::Allowed,
            "customer wrote {ago} ago"
        );
    }
}

#[test]
fn whatsapp_free_form_needs_a_template_after_24_hours_or_before_the_customer_ever_wrote() {
    for ago in [Some(hours(24)), Some(hours(25)), Some(days(30)), None] {
        let verdict = can_send(&direct(ChannelKind::Whatsapp, ago), SendKind::FreeForm);
        assert_eq!(verdict, SendVerdict::Refused(Refusal::TemplateRequired), "customer wrote {ago:?} ago");
        assert_eq!(refusal(verdict).code(), "template_required");
    }
}

#[test]
fn whatsapp_template_is_allowed_outside_the_window_and_to_start_a_conversation() {
    for ago in [Some(hours(1)), Some(hours(25)), Some(days(30)), None] {
        assert_eq!(
            can_send(&direct(ChannelKind::Whatsapp, ago), SendKind::Template),
            SendVerdict::Allowed,
            "customer wrote {ago:?} ago"
        );
    }
}

#[test]
fn a_new_whatsapp_message_from_the_customer_reopens_the_24_hour_window() {
    let mut conversation = direct(ChannelKind::Whatsapp, Some(hours(25)));
    assert_eq!(can_send(&conversation, SendKind::FreeForm), SendVerdict::Refused(Refusal::TemplateRequired));

    // The customer answers the template.
    conversation.last_inbound_at = Some(NOW - Duration::minutes(1));
    assert_eq!(can_send(&conversation, SendKind::FreeForm), SendVerdict::Allowed);
    assert_eq!(reply_window(&conversation).state, WindowState::Open);
}

// ---------- Instagram and Messenger ----------

#[test]
fn instagram_and_messenger_allow_24_hours_then_the_human_agent_tag_up_to_7_days_then_refuse() {
    for channel in [ChannelKind::Instagram, ChannelKind::Messenger] {
        let cases = [
            (Some(Duration::minutes(1)), SendVerdict::Allowed),
            (Some(hours(1)), SendVerdict::Allowed),
            (Some(hours(23)), SendVerdict::Allowed),
            (Some(hours(24)), SendVerdict::AllowedWithTag(MessageTag::HumanAgent)),
            (Some(days(3)), SendVerdict::AllowedWithTag(MessageTag::HumanAgent)),
            (Some(days(6) + hours(23)), SendVerdict::AllowedWithTag(MessageTag::HumanAgent)),
            (Some(days(7)), closed_after_7_days(channel)),
            (Some(days(8)), closed_after_7_days(channel)),
            (Some(days(365)), closed_after_7_days(channel)),
            (None, closed_after_7_days(channel)),
        ];
        for (ago, expected) in cases {
            assert_eq!(
                can_send(&direct(channel, ago), SendKind::FreeForm),
                expected,
                "{channel}: customer wrote {ago:?} ago"
            );
        }
    }
}

#[test]
fn a_closed_instagram_or_messenger_window_is_refused_with_the_reply_window_closed_code() {
    for channel in [ChannelKind::Instagram, ChannelKind::Messenger] {
        for ago in [Some(days(8)), None] {
            let verdict = can_send(&direct(channel, ago), SendKind::FreeForm);
            assert_eq!(refusal(verdict).code(), "reply_window_closed", "{channel}, customer wrote {ago:?} ago");
        }
    }
}

// ---------- channels without a window ----------

#[test]
fn email_sms_telegram_line_x_api_and_widget_accept_replies_at_any_time() {
    let channels = [
        ChannelKind::Email,
        ChannelKind::Twilio,
        ChannelKind::Dialpad,
        ChannelKind::Justcall,
        ChannelKind::Telegram,
        ChannelKind::Line,
        ChannelKind::X,
        ChannelKind::Api,
        ChannelKind::Widget,
    ];
    for channel in channels {
        for ago in [None, Some(Duration::minutes(1)), Some(hours(25)), Some(days(8)), Some(days(365))] {
            let context = direct(channel, ago);
            assert_eq!(
                can_send(&context, SendKind::FreeForm),
                SendVerdict::Allowed,
                "{channel}: customer wrote {ago:?} ago"
            );
            assert_eq!(
                reply_window(&context),
                ReplyWindow { state: WindowState::Always, closes_at: None },
                "{channel}: customer wrote {ago:?} ago"
            );
        }
    }
}

// ---------- WeChat ----------

#[test]
fn wechat_allows_up_to_five_messages_within_48_hours_of_the_customers_last_message() {
    let refused = SendVerdict::Refused(Refusal::WindowClosed { channel: ChannelKind::Wechat, hours: 48 });
    let cases = [
        (Some(hours(1)), 0, SendVerdict::Allowed),
        (Some(hours(47)), 0, SendVerdict::Allowed),
        (Some(hours(47)), 4, SendVerdict::Allowed),
        (Some(hours(47)), 5, refused),
        (Some(hours(1)), 6, refused),
        (Some(hours(48)), 0, refused),
        (Some(hours(49)), 0, refused),
        (None, 0, refused),
    ];
    for (ago, sent, expected) in cases {
        let context = SendContext { sent_since_last_inbound: sent, ..direct(ChannelKind::Wechat, ago) };
        assert_eq!(can_send(&context, SendKind::FreeForm), expected, "customer wrote {ago:?} ago, {sent} sent since");
    }
}

// ---------- comments: public and private replies ----------

#[test]
fn a_public_reply_under_a_post_is_allowed_at_any_time() {
    for channel in [ChannelKind::Messenger, ChannelKind::Instagram] {
        for ago in [None, Some(hours(1)), Some(days(8)), Some(days(365))] {
            assert_eq!(
                can_send(&public(channel, ago), SendKind::FreeForm),
                SendVerdict::Allowed,
                "{channel} comment written {ago:?} ago"
            );
        }
    }
}

#[test]
fn a_comment_gets_one_private_reply_within_7_days() {
    for channel in [ChannelKind::Messenger, ChannelKind::Instagram] {
        let context = public(channel, Some(hours(1)));
        let cases = [
            (private_reply(false, Duration::minutes(5)), SendVerdict::Allowed),
            (private_reply(false, days(6) + hours(23)), SendVerdict::Allowed),
            (private_reply(true, Duration::minutes(5)), SendVerdict::Refused(Refusal::PrivateReplyUsed)),
            (private_reply(false, days(7)), closed_after_7_days(channel)),
            (private_reply(false, days(8)), closed_after_7_days(channel)),
        ];
        for (kind, expected) in cases {
            assert_eq!(can_send(&context, kind), expected, "{channel}: {kind:?}");
        }
    }
}

#[test]
fn refused_private_replies_carry_the_codes_the_api_answers() {
    let context = public(ChannelKind::Instagram, Some(hours(1)));
    assert_eq!(refusal(can_send(&context, private_reply(true, hours(1)))).code(), "private_reply_used");
    assert_eq!(refusal(can_send(&context, private_reply(false, days(8)))).code(), "reply_window_closed");
}

#[test]
fn private_replies_exist_only_under_facebook_and_instagram_comments() {
    let contexts = [
        direct(ChannelKind::Whatsapp, Some(hours(1))),
        direct(ChannelKind::Messenger, Some(hours(1))),
        direct(ChannelKind::Instagram, Some(hours(1))),
        public(ChannelKind::X, Some(hours(1))),
        direct(ChannelKind::Email, Some(hours(1))),
    ];
    for context in contexts {
        let verdict = can_send(&context, private_reply(false, hours(1)));
        assert_eq!(
            verdict,
            SendVerdict::Refused(Refusal::NotSupported { channel: context.channel, what: "private replies" }),
            "{} {:?}",
            context.channel,
            context.conversation
        );
        assert_eq!(refusal(verdict).code(), "not_supported_by_channel");
    }
}

#[test]
fn templates_exist_only_on_whatsapp() {
    let channels = [
        ChannelKind::Messenger,
        ChannelKind::Instagram,
        ChannelKind::Wechat,
        ChannelKind::Telegram,
        ChannelKind::Email,
        ChannelKind::Twilio,
    ];
    for channel in channels {
        // Even inside the window, where a free-form reply would go through.
        let verdict = can_send(&direct(channel, Some(hours(1))), SendKind::Template);
        assert_eq!(
            verdict,
            SendVerdict::Refused(Refusal::NotSupported { channel, what: "message templates" }),
            "{channel}"
        );
        assert_eq!(refusal(verdict).code(), "not_supported_by_channel");
    }
}

// ---------- the reply box ----------

#[test]
fn the_whatsapp_reply_box_shows_when_the_window_closes_then_asks_for_a_template() {
    let open = direct(ChannelKind::Whatsapp, Some(hours(3)));
    let last = open.last_inbound_at.expect("the customer wrote");
    assert_eq!(reply_window(&open), ReplyWindow { state: WindowState::Open, closes_at: Some(last + hours(24)) });
    assert_eq!(last + hours(24), NOW + hours(21), "closes in 21 hours");

    let expired = direct(ChannelKind::Whatsapp, Some(hours(25)));
    assert_eq!(reply_window(&expired), ReplyWindow { state: WindowState::TemplateRequired, closes_at: None });
}

#[test]
fn the_instagram_reply_box_shows_the_human_agent_window_then_closed() {
    let cases = [
        (hours(1), WindowState::Open, Some(hours(24))),
        (days(3), WindowState::HumanAgent, Some(days(7))),
        (days(8), WindowState::Closed, None),
    ];
    for (ago, state, closes_after_last) in cases {
        let context = direct(ChannelKind::Instagram, Some(ago));
        let last = NOW - ago;
        assert_eq!(
            reply_window(&context),
            ReplyWindow { state, closes_at: closes_after_last.map(|d| last + d) },
            "customer wrote {ago} ago"
        );
    }
}

#[test]
fn the_wechat_reply_box_shows_its_48_hour_window() {
    let context = direct(ChannelKind::Wechat, Some(hours(2)));
    assert_eq!(reply_window(&context), ReplyWindow { state: WindowState::Open, closes_at: Some(NOW + hours(46)) });
}

#[test]
fn email_has_no_reply_window() {
    for ago in [None, Some(days(365))] {
        assert_eq!(
            reply_window(&direct(ChannelKind::Email, ago)),
            ReplyWindow { state: WindowState::Always, closes_at: None }
        );
    }
}

// ---------- what the agent reads ----------

#[test]
fn refusals_tell_the_agent_what_to_do_in_words() {
    let whatsapp = refusal(can_send(&direct(ChannelKind::Whatsapp, Some(hours(25))), SendKind::FreeForm));
    assert!(whatsapp.message().contains("template"), "{}", whatsapp.message());

    let instagram = refusal(can_send(&direct(ChannelKind::Instagram, Some(days(8))), SendKind::FreeForm));
    let message = instagram.message();
    assert!(message.contains("7 days"), "{message}");
    assert!(message.contains("instagram"), "{message}");

    let wechat = refusal(can_send(&direct(ChannelKind::Wechat, Some(hours(49))), SendKind::FreeForm));
    assert!(wechat.message().contains("48 hours"), "{}", wechat.message());
}

#[test]
fn an_agent_reaches_a_customer_by_identity_or_where_the_platform_allows_by_profile() {
    use super::address_on;
    use ChannelKind::*;
    assert_eq!(address_on(Telegram, Some("tg-1"), None, None), Ok("tg-1".into()));
    assert_eq!(address_on(Email, None, Some(" a@b.co "), None), Ok("a@b.co".into()));
    assert_eq!(address_on(Twilio, None, None, Some("+1 555 0100")), Ok("+1 555 0100".into()));
    assert_eq!(address_on(Whatsapp, None, None, Some("+1 (123) 123-3211")), Ok("11231233211".into()));
    assert_eq!(address_on(Whatsapp, Some("628111"), None, Some("+1 (123) 123-3211")), Ok("628111".into()));
    let local = address_on(Whatsapp, None, None, Some("0812 3456 7890")).unwrap_err();
    assert!(local.contains("international"), "{local}");
    assert!(address_on(Whatsapp, None, None, Some("+1 call me")).is_err());
    assert!(address_on(Whatsapp, None, None, None).unwrap_err().contains("never written"));
    assert!(address_on(Instagram, None, Some("a@b.co"), Some("+1 555 0100")).is_err(), "Instagram: never first");
    assert!(address_on(Email, None, Some("  "), None).is_err());
}
