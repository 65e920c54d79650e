//! Switchboard's background work: delivering the outbox through the platforms, with retries.
//! Runs inside `switchboard serve` on every node; on Postgres, nodes share the outbox safely.

pub mod outbox;

pub use outbox::{DeliveryConfig, OutboxWorker, RunningWorker};
