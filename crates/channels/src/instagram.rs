//! Instagram webhooks (`object: instagram`): DMs, comments and mentions.
//!
//! Authentication, the handshake and the dispatch between Meta products are [`crate::meta`]'s:
//! one Meta app calls one URL for every number, page and Instagram account it serves. Each
//! entry is one Instagram professional account (`entry.id`, the line's `business_id`):
//!
//! - `messaging[]`: DMs (text, media, shares, story mentions, replies to a story), echoes of what
//!   the account sent (Instagram sends them on the `messages` field itself), unsends, seen
//!   receipts, reactions — the Messenger Platform events that [`crate::meta`] reads;
//! - `changes[]` of field `comments` (and `live_comments`): a comment is a message in the public
//!   thread of its media;
//! - `changes[]` of field `mentions`: the account was @mentioned in a media's caption or in a
//!   comment. Meta sends only the ids; the text and author must be fetched from the Graph API
//!   (`mentioned_comment` / `mentioned_media`), so the item carries a placeholder author
//!   ([`MENTION_AUTHOR`]) and a readable note.

use serde::Deserialize;
use serde_json::Value;
use switchboard_domain::{ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
use time::OffsetDateTime;

use crate::ChannelError;
use crate::meta::graph::{self, Messaging};
use crate::meta::{self, Entry, Lines, opt_id, read, text, time};
use crate::send::{OutboundMessage, SendOutcome};
use crate::webhook::{Answer, Parsed, Secrets, WebhookRequest};

/// Verifies and parses one webhook call (see [`meta::handle`]).
pub fn handle(req: &WebhookRequest<'_>, secrets: &Secrets) -> Result<Parsed, ChannelError> {
    meta::handle(req, secrets)
}

/// What to answer for an authenticated body we could not parse: Meta's usual 200.
pub fn ack() -> Answer {
    meta::ack()
}

/// Sends one outbound message from the Instagram account `msg.business_id` (see [`meta::graph`]):
///
/// - a DM to an IGSID: `POST {base}/{ig-account-id}/messages` with `messaging_type: RESPONSE`, or
///   `MESSAGE_TAG` with `tag: HUMAN_AGENT` between 24 hours and 7 days; the text and each
///   attachment (by URL) are one message each;
/// - the one private reply to a comment: `recipient: {comment_id}`, text or one attachment;
/// - a public reply under a comment: `POST {base}/{comment-id}/replies` with `message` (text only).
///
/// Errors are Graph errors: code 10 (subcodes 2534022, 2018278: outside the window), 551,
/// 10900 and 190 are permanent; 4, 32 and 613 are rate limits and transient.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    graph::send_messaging(http, msg, Messaging::Instagram).await
}

/// The `external_id` given to the author of a mention: the webhook does not say who it is.
pub const MENTION_AUTHOR: &str = "instagram-mention";

/// Reads one `entry[]` item of an `instagram` delivery into `lines`, as the events of that
/// Instagram account.
pub(crate) fn parse_entry(entry: Value, lines: &mut Lines) -> Result<(), ChannelError> {
    let entry = Entry::read(entry)?;
    let entry_time = time(entry.time.as_ref(), "time")?;
    let mut events = meta::messaging_events(entry.messaging.into_iter().chain(entry.standby).collect(), entry_time)?;
    for (c, change) in entry.changes.into_iter().enumerate() {
        let place = format!("changes[{c}].value");
        match change.field.as_deref() {
            Some("comments" | "live_comments") => {
                let value: Comment = read(change.value, &place)?;
                events.push(comment_event(value, entry.id.as_deref(), entry_time).map_err(|e| at(&place, e))?);
            }
            Some("mentions") => {
                let value: Mention = read(change.value, &place)?;
                events.push(mention_event(value, entry_time).map_err(|e| at(&place, e))?);
            }
            _ => {}
        }
    }
    lines.add(ChannelKind::Instagram, entry.id, events);
    Ok(())
}

fn at(place: &str, reason: &str) -> ChannelError {
    ChannelError::Malformed(format!("{place}: {reason}"))
}

#[derive(Deserialize)]
struct Comment {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    text: Option<String>,
    from: Option<Commenter>,
    media: Option<Media>,
    #[serde(default, deserialize_with = "opt_id")]
    parent_id: Option<String>,
    /// Not documented for webhooks, but the Graph API's comment has it: used when present.
    timestamp: Option<Value>,
}

#[derive(Deserialize)]
struct Commenter {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
}

#[derive(Deserialize)]
struct Mention {
    #[serde(default, deserialize_with = "opt_id")]
    media_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    comment_id: Option<String>,
}

/// A comment: a message in the public thread of its media, from the commenter (IGSID and
/// username). The account's own comments (its replies typed in the Instagram app) are echoes.
fn comment_event(
    comment: Comment,
    account_id: Option<&str>,
    entry_time: Option<OffsetDateTime>,
) -> Result<InboundEvent, &'static str> {
    let id = comment.id.ok_or("`id` is missing")?;
    let from = comment.from.ok_or("`from` is missing")?;
    let author = from.id.ok_or("`from.id` is missing")?;
    // Payloads before October 2021 had no `media`; then the comment (or the one it answers)
    // is the best thread there is.
    let root_id = comment.media.and_then(|m| m.id).or(comment.parent_id).unwrap_or_else(|| id.clone());
    let sent_at =
        time(comment.timestamp.as_ref(), "timestamp").map_err(|_| "`timestamp` is not a time")?.or(entry_time);
    let by_account = account_id == Some(author.as_str());
    let item = InboundItem {
        platform_message_id: id,
        sender: InboundSender { external_id: author, username: text(from.username), ..InboundSender::default() },
        thread: ThreadRef::Public { root_id, title: None },
        body: text(comment.text),
        attachments: Vec::new(),
        sent_at,
    };
    Ok(if by_account { InboundEvent::Echo(item) } else { InboundEvent::Message(item) })
}

/// A mention: a message in the public thread of the media, named by the mentioning comment (or
/// by the media when the mention is in its caption).
fn mention_event(mention: Mention, entry_time: Option<OffsetDateTime>) -> Result<InboundEvent, &'static str> {
    let media_id = mention.media_id.ok_or("`media_id` is missing")?;
    let (id, body) = match mention.comment_id {
        Some(comment) => (comment, "@mentioned the account in a comment"),
        None => (media_id.clone(), "@mentioned the account in a post"),
    };
    Ok(InboundEvent::Message(InboundItem {
        platform_message_id: id,
        sender: InboundSender { external_id: MENTION_AUTHOR.to_owned(), ..InboundSender::default() },
        thread: ThreadRef::Public { root_id: media_id, title: None },
        body: Some(body.to_owned()),
        attachments: Vec::new(),
        sent_at: entry_time,
    }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;
    use switchboard_domain::Attachment;

    use super::*;
    use crate::meta::testing::*;

    const ACCOUNT: &str = "17841400000000077";
    const NINA: &str = "9000111122223333";

    fn only(body: &str) -> InboundEvent {
        only_event(handle, body, ChannelKind::Instagram, ACCOUNT)
    }

    fn dm(messaging: Value) -> String {
        json!({"object": "instagram", "entry": [{"id": ACCOUNT, "time": 1767225600123_i64, "messaging": [messaging]}]})
            .to_string()
    }

    fn change(field: &str, value: Value) -> String {
        json!({"object": "instagram", "entry": [{"id": ACCOUNT, "time": 1767226200, "changes": [{"field": field, "value": value}]}]})
            .to_string()
    }

    fn url_attachment(kind: &str, url: &str) -> Attachment {
        Attachment { kind: kind.into(), url: Some(url.into()), media_id: None, mime_type: None, filename: None }
    }

    /// Every inbound example payload of the platform.
    const INBOUND: &[&str] = &[
        include_str!("../../../fixtures/channels/instagram/comment.json"),
        include_str!("../../../fixtures/channels/instagram/comment_reply.json"),
        include_str!("../../../fixtures/channels/instagram/dm_echo.json"),
        include_str!("../../../fixtures/channels/instagram/dm_image.json"),
        include_str!("../../../fixtures/channels/instagram/dm_seen.json"),
        include_str!("../../../fixtures/channels/instagram/dm_story_mention.json"),
        include_str!("../../../fixtures/channels/instagram/dm_text.json"),
        include_str!("../../../fixtures/channels/instagram/mention_comment.json"),
    ];

    #[test]
    fn every_inbound_example_parses_into_one_event_of_this_line() {
        for body in INBOUND {
            assert_eq!(events_of(handle, body, ChannelKind::Instagram, ACCOUNT).len(), 1, "{body}");
        }
    }

    #[test]
    fn every_signature_test_vector_verifies() {
        check_vectors(handle, include_str!("../../../fixtures/channels/instagram/signature_test_vector.txt"));
    }

    #[test]
    fn a_dm_is_a_direct_message_from_the_igsid() {
        let m = message(only(include_str!("../../../fixtures/channels/instagram/dm_text.json")));
        assert_eq!(m.platform_message_id, "aWdfZAGTESTnina0001");
        assert_eq!(m.sender, InboundSender { external_id: NINA.into(), ..InboundSender::default() });
        assert_eq!(m.thread, ThreadRef::Direct { key: None });
        assert_eq!(m.body.as_deref(), Some("Do you ship to Norway?"));
        assert_eq!(m.sent_at.unwrap().unix_timestamp_nanos() / 1_000_000, 1_767_225_600_050);
    }

    #[test]
    fn an_image_dm_keeps_its_url() {
        let m = message(only(include_str!("../../../fixtures/channels/instagram/dm_image.json")));
        assert_eq!(m.platform_message_id, "aWdfZAGTESTnina0002");
        assert_eq!(m.body, None);
        assert_eq!(
            m.attachments,
            vec![url_attachment(
                "image",
                "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=TEST0002&signature=TEST"
            )]
        );
    }

    #[test]
    fn a_story_mention_is_an_attachment_with_the_story_url() {
        let m = message(only(include_str!("../../../fixtures/channels/instagram/dm_story_mention.json")));
        assert_eq!(m.platform_message_id, "aWdfZAGTESTnina0004");
        assert_eq!(m.sender.external_id, NINA);
        assert_eq!(
            m.attachments,
            vec![url_attachment(
                "story_mention",
                "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=TESTSTORY&signature=TEST"
            )]
        );
    }

    #[test]
    fn a_reply_to_a_story_keeps_the_story() {
        let m = message(only(&dm(
            json!({"sender": {"id": NINA}, "recipient": {"id": ACCOUNT}, "timestamp": 1767225600050_i64,
            "message": {"mid": "aWd_R", "text": "Love it", "reply_to": {"story": {"id": "179", "url": "https://cdn.test/story"}}}}),
        )));
        assert_eq!(m.body.as_deref(), Some("Love it"));
        assert_eq!(m.attachments, vec![url_attachment("story_reply", "https://cdn.test/story")]);
    }

    #[test]
    fn an_echo_is_addressed_to_the_customer() {
        let e = echo(only(include_str!("../../../fixtures/channels/instagram/dm_echo.json")));
        assert_eq!(e.platform_message_id, "aWdfZAGTESTours0003");
        assert_eq!(e.sender.external_id, NINA);
        assert_eq!(e.body.as_deref(), Some("Yes, 3-5 working days to Norway."));
    }

    #[test]
    fn seen_reads_everything_up_to_the_event() {
        match only(include_str!("../../../fixtures/channels/instagram/dm_seen.json")) {
            InboundEvent::ReadUpTo { customer, thread_key, up_to } => {
                assert_eq!(customer, NINA);
                assert_eq!(thread_key, None);
                assert_eq!(up_to.unix_timestamp_nanos() / 1_000_000, 1_767_225_900_050);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unsent_dm_is_removed_and_an_unsupported_one_is_kept() {
        let unsent = dm(json!({"sender": {"id": NINA}, "recipient": {"id": ACCOUNT}, "timestamp": 1767225600050_i64,
            "message": {"mid": "aWd_D", "is_deleted": true}}));
        assert!(
            matches!(only(&unsent), InboundEvent::Removed { platform_message_id, .. } if platform_message_id == "aWd_D")
        );
        let unsupported =
            dm(json!({"sender": {"id": NINA}, "recipient": {"id": ACCOUNT}, "timestamp": 1767225600050_i64,
            "message": {"mid": "aWd_U", "is_unsupported": true}}));
        assert_eq!(message(only(&unsupported)).body.as_deref(), Some(meta::UNSUPPORTED));
    }

    #[test]
    fn a_comment_is_a_message_in_the_public_thread_of_its_media() {
        let m = message(only(include_str!("../../../fixtures/channels/instagram/comment.json")));
        assert_eq!(m.platform_message_id, "18100000000000901");
        assert_eq!(m.sender.external_id, NINA);
        assert_eq!(m.sender.username.as_deref(), Some("nordic.nina"));
        assert_eq!(m.thread, ThreadRef::Public { root_id: "18000000000000555".into(), title: None });
        assert_eq!(m.body.as_deref(), Some("Price for the green scarf please?"));
        assert_eq!(m.sent_at.unwrap().unix_timestamp(), 1_767_226_000);
    }

    #[test]
    fn a_reply_to_a_comment_stays_in_the_thread_of_the_media() {
        let m = message(only(include_str!("../../../fixtures/channels/instagram/comment_reply.json")));
        assert_eq!(m.platform_message_id, "18100000000000902");
        assert_eq!(m.sender.external_id, "9000444455556666");
        assert_eq!(m.sender.username.as_deref(), Some("bergen.bo"));
        assert_eq!(m.thread, ThreadRef::Public { root_id: "18000000000000555".into(), title: None });
        assert_eq!(m.body.as_deref(), Some("Also interested!"));
    }

    #[test]
    fn the_accounts_own_comment_is_an_echo() {
        let body = change(
            "comments",
            json!({"id": "181", "text": "DM sent!", "parent_id": "180",
            "from": {"id": ACCOUNT, "username": "shop"}, "media": {"id": "18000000000000555"}}),
        );
        let e = echo(only(&body));
        assert_eq!(e.platform_message_id, "181");
        assert_eq!(e.thread, ThreadRef::Public { root_id: "18000000000000555".into(), title: None });
    }

    #[test]
    fn a_mention_in_a_comment_opens_the_thread_of_the_media() {
        let m = message(only(include_str!("../../../fixtures/channels/instagram/mention_comment.json")));
        assert_eq!(m.platform_message_id, "18100000000000999");
        assert_eq!(m.thread, ThreadRef::Public { root_id: "18000000000000777".into(), title: None });
        assert_eq!(m.sender.external_id, MENTION_AUTHOR);
        assert_eq!(m.body.as_deref(), Some("@mentioned the account in a comment"));
        assert_eq!(m.sent_at.unwrap().unix_timestamp(), 1_767_226_200);
    }

    #[test]
    fn a_mention_in_a_caption_is_named_by_the_media() {
        let m = message(only(&change("mentions", json!({"media_id": "18000000000000888"}))));
        assert_eq!(m.platform_message_id, "18000000000000888");
        assert_eq!(m.thread, ThreadRef::Public { root_id: "18000000000000888".into(), title: None });
    }

    #[test]
    fn broken_comments_and_mentions_are_malformed() {
        for body in [
            change("comments", json!({"text": "no id", "from": {"id": NINA}, "media": {"id": "1"}})),
            change("comments", json!({"id": "1", "text": "no author", "media": {"id": "1"}})),
            change("mentions", json!({"comment_id": "1"})),
            change("comments", json!("not an object")),
        ] {
            assert!(matches!(post(handle, body.as_bytes()), Err(ChannelError::Malformed(_))), "{body}");
        }
        let other = change("story_insights", json!({"media_id": "1", "reach": 3}));
        assert_eq!(post(handle, other.as_bytes()).unwrap().lines, Vec::new());
    }

    proptest! {
        #[test]
        fn almost_right_deliveries_never_panic(body in arb_mutated(INBOUND)) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_signed_deliveries_never_panic(body in arb_delivery("instagram")) {
            let _ = post(handle, body.to_string().as_bytes());
        }
    }
}

#[cfg(test)]
mod send_tests {
    use serde_json::{Value, json};
    use switchboard_domain::{ChannelKind, MessageTag};
    use switchboard_fakes::Fault;

    use super::*;
    use crate::meta::graph::testing::*;
    use crate::send::{Target, TemplateSend, http_client};

    const ACCOUNT: &str = "17841400000000077";
    const NINA: &str = "9000111122223333";
    const COMMENT: &str = "18100000000000901";

    fn message<'a>(
        secrets: &'a Secrets,
        base: &'a str,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        outbound(ChannelKind::Instagram, ACCOUNT, secrets, base, target, body)
    }

    fn to_nina<'a>(secrets: &'a Secrets, base: &'a str, body: Option<&'a str>) -> OutboundMessage<'a> {
        message(secrets, base, Target::Direct { recipient: NINA }, body)
    }

    fn example(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn a_dm_goes_from_the_account_to_the_igsid_as_documented() {
        let (fake, base) = fake("instagram").await;
        let mut expected = example(include_str!("../../../fixtures/channels/instagram/send_dm.json"));
        let secrets = token(TOKEN);
        let text = expected["message"]["text"].as_str().unwrap().to_owned();
        let id = accepted_id(send(&http_client(), &to_nina(&secrets, &base, Some(&text))).await);

        let accepted = fake.state.accepted("instagram");
        assert_eq!(accepted[0].path, format!("/{ACCOUNT}/messages"));
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(header(&accepted[0], "authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        // The example leaves out `messaging_type`; RESPONSE is its default and says what it is.
        expected["messaging_type"] = json!("RESPONSE");
        assert_eq!(json(&accepted[0]), expected);
    }

    #[tokio::test]
    async fn each_account_sends_from_its_own_path() {
        let (fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        for account in ["1784A", "1784B"] {
            let msg = OutboundMessage { business_id: account, ..to_nina(&secrets, &base, Some("hi")) };
            accepted_id(send(&http_client(), &msg).await);
        }
        let paths: Vec<String> = fake.state.accepted("instagram").into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/1784A/messages", "/1784B/messages"]);
    }

    #[tokio::test]
    async fn a_human_agent_dm_is_tagged_as_documented() {
        let (fake, base) = fake("instagram").await;
        let expected = example(include_str!("../../../fixtures/channels/instagram/send_human_agent.json"));
        let secrets = token(TOKEN);
        let text = expected["message"]["text"].as_str().unwrap().to_owned();
        let msg = OutboundMessage { tag: Some(MessageTag::HumanAgent), ..to_nina(&secrets, &base, Some(&text)) };
        accepted_id(send(&http_client(), &msg).await);
        assert_eq!(json(&fake.state.accepted("instagram")[0]), expected);
    }

    #[tokio::test]
    async fn attachments_go_by_url_one_message_each_after_the_text() {
        let (fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        let attachments = [
            attachment("image", "https://cdn.example.test/scarf.jpg", None),
            attachment("document", "https://cdn.example.test/price-list.pdf", Some("prices.pdf")),
        ];
        let msg = OutboundMessage { attachments: &attachments, ..to_nina(&secrets, &base, Some("The scarf")) };
        accepted_id(send(&http_client(), &msg).await);
        let messages: Vec<Value> =
            fake.state.accepted("instagram").iter().map(|r| json(r)["message"].clone()).collect();
        assert_eq!(
            messages,
            [
                json!({"text": "The scarf"}),
                json!({"attachment": {"type": "image", "payload": {"url": "https://cdn.example.test/scarf.jpg"}}}),
                json!({"attachment": {"type": "file", "payload": {"url": "https://cdn.example.test/price-list.pdf"}}}),
            ]
        );
    }

    #[tokio::test]
    async fn a_private_reply_names_the_comment_once_as_documented() {
        let (fake, base) = fake("instagram").await;
        let expected = example(include_str!("../../../fixtures/channels/instagram/send_private_reply.json"));
        let secrets = token(TOKEN);
        let text = expected["message"]["text"].as_str().unwrap().to_owned();
        let msg = message(&secrets, &base, Target::PrivateReply { comment: COMMENT }, Some(&text));
        accepted_id(send(&http_client(), &msg).await);
        let accepted = fake.state.accepted("instagram");
        assert_eq!(accepted[0].path, format!("/{ACCOUNT}/messages"));
        assert_eq!(json(&accepted[0]), expected);

        permanent(send(&http_client(), &msg).await, "10900");
    }

    #[tokio::test]
    async fn a_public_reply_posts_the_text_to_the_replies_of_the_comment() {
        let (fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        let msg = message(&secrets, &base, Target::PublicReply { reply_to: COMMENT }, Some("Hi Nina, yes!"));
        let id = accepted_id(send(&http_client(), &msg).await);
        let accepted = fake.state.accepted("instagram");
        assert_eq!(accepted[0].path, format!("/{COMMENT}/replies"));
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(form(&accepted[0]), [("message".to_owned(), "Hi Nina, yes!".to_owned())]);
    }

    #[tokio::test]
    async fn what_instagram_cannot_send_is_refused_without_a_call() {
        let (fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        let http = http_client();
        let image = [attachment("image", "https://cdn.example.test/a.jpg", None)];
        let reply = Target::PublicReply { reply_to: COMMENT };
        assert_eq!(
            send(&http, &OutboundMessage { attachments: &image, ..message(&secrets, &base, reply, Some("x")) }).await,
            SendOutcome::permanent("unsupported", "Instagram comment replies cannot carry attachments")
        );
        let template = TemplateSend { name: "hello", language: "en", parameters: &[] };
        let with_template = OutboundMessage { template: Some(template), ..to_nina(&secrets, &base, Some("x")) };
        permanent(send(&http, &with_template).await, "unsupported");
        permanent(send(&http, &message(&secrets, &base, Target::Group { chat: "g" }, Some("x"))).await, "unsupported");
        permanent(send(&http, &to_nina(&secrets, &base, Some(" "))).await, "empty_message");
        permanent(
            send(&http, &message(&secrets, &base, Target::Direct { recipient: "" }, Some("x"))).await,
            "invalid_recipient",
        );
        permanent(send(&http, &to_nina(&Secrets::new(), &base, Some("x"))).await, "missing_secret");
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn outside_the_window_unavailable_and_already_replied_are_permanent_with_their_code() {
        let (fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        for (fault, code, subcode) in [
            ("10/2534022", "10", Some("2534022")),
            ("10/2018278", "10", Some("2018278")),
            ("551/1545041", "551", Some("1545041")),
            ("10900", "10900", None),
            ("190", "190", None),
        ] {
            fake.state.fail_next("instagram", Fault::Permanent(fault.into()), 1);
            let message = permanent(send(&http_client(), &to_nina(&secrets, &base, Some("x"))).await, code);
            if let Some(subcode) = subcode {
                assert!(message.contains(subcode), "{message}");
            }
        }
    }

    #[tokio::test]
    async fn rate_limits_server_errors_and_429_are_transient() {
        let (fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        let http = http_client();
        for code in ["613", "4", "32"] {
            fake.state.fail_next("instagram", Fault::Permanent(code.into()), 1);
            let outcome = send(&http, &to_nina(&secrets, &base, Some("x"))).await;
            assert!(is_transient(&outcome), "{code}: {outcome:?}");
        }
        for fault in [Fault::ServerError, Fault::RateLimited] {
            fake.state.fail_next("instagram", fault, 1);
            assert!(is_transient(&send(&http, &to_nina(&secrets, &base, Some("x"))).await));
        }
    }

    #[tokio::test]
    async fn a_wrong_token_is_permanent_190() {
        let (fake, base) = fake("instagram").await;
        let secrets = token("invalid-ig-token");
        let message = permanent(send(&http_client(), &to_nina(&secrets, &base, Some("x"))).await, "190");
        assert!(message.contains("access token"), "{message}");
        assert!(fake.state.accepted("instagram").is_empty());
    }

    #[tokio::test]
    async fn a_text_over_instagrams_1000_bytes_is_refused_by_the_platform() {
        let (_fake, base) = fake("instagram").await;
        let secrets = token(TOKEN);
        let long = "é".repeat(501);
        permanent(send(&http_client(), &to_nina(&secrets, &base, Some(&long))).await, "100");
    }
}
