//! Facebook Page webhooks (`object: page`): Messenger DMs and the Page's feed.
//!
//! Authentication, the handshake and the dispatch between Meta products are [`crate::meta`]'s:
//! one Meta app calls one URL for every number, page and Instagram account it serves. Each
//! entry is one Page (`entry.id`, the line's `business_id`):
//!
//! - `messaging[]` (and `standby[]` under the handover protocol): messages, echoes of what the
//!   Page sent, postbacks, delivery and read receipts, reactions and edits — the Messenger
//!   Platform events that [`crate::meta`] reads for Messenger and Instagram alike;
//! - `changes[]` of field `feed`: comments and visitor posts, added, edited or removed. They are
//!   public threads keyed by the post id; whether a ticket is tagged `facebook` or `messenger`
//!   follows from the thread kind, so every event here is of kind Messenger.

use serde::Deserialize;
use serde_json::Value;
use switchboard_domain::{Attachment, ChannelKind, InboundEvent, InboundItem, InboundSender, ThreadRef};
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

/// Sends one outbound message from the Page `msg.business_id` (see [`meta::graph`]):
///
/// - to a customer's PSID: `POST {base}/{page-id}/messages` with `messaging_type: RESPONSE`, or
///   `MESSAGE_TAG` with `tag: HUMAN_AGENT` when the reply rules ask for it; the text and each
///   attachment (by URL, `{type: image|video|audio|file, payload: {url}}`) are one message each;
/// - the one private reply to a comment: `recipient: {comment_id}`, text or one attachment;
/// - a public reply under a comment or post: `POST {base}/{comment-id}/comments` with the form
///   parameter `message` (text only: attachments are refused).
///
/// Errors are Graph errors: code 10 (subcode 2018278, outside the window), 551 (person
/// unavailable), 10900 (private reply already sent), 190 (token) are permanent; 4, 32 and 613
/// are rate limits and transient.
pub async fn send(http: &reqwest::Client, msg: &OutboundMessage<'_>) -> SendOutcome {
    graph::send_messaging(http, msg, Messaging::Messenger).await
}

/// Reads one `entry[]` item of a `page` delivery into `lines`, as the events of that Page.
pub(crate) fn parse_entry(entry: Value, lines: &mut Lines) -> Result<(), ChannelError> {
    let entry = Entry::read(entry)?;
    let entry_time = time(entry.time.as_ref(), "time")?;
    let mut events = meta::messaging_events(entry.messaging.into_iter().chain(entry.standby).collect(), entry_time)?;
    for (c, change) in entry.changes.into_iter().enumerate() {
        if change.field.as_deref() == Some("feed") {
            let value: Feed = read(change.value, &format!("changes[{c}].value"))?;
            let event = feed_event(value, entry.id.as_deref(), entry_time)
                .map_err(|e| ChannelError::Malformed(format!("changes[{c}].value: {e}")))?;
            events.extend(event);
        }
    }
    lines.add(ChannelKind::Messenger, entry.id, events);
    Ok(())
}

#[derive(Deserialize)]
struct Feed {
    item: Option<String>,
    verb: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    comment_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    post_id: Option<String>,
    from: Option<Author>,
    /// Before Graph API 2.11 the author came as `sender_id` and `sender_name`.
    #[serde(default, deserialize_with = "opt_id")]
    sender_id: Option<String>,
    sender_name: Option<String>,
    message: Option<String>,
    created_time: Option<Value>,
    /// The media URL of a comment or post that has one.
    photo: Option<Value>,
    video: Option<Value>,
}

#[derive(Deserialize)]
struct Author {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    name: Option<String>,
}

/// The items of the feed that are posts on the Page (by a visitor or by the Page).
const POST_ITEMS: &[&str] = &["post", "status", "photo", "video", "share"];

/// One feed change. A comment or a visitor's post added is a message in the public thread of
/// its post; one made by the Page itself is an echo (a reply typed in Meta Business Suite), and
/// the Page's own new posts are skipped: publishing is not a conversation, the first comment
/// opens it. Edits and removals name the comment or post; hiding, blocking, likes and reactions
/// carry nothing to store.
fn feed_event(
    feed: Feed,
    page_id: Option<&str>,
    entry_time: Option<OffsetDateTime>,
) -> Result<Option<InboundEvent>, String> {
    let item = feed.item.as_deref().unwrap_or_default();
    let is_comment = item == "comment";
    if !is_comment && !POST_ITEMS.contains(&item) {
        return Ok(None);
    }
    let verb = feed.verb.as_deref().unwrap_or_default();
    if !matches!(verb, "add" | "edited" | "edit" | "remove") {
        return Ok(None);
    }
    let post_id = feed.post_id.clone().ok_or("`post_id` is missing")?;
    let id = if is_comment { feed.comment_id.clone().ok_or("`comment_id` is missing")? } else { post_id.clone() };
    let at = time(feed.created_time.as_ref(), "created_time").map_err(|e| e.to_string())?.or(entry_time);
    let at_required = || at.ok_or("`created_time` is missing");
    match verb {
        "remove" => Ok(Some(InboundEvent::Removed { platform_message_id: id, at: at_required()? })),
        "edited" | "edit" => {
            Ok(Some(InboundEvent::Edited { platform_message_id: id, body: text(feed.message), at: at_required()? }))
        }
        _ => {
            // Without an author the comment cannot be given to anyone: kept as a dead letter.
            let (author, name) = match feed.from {
                Some(Author { id: Some(id), name }) => (id, name),
                _ => (feed.sender_id.ok_or("`from.id` is missing")?, feed.sender_name),
            };
            let by_page = page_id == Some(author.as_str());
            if by_page && !is_comment {
                return Ok(None);
            }
            let media = |kind: &str, v: Option<Value>| {
                v.as_ref().and_then(Value::as_str).filter(|u| !u.trim().is_empty()).map(|url| Attachment {
                    kind: kind.to_owned(),
                    url: Some(url.to_owned()),
                    media_id: None,
                    mime_type: None,
                    filename: None,
                })
            };
            let attachments = [media("image", feed.photo), media("video", feed.video)].into_iter().flatten().collect();
            let item = InboundItem {
                platform_message_id: id,
                sender: InboundSender { external_id: author, name: text(name), ..InboundSender::default() },
                thread: ThreadRef::Public { root_id: post_id, title: None },
                body: text(feed.message),
                attachments,
                sent_at: at,
            };
            Ok(Some(if by_page { InboundEvent::Echo(item) } else { InboundEvent::Message(item) }))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;
    use switchboard_domain::{DeliveryStatus, StatusUpdate};

    use super::*;
    use crate::meta::testing::*;

    const PAGE: &str = "100200300400500";
    const PSID: &str = "7001002003004005";

    fn only(body: &str) -> InboundEvent {
        only_event(handle, body, ChannelKind::Messenger, PAGE)
    }

    fn page(messaging: Value) -> String {
        json!({"object": "page", "entry": [{"id": PAGE, "time": 1767225600123_i64, "messaging": [messaging]}]})
            .to_string()
    }

    fn feed(value: Value) -> String {
        json!({"object": "page", "entry": [{"id": PAGE, "time": 1767226000, "changes": [{"field": "feed", "value": value}]}]})
            .to_string()
    }

    fn ms(t: OffsetDateTime) -> i128 {
        t.unix_timestamp_nanos() / 1_000_000
    }

    /// Every inbound example payload of the platform.
    const INBOUND: &[&str] = &[
        include_str!("../../../fixtures/channels/messenger/delivery.json"),
        include_str!("../../../fixtures/channels/messenger/echo.json"),
        include_str!("../../../fixtures/channels/messenger/feed_comment_add.json"),
        include_str!("../../../fixtures/channels/messenger/feed_comment_remove.json"),
        include_str!("../../../fixtures/channels/messenger/feed_comment_reply_add.json"),
        include_str!("../../../fixtures/channels/messenger/message_attachment_image.json"),
        include_str!("../../../fixtures/channels/messenger/message_quick_reply_and_reply_to.json"),
        include_str!("../../../fixtures/channels/messenger/message_text.json"),
        include_str!("../../../fixtures/channels/messenger/postback.json"),
        include_str!("../../../fixtures/channels/messenger/read.json"),
    ];

    #[test]
    fn every_inbound_example_parses_into_one_event_of_this_line() {
        for body in INBOUND {
            assert_eq!(events_of(handle, body, ChannelKind::Messenger, PAGE).len(), 1, "{body}");
        }
    }

    #[test]
    fn every_signature_test_vector_verifies() {
        check_vectors(handle, include_str!("../../../fixtures/channels/messenger/signature_test_vector.txt"));
    }

    #[test]
    fn a_text_is_a_direct_message_from_the_psid() {
        let m = message(only(include_str!("../../../fixtures/channels/messenger/message_text.json")));
        assert_eq!(m.platform_message_id, "m_TESTjonas0001");
        assert_eq!(m.sender, InboundSender { external_id: PSID.into(), ..InboundSender::default() });
        assert_eq!(m.thread, ThreadRef::Direct { key: None });
        assert_eq!(m.body.as_deref(), Some("Hi, my order 55-20 arrived broken."));
        assert_eq!(ms(m.sent_at.unwrap()), 1_767_225_600_050);
    }

    #[test]
    fn an_image_attachment_keeps_its_url() {
        let m = message(only(include_str!("../../../fixtures/channels/messenger/message_attachment_image.json")));
        assert_eq!(m.platform_message_id, "m_TESTjonas0002");
        assert_eq!(m.body, None);
        assert_eq!(
            m.attachments,
            vec![Attachment {
                kind: "image".into(),
                url: Some("https://scontent.example.test/v/t1/photo-jonas-0002.jpg?oh=TEST".into()),
                media_id: None,
                mime_type: None,
                filename: None,
            }]
        );
    }

    #[test]
    fn files_stickers_and_legacy_locations_are_named_as_on_other_channels() {
        let m = message(only(&page(
            json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600050_i64,
            "message": {"mid": "m_A", "attachments": [
                {"type": "file", "payload": {"url": "https://cdn.test/a.pdf"}},
                {"type": "image", "payload": {"url": "https://cdn.test/s.png", "sticker_id": 369239263222822_i64}},
                {"type": "location", "payload": {"coordinates": {"lat": 59.91, "long": 10.75}}, "title": "Oslo"},
                {"type": "fallback", "payload": null, "url": "https://example.test/", "title": "A link"}]}}),
        )));
        let kinds: Vec<(&str, Option<&str>)> =
            m.attachments.iter().map(|a| (a.kind.as_str(), a.url.as_deref())).collect();
        assert_eq!(
            kinds,
            vec![
                ("document", Some("https://cdn.test/a.pdf")),
                ("sticker", Some("https://cdn.test/s.png")),
                ("location", None),
                ("fallback", Some("https://example.test/")),
            ]
        );
        assert_eq!(m.body.as_deref(), Some("📍 Oslo (59.91, 10.75)"));
    }

    #[test]
    fn a_quick_reply_reads_as_its_text() {
        let m =
            message(only(include_str!("../../../fixtures/channels/messenger/message_quick_reply_and_reply_to.json")));
        assert_eq!(m.platform_message_id, "m_TESTjonas0003");
        assert_eq!(m.body.as_deref(), Some("Refund please"));
    }

    #[test]
    fn a_postback_reads_as_its_title() {
        let m = message(only(include_str!("../../../fixtures/channels/messenger/postback.json")));
        assert_eq!(m.platform_message_id, "m_TESTjonas0004");
        assert_eq!(m.sender.external_id, PSID);
        assert_eq!(m.body.as_deref(), Some("Talk to a person"));
        assert_eq!(m.thread, ThreadRef::Direct { key: None });
    }

    #[test]
    fn a_postback_without_a_mid_is_named_by_customer_and_time() {
        let body = page(json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225780050_i64,
            "postback": {"title": "Get Started", "payload": "GET_STARTED"}}));
        let m = message(only(&body));
        assert_eq!(m.platform_message_id, format!("postback:{PSID}:1767225780050"));
        assert_eq!(m.body.as_deref(), Some("Get Started"));
        assert_eq!(message(only(&body)).platform_message_id, m.platform_message_id, "a redelivery has the same id");
    }

    #[test]
    fn an_echo_is_addressed_to_the_customer() {
        let e = echo(only(include_str!("../../../fixtures/channels/messenger/echo.json")));
        assert_eq!(e.platform_message_id, "m_TESTpageOut0008");
        assert_eq!(e.sender.external_id, PSID);
        assert_eq!(e.body.as_deref(), Some("Sorry about that, Jonas. A replacement ships tomorrow."));
        assert_eq!(e.thread, ThreadRef::Direct { key: None });
    }

    #[test]
    fn a_delivery_marks_each_mid_delivered_at_the_watermark() {
        match only(include_str!("../../../fixtures/channels/messenger/delivery.json")) {
            InboundEvent::Status(StatusUpdate { platform_message_id, status, error, at }) => {
                assert_eq!(platform_message_id, "m_TESTpageOut0008");
                assert_eq!(status, DeliveryStatus::Delivered);
                assert_eq!(error, None);
                assert_eq!(ms(at.unwrap()), 1_767_225_799_000);
            }
            other => panic!("{other:?}"),
        }
        let two = page(json!({"sender": {"id": PSID}, "recipient": {"id": PAGE},
            "delivery": {"mids": ["m_1", "m_2"], "watermark": 1767225799000_i64}}));
        assert_eq!(events_of(handle, &two, ChannelKind::Messenger, PAGE).len(), 2);
        let watermark_only = page(json!({"sender": {"id": PSID}, "recipient": {"id": PAGE},
            "delivery": {"watermark": 1767225799000_i64}}));
        assert_eq!(post(handle, watermark_only.as_bytes()).unwrap().lines, Vec::new());
    }

    #[test]
    fn a_read_receipt_reads_everything_up_to_the_watermark() {
        match only(include_str!("../../../fixtures/channels/messenger/read.json")) {
            InboundEvent::ReadUpTo { customer, thread_key, up_to } => {
                assert_eq!(customer, PSID);
                assert_eq!(thread_key, None);
                assert_eq!(ms(up_to), 1_767_225_799_000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reactions_and_edits_name_their_message() {
        let react = page(json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600050_i64,
            "reaction": {"mid": "m_OUT", "action": "react", "reaction": "love", "emoji": "❤"}}));
        assert!(matches!(only(&react),
            InboundEvent::Reaction { target_platform_message_id, emoji: Some(e), .. } if target_platform_message_id == "m_OUT" && e == "❤"));
        let unreact = page(json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600050_i64,
            "reaction": {"mid": "m_OUT", "action": "unreact"}}));
        assert!(matches!(only(&unreact), InboundEvent::Reaction { emoji: None, .. }));
        let edit = page(json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600050_i64,
            "message_edit": {"mid": "m_1", "text": "fixed typo", "num_edit": 1}}));
        assert!(matches!(only(&edit),
            InboundEvent::Edited { platform_message_id, body: Some(b), .. } if platform_message_id == "m_1" && b == "fixed typo"));
    }

    #[test]
    fn standby_messages_are_read_like_messaging() {
        let body = json!({"object": "page", "entry": [{"id": PAGE, "time": 1767225600123_i64, "standby": [
            {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600050_i64,
             "message": {"mid": "m_S", "text": "still there?"}}]}]});
        assert_eq!(message(only(&body.to_string())).platform_message_id, "m_S");
    }

    #[test]
    fn a_feed_comment_is_a_message_in_the_public_thread_of_its_post() {
        let m = message(only(include_str!("../../../fixtures/channels/messenger/feed_comment_add.json")));
        assert_eq!(m.platform_message_id, "880000000000001_990000000000001");
        assert_eq!(m.sender.external_id, "6100998877665544");
        assert_eq!(m.sender.name.as_deref(), Some("Jonas Weber"));
        assert_eq!(m.thread, ThreadRef::Public { root_id: "100200300400500_880000000000001".into(), title: None });
        assert_eq!(m.body.as_deref(), Some("Is the blue jacket still available in M?"));
        assert_eq!(m.sent_at.unwrap().unix_timestamp(), 1_767_226_000);
    }

    #[test]
    fn a_reply_to_a_comment_stays_in_the_thread_of_the_post() {
        let m = message(only(include_str!("../../../fixtures/channels/messenger/feed_comment_reply_add.json")));
        assert_eq!(m.platform_message_id, "880000000000001_990000000000002");
        assert_eq!(m.sender.name.as_deref(), Some("Ayla Demir"));
        assert_eq!(m.thread, ThreadRef::Public { root_id: "100200300400500_880000000000001".into(), title: None });
        assert_eq!(m.body.as_deref(), Some("Same question for size L"));
    }

    #[test]
    fn a_removed_comment_is_removed() {
        match only(include_str!("../../../fixtures/channels/messenger/feed_comment_remove.json")) {
            InboundEvent::Removed { platform_message_id, at } => {
                assert_eq!(platform_message_id, "880000000000001_990000000000002");
                assert_eq!(at.unix_timestamp(), 1_767_227_000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_edited_comment_carries_its_new_text() {
        let body = feed(json!({"item": "comment", "verb": "edited", "comment_id": "P_C", "post_id": "PG_P",
            "from": {"id": "61", "name": "Jonas"}, "message": "Size L actually", "created_time": 1767226100}));
        assert_eq!(
            only(&body),
            InboundEvent::Edited {
                platform_message_id: "P_C".into(),
                body: Some("Size L actually".into()),
                at: OffsetDateTime::from_unix_timestamp(1_767_226_100).unwrap(),
            }
        );
    }

    #[test]
    fn a_comment_by_the_page_itself_is_an_echo_and_its_own_posts_are_skipped() {
        let reply = feed(json!({"item": "comment", "verb": "add", "comment_id": "P_C9", "post_id": "PG_P",
            "parent_id": "P_C1", "from": {"id": PAGE, "name": "Shop"}, "message": "4 left in M", "created_time": 1767226100}));
        let e = echo(only(&reply));
        assert_eq!(e.platform_message_id, "P_C9");
        assert_eq!(e.thread, ThreadRef::Public { root_id: "PG_P".into(), title: None });
        let own_post = feed(json!({"item": "status", "verb": "add", "post_id": "PG_P2", "from": {"id": PAGE},
            "message": "New collection", "created_time": 1767226100}));
        assert_eq!(post(handle, own_post.as_bytes()).unwrap().lines, Vec::new());
    }

    #[test]
    fn a_visitor_post_opens_its_own_public_thread() {
        let body =
            feed(json!({"item": "photo", "verb": "add", "post_id": "PG_V1", "from": {"id": "61", "name": "Jonas"},
            "message": "Broken zip", "photo": "https://cdn.test/zip.jpg", "created_time": 1767226100}));
        let m = message(only(&body));
        assert_eq!(m.platform_message_id, "PG_V1");
        assert_eq!(m.thread, ThreadRef::Public { root_id: "PG_V1".into(), title: None });
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].kind, "image");
    }

    #[test]
    fn legacy_sender_fields_name_the_author() {
        let body = feed(json!({"item": "comment", "verb": "add", "comment_id": "P_C", "post_id": "PG_P",
            "sender_id": 466148717107957_i64, "sender_name": "SC", "message": "hi", "created_time": 1487332213}));
        let m = message(only(&body));
        assert_eq!(m.sender.external_id, "466148717107957");
        assert_eq!(m.sender.name.as_deref(), Some("SC"));
    }

    #[test]
    fn likes_reactions_and_hiding_carry_nothing_to_store() {
        for value in [
            json!({"item": "reaction", "verb": "add", "post_id": "PG_P", "reaction_type": "like", "from": {"id": "61"}}),
            json!({"item": "like", "verb": "add", "post_id": "PG_P"}),
            json!({"item": "comment", "verb": "hide", "comment_id": "P_C", "post_id": "PG_P"}),
        ] {
            assert_eq!(post(handle, feed(value.clone()).as_bytes()).unwrap().lines, Vec::new(), "{value}");
        }
    }

    #[test]
    fn broken_events_are_malformed() {
        for body in [
            page(json!({"sender": {"id": PSID}, "timestamp": 1, "message": {"text": "no mid"}})),
            page(json!({"recipient": {"id": PAGE}, "timestamp": 1, "message": {"mid": "m", "text": "no sender"}})),
            page(json!({"sender": {"id": PSID}, "timestamp": "tomorrow", "message": {"mid": "m"}})),
            feed(json!({"item": "comment", "verb": "add", "comment_id": "P_C", "post_id": "PG_P", "message": "who?"})),
            feed(json!({"item": "comment", "verb": "add", "post_id": "PG_P", "from": {"id": "61"}})),
        ] {
            assert!(matches!(post(handle, body.as_bytes()), Err(ChannelError::Malformed(_))), "{body}");
        }
    }

    proptest! {
        #[test]
        fn almost_right_deliveries_never_panic(body in arb_mutated(INBOUND)) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_signed_deliveries_never_panic(body in arb_delivery("page")) {
            let _ = post(handle, body.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_feed_values_never_panic(value in arb_json(), item in prop::sample::select(&["comment", "post", "photo", "x"][..]),
                                             verb in prop::sample::select(&["add", "edited", "remove", "hide"][..])) {
            let mut value = value;
            if let Value::Object(map) = &mut value {
                map.insert("item".into(), item.into());
                map.insert("verb".into(), verb.into());
            }
            let _ = post(handle, feed(value).as_bytes());
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
    use crate::meta::graph::{GraphBody, messaging_calls};
    use crate::send::{Target, TemplateSend, http_client};

    const PAGE: &str = "100200300400500";
    const PSID: &str = "7001002003004005";
    const COMMENT: &str = "880000000000001_990000000000001";

    fn message<'a>(
        secrets: &'a Secrets,
        base: &'a str,
        target: Target<'a>,
        body: Option<&'a str>,
    ) -> OutboundMessage<'a> {
        outbound(ChannelKind::Messenger, PAGE, secrets, base, target, body)
    }

    fn to_jonas<'a>(secrets: &'a Secrets, base: &'a str, body: Option<&'a str>) -> OutboundMessage<'a> {
        message(secrets, base, Target::Direct { recipient: PSID }, body)
    }

    /// The JSON bodies `send` would post for `msg`.
    fn bodies(msg: &OutboundMessage<'_>) -> Vec<Value> {
        let calls = messaging_calls(msg, Messaging::Messenger).unwrap_or_else(|e| panic!("{e:?}"));
        calls
            .into_iter()
            .map(|call| match call.body {
                GraphBody::Json(body) => body,
                GraphBody::Form(form) => panic!("JSON expected, got {form:?}"),
            })
            .collect()
    }

    fn example(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn a_reply_goes_from_the_page_to_the_psid_as_a_response() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        let text = "Sorry about that, Jonas. A replacement ships tomorrow.";
        let id = accepted_id(send(&http_client(), &to_jonas(&secrets, &base, Some(text))).await);
        assert!(id.starts_with("m_"), "{id}");

        let accepted = fake.state.accepted("messenger");
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].path, format!("/{PAGE}/messages"));
        assert_eq!(header(&accepted[0], "authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        assert_eq!(
            json(&accepted[0]),
            json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                   "message": {"text": text, "metadata": KEY}})
        );
    }

    #[tokio::test]
    async fn each_page_sends_from_its_own_path() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        for page in ["111", "222"] {
            let msg = OutboundMessage { business_id: page, ..to_jonas(&secrets, &base, Some("hi")) };
            accepted_id(send(&http_client(), &msg).await);
        }
        let paths: Vec<String> = fake.state.accepted("messenger").into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/111/messages", "/222/messages"]);
    }

    #[test]
    fn the_response_is_the_documented_example() {
        let expected = example(include_str!("../../../fixtures/channels/messenger/send_response.json"));
        let secrets = token(TOKEN);
        let text = expected["message"]["text"].as_str().unwrap();
        let msg = OutboundMessage { idempotency_key: "helpdesk-msg-000200", ..to_jonas(&secrets, "", Some(text)) };
        assert_eq!(bodies(&msg), [expected]);
    }

    #[tokio::test]
    async fn a_human_agent_reply_is_tagged_as_documented() {
        let (fake, base) = fake("messenger").await;
        let mut expected = example(include_str!("../../../fixtures/channels/messenger/send_human_agent.json"));
        let secrets = token(TOKEN);
        let text = expected["message"]["text"].as_str().unwrap().to_owned();
        let msg = OutboundMessage { tag: Some(MessageTag::HumanAgent), ..to_jonas(&secrets, &base, Some(&text)) };
        accepted_id(send(&http_client(), &msg).await);
        expected["message"]["metadata"] = json!(KEY);
        assert_eq!(json(&fake.state.accepted("messenger")[0]), expected);
    }

    #[tokio::test]
    async fn attachments_go_by_url_one_message_each_after_the_text() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        let attachments = [
            attachment("image", "https://cdn.example.test/size-chart.png", None),
            attachment("document", "https://cdn.example.test/invoice.pdf", Some("invoice.pdf")),
            attachment("video", "https://cdn.example.test/howto.mp4", None),
            attachment("audio", "https://cdn.example.test/note.mp3", None),
        ];
        let msg = OutboundMessage { attachments: &attachments, ..to_jonas(&secrets, &base, Some("Here you go")) };
        let id = accepted_id(send(&http_client(), &msg).await);

        let accepted = fake.state.accepted("messenger");
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        let messages: Vec<Value> = accepted.iter().map(|r| json(r)["message"].clone()).collect();
        assert_eq!(
            messages,
            [
                json!({"text": "Here you go", "metadata": KEY}),
                json!({"attachment": {"type": "image", "payload": {"url": "https://cdn.example.test/size-chart.png"}},
                       "metadata": KEY}),
                json!({"attachment": {"type": "file", "payload": {"url": "https://cdn.example.test/invoice.pdf"}},
                       "metadata": KEY}),
                json!({"attachment": {"type": "video", "payload": {"url": "https://cdn.example.test/howto.mp4"}},
                       "metadata": KEY}),
                json!({"attachment": {"type": "audio", "payload": {"url": "https://cdn.example.test/note.mp3"}},
                       "metadata": KEY}),
            ]
        );
    }

    #[tokio::test]
    async fn a_private_reply_names_the_comment_once_and_a_second_one_is_refused() {
        let (fake, base) = fake("messenger").await;
        let expected = example(include_str!("../../../fixtures/channels/messenger/send_private_reply.json"));
        let secrets = token(TOKEN);
        let text = expected["message"]["text"].as_str().unwrap().to_owned();
        let msg = OutboundMessage {
            idempotency_key: "",
            // A tag has no meaning for a private reply: it is not sent.
            tag: Some(MessageTag::HumanAgent),
            ..message(&secrets, &base, Target::PrivateReply { comment: COMMENT }, Some(&text))
        };
        accepted_id(send(&http_client(), &msg).await);
        let accepted = fake.state.accepted("messenger");
        assert_eq!(accepted[0].path, format!("/{PAGE}/messages"));
        assert_eq!(json(&accepted[0]), expected);

        let message = permanent(send(&http_client(), &msg).await, "10900");
        assert!(message.contains("already replied"), "{message}");
    }

    #[test]
    fn a_private_reply_is_one_message() {
        let secrets = token(TOKEN);
        let image = [attachment("image", "https://cdn.example.test/a.png", None)];
        let target = Target::PrivateReply { comment: COMMENT };
        let only_image = OutboundMessage { attachments: &image, ..message(&secrets, "", target, None) };
        assert_eq!(bodies(&only_image)[0]["message"]["attachment"]["type"], "image");
        let both = OutboundMessage { attachments: &image, ..message(&secrets, "", target, Some("hi")) };
        permanent(messaging_calls(&both, Messaging::Messenger).err().unwrap(), "unsupported");
    }

    #[tokio::test]
    async fn a_public_reply_posts_the_text_under_the_comment() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        let text = "Hi Jonas, yes – 4 left in size M.";
        let msg = message(&secrets, &base, Target::PublicReply { reply_to: COMMENT }, Some(text));
        let id = accepted_id(send(&http_client(), &msg).await);

        let accepted = fake.state.accepted("messenger");
        assert_eq!(accepted[0].path, format!("/{COMMENT}/comments"));
        assert_eq!(accepted[0].platform_message_id.as_deref(), Some(id.as_str()));
        assert_eq!(header(&accepted[0], "content-type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(form(&accepted[0]), [("message".to_owned(), text.to_owned())]);
    }

    #[tokio::test]
    async fn a_public_reply_with_attachments_or_without_text_is_refused_without_a_call() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        let image = [attachment("image", "https://cdn.example.test/a.png", None)];
        let target = Target::PublicReply { reply_to: COMMENT };
        let msg = OutboundMessage { attachments: &image, ..message(&secrets, &base, target, Some("look")) };
        assert_eq!(
            send(&http_client(), &msg).await,
            SendOutcome::permanent("unsupported", "Facebook public replies cannot carry attachments")
        );
        permanent(send(&http_client(), &message(&secrets, &base, target, None)).await, "empty_message");
        assert!(fake.state.requests().is_empty());
    }

    #[tokio::test]
    async fn templates_groups_and_empty_messages_are_refused_without_a_call() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        let http = http_client();
        let template = TemplateSend { name: "hello", language: "en", parameters: &[] };
        let message = permanent(
            send(&http, &OutboundMessage { template: Some(template), ..to_jonas(&secrets, &base, Some("x")) }).await,
            "unsupported",
        );
        assert!(message.contains("HUMAN_AGENT"), "{message}");
        permanent(send(&http, &message_to_group(&secrets, &base)).await, "unsupported");
        permanent(send(&http, &to_jonas(&secrets, &base, None)).await, "empty_message");
        let no_url = [switchboard_domain::Attachment { url: None, ..attachment("image", "x", None) }];
        permanent(
            send(&http, &OutboundMessage { attachments: &no_url, ..to_jonas(&secrets, &base, None) }).await,
            "unsupported",
        );
        permanent(send(&http, &to_jonas(&Secrets::new(), &base, Some("x"))).await, "missing_secret");
        assert!(fake.state.requests().is_empty());
    }

    fn message_to_group<'a>(secrets: &'a Secrets, base: &'a str) -> OutboundMessage<'a> {
        message(secrets, base, Target::Group { chat: "g" }, Some("x"))
    }

    #[tokio::test]
    async fn outside_the_window_unavailable_and_already_replied_are_permanent_with_their_code() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        for (fault, code, subcode) in
            [("10/2018278", "10", Some("2018278")), ("551/1545041", "551", Some("1545041")), ("10900", "10900", None)]
        {
            fake.state.fail_next("messenger", Fault::Permanent(fault.into()), 1);
            let message = permanent(send(&http_client(), &to_jonas(&secrets, &base, Some("x"))).await, code);
            if let Some(subcode) = subcode {
                assert!(message.contains(subcode), "{message}");
            }
        }
    }

    #[tokio::test]
    async fn rate_limits_server_errors_and_429_are_transient() {
        let (fake, base) = fake("messenger").await;
        let secrets = token(TOKEN);
        let http = http_client();
        for code in ["613", "4", "32"] {
            fake.state.fail_next("messenger", Fault::Permanent(code.into()), 1);
            let outcome = send(&http, &to_jonas(&secrets, &base, Some("x"))).await;
            assert!(is_transient(&outcome), "{code}: {outcome:?}");
        }
        for fault in [Fault::ServerError, Fault::RateLimited] {
            fake.state.fail_next("messenger", fault, 1);
            let public = message(&secrets, &base, Target::PublicReply { reply_to: COMMENT }, Some("x"));
            assert!(is_transient(&send(&http, &public).await));
        }
    }

    #[tokio::test]
    async fn a_wrong_token_is_permanent_190() {
        let (fake, base) = fake("messenger").await;
        let secrets = token("invalid-page-token");
        permanent(send(&http_client(), &to_jonas(&secrets, &base, Some("x"))).await, "190");
        let public = message(&secrets, &base, Target::PublicReply { reply_to: COMMENT }, Some("x"));
        permanent(send(&http_client(), &public).await, "190");
        assert!(fake.state.accepted("messenger").is_empty());
    }
}
