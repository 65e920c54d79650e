//! Handlers, one module per resource. Each extracts, calls one service function, maps the
//! result and responds: no SQL, no rules.

pub mod accounts;
pub mod admin;
pub mod admin_accounts;
pub mod admin_fields;
pub mod admin_macros;
pub mod contacts;
pub mod dead_letters;
pub mod files;
pub mod notifier;
pub mod search;
pub mod stream;
pub mod system;
pub mod tickets;
pub mod webhooks;
