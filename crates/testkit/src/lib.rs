//! Switchboard's test kit: a database of its own for every test (a temp-file SQLite, or a
//! fresh schema on the Postgres of `SWITCHBOARD_TEST_POSTGRES_URL`), a settable clock, and
//! [`TestApp`]: the real server on `127.0.0.1:0` with a client that speaks its API.
//!
//! Which backend the suites run on is chosen by `SWITCHBOARD_TEST_DATABASE` (`sqlite`, the
//! default, or `postgres`); `.ci/run` runs the store, service and API suites once per backend.
//! Asking for Postgres without a reachable server fails the test: it never skips.

mod browser;
mod clock;
mod db;
mod delivery;

pub use browser::{Browser, Page, hidden};
pub use clock::TestClock;
pub use db::{Backend, TestDb};
pub use delivery::Delivery;

use std::sync::Arc;

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use switchboard_http::AppState;
use switchboard_service::Service;
use time::OffsetDateTime;

/// The real application on a free local port, with its database, clock and service handle.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub service: Service,
    pub clock: Arc<TestClock>,
    pub db: Arc<TestDb>,
    /// An admin of the default workspace and their API token.
    pub token: String,
    /// Where this app keeps files.
    pub files: Arc<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// An HTTP answer: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// The instant test clocks start at.
pub fn epoch() -> OffsetDateTime {
    time::macros::datetime!(2026-11-21 12:00 UTC)
}

/// Hex HMAC-SHA256, as the generic webhook's signature header wants it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl TestApp {
    /// A new app on a new database of the backend under test, with an admin in the default
    /// workspace.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(Arc::new(TestDb::new().await)).await
    }

    /// Another node on the same database: how tests race two servers.
    pub async fn spawn_on(db: Arc<TestDb>) -> TestApp {
        Self::start(db, true).await
    }

    /// A server nobody has set up: no workspace, no agent, no token (`token` is empty).
    pub async fn spawn_empty() -> TestApp {
        Self::start(Arc::new(TestDb::new().await), false).await
    }

    async fn start(db: Arc<TestDb>, with_admin: bool) -> TestApp {
        let clock = Arc::new(TestClock::new(epoch()));
        let service = Service::new(db.connect().await, clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let state = AppState { service: service.clone(), public_url: address.clone() };
        let files = Arc::new(tempfile::tempdir().expect("a folder for files"));
        service.set_public_url(&address);
        service.set_files_dir(files.path().to_path_buf());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(switchboard_http::serve(listener, state, async {
            let _ = rx.await;
        }));
        let token = if with_admin {
            let email = format!("admin-{}@example.com", uuid::Uuid::now_v7().simple());
            service.ensure_workspace(switchboard_service::DEFAULT_WORKSPACE).await.expect("default workspace");
            service
                .create_admin(switchboard_service::DEFAULT_WORKSPACE, &email, "correct horse battery", Some("Admin"))
                .await
                .expect("create admin");
            service.create_token(&email, "tests").await.expect("create token")
        } else {
            String::new()
        };
        TestApp {
            address,
            client: switchboard_channels::http_client(),
            service,
            clock,
            db,
            token,
            files,
            shutdown: Some(tx),
        }
    }

    /// Sends a request with `token` (if any) and a JSON body (if any).
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::answer(req.send().await.expect("request reaches the server")).await
    }

    async fn answer(res: reqwest::Response) -> Answer {
        let status = res.status();
        let bytes = res.bytes().await.expect("response body");
        Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, Some(&self.token.clone()), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(Method::POST, path, Some(&self.token.clone()), Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.request(Method::PATCH, path, Some(&self.token.clone()), Some(body)).await
    }

    /// Connects a channel account through the API; returns its JSON.
    pub async fn connect_account(&self, kind: &str, external_id: &str, secrets: Value) -> Value {
        let answer = self
            .post(
                "/api/v1/channel-accounts",
                json!({"kind": kind, "name": format!("{kind} {external_id}"), "external_id": external_id, "secrets": secrets}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "connect {kind}: {:?}", answer.body);
        answer.body
    }

    /// Connects a generic `api` account with `secret`; returns its id.
    pub async fn api_account(&self, secret: &str) -> String {
        let external = format!("api-{}", uuid::Uuid::now_v7().simple());
        self.connect_account("api", &external, json!({"secret": secret})).await["id"].as_str().unwrap().to_owned()
    }

    /// Posts raw bytes to the generic webhook with a signature header (if any).
    pub async fn post_webhook(&self, account: &str, body: &[u8], signature: Option<&str>) -> Answer {
        let mut req = self
            .client
            .post(format!("{}/webhooks/api/{account}", self.address))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-switchboard-signature", sig);
        }
        Self::answer(req.send().await.expect("request reaches the server")).await
    }

    /// Posts messages to the generic webhook, correctly signed.
    pub async fn deliver(&self, account: &str, secret: &str, messages: Value) -> Answer {
        let body = serde_json::to_vec(&json!({ "messages": messages })).unwrap();
        self.post_webhook(account, &body, Some(&sign(secret, &body))).await
    }

    /// Creates another workspace with its own admin; returns that admin's token.
    pub async fn other_workspace(&self, name: &str) -> String {
        let email = format!("admin-{}@example.org", uuid::Uuid::now_v7().simple());
        self.service.create_admin(name, &email, "correct horse battery", None).await.expect("create admin");
        self.service.create_token(&email, "tests").await.expect("create token")
    }

    /// Runs a scalar SQL count on the test database (for asserting what is stored).
    pub async fn count(&self, sql: &'static str) -> i64 {
        self.db.count(sql).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
