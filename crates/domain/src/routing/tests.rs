//! Routing (DESIGN §2, step 3): which ticket an inbound item lands in.
//!
//! Every case is seen from the team's side: one customer, one ticket while it is live; closed
//! is final; a solved ticket reopens only inside the reopen window.

use proptest::prelude::{Just, Strategy, any, prop_assert, prop_assert_eq, prop_oneof};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{ConversationState, LatestTicket, PrivateReplyRoute, Route, Settings, route, route_private_reply};
use crate::ids::TicketId;
use crate::ticket::TicketStatus::{self, Closed, New, OnHold, Open, Pending, Solved, Spam};

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);
const PREVIOUS: TicketId = TicketId(Uuid::from_u128(1));

fn ticket(status: TicketStatus, solved_at: Option<OffsetDateTime>) -> LatestTicket {
    LatestTicket { id: PREVIOUS, status, solved_at }
}

/// A direct conversation whose latest ticket is `latest`.
fn direct(latest: Option<LatestTicket>) -> ConversationState {
    ConversationState { latest_ticket: latest, ..ConversationState::default() }
}

fn route_now(state: &ConversationState) -> Route {
    route(state, &Settings::default(), NOW)
}

/// A conversation as the store keeps it: it asks [`route`] and carries out the answer, giving
/// each new ticket the next id.
struct Conversation {
    state: ConversationState,
    last_id: u128,
}

impl Conversation {
    fn new(public: bool) -> Self {
        Self { state: ConversationState { public, ..ConversationState::default() }, last_id: 100 }
    }

    fn receive(&mut self, at: OffsetDateTime) -> Route {
        let r = route(&self.state, &Settings::default(), at);
        match r {
            Route::NewTicket { .. } | Route::NewPublicThread => {
                self.last_id += 1;
                self.state.latest_ticket =
                    Some(LatestTicket { id: TicketId(Uuid::from_u128(self.last_id)), status: New, solved_at: None });
            }
            Route::Append { status: Some(status), .. } => {
                if let Some(t) = self.state.latest_ticket.as_mut() {
                    t.status = status;
                }
            }
            Route::Reopen { .. } => {
                if let Some(t) = self.state.latest_ticket.as_mut() {
                    t.status = Open;
                    t.solved_at = None;
                }
            }
            Route::Append { status: None, .. } | Route::Duplicate | Route::StoredBlocked { .. } => {}
        }
        r
    }

    fn latest(&self) -> TicketId {
        self.state.latest_ticket.expect("the conversation has a ticket").id
    }
}

#[test]
fn a_customers_second_message_lands_in_the_ticket_their_first_one_made() {
    let mut conversation = Conversation::new(false);

    assert_eq!(conversation.receive(NOW), Route::NewTicket { follow_up_of: None, close_previous: None });
    let first = conversation.latest();

    assert_eq!(conversation.receive(NOW + Duration::minutes(2)), Route::Append { ticket: first, status: None });
    assert_eq!(conversation.latest(), first, "no second ticket was made");
}

#[test]
fn messages_to_a_new_open_or_on_hold_ticket_are_appended_without_changing_its_status() {
    for status in [New, Open, OnHold] {
        let state = direct(Some(ticket(status, None)));
        for at in [NOW, NOW + Duration::hours(1), NOW + Duration::days(30)] {
            assert_eq!(
                route(&state, &Settings::default(), at),
                Route::Append { ticket: PREVIOUS, status: None },
                "{status} ticket, message at {at}"
            );
        }
    }
}

#[test]
fn a_pending_ticket_becomes_open_when_the_customer_answers() {
    let state = direct(Some(ticket(Pending, None)));
    assert_eq!(route_now(&state), Route::Append { ticket: PREVIOUS, status: Some(Open) });

    // And the customer's next message leaves the now-open ticket as it is.
    let mut conversation = Conversation { state, last_id: 100 };
    conversation.receive(NOW);
    assert_eq!(conversation.receive(NOW + Duration::minutes(1)), Route::Append { ticket: PREVIOUS, status: None });
}

#[test]
fn after_close_the_next_message_makes_a_follow_up_ticket() {
    let state = direct(Some(ticket(Closed, Some(NOW - Duration::days(5)))));
    assert_eq!(route_now(&state), Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: None });
}

#[test]
fn a_closed_ticket_never_receives_a_message_whenever_the_customer_writes() {
    let solved_times = [
        None,
        Some(NOW),
        Some(NOW - Duration::hours(1)),
        Some(NOW - Duration::days(3)),
        Some(NOW - Duration::days(30)),
        Some(NOW + Duration::days(1)),
    ];
    let settings = [Settings::default(), Settings { reopen_window_secs: 3_600, ..Settings::default() }];
    for solved_at in solved_times {
        let state = direct(Some(ticket(Closed, solved_at)));
        for settings in &settings {
            // Every hour from 30 days before to 30 days after the fixed instant.
            for hours in -30 * 24..=30 * 24 {
                let at = NOW + Duration::hours(hours);
                assert_eq!(
                    route(&state, settings, at),
                    Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: None },
                    "closed ticket (solved_at {solved_at:?}), message at {at}"
                );
            }
        }
    }
}

#[test]
fn a_solved_ticket_reopens_when_the_customer_writes_within_the_reopen_window() {
    let solved_at = NOW;
    let state = direct(Some(ticket(Solved, Some(solved_at))));
    let after = [
        Duration::ZERO,
        Duration::hours(1),
        Duration::days(1),
        Duration::days(6) + Duration::hours(23),
        Duration::days(7) - Duration::seconds(1),
    ];
    for after in after {
        assert_eq!(
            route(&state, &Settings::default(), solved_at + after),
            Route::Reopen { ticket: PREVIOUS },
            "customer wrote {after} after the ticket was solved"
        );
    }
}

#[test]
fn past_the_reopen_window_a_solved_ticket_is_closed_and_followed_up() {
    let solved_at = NOW;
    let state = direct(Some(ticket(Solved, Some(solved_at))));
    for after in [Duration::days(7), Duration::days(8), Duration::days(365)] {
        assert_eq!(
            route(&state, &Settings::default(), solved_at + after),
            Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: Some(PREVIOUS) },
            "customer wrote {after} after the ticket was solved"
        );
    }
}

#[test]
fn a_workspace_with_a_shorter_reopen_window_follows_up_sooner() {
    let two_days = Settings { reopen_window_secs: 2 * 86_400, ..Settings::default() };
    let state = direct(Some(ticket(Solved, Some(NOW))));
    let cases = [
        (Duration::hours(1), Route::Reopen { ticket: PREVIOUS }),
        (Duration::days(1) + Duration::hours(23), Route::Reopen { ticket: PREVIOUS }),
        (Duration::days(2), Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: Some(PREVIOUS) }),
        (Duration::days(3), Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: Some(PREVIOUS) }),
    ];
    for (after, expected) in cases {
        assert_eq!(route(&state, &two_days, NOW + after), expected, "2-day window, customer wrote {after} after");
    }
    // The same 3-day-late message reopens under the default 7-day window: the setting is what decides.
    assert_eq!(route(&state, &Settings::default(), NOW + Duration::days(3)), Route::Reopen { ticket: PREVIOUS });
}

#[test]
fn a_solved_ticket_without_a_solved_time_counts_as_solved_long_ago() {
    let state = direct(Some(ticket(Solved, None)));
    assert_eq!(route_now(&state), Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: Some(PREVIOUS) });
}

#[test]
fn a_solved_conversation_reopens_then_follows_up_once_the_window_has_passed() {
    let mut conversation = Conversation::new(false);
    conversation.receive(NOW);
    let first = conversation.latest();

    // The agent solves it; the customer writes back two days later: same ticket, reopened.
    let solve = |c: &mut Conversation, at| {
        let t = c.state.latest_ticket.as_mut().expect("a ticket");
        t.status = Solved;
        t.solved_at = Some(at);
    };
    solve(&mut conversation, NOW + Duration::hours(1));
    assert_eq!(conversation.receive(NOW + Duration::days(2)), Route::Reopen { ticket: first });
    assert_eq!(conversation.latest(), first);

    // Solved again; this time the customer comes back ten days later: a follow-up ticket.
    solve(&mut conversation, NOW + Duration::days(3));
    assert_eq!(
        conversation.receive(NOW + Duration::days(13)),
        Route::NewTicket { follow_up_of: Some(first), close_previous: Some(first) }
    );
    assert_ne!(conversation.latest(), first);
}

#[test]
fn a_spam_ticket_from_a_sender_who_is_not_blocked_gets_a_follow_up() {
    let state = direct(Some(ticket(Spam, None)));
    assert_eq!(route_now(&state), Route::NewTicket { follow_up_of: Some(PREVIOUS), close_previous: None });
}

#[test]
fn a_blocked_senders_message_is_stored_on_their_latest_ticket_that_is_not_closed() {
    for status in [New, Open, Pending, OnHold, Solved, Spam] {
        let state = ConversationState { sender_blocked: true, ..direct(Some(ticket(status, Some(NOW)))) };
        assert_eq!(route_now(&state), Route::StoredBlocked { ticket: Some(PREVIOUS) }, "{status} ticket");
    }
}

#[test]
fn a_blocked_senders_message_raises_no_ticket_when_the_latest_is_closed_or_there_is_none() {
    for latest in [Some(ticket(Closed, None)), None] {
        let state = ConversationState { sender_blocked: true, ..direct(latest) };
        assert_eq!(route_now(&state), Route::StoredBlocked { ticket: None }, "latest ticket {latest:?}");
    }
}

#[test]
fn a_redelivered_message_is_a_duplicate_even_from_a_blocked_sender() {
    let latests = [None, Some(ticket(Open, None)), Some(ticket(Solved, Some(NOW))), Some(ticket(Closed, None))];
    for latest in latests {
        for sender_blocked in [false, true] {
            for public in [false, true] {
                let state = ConversationState { already_seen: true, sender_blocked, public, latest_ticket: latest };
                assert_eq!(route_now(&state), Route::Duplicate, "{state:?}");
            }
        }
    }
}

#[test]
fn the_first_comment_under_a_post_starts_a_public_thread() {
    let state = ConversationState { public: true, ..ConversationState::default() };
    assert_eq!(route_now(&state), Route::NewPublicThread);
}

#[test]
fn comments_from_three_people_under_one_post_share_one_public_ticket() {
    let mut post = Conversation::new(true);

    // Ana, then Ben, then Chloe comment under the same post.
    assert_eq!(post.receive(NOW), Route::NewPublicThread);
    let thread = post.latest();
    assert_eq!(post.state.latest_ticket.map(|t| t.status), Some(New));

    assert_eq!(post.receive(NOW + Duration::minutes(5)), Route::Append { ticket: thread, status: None });
    assert_eq!(post.receive(NOW + Duration::minutes(9)), Route::Append { ticket: thread, status: None });
    assert_eq!(post.latest(), thread, "still one ticket for the post");
}

#[test]
fn a_private_reply_continues_the_commenters_live_direct_ticket() {
    for status in [New, Open, Pending, OnHold, Solved] {
        assert_eq!(
            route_private_reply(Some(ticket(status, None))),
            PrivateReplyRoute::Continue { ticket: PREVIOUS },
            "{status} direct ticket"
        );
    }
}

#[test]
fn a_private_reply_after_a_closed_or_spam_ticket_opens_a_follow_up() {
    for status in [Closed, Spam] {
        assert_eq!(
            route_private_reply(Some(ticket(status, None))),
            PrivateReplyRoute::NewTicket { follow_up_of: Some(PREVIOUS) },
            "{status} direct ticket"
        );
    }
}

#[test]
fn a_private_reply_to_a_commenter_without_a_direct_ticket_opens_a_new_one() {
    assert_eq!(route_private_reply(None), PrivateReplyRoute::NewTicket { follow_up_of: None });
}

fn any_status() -> impl Strategy<Value = TicketStatus> {
    proptest::sample::select(TicketStatus::ALL.to_vec())
}

/// An offset in seconds, up to a year either way, biased toward the reopen window's edges.
fn any_offset() -> impl Strategy<Value = i64> {
    let week = 7 * 86_400;
    prop_oneof![-365 * 86_400..=365 * 86_400_i64, week - 3_600..=week + 3_600, Just(0), Just(week), Just(week - 1),]
}

proptest::proptest! {
    #[test]
    fn closed_is_final_and_only_a_solved_ticket_is_closed_by_routing(
        status in any_status(),
        solved_offset in proptest::option::of(any_offset()),
        message_offset in any_offset(),
        window_secs in 0..=30 * 86_400_i64,
        already_seen in any::<bool>(),
        sender_blocked in any::<bool>(),
        public in any::<bool>(),
    ) {
        let latest = ticket(status, solved_offset.map(|s| NOW + Duration::seconds(s)));
        let state = ConversationState { already_seen, sender_blocked, public, latest_ticket: Some(latest) };
        let settings = Settings { reopen_window_secs: window_secs, ..Settings::default() };
        let r = route(&state, &settings, NOW + Duration::seconds(message_offset));

        if status == Closed {
            prop_assert!(
                !matches!(r, Route::Append { .. } | Route::Reopen { .. } | Route::StoredBlocked { ticket: Some(_) }),
                "a closed ticket got a message: {:?}", r
            );
        }
        if let Route::NewTicket { follow_up_of, close_previous: Some(closed) } = r {
            prop_assert_eq!(status, Solved, "routing closed a {} ticket", status);
            prop_assert_eq!(closed, PREVIOUS);
            prop_assert_eq!(follow_up_of, Some(PREVIOUS));
        }
        // Whatever the route, it only ever names the conversation's own latest ticket.
        match r {
            Route::Append { ticket, .. } | Route::Reopen { ticket } | Route::StoredBlocked { ticket: Some(ticket) } => {
                prop_assert_eq!(ticket, PREVIOUS);
            }
            _ => {}
        }
    }
}
