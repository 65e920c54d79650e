//! `GET /api/v1/stream`: agents see what happens in their workspace as it happens, resume
//! without loss or repeats (on any node), never see another workspace, and are told to reload
//! when what they missed is no longer kept.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_testkit::{Backend, TestApp};

/// One server-sent event as a browser would see it.
#[derive(Debug, Clone, PartialEq)]
struct Sse {
    id: Option<i64>,
    event: String,
    data: Value,
}

/// A stream read the way EventSource reads it: frames split on blank lines, comments dropped.
struct Stream {
    response: reqwest::Response,
    buffer: String,
    events: VecDeque<Sse>,
    ended: bool,
}

impl Stream {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = app.client.get(format!("{}/api/v1/stream", app.address)).bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        Self::from(request.send().await.expect("the stream opens")).await
    }

    async fn from(response: reqwest::Response) -> Stream {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream { response, buffer: String::new(), events: VecDeque::new(), ended: false }
    }

    /// The next event, or `None` if none comes within `wait` (or the stream ended).
    async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            let chunk = match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return None,
                Ok(chunk) => chunk.expect("the stream reads"),
            };
            match chunk {
                None => self.ended = true,
                Some(bytes) => {
                    self.buffer.push_str(std::str::from_utf8(&bytes).expect("utf-8"));
                    while let Some(end) = self.buffer.find("\n\n") {
                        let block: String = self.buffer.drain(..end + 2).collect();
                        let mut sse = Sse { id: None, event: String::new(), data: Value::Null };
                        for line in block.lines() {
                            if let Some(v) = line.strip_prefix("id: ") {
                                sse.id = Some(v.parse().expect("numeric id"));
                            } else if let Some(v) = line.strip_prefix("event: ") {
                                sse.event = v.to_owned();
                            } else if let Some(v) = line.strip_prefix("data: ") {
                                sse.data = serde_json::from_str(v).expect("JSON data");
                            }
                        }
                        if !sse.event.is_empty() {
                            self.events.push_back(sse);
                        }
                    }
                }
            }
        }
    }

    async fn next(&mut self) -> Sse {
        self.next_within(Duration::from_secs(10)).await.expect("an event within 10 s")
    }

    /// The next `n` events, however slowly they come.
    async fn take(&mut self, n: usize) -> Vec<Sse> {
        let mut seen = Vec::with_capacity(n);
        for _ in 0..n {
            seen.push(self.next().await);
        }
        seen
    }

    /// Waits out a short while and returns whatever came.
    async fn drain(&mut self) -> Vec<Sse> {
        let mut seen = Vec::new();
        while let Some(event) = self.next_within(Duration::from_millis(400)).await {
            seen.push(event);
        }
        seen
    }
}

async fn say(app: &TestApp, account: &str, id: &str, customer: &str, text: &str) -> Value {
    let answer = app.deliver(account, "s3cret", json!([{"id": id, "from": {"id": customer}, "text": text}])).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body
}

fn ticket_of(report: &Value) -> String {
    report["messages"][0]["ticket_id"].as_str().expect("a ticket").to_owned()
}

#[tokio::test]
async fn a_customer_message_shows_on_the_stream_as_a_new_ticket_then_a_new_message() {
    let app = TestApp::spawn().await;
    let account = app.api_account("s3cret").await;
    let mut stream = Stream::open(&app, &app.token, None).await;
    let ready = stream.next().await;
    assert_eq!(ready.event, "ready");
    assert_eq!(ready.id, Some(0), "nothing has happened in this workspace yet");

    let ticket = ticket_of(&say(&app, &account, "m1", "u1", "Where is my parcel?").await);
    let created = stream.next().await;
    assert_eq!(created.event, "ticket_created");
    assert_eq!(created.id, Some(1));
    assert_eq!(created.data["kind"], "ticket_created");
    assert_eq!(created.data["ticket_id"], ticket.as_str());
    assert_eq!(created.data["id"], 1);

    say(&app, &account, "m2", "u1", "Any news?").await;
    let received = stream.next().await;
    assert_eq!((received.event.as_str(), received.id), ("message_received", Some(2)));
    assert_eq!(received.data["ticket_id"], ticket.as_str());

    // An agent's change shows too.
    let patch = app.patch(&format!("/api/v1/tickets/{ticket}"), json!({"status": "pending"})).await;
    assert_eq!(patch.status, StatusCode::OK);
    let updated = stream.next().await;
    assert_eq!((updated.event.as_str(), updated.id), ("ticket_updated", Some(3)));
    // A redelivered webhook changes nothing, so it says nothing.
    say(&app, &account, "m2", "u1", "Any news?").await;
    assert_eq!(stream.drain().await, vec![]);
}

#[tokio::test]
async fn a_stream_resumed_with_last_event_id_gets_exactly_what_it_missed() {
    let app = TestApp::spawn().await;
    let account = app.api_account("s3cret").await;
    let mut stream = Stream::open(&app, &app.token, None).await;
    assert_eq!(stream.next().await.event, "ready");
    let first = ticket_of(&say(&app, &account, "m1", "u1", "Hello").await);
    let seen = stream.next().await;
    assert_eq!(seen.id, Some(1));
    drop(stream);

    // While the agent is away: a new message, a new customer, a change.
    say(&app, &account, "m2", "u1", "Still there?").await;
    let second = ticket_of(&say(&app, &account, "m3", "u2", "Hi, new here").await);
    let patch = app.patch(&format!("/api/v1/tickets/{first}"), json!({"priority": "high"})).await;
    assert_eq!(patch.status, StatusCode::OK, "{:?}", patch.body);

    let mut resumed = Stream::open(&app, &app.token, Some("1")).await;
    let mut missed = resumed.take(3).await;
    missed.extend(resumed.drain().await);
    let got: Vec<(Option<i64>, &str, &str)> =
        missed.iter().map(|e| (e.id, e.event.as_str(), e.data["ticket_id"].as_str().unwrap_or_default())).collect();
    assert_eq!(
        got,
        vec![
            (Some(2), "message_received", first.as_str()),
            (Some(3), "ticket_created", second.as_str()),
            (Some(4), "ticket_updated", first.as_str()),
        ]
    );
    // And it goes on live from there.
    say(&app, &account, "m4", "u2", "Hello?").await;
    let live = resumed.next().await;
    assert_eq!((live.id, live.event.as_str()), (Some(5), "message_received"));

    // Clients that cannot set headers name the id in the query; up to date means nothing to replay.
    let by_query = app
        .client
        .get(format!("{}/api/v1/stream?last_event_id=5", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let mut by_query = Stream::from(by_query).await;
    assert_eq!(by_query.drain().await, vec![]);
}

#[tokio::test]
async fn events_written_by_many_requests_at_once_arrive_once_each_and_in_order() {
    let app = Arc::new(TestApp::spawn().await);
    let account = app.api_account("s3cret").await;
    let ticket = ticket_of(&say(&app, &account, "m-first", "u-first", "hi").await);
    let mut stream = Stream::open(&app, &app.token, None).await;
    assert_eq!(stream.next().await.id, Some(1), "ready, after the first ticket");
    // Webhooks share the ingest writer's transactions; agents' changes each commit on their
    // own and publish from their own tasks, so publishes can overtake one another.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (app, account, ticket) = (app.clone(), account.clone(), ticket.clone());
        tasks.spawn(async move {
            if i % 2 == 0 {
                say(&app, &account, &format!("m{i}"), &format!("u{}", i % 7), "hi").await;
            } else {
                let fields = json!({"fields": {"n": i}});
                let answer = app.patch(&format!("/api/v1/tickets/{ticket}"), fields).await;
                assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let ids: Vec<i64> = stream.take(40).await.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, (2..=41).collect::<Vec<_>>());
    assert_eq!(stream.drain().await, vec![], "nothing twice");
}

#[tokio::test]
async fn another_workspace_never_sees_this_ones_events() {
    let app = TestApp::spawn().await;
    let account = app.api_account("s3cret").await;
    let other = app.other_workspace("Other business").await;
    let mut theirs = Stream::open(&app, &other, None).await;
    assert_eq!(theirs.next().await.event, "ready");
    let mut ours = Stream::open(&app, &app.token, None).await;
    assert_eq!(ours.next().await.event, "ready");

    say(&app, &account, "m1", "u1", "Hello").await;
    assert_eq!(ours.next().await.event, "ticket_created");

    // Their own line: their stream numbers its own events and shows only those.
    let body = json!({"kind": "api", "name": "Theirs", "external_id": "theirs-1", "secrets": {"secret": "s3cret"}});
    let line = app.request(reqwest::Method::POST, "/api/v1/channel-accounts", Some(&other), Some(body)).await;
    assert_eq!(line.status, StatusCode::CREATED);
    let their_ticket = ticket_of(&say(&app, line.body["id"].as_str().unwrap(), "t1", "x1", "Hi").await);
    let mut seen = theirs.take(1).await;
    seen.extend(theirs.drain().await);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0].id, seen[0].data["ticket_id"].as_str()), (Some(1), Some(their_ticket.as_str())));
    assert_eq!(ours.drain().await, vec![]);
}

#[tokio::test]
async fn the_stream_needs_an_agent() {
    let app = TestApp::spawn().await;
    let answer = app.request(reqwest::Method::GET, "/api/v1/stream", None, None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "unauthenticated");
    let answer = app.request(reqwest::Method::GET, "/api/v1/stream", Some("sb_not-a-token"), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_client_whose_missed_events_were_pruned_is_told_to_reload() {
    let app = TestApp::spawn().await;
    let account = app.api_account("s3cret").await;
    say(&app, &account, "m1", "u1", "Hello").await;
    say(&app, &account, "m2", "u1", "Hello?").await;
    app.clock.advance(time::Duration::hours(25));
    assert_eq!(app.service.prune_live_events().await.unwrap(), 2);
    say(&app, &account, "m3", "u1", "Anyone?").await;

    let mut stream = Stream::open(&app, &app.token, Some("1")).await;
    let reset = stream.next().await;
    assert_eq!((reset.event.as_str(), reset.id), ("reset", Some(3)), "event 2 is gone: reload, then go on after 3");
    assert_eq!(stream.drain().await, vec![]);
    // Up to date with what was kept, nothing was lost.
    let mut stream = Stream::open(&app, &app.token, Some("2")).await;
    assert_eq!(stream.next().await.id, Some(3));
    // A position this server never gave out cannot be trusted either.
    for unknown in ["999", "yesterday"] {
        let mut stream = Stream::open(&app, &app.token, Some(unknown)).await;
        let reset = stream.next().await;
        assert_eq!((reset.event.as_str(), reset.id), ("reset", Some(3)), "{unknown}");
    }
}

#[tokio::test]
async fn a_stream_resumes_on_another_node_and_hears_what_other_nodes_store() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(a.db.clone()).await;
    let account = a.api_account("s3cret").await;
    let mut on_a = Stream::open(&a, &a.token, None).await;
    assert_eq!(on_a.next().await.event, "ready");
    say(&a, &account, "m1", "u1", "Hello").await;
    assert_eq!(on_a.next().await.id, Some(1));
    drop(on_a);
    say(&a, &account, "m2", "u1", "Hello?").await;

    // The load balancer sends the reconnect to node B: the log is shared.
    let mut on_b = Stream::open(&b, &a.token, Some("1")).await;
    let missed = on_b.next().await;
    assert_eq!((missed.id, missed.event.as_str()), (Some(2), "message_received"));

    if a.db.backend == Backend::Postgres {
        // Node A stores, node B's stream hears of it (LISTEN/NOTIFY), once.
        say(&a, &account, "m3", "u2", "New customer").await;
        let heard = on_b.next().await;
        assert_eq!((heard.id, heard.event.as_str()), (Some(3), "ticket_created"));
        say(&b, &account, "m4", "u2", "Via B").await;
        assert_eq!(on_b.next().await.id, Some(4));
        assert_eq!(on_b.drain().await, vec![]);
    }
}

#[tokio::test]
async fn open_streams_end_when_the_server_shuts_down() {
    let app = TestApp::spawn().await;
    let mut stream = Stream::open(&app, &app.token, None).await;
    assert_eq!(stream.next().await.event, "ready");
    drop(app);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while stream.next_within(Duration::from_secs(5)).await.is_some() {}
        stream.ended
    })
    .await;
    assert_eq!(ended, Ok(true), "the stream ends instead of holding the shutdown");
}
