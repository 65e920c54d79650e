//! Administering views over HTTP (issue 8): a view's name, query and columns, the order of the
//! shared views, the audit of every change to one, agents refused, and the inbox showing a
//! view's tickets in its columns. Runs on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_testkit::{Browser, TestApp, hidden};

const PASSWORD: &str = "a long enough password";
const SECRET: &str = "s3cret";

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let answer = app.request(method.clone(), path, Some(&app.token), body).await;
    assert!(answer.status.is_success(), "{method} {path}: {} {:?}", answer.status, answer.body);
    answer.body
}

/// Saves a shared view as the admin; returns its id.
async fn shared_view(app: &TestApp, name: &str, query: &str, columns: Option<Value>) -> String {
    let mut body = json!({"name": name, "query": query, "shared": true});
    if let Some(columns) = columns {
        body["columns"] = columns;
    }
    let answer = app.post("/api/v1/views", body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    s(&answer.body["id"]).to_owned()
}

/// The saved views as `GET /api/v1/views` lists them: (name, columns), built-ins left out.
async fn saved_views(app: &TestApp) -> Vec<(String, Value)> {
    let views = ok(app, Method::GET, "/api/v1/views", None).await;
    views["views"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["builtin"] == false)
        .map(|v| (s(&v["name"]).to_owned(), v["columns"].clone()))
        .collect()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    let log = ok(app, Method::GET, "/api/v1/audit-log", None).await;
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (s(&e["action"]).to_owned(), s(&e["target"]).to_owned()))
        .filter(|(action, _)| action.starts_with("view"))
        .collect()
}

/// An agent (role `agent`) with an API token; returns (id, email, token).
async fn new_agent(app: &TestApp, name: &str) -> (String, String, String) {
    let email = format!("{}-{}@example.com", name.to_lowercase(), uuid::Uuid::now_v7().simple());
    let made =
        app.post("/api/v1/agents", json!({"email": email, "name": name, "role": "agent", "password": PASSWORD})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = s(&made.body["id"]).to_owned();
    let token = app.post("/api/v1/tokens", json!({"label": name, "agent_id": id})).await;
    assert_eq!(token.status, StatusCode::CREATED, "{:?}", token.body);
    (id, email, s(&token.body["token"]).to_owned())
}

#[tokio::test]
async fn an_admin_edits_and_orders_shared_views_and_every_change_is_audited() {
    let app = TestApp::spawn().await;
    let field = json!({"key": "plan", "label": "Plan", "kind": "text", "options": [], "required_on_solve": false});
    assert_eq!(app.post("/api/v1/fields", field).await.status, StatusCode::CREATED);
    let a = shared_view(&app, "Alpha", "status<solved", Some(json!(["field.plan", "subject", "number"]))).await;
    let b = shared_view(&app, "Beta", "tags:vip", None).await;
    let c = shared_view(&app, "Gamma", "channel:api", None).await;

    let views = ok(&app, Method::GET, "/api/v1/views", None).await;
    let mine = views["views"].as_array().unwrap().iter().find(|v| v["id"] == "mine").unwrap().clone();
    assert_eq!(mine["columns"], json!(["number", "subject", "status", "channel", "updated"]), "built-ins: default");
    assert_eq!(
        saved_views(&app).await,
        vec![
            ("Alpha".to_owned(), json!(["field.plan", "subject", "number"])),
            ("Beta".to_owned(), json!(["number", "subject", "status", "channel", "updated"])),
            ("Gamma".to_owned(), json!(["number", "subject", "status", "channel", "updated"])),
        ]
    );

    let changed = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/views/{b}"),
        Some(
            json!({"name": "VIP", "query": "tags:vip   status<solved", "columns": ["tags", "requester", "field.plan"]}),
        ),
    )
    .await;
    assert_eq!(changed["name"], "VIP");
    assert_eq!(changed["query"], "tags:vip status<solved", "stored as parsed");
    assert_eq!(changed["columns"], json!(["tags", "requester", "field.plan"]));
    // A patch of the name alone keeps the rest.
    let renamed = ok(&app, Method::PATCH, &format!("/api/v1/views/{b}"), Some(json!({"name": "VIPs"}))).await;
    assert_eq!(renamed["columns"], json!(["tags", "requester", "field.plan"]));
    assert_eq!(renamed["query"], "tags:vip status<solved");

    let ordered = ok(&app, Method::PUT, "/api/v1/views/order", Some(json!({"ids": [c, a, b]}))).await;
    let positions: Vec<(&str, i64)> =
        ordered["views"].as_array().unwrap().iter().map(|v| (s(&v["name"]), v["position"].as_i64().unwrap())).collect();
    assert_eq!(positions, [("Gamma", 1), ("Alpha", 2), ("VIPs", 3)]);
    let names: Vec<String> = saved_views(&app).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Gamma", "Alpha", "VIPs"], "the inbox lists them in that order");

    // A view made later goes to the end.
    let d = shared_view(&app, "Delta", "status:new", None).await;
    let names: Vec<String> = saved_views(&app).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Gamma", "Alpha", "VIPs", "Delta"]);
    let gone = app.request(Method::DELETE, &format!("/api/v1/views/{d}"), Some(&app.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);

    let view = |id: &str| format!("view:{id}");
    assert_eq!(
        audit_actions(&app).await,
        [
            ("view.deleted".to_owned(), view(&d)),
            ("view.created".to_owned(), view(&d)),
            ("view.reordered".to_owned(), "views:shared".to_owned()),
            ("view.updated".to_owned(), view(&b)),
            ("view.updated".to_owned(), view(&b)),
            ("view.created".to_owned(), view(&c)),
            ("view.created".to_owned(), view(&b)),
            ("view.created".to_owned(), view(&a)),
        ]
    );
    let log = ok(&app, Method::GET, "/api/v1/audit-log", None).await;
    let update = log["entries"].as_array().unwrap().iter().find(|e| e["action"] == "view.updated").unwrap();
    assert_eq!(update["detail"]["name"], "VIPs");
    assert_eq!(update["detail"]["columns"], json!(["tags", "requester", "field.plan"]));

    // Personal views are their owner's business: not audited.
    let personal = app.post("/api/v1/views", json!({"name": "Mine", "query": "status:open"})).await;
    assert_eq!(personal.status, StatusCode::CREATED);
    assert_eq!(audit_actions(&app).await.len(), 8);
}

#[tokio::test]
async fn wrong_columns_and_orders_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let field = json!({"key": "plan", "label": "Plan", "kind": "text", "options": [], "required_on_solve": false});
    assert_eq!(app.post("/api/v1/fields", field).await.status, StatusCode::CREATED);
    let a = shared_view(&app, "Alpha", "status<solved", None).await;
    let b = shared_view(&app, "Beta", "tags:vip", Some(json!(["number", "field.plan"]))).await;
    let before = saved_views(&app).await;

    let thirteen: Vec<&str> = vec!["number"; 13];
    for columns in [
        json!(["number", "owner"]),
        json!(["subject", "subject"]),
        json!(["field.missing"]),
        json!(["Field.plan"]),
        json!([]),
        json!(thirteen),
    ] {
        let made = app.post("/api/v1/views", json!({"name": "X", "query": "status:new", "columns": columns})).await;
        assert_eq!(made.status, StatusCode::UNPROCESSABLE_ENTITY, "{columns}: {:?}", made.body);
        assert_eq!(made.code(), "invalid_input");
        let patched = app.patch(&format!("/api/v1/views/{a}"), json!({"name": "Renamed", "columns": columns})).await;
        assert_eq!(patched.status, StatusCode::UNPROCESSABLE_ENTITY, "{columns}: {:?}", patched.body);
        assert!(s(&patched.body["error"]["message"]).starts_with("columns:"), "{:?}", patched.body);
    }
    let bad_query = app.patch(&format!("/api/v1/views/{a}"), json!({"query": "status:"})).await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.code(), "invalid_query");
    let unknown_field = app.patch(&format!("/api/v1/views/{a}"), json!({"colums": ["number"]})).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST, "{:?}", unknown_field.body);
    let builtin = app.patch("/api/v1/views/mine", json!({"name": "Mine"})).await;
    assert_eq!(builtin.status, StatusCode::CONFLICT);
    assert_eq!(
        app.patch(&format!("/api/v1/views/{}", uuid::Uuid::now_v7()), json!({})).await.status,
        StatusCode::NOT_FOUND
    );

    let personal = app.post("/api/v1/views", json!({"name": "Mine", "query": "status:open"})).await;
    let personal = s(&personal.body["id"]).to_owned();
    for ids in [
        json!([a]),
        json!([a, b, a]),
        json!([b, a, personal]),
        json!([b, a, uuid::Uuid::now_v7().to_string()]),
        json!([b, "mine"]),
    ] {
        let answer = app.request(Method::PUT, "/api/v1/views/order", Some(&app.token), Some(json!({"ids": ids}))).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{ids}: {:?}", answer.body);
        assert_eq!(answer.code(), "invalid_input");
    }
    let mut after = saved_views(&app).await;
    after.retain(|(name, _)| name != "Mine");
    assert_eq!(after, before, "nothing was half-written");
    assert_eq!(audit_actions(&app).await.len(), 2, "only the two creations");
}

#[tokio::test]
async fn agents_may_not_change_or_order_shared_views_but_edit_their_own() {
    let app = TestApp::spawn().await;
    let a = shared_view(&app, "Alpha", "status<solved", None).await;
    let b = shared_view(&app, "Beta", "tags:vip", None).await;
    let (_, _, ana) = new_agent(&app, "Ana").await;
    let (_, _, bo) = new_agent(&app, "Bo").await;

    let refused = [
        (Method::PUT, "/api/v1/views/order".to_owned(), json!({"ids": [b, a]})),
        (Method::PATCH, format!("/api/v1/views/{a}"), json!({"columns": ["number"]})),
        (Method::POST, "/api/v1/views".to_owned(), json!({"name": "S", "query": "status:new", "shared": true})),
    ];
    for (method, path, body) in refused {
        let answer = app.request(method.clone(), &path, Some(&ana), Some(body)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}: {:?}", answer.body);
        assert_eq!(answer.code(), "forbidden");
    }
    let answer = app.request(Method::DELETE, &format!("/api/v1/views/{a}"), Some(&ana), None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    let own = app
        .request(Method::POST, "/api/v1/views", Some(&ana), Some(json!({"name": "Ana's", "query": "status:open"})))
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{:?}", own.body);
    let own = s(&own.body["id"]).to_owned();
    let body = json!({"columns": ["subject", "assignee"]});
    let patched = app.request(Method::PATCH, &format!("/api/v1/views/{own}"), Some(&ana), Some(body.clone())).await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["columns"], json!(["subject", "assignee"]));
    let others = app.request(Method::PATCH, &format!("/api/v1/views/{own}"), Some(&bo), Some(body)).await;
    assert_eq!(others.status, StatusCode::NOT_FOUND, "another agent's view is not found");

    let names: Vec<String> = saved_views(&app).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Alpha", "Beta"], "unchanged");
    assert!(audit_actions(&app).await.iter().all(|(action, _)| action == "view.created"));
}

/// The header cells of the page's ticket table.
fn headers(body: &str) -> Vec<String> {
    let start = body.find("<thead>").expect("a ticket table");
    let head = &body[start..start + body[start..].find("</thead>").unwrap()];
    head.split("<th scope=\"col\">").skip(1).map(|h| h.split("</th>").next().unwrap().to_owned()).collect()
}

/// The cells of the table's first row, as text.
fn first_row(body: &str) -> Vec<String> {
    let start = body.find("<tbody>").expect("a ticket table");
    let row = &body[start..start + body[start..].find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let inner = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
            // Drop the tags of a link or a badge.
            let mut text = String::new();
            let mut in_tag = false;
            for ch in inner.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_inbox_shows_a_views_tickets_in_its_columns_with_names_and_a_custom_field() {
    let app = TestApp::spawn().await;
    let email = format!("boss-{}@example.com", uuid::Uuid::now_v7().simple());
    app.service.create_admin(switchboard_service::DEFAULT_WORKSPACE, &email, PASSWORD, Some("Boss")).await.unwrap();
    let field = json!({"key": "plan", "label": "Plan", "kind": "text", "options": [], "required_on_solve": false});
    assert_eq!(app.post("/api/v1/fields", field).await.status, StatusCode::CREATED);
    let (ana, _, _) = new_agent(&app, "Ana").await;
    let team = app.post("/api/v1/teams", json!({"name": "Billing"})).await;
    let team = s(&team.body["id"]).to_owned();
    let line = app.api_account(SECRET).await;
    let sent = app
        .deliver(&line, SECRET, json!([{"id": "m1", "from": {"id": "u1", "name": "Eve Example"}, "text": "refund?"}]))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    let ticket = s(&sent.body["messages"][0]["ticket_id"]).to_owned();
    let patch =
        json!({"fields": {"plan": "Gold"}, "assignee_id": ana, "team_id": team, "tags": {"add": ["vip", "refund"]}});
    ok(&app, Method::PATCH, &format!("/api/v1/tickets/{ticket}"), Some(patch)).await;

    let columns = json!(["field.plan", "number", "requester", "assignee", "team", "tags", "status"]);
    let vip = shared_view(&app, "VIP refunds", "tags:vip", Some(columns)).await;
    let other = shared_view(&app, "Everything open", "status<solved", None).await;

    let mut browser = Browser::signed_in(&app, &email, PASSWORD).await;
    let inbox = browser.get(&format!("/inbox?view={vip}")).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert_eq!(headers(&inbox.body), ["Plan", "#", "Requester", "Assignee", "Team", "Tags", "Status"]);
    let number = ok(&app, Method::GET, &format!("/api/v1/tickets/{ticket}"), None).await["number"].to_string();
    let row = first_row(&inbox.body);
    assert_eq!(row[..5], ["Gold", number.as_str(), "Eve Example", "Ana", "Billing"]);
    assert!(row[5].contains("vip") && row[5].contains("refund") && row[5].contains(", "), "tags joined: {}", row[5]);

    // The default columns elsewhere: built-ins and views without a choice.
    for view in ["all_open", other.as_str()] {
        let page = browser.get(&format!("/inbox?view={view}")).await;
        assert_eq!(headers(&page.body), ["#", "Subject", "Status", "Channel", "Updated"], "{view}");
    }

    // The sidebar lists shared views by position; the admin page's Move up reorders them.
    let sidebar = |body: &str| {
        let nav = &body[body.find("aria-label=\"Views\"").unwrap()..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        nav.find("VIP refunds").unwrap() < nav.find("Everything open").unwrap()
    };
    assert!(sidebar(&inbox.body));
    let admin = browser.get("/admin/views").await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.body.contains("Plan, Number, Requester, Assignee"), "the columns by label: {}", admin.body);
    let csrf = hidden(&admin.body, "csrf");
    let moved = browser.post_form("/admin/views/order", &[("csrf", &csrf), ("ids", &other), ("ids", &vip)]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert_eq!(moved.location.as_deref(), Some("/admin/views"));
    let inbox = browser.get(&format!("/inbox?view={vip}")).await;
    assert!(!sidebar(&inbox.body), "Everything open now comes first");

    // The edit form: a refused change shows the error and writes nothing.
    let refused = browser
        .post_form(
            &format!("/admin/views/{vip}"),
            &[("csrf", &csrf), ("name", "Renamed"), ("query", "tags:vip"), ("columns", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("1 to 12 columns"), "{}", refused.body);
    let saved = browser
        .post_form(
            &format!("/admin/views/{vip}"),
            &[
                ("csrf", &csrf),
                ("name", "VIPs"),
                ("query", "tags:vip"),
                ("columns", "1"),
                ("column", "subject"),
                ("order.subject", "2"),
                ("column", "field.plan"),
                ("order.field.plan", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let inbox = browser.get(&format!("/inbox?view={vip}")).await;
    assert_eq!(headers(&inbox.body), ["Plan", "Subject"]);
    assert!(inbox.body.contains("VIPs"));
}

#[tokio::test]
async fn an_agent_gets_the_403_page_on_the_admin_views_pages() {
    let app = TestApp::spawn().await;
    let a = shared_view(&app, "Alpha", "status<solved", None).await;
    let (_, email, _) = new_agent(&app, "Bo").await;
    let mut browser = Browser::signed_in(&app, &email, PASSWORD).await;
    for page in ["/admin/views".to_owned(), format!("/admin/views/{a}")] {
        let answer = browser.get(&page).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{page}");
        assert!(answer.body.contains("admin role"), "{page}");
    }
    let inbox = browser.get("/inbox").await;
    let csrf = hidden(&inbox.body, "csrf");
    let answer = browser.post_form("/admin/views/order", &[("csrf", &csrf), ("ids", &a)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = browser.post_form(&format!("/admin/views/{a}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(saved_views(&app).await.len(), 1, "still there");
}

#[tokio::test]
async fn the_openapi_document_lists_the_view_routes() {
    let app = TestApp::spawn().await;
    let doc = app.request(Method::GET, "/openapi.json", None, None).await;
    let paths = &doc.body["paths"];
    assert!(paths["/api/v1/views/{id}"].get("patch").is_some(), "PATCH /api/v1/views/{{id}}");
    assert!(paths["/api/v1/views/order"].get("put").is_some(), "PUT /api/v1/views/order");
    let view_in = &doc.body["components"]["schemas"]["ViewIn"]["properties"];
    assert!(view_in.get("columns").is_some(), "ViewIn.columns: {view_in}");
}

#[tokio::test]
async fn a_view_made_from_the_form_filters_on_a_custom_field() {
    let app = TestApp::spawn().await;
    let email = format!("boss-{}@example.com", uuid::Uuid::now_v7().simple());
    app.service.create_admin(switchboard_service::DEFAULT_WORKSPACE, &email, PASSWORD, Some("Boss")).await.unwrap();
    let field = json!({"key": "plan", "label": "Plan", "kind": "dropdown", "options": ["Gold", "Silver"]});
    assert_eq!(app.post("/api/v1/fields", field).await.status, StatusCode::CREATED);
    let line = app.api_account(SECRET).await;
    let mut tickets = Vec::new();
    for (id, plan) in [("u1", "Gold"), ("u2", "Silver")] {
        let message = json!([{"id": format!("m-{id}"), "from": {"id": id, "name": id}, "text": "hello"}]);
        let sent = app.deliver(&line, SECRET, message).await;
        let ticket = s(&sent.body["messages"][0]["ticket_id"]).to_owned();
        ok(&app, Method::PATCH, &format!("/api/v1/tickets/{ticket}"), Some(json!({"fields": {"plan": plan}}))).await;
        tickets.push(ticket);
    }

    let mut browser = Browser::signed_in(&app, &email, PASSWORD).await;
    let form = browser.get("/views/new").await;
    assert!(form.body.contains("name=\"field.plan\""), "the form offers the field");
    assert!(form.body.contains(">Not set</option>"));
    let csrf = hidden(&form.body, "csrf");
    let form = [("csrf", csrf.as_str()), ("name", "Gold plans"), ("field.plan", "Gold"), ("shared", "1")];
    let made = browser.post_form("/views", &form).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let id = made.location.unwrap().rsplit('=').next().unwrap().to_owned();
    let views = ok(&app, Method::GET, "/api/v1/views", None).await;
    let gold = views["views"].as_array().unwrap().iter().find(|v| v["id"] == id.as_str()).expect("saved").clone();
    assert_eq!(gold["query"], "field.plan:Gold");
    let listed = ok(&app, Method::GET, &format!("/api/v1/tickets?view={id}"), None).await;
    let ids: Vec<&str> = listed["tickets"].as_array().unwrap().iter().map(|t| s(&t["id"])).collect();
    assert_eq!(ids, [tickets[0].as_str()]);
}
