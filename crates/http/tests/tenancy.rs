//! Workspaces never see each other, and two nodes racing on one new customer make one ticket.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use switchboard_testkit::{TestApp, sign};

#[tokio::test]
async fn an_agent_of_another_workspace_gets_404_for_everything_of_this_one() {
    let app = TestApp::spawn().await;
    let account = app.api_account("s3cret").await;
    let answer =
        app.deliver(&account, "s3cret", json!([{"id": "m1", "from": {"id": "u1", "name": "Ana"}, "text": "Hi"}])).await;
    assert_eq!(answer.status, StatusCode::OK);
    let ticket = app.get("/api/v1/tickets").await.body["tickets"][0].clone();
    let ticket_id = ticket["id"].as_str().unwrap();
    let contact_id = ticket["contact_id"].as_str().unwrap();

    let other = app.other_workspace("Other business").await;
    let as_other = |path: String| {
        let app = &app;
        let other = other.clone();
        async move { app.request(reqwest::Method::GET, &path, Some(&other), None).await }
    };
    for path in [
        format!("/api/v1/tickets/{ticket_id}"),
        format!("/api/v1/tickets/{ticket_id}/messages"),
        format!("/api/v1/tickets/{ticket_id}/events"),
        format!("/api/v1/contacts/{contact_id}"),
        format!("/api/v1/channel-accounts/{account}"),
    ] {
        let answer = as_other(path.clone()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {:?}", answer.body);
        assert_eq!(answer.code(), "not_found");
    }
    // Nor can they change or answer it, or merge its contact.
    let patch = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/tickets/{ticket_id}"),
            Some(&other),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    let reply = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{ticket_id}/messages"),
            Some(&other),
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Their lists are empty.
    for path in ["/api/v1/tickets", "/api/v1/contacts", "/api/v1/channel-accounts"] {
        let answer = as_other(path.to_owned()).await;
        assert_eq!(answer.status, StatusCode::OK);
        let list = answer.body.as_object().unwrap().values().find_map(|v| v.as_array()).unwrap();
        assert!(list.is_empty(), "{path} leaks: {:?}", answer.body);
    }
    // And the ticket is untouched.
    assert_eq!(app.get(&format!("/api/v1/tickets/{ticket_id}")).await.body["status"], "new");
}

#[tokio::test]
async fn two_nodes_racing_on_a_new_customer_make_one_contact_one_conversation_one_ticket() {
    // Two servers on one database, as behind a load balancer; the customer's first two
    // messages reach one each, at the same moment. Repeated, to give the race its chances.
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(Arc::clone(&first.db)).await;
    let account = first.api_account("s3cret").await;
    for round in 0..10 {
        let sender = format!("customer-{round}");
        let body = |id: &str| {
            serde_json::to_vec(
                &json!({"messages": [{"id": id, "from": {"id": sender, "name": "Racer"}, "text": "hello"}]}),
            )
            .unwrap()
        };
        let (a, b) = (body(&format!("{round}-a")), body(&format!("{round}-b")));
        let (sig_a, sig_b) = (sign("s3cret", &a), sign("s3cret", &b));
        let (ra, rb) = tokio::join!(
            first.post_webhook(&account, &a, Some(&sig_a)),
            second.post_webhook(&account, &b, Some(&sig_b)),
        );
        assert_eq!(ra.status, StatusCode::OK, "{:?}", ra.body);
        assert_eq!(rb.status, StatusCode::OK, "{:?}", rb.body);
        let ticket_a = &ra.body["messages"][0]["ticket_id"];
        assert_eq!(ticket_a, &rb.body["messages"][0]["ticket_id"], "round {round}: both messages share one ticket");
    }
    assert_eq!(first.count("SELECT COUNT(*) FROM contacts").await, 10);
    assert_eq!(first.count("SELECT COUNT(*) FROM identities").await, 10);
    assert_eq!(first.count("SELECT COUNT(*) FROM conversations").await, 10);
    assert_eq!(first.count("SELECT COUNT(*) FROM tickets").await, 10);
    assert_eq!(first.count("SELECT COUNT(*) FROM messages").await, 20);
    let tickets = first.get("/api/v1/tickets?limit=100").await.body;
    for t in tickets["tickets"].as_array().unwrap() {
        let messages = first.get(&format!("/api/v1/tickets/{}/messages", t["id"].as_str().unwrap())).await;
        assert_eq!(messages.body["messages"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn concurrent_webhooks_on_one_node_are_all_committed_before_they_are_answered() {
    let app = Arc::new(TestApp::spawn().await);
    let account = app.api_account("s3cret").await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..50 {
        let body = serde_json::to_vec(&json!({"messages": [
            {"id": format!("m{i}"), "from": {"id": format!("u{}", i % 10)}, "text": format!("message {i}")}
        ]}))
        .unwrap();
        let (app, account) = (Arc::clone(&app), account.clone());
        calls.spawn(async move { app.post_webhook(&account, &body, Some(&sign("s3cret", &body))).await });
    }
    while let Some(answer) = calls.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        // Acknowledged means stored: the message is there the moment its answer is.
        let id = answer.body["messages"][0]["ticket_id"].as_str().unwrap().to_owned();
        assert_eq!(app.get(&format!("/api/v1/tickets/{id}")).await.status, StatusCode::OK);
    }
    // Every message is there: 10 customers, one ticket each, 50 messages.
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 50);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 10);
}
