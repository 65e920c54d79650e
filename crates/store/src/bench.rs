//! Bulk data for the benchmark harness (`switchboard bench search`): a workspace filled to a
//! size no test would make, quickly, with the same rows and indexes the product writes.
//!
//! Rows are written many to a statement in large transactions, bypassing the use cases (their
//! one-message-per-transaction path is what the ingest benchmark measures, not this). The data
//! is deterministic for a seed: names, numbers typed in several styles, bodies drawn from a
//! vocabulary with a few rare words, statuses and assignees in proportions of a real inbox.

use switchboard_domain::search::phone_digits;
use switchboard_domain::{AgentId, ChannelAccountId, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::params::Params;
use crate::{Db, Param, Result, bind_all, to_millis, with_conn};

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub tickets: u64,
    pub messages_per_ticket: u64,
    pub agents: u64,
}

/// What the filler made that the benchmark queries need.
#[derive(Debug, Clone)]
pub struct Filled {
    pub agents: Vec<AgentId>,
    pub accounts: Vec<ChannelAccountId>,
}

/// The lines of the bench workspace, social and not.
const KINDS: [&str; 6] = ["whatsapp", "instagram", "messenger", "telegram", "line", "api"];
const FIRST: [&str; 16] = [
    "Ana", "Bruno", "Chen", "Dalia", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jonas", "Kavya", "Lucas", "Mei",
    "Nadia", "Omar", "Priya",
];
const LAST: [&str; 12] =
    ["Lima", "Smith", "Wang", "Okafor", "Rossi", "Tanaka", "Garcia", "Müller", "Khan", "Silva", "Dubois", "Kim"];
const WORDS: [&str; 48] = [
    "order",
    "delivery",
    "refund",
    "parcel",
    "broken",
    "late",
    "payment",
    "card",
    "invoice",
    "account",
    "password",
    "login",
    "size",
    "colour",
    "exchange",
    "return",
    "address",
    "shipping",
    "tracking",
    "number",
    "hello",
    "thanks",
    "please",
    "when",
    "where",
    "arrive",
    "received",
    "wrong",
    "item",
    "missing",
    "discount",
    "code",
    "coupon",
    "subscription",
    "cancel",
    "upgrade",
    "store",
    "opening",
    "hours",
    "warranty",
    "repair",
    "screen",
    "battery",
    "charger",
    "damaged",
    "box",
    "today",
    "tomorrow",
];

/// A small deterministic generator (SplitMix64): the same seed makes the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A phone number as people type it: `+1 (555) 123-4567`, `+15551234567`, `555.123.4567`.
fn typed_phone(digits: &str, style: u64) -> String {
    let (cc, rest) = digits.split_at(1);
    let (area, rest) = rest.split_at(3);
    let (mid, last) = rest.split_at(3);
    match style % 3 {
        0 => format!("+{cc} ({area}) {mid}-{last}"),
        1 => format!("+{digits}"),
        _ => format!("{area}.{mid}.{last}"),
    }
}

/// Rows to write with one multi-row `INSERT`: the statement's head and each row's values.
struct Batch {
    head: &'static str,
    rows: Vec<Vec<Param>>,
}

impl Batch {
    fn new(head: &'static str) -> Self {
        Self { head, rows: Vec::new() }
    }

    async fn flush(&mut self, conn: &mut crate::Conn<'_>) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut p = Params::default();
        let values: Vec<String> = self
            .rows
            .drain(..)
            .map(|row| format!("({})", row.into_iter().map(|v| p.push(v)).collect::<Vec<_>>().join(", ")))
            .collect();
        let sql = format!("{} VALUES {}", self.head, values.join(", "));
        with_conn!(conn, c => {
            bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql)), &p.0).execute(&mut *c).await?.rows_affected()
        });
        Ok(())
    }
}

/// Writes every batch, in the order given (parents before the rows that refer to them).
async fn flush_all(tx: &mut crate::Tx, batches: [&mut Batch; 7]) -> Result<()> {
    for batch in batches {
        batch.flush(&mut tx.conn()).await?;
    }
    Ok(())
}

/// Message rows per statement (13 values each). sqlx looks each bound value's name up among
/// all of a SQLite statement's parameters, so there the cost of a statement grows with the
/// square of its values: a few hundred per statement is the sweet spot. PostgreSQL takes more.
fn rows_per_statement(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 40,
        crate::Backend::Postgres => 400,
    }
}
/// Tickets per transaction.
const TICKETS_PER_TX: u64 = 5_000;

/// Fills `workspace` with `size` of data; `progress(done, total)` after every transaction.
pub async fn fill(
    db: &Db,
    workspace: WorkspaceId,
    size: Size,
    seed: u64,
    now: OffsetDateTime,
    mut progress: impl FnMut(u64, u64),
) -> Result<Filled> {
    let mut rng = Rng(seed);
    let ws = workspace.0;
    let now_ms = to_millis(now);
    let year_ms: i64 = 365 * 24 * 3600 * 1000;

    let mut tx = db.begin().await?;
    let mut agents = Vec::new();
    let mut batch =
        Batch::new("INSERT INTO agents (id, workspace_id, email, name, role, password_hash, active, created_at)");
    for i in 0..size.agents {
        let id = Uuid::now_v7();
        agents.push(AgentId(id));
        batch.rows.push(vec![
            Param::Uuid(id),
            Param::Uuid(ws),
            Param::Text(format!("agent{i}-{}@bench.example", seed)),
            Param::Text(format!("Agent {i}")),
            Param::Text("agent".into()),
            Param::OptText(None),
            Param::Bool(true),
            Param::Int(now_ms),
        ]);
    }
    batch.flush(&mut tx.conn()).await?;
    let mut accounts = Vec::new();
    let mut batch = Batch::new(
        "INSERT INTO channel_accounts (id, workspace_id, kind, name, external_id, secrets, settings, enabled, created_at)",
    );
    for kind in KINDS {
        let id = Uuid::now_v7();
        accounts.push(ChannelAccountId(id));
        batch.rows.push(vec![
            Param::Uuid(id),
            Param::Uuid(ws),
            Param::Text(kind.into()),
            Param::Text(format!("Bench {kind}")),
            Param::Text(format!("bench-{kind}-{seed}")),
            Param::Text("{}".into()),
            Param::Text("{}".into()),
            Param::Bool(true),
            Param::Int(now_ms),
        ]);
    }
    batch.flush(&mut tx.conn()).await?;
    tx.commit().await?;

    let mut contacts =
        Batch::new("INSERT INTO contacts (id, workspace_id, name, email, phone, blocked, created_at, updated_at)");
    let mut handles = Batch::new("INSERT INTO contact_handles (workspace_id, contact_id, field, value, digits)");
    let mut identities = Batch::new(
        "INSERT INTO identities (id, workspace_id, contact_id, channel_account_id, external_id, name, phone, \
         created_at, last_inbound_at)",
    );
    let mut conversations = Batch::new(
        "INSERT INTO conversations (id, workspace_id, channel_account_id, kind, thread_key, contact_id, \
         last_inbound_at, created_at)",
    );
    let mut tickets = Batch::new(
        "INSERT INTO tickets (id, workspace_id, number, kind, status, priority, origin, subject, channel, \
         channel_account_id, conversation_id, contact_id, assignee_id, fields, created_at, updated_at, last_inbound_at)",
    );
    let mut tags = Batch::new("INSERT INTO ticket_tags (workspace_id, ticket_id, tag)");
    let mut messages = Batch::new(
        "INSERT INTO messages (id, workspace_id, conversation_id, ticket_id, channel_account_id, direction, \
         visibility, author_kind, author_id, body, platform_message_id, delivery_status, created_at)",
    );

    let mut done = 0;
    while done < size.tickets {
        let mut tx = db.begin().await?;
        let end = (done + TICKETS_PER_TX).min(size.tickets);
        for n in done..end {
            let account = rng.below(KINDS.len() as u64) as usize;
            let kind = KINDS[account];
            let account_id = accounts[account].0;
            let created = now_ms - (rng.below(year_ms as u64) as i64);
            let updated = (created + rng.below(3 * 24 * 3600 * 1000) as i64).min(now_ms);
            let name = format!("{} {}", rng.pick(&FIRST), rng.pick(&LAST));
            // A different number for every customer: `n` times a prime, modulo the range, is
            // a one-to-one map (numbers are identities, unique per line).
            let digits = format!("1{:010}", 2_000_000_000 + (n * 2_654_435_761 + seed) % 7_999_999_999);
            let phone = typed_phone(&digits, rng.next());
            let email = (rng.below(3) == 0).then(|| format!("customer{n}@mail.example"));
            let contact = Uuid::now_v7();
            let profile_phone = (kind == "whatsapp" || rng.below(4) == 0).then(|| phone.clone());
            contacts.rows.push(vec![
                Param::Uuid(contact),
                Param::Uuid(ws),
                Param::Text(name.clone()),
                opt_text(email.clone()),
                opt_text(profile_phone.clone()),
                Param::Bool(false),
                Param::Int(created),
                Param::Int(updated),
            ]);
            let external = match kind {
                "whatsapp" => digits.clone(),
                "telegram" | "line" | "instagram" | "messenger" => format!("{kind}-{n:09}"),
                _ => format!("api-{n}"),
            };
            // The same handles the product indexes for such a customer (`search::handles_of`).
            let identity = crate::search::IdentityHandleRow {
                kind: kind.to_owned(),
                external_id: external.clone(),
                name: Some(name.clone()),
                phone: (kind == "whatsapp").then(|| format!("+{digits}")),
                email: None,
                username: None,
            };
            let found_by =
                crate::search::handles_of(&(Some(name.clone()), email.clone(), profile_phone.clone()), &[identity]);
            for (field, value) in found_by {
                let digits = phone_digits(&value);
                handles.rows.push(vec![
                    Param::Uuid(ws),
                    Param::Uuid(contact),
                    Param::Text(field.into()),
                    Param::Text(value),
                    Param::Text(digits),
                ]);
            }
            identities.rows.push(vec![
                Param::Uuid(Uuid::now_v7()),
                Param::Uuid(ws),
                Param::Uuid(contact),
                Param::Uuid(account_id),
                Param::Text(external.clone()),
                Param::Text(name.clone()),
                opt_text((kind == "whatsapp").then(|| format!("+{digits}"))),
                Param::Int(created),
                Param::Int(updated),
            ]);
            let conversation = Uuid::now_v7();
            conversations.rows.push(vec![
                Param::Uuid(conversation),
                Param::Uuid(ws),
                Param::Uuid(account_id),
                Param::Text("direct".into()),
                Param::Text(external),
                Param::Uuid(contact),
                Param::Int(updated),
                Param::Int(created),
            ]);
            // A real inbox: most tickets are long closed, a few are waiting.
            let status = match rng.below(100) {
                0..=2 => "new",
                3..=6 => "open",
                7..=8 => "pending",
                9 => "on_hold",
                10..=14 => "solved",
                15 => "spam",
                _ => "closed",
            };
            let assignee = match status {
                "new" => (rng.below(4) == 0).then(|| agents[rng.below(agents.len() as u64) as usize].0),
                _ => (rng.below(10) != 0).then(|| agents[rng.below(agents.len() as u64) as usize].0),
            };
            let ticket = Uuid::now_v7();
            let first = body(&mut rng, n);
            tickets.rows.push(vec![
                Param::Uuid(ticket),
                Param::Uuid(ws),
                Param::Int(n as i64 + 1),
                Param::Text("direct".into()),
                Param::Text(status.into()),
                Param::Text("normal".into()),
                Param::Text("customer".into()),
                Param::Text(first.chars().take(80).collect()),
                Param::Text(kind.into()),
                Param::Uuid(account_id),
                Param::Uuid(conversation),
                Param::Uuid(contact),
                opt_uuid(assignee),
                Param::Text("{}".into()),
                Param::Int(created),
                Param::Int(updated),
                Param::Int(updated),
            ]);
            if kind != "api" {
                for tag in [kind, "messaging_support"] {
                    tags.rows.push(vec![Param::Uuid(ws), Param::Uuid(ticket), Param::Text(tag.into())]);
                }
            }
            if rng.below(20) == 0 {
                tags.rows.push(vec![Param::Uuid(ws), Param::Uuid(ticket), Param::Text("vip".into())]);
            }
            for m in 0..size.messages_per_ticket {
                let inbound = m % 2 == 0;
                let text = if m == 0 { first.clone() } else { body(&mut rng, n) };
                let at = created + (updated - created) * m as i64 / size.messages_per_ticket.max(1) as i64;
                messages.rows.push(vec![
                    Param::Uuid(Uuid::now_v7()),
                    Param::Uuid(ws),
                    Param::Uuid(conversation),
                    Param::Uuid(ticket),
                    Param::Uuid(account_id),
                    Param::Text(if inbound { "inbound" } else { "outbound" }.into()),
                    Param::Text("public".into()),
                    Param::Text(if inbound { "contact" } else { "agent" }.into()),
                    if inbound { Param::Uuid(contact) } else { opt_uuid(assignee) },
                    Param::Text(text),
                    Param::Text(format!("bench-{n}-{m}")),
                    opt_text((!inbound).then(|| "delivered".to_owned())),
                    Param::Int(at),
                ]);
            }
            // Messages fill first; everything is flushed together, parents before children.
            if messages.rows.len() >= rows_per_statement(db.backend()) {
                flush_all(
                    &mut tx,
                    [
                        &mut contacts,
                        &mut handles,
                        &mut identities,
                        &mut conversations,
                        &mut tickets,
                        &mut tags,
                        &mut messages,
                    ],
                )
                .await?;
            }
        }
        flush_all(
            &mut tx,
            [&mut contacts, &mut handles, &mut identities, &mut conversations, &mut tickets, &mut tags, &mut messages],
        )
        .await?;
        tx.commit().await?;
        done = end;
        progress(done, size.tickets);
    }
    let mut tx = db.begin().await?;
    with_conn!(&mut tx.conn(), c => {
        sqlx::query("UPDATE workspaces SET next_ticket_number = next_ticket_number + $1 WHERE id = $2")
            .bind(size.tickets as i64)
            .bind(ws)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    tx.commit().await?;
    Ok(Filled { agents, accounts })
}

/// A customer's or agent's sentence; one in a thousand carries a rare word to find.
fn body(rng: &mut Rng, n: u64) -> String {
    let words = 6 + rng.below(14);
    let mut out: Vec<String> = (0..words).map(|_| rng.pick(&WORDS).to_owned()).collect();
    if rng.below(1000) == 0 {
        out.push("zanzibar".into());
    }
    if rng.below(10) == 0 {
        out.push(format!("#{}", 100_000 + n));
    }
    out.join(" ")
}

fn opt_text(v: Option<String>) -> Param {
    Param::OptText(v)
}

fn opt_uuid(v: Option<Uuid>) -> Param {
    Param::OptUuid(v)
}

/// Refreshes the planner's statistics after a bulk fill (a planner that believes the tables
/// empty picks the wrong indexes) and, on SQLite, merges the full-text indexes' segments, as
/// FTS5's automatic merging would over the weeks a real inbox takes to grow this large.
pub async fn analyze(db: &Db) -> Result<()> {
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    if conn.backend() == crate::Backend::Sqlite {
        with_conn!(&mut conn, c => {
            sqlx::raw_sql(
                "INSERT INTO messages_fts (messages_fts) VALUES ('optimize'); \
                 INSERT INTO tickets_fts (tickets_fts) VALUES ('optimize'); \
                 INSERT INTO contact_handles_fts (contact_handles_fts) VALUES ('optimize');",
            )
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
    }
    with_conn!(&mut conn, c => {
        sqlx::raw_sql("ANALYZE").execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}
