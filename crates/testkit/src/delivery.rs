//! The outbound side under test: the fake platforms, and a delivery worker pointed at them
//! with short waits. Tests run the worker step by step (`run`) instead of in the background,
//! so that what it did is known when they assert.

use std::time::Duration;

use switchboard_fakes::FakePlatforms;
use switchboard_jobs::{DeliveryConfig, OutboxWorker};

use crate::TestApp;

/// The fake platforms and a worker sending to them.
pub struct Delivery {
    pub fake: FakePlatforms,
    pub worker: OutboxWorker,
    pub config: DeliveryConfig,
}

impl Delivery {
    /// Delivers everything that is due now; returns how many rows were handled.
    pub async fn run(&self) -> usize {
        self.worker.run_once().await.expect("the outbox worker runs")
    }
}

impl TestApp {
    /// Starts fake platforms and a worker for this app's database: every line sends to
    /// `{fake}/{kind}`; a platform call times out after 300 ms; retries start at 1 s (on the
    /// test clock) and stop after 3 attempts; a claim is stale after 60 s.
    pub async fn delivery(&self) -> Delivery {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.expect("start the fake platforms");
        self.service.set_api_base_override(Some(fake.base_url.clone()));
        let config = DeliveryConfig {
            max_attempts: 3,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_millis(300),
            poll: Duration::from_millis(50),
            lease: Duration::from_secs(60),
            worker: "test-worker".into(),
        };
        let worker = OutboxWorker::new(self.service.clone(), config.clone());
        Delivery { fake, worker, config }
    }
}
