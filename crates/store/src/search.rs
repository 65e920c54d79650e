//! Search (DESIGN §7): a parsed [`Query`] compiled to parameterised SQL, and the index of the
//! ways a contact can be found.
//!
//! Every value a user typed reaches the database as a bound parameter ([`Params`]); the SQL
//! text is built only from this file's constants. Full text is FTS5 on SQLite and `tsvector`
//! on PostgreSQL; substrings of names, e-mails, phone numbers and handles are trigram indexes
//! (FTS5 `trigram`, `pg_trgm`) over `contact_handles`, which holds each as typed (lowercased)
//! and as digits alone, so that `whatsapp:"123)123-3"` and `whatsapp:"1231233"` both find
//! `+1(123)123-3211`.

use std::collections::HashSet;

use switchboard_domain::search::{Clause, Condition, Date, Field, FieldValue, Op, Query, Value, Who, phone_digits};
use switchboard_domain::{AgentId, ChannelKind, ContactId, Origin, TicketStatus, WorkspaceId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::params::Params;
use crate::{Backend, Conn, Param, Result, to_millis, with_conn};

/// Who is searching and when: what `me` and relative dates mean.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub workspace: WorkspaceId,
    pub me: AgentId,
    pub now: OffsetDateTime,
}

/// The SQL condition, over `tickets t`, that `query`'s clauses put on a ticket (`1 = 1` when
/// it has none). User fields apply to the ticket's requester.
pub(crate) fn ticket_condition(
    backend: Backend,
    scope: &Scope,
    query: &Query,
    common: &HashSet<String>,
    p: &mut Params,
) -> String {
    let ws = p.push(Param::Uuid(scope.workspace.0));
    let mut cx = Cx { backend, scope, ws, p, common };
    let parts: Vec<String> = query.clauses().iter().filter_map(|c| cx.ticket_clause(c)).collect();
    if parts.is_empty() { "1 = 1".to_owned() } else { parts.join(" AND ") }
}

/// The SQL condition, over `contacts c`, for a user search; `None` when a clause names a
/// field users do not have (see [`applies_to_users`]).
pub(crate) fn contact_condition(backend: Backend, scope: &Scope, query: &Query, p: &mut Params) -> Option<String> {
    if !applies_to_users(query) {
        return None;
    }
    let ws = p.push(Param::Uuid(scope.workspace.0));
    let none = HashSet::new();
    let mut cx = Cx { backend, scope, ws, p, common: &none };
    let parts: Vec<String> = query.clauses().iter().filter_map(|c| cx.contact_clause(c)).collect();
    Some(if parts.is_empty() { "1 = 1".to_owned() } else { parts.join(" AND ") })
}

/// Whether every clause of `query` can be asked of a user: free text, the user fields, and
/// `created`/`updated`. A query with `status:` or `tags:` finds tickets only.
pub fn applies_to_users(query: &Query) -> bool {
    query.clauses().iter().all(|c| match c {
        Clause::Text { .. } => true,
        Clause::Field { field, .. } => field.is_user_field() || matches!(field, Field::Created | Field::Updated),
        Clause::Custom { .. } => false,
    })
}

/// The handle fields a keyword searches: `phone:` is any number the contact is known by.
fn handle_fields(field: Field) -> &'static [&'static str] {
    match field {
        Field::Phone => &["phone", "whatsapp"],
        Field::Whatsapp => &["whatsapp"],
        Field::Name => &["name"],
        Field::Email => &["email"],
        Field::Line => &["line"],
        Field::Instagram => &["instagram"],
        Field::X => &["x"],
        Field::Telegram => &["telegram"],
        _ => &[],
    }
}

/// A trigram index answers substrings of three characters or more; shorter ones are a scan.
const TRIGRAM: usize = 3;

struct Cx<'a> {
    backend: Backend,
    scope: &'a Scope,
    /// The placeholder of the workspace id.
    ws: String,
    p: &'a mut Params,
    /// Full-text terms whose every word is in many messages (see [`common_terms`]).
    common: &'a HashSet<String>,
}

impl Cx<'_> {
    fn text(&mut self, s: &str) -> String {
        self.p.push(Param::Text(s.to_owned()))
    }

    fn ticket_clause(&mut self, clause: &Clause) -> Option<String> {
        match clause {
            Clause::Text { negated, text, .. } => {
                let cond = self.full_text(text)?;
                Some(negate(*negated, cond))
            }
            Clause::Field { field, negated, any_of } => {
                let alternatives: Vec<String> = any_of.iter().map(|c| self.ticket_condition(*field, c)).collect();
                Some(negate(*negated, or(alternatives)))
            }
            Clause::Custom { key, negated, any_of } => {
                let alternatives: Vec<String> = any_of.iter().map(|(op, v)| self.custom_field(key, *op, v)).collect();
                Some(negate(*negated, or(alternatives)))
            }
        }
    }

    fn contact_clause(&mut self, clause: &Clause) -> Option<String> {
        match clause {
            Clause::Text { negated, text, .. } => {
                let cond = self.handle_match(&[], text, looks_like_number(text))?;
                Some(negate(*negated, format!("c.id IN ({cond})")))
            }
            // Users have no custom fields: `applies_to_users` keeps such queries away.
            Clause::Custom { .. } => Some("1 = 0".to_owned()),
            Clause::Field { field, negated, any_of } => {
                let alternatives: Vec<String> = any_of
                    .iter()
                    .map(|c| match (field, &c.value) {
                        (Field::Created, Value::Date(d)) => self.date("c.created_at", *d, c.op),
                        (Field::Updated, Value::Date(d)) => self.date("c.updated_at", *d, c.op),
                        (field, Value::Text(t)) => {
                            match self.handle_match(handle_fields(*field), t, field.is_phone()) {
                                Some(sub) => format!("c.id IN ({sub})"),
                                None => "1 = 1".to_owned(),
                            }
                        }
                        _ => "1 = 0".to_owned(),
                    })
                    .collect();
                Some(negate(*negated, or(alternatives)))
            }
        }
    }

    fn ticket_condition(&mut self, field: Field, c: &Condition) -> String {
        let ws = self.ws.clone();
        match (field, &c.value) {
            (Field::Status, Value::Status(status)) => {
                let rank = status_rank(*status);
                let matching: Vec<TicketStatus> = TicketStatus::ALL
                    .into_iter()
                    .filter(|s| {
                        let r = status_rank(*s);
                        match c.op {
                            Op::Eq => r == rank,
                            Op::Lt => r < rank,
                            Op::Le => r <= rank,
                            Op::Gt => r > rank,
                            Op::Ge => r >= rank,
                        }
                    })
                    .collect();
                if matching.is_empty() {
                    return "1 = 0".to_owned();
                }
                // Written literally (they are our names, never the user's text), in the order
                // of `TicketStatus::ALL`, so that a planner can match the partial indexes.
                let list: Vec<String> = matching.iter().map(|s| format!("'{}'", s.as_str())).collect();
                format!("t.status IN ({})", list.join(", "))
            }
            (Field::Assignee, Value::Who(who)) => match who {
                Who::Me => format!("t.assignee_id = {}", self.p.push(Param::Uuid(self.scope.me.0))),
                Who::None => "t.assignee_id IS NULL".to_owned(),
                Who::Text(name) => {
                    let like = self.text(&contains_pattern(name));
                    format!(
                        "t.assignee_id IN (SELECT a.id FROM agents a WHERE a.workspace_id = {ws} \
                         AND (LOWER(a.name) LIKE {like} ESCAPE '\\' OR LOWER(a.email) LIKE {like} ESCAPE '\\'))"
                    )
                }
            },
            (Field::Team, Value::Who(who)) => match who {
                Who::Me => format!(
                    "t.team_id IN (SELECT m.team_id FROM team_members m WHERE m.agent_id = {})",
                    self.p.push(Param::Uuid(self.scope.me.0))
                ),
                Who::None => "t.team_id IS NULL".to_owned(),
                Who::Text(name) => {
                    let like = self.text(&contains_pattern(name));
                    format!(
                        "t.team_id IN (SELECT g.id FROM teams g WHERE g.workspace_id = {ws} \
                         AND LOWER(g.name) LIKE {like} ESCAPE '\\')"
                    )
                }
            },
            (Field::Requester, Value::Who(who)) => match who {
                // An agent is never a ticket's customer.
                Who::Me => "1 = 0".to_owned(),
                Who::None => "t.contact_id IS NULL".to_owned(),
                Who::Text(text) => match self.handle_match(&[], text, looks_like_number(text)) {
                    Some(sub) => format!("t.contact_id IN ({sub})"),
                    None => "1 = 1".to_owned(),
                },
            },
            (Field::Tags, Value::Tag(tag)) => {
                let tag = self.text(tag.as_str());
                format!("EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = {tag})")
            }
            (Field::Channel, Value::Channel(kind)) => format!("t.channel = {}", self.text(kind.as_str())),
            (Field::Kind, Value::Kind(kind)) => format!("t.kind = {}", self.text(kind.as_str())),
            (Field::Origin, Value::Origin(origin)) => {
                let origin = match origin {
                    Origin::Customer => "customer",
                    Origin::Agent => "agent",
                };
                format!("t.origin = {}", self.text(origin))
            }
            (Field::Account, Value::Text(text)) => {
                let like = self.text(&contains_pattern(text));
                let digits = phone_digits(text);
                let by_digits = if looks_like_number(text) && !digits.is_empty() {
                    format!(" OR a.external_id LIKE {} ESCAPE '\\'", self.text(&contains_pattern(&digits)))
                } else {
                    String::new()
                };
                format!(
                    "t.channel_account_id IN (SELECT a.id FROM channel_accounts a WHERE a.workspace_id = {ws} \
                     AND (LOWER(a.name) LIKE {like} ESCAPE '\\' OR LOWER(a.external_id) LIKE {like} ESCAPE '\\'{by_digits}))"
                )
            }
            (Field::Created, Value::Date(d)) => self.date("t.created_at", *d, c.op),
            (Field::Updated, Value::Date(d)) => self.date("t.updated_at", *d, c.op),
            (Field::Subject, Value::Text(text)) => self.subject_match(text).unwrap_or_else(|| "1 = 1".to_owned()),
            (field, Value::Text(text)) if field.is_user_field() => {
                match self.handle_match(handle_fields(field), text, field.is_phone()) {
                    Some(sub) => format!("t.contact_id IN ({sub})"),
                    None => "1 = 1".to_owned(),
                }
            }
            // The parser pairs each field with its value type; any other pair matches nothing.
            _ => "1 = 0".to_owned(),
        }
    }

    /// `field.<key> op value` over the ticket's custom fields (`tickets.fields`, a JSON object
    /// kept as text). The key and value are bound; the JSON types and operators are ours. A
    /// value matches however the field keeps it: as text ignoring case, as a number, as a
    /// checkbox; comparisons take numbers as numbers and days as `YYYY-MM-DD` text.
    fn custom_field(&mut self, key: &str, op: Op, value: &FieldValue) -> String {
        // SQLite reads a JSON path (`$."key"`, the key being letters, digits and `_`); Postgres
        // the member by name.
        let (kind, text, number) = match self.backend {
            Backend::Sqlite => {
                let path = self.text(&format!("$.\"{key}\""));
                (
                    format!("json_type(t.fields, {path})"),
                    format!("json_extract(t.fields, {path})"),
                    format!("json_extract(t.fields, {path})"),
                )
            }
            Backend::Postgres => {
                let key = self.text(key);
                (
                    format!("jsonb_typeof(t.fields::jsonb -> {key})"),
                    format!("(t.fields::jsonb ->> {key})"),
                    format!("(t.fields::jsonb ->> {key})::float8"),
                )
            }
        };
        let (text_type, number_types, true_test, false_test) = match self.backend {
            Backend::Sqlite => {
                ("'text'", "('integer', 'real')", format!("{kind} = 'true'"), format!("{kind} = 'false'"))
            }
            Backend::Postgres => (
                "'string'",
                "('number')",
                format!("({kind} = 'boolean' AND {text} = 'true')"),
                format!("({kind} = 'boolean' AND {text} = 'false')"),
            ),
        };
        let FieldValue::Text(raw) = value else {
            return format!("COALESCE({kind}, 'null') = 'null'");
        };
        let sql_op = match op {
            Op::Eq => "=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
        };
        let mut alternatives = Vec::new();
        // CASE first tests the type, so Postgres never casts text to a number.
        let as_number = format!("CASE WHEN {kind} IN {number_types} THEN {number} END");
        if let Some(n) = value.number() {
            alternatives.push(format!("{as_number} {sql_op} {}", self.p.push(Param::Float(n))));
        }
        if op == Op::Eq {
            let lower = self.text(&raw.trim().to_lowercase());
            alternatives.push(format!("LOWER(CASE WHEN {kind} = {text_type} THEN {text} END) = {lower}"));
            match value.boolean() {
                Some(true) => alternatives.push(true_test),
                Some(false) => alternatives.push(false_test),
                None => {}
            }
        } else if let Some(day) = value.date() {
            let day = self.text(&format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day()));
            let shaped = match self.backend {
                Backend::Sqlite => format!("{text} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"),
                Backend::Postgres => format!("{text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'"),
            };
            alternatives.push(format!("CASE WHEN {kind} = {text_type} AND {shaped} THEN {text} END {sql_op} {day}"));
        }
        or(alternatives)
    }

    fn date(&mut self, column: &str, date: Date, op: Op) -> String {
        let span = date.span(op, self.scope.now);
        let mut parts = Vec::new();
        if let Some(from) = span.from {
            parts.push(format!("{column} >= {}", self.p.push(Param::Int(to_millis(from)))));
        }
        if let Some(until) = span.until {
            parts.push(format!("{column} < {}", self.p.push(Param::Int(to_millis(until)))));
        }
        if parts.is_empty() { "1 = 1".to_owned() } else { format!("({})", parts.join(" AND ")) }
    }

    /// A ticket whose subject or any message contains the words of `text`, in order.
    /// `None` when `text` has no word to look for (punctuation alone).
    fn full_text(&mut self, text: &str) -> Option<String> {
        if !text.chars().any(char::is_alphanumeric) {
            return None;
        }
        Some(match self.backend {
            Backend::Sqlite => {
                let m = self.text(&fts_string(text));
                if self.common.contains(text) {
                    // A common word: collecting every match would read a large part of the
                    // index, while the newest tickets are likely to hold it. The list's own
                    // index order drives, and each ticket's few messages are probed.
                    format!(
                        "(EXISTS (SELECT 1 FROM tickets_fts WHERE tickets_fts MATCH {m} AND tickets_fts.rowid = t.rowid) \
                         OR EXISTS (SELECT 1 FROM messages m CROSS JOIN messages_fts f ON f.rowid = m.rowid \
                         WHERE m.ticket_id = t.id AND f.messages_fts MATCH {m}))"
                    )
                } else {
                    format!(
                        "(t.rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH {m}) \
                         OR t.id IN (SELECT m.ticket_id FROM messages m WHERE m.rowid IN \
                         (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {m})))"
                    )
                }
            }
            Backend::Postgres => {
                let q = self.text(text);
                // One UNION of two index lookups: an OR of the two would make the planner
                // compute every ticket's subject vector instead of using its index.
                format!(
                    "t.id IN (SELECT s.id FROM tickets s WHERE s.workspace_id = {ws} AND \
                     to_tsvector('simple', COALESCE(s.subject, '')) @@ phraseto_tsquery('simple', {q}) \
                     UNION SELECT m.ticket_id FROM messages m WHERE m.workspace_id = {ws} AND \
                     to_tsvector('simple', COALESCE(m.body, '')) @@ phraseto_tsquery('simple', {q}))",
                    ws = self.ws
                )
            }
        })
    }

    fn subject_match(&mut self, text: &str) -> Option<String> {
        if !text.chars().any(char::is_alphanumeric) {
            return None;
        }
        Some(match self.backend {
            Backend::Sqlite => {
                let m = self.text(&fts_string(text));
                format!("t.rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH {m})")
            }
            Backend::Postgres => {
                let q = self.text(text);
                format!("to_tsvector('simple', COALESCE(t.subject, '')) @@ phraseto_tsquery('simple', {q})")
            }
        })
    }

    /// `SELECT h.contact_id …` of the handles (of `fields`, or any field when empty) that
    /// contain `text` as typed — or, with `by_digits`, whose digits contain its digits.
    /// `None` when there is nothing to look for.
    fn handle_match(&mut self, fields: &[&str], text: &str, by_digits: bool) -> Option<String> {
        let value = text.trim().to_lowercase();
        let digits = if by_digits { phone_digits(text) } else { String::new() };
        if value.is_empty() {
            return None;
        }
        let mut wheres = vec![format!("h.workspace_id = {}", self.ws)];
        if !fields.is_empty() {
            let list: Vec<String> = fields.iter().map(|f| self.text(f)).collect();
            wheres.push(format!("h.field IN ({})", list.join(", ")));
        }
        let mut any = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                // Long enough terms are looked up in the trigram index; shorter ones scan.
                let mut fts = Vec::new();
                for (column, term) in [("value", &value), ("digits", &digits)] {
                    if term.is_empty() {
                        continue;
                    }
                    if term.chars().count() >= TRIGRAM {
                        fts.push(format!("{column} : {}", fts_string(term)));
                    } else {
                        any.push(format!("h.{column} LIKE {} ESCAPE '\\'", self.text(&contains_pattern(term))));
                    }
                }
                if !fts.is_empty() {
                    let m = self.text(&fts.join(" OR "));
                    any.push(format!(
                        "h.rowid IN (SELECT rowid FROM contact_handles_fts WHERE contact_handles_fts MATCH {m})"
                    ));
                }
            }
            Backend::Postgres => {
                for (column, term) in [("value", &value), ("digits", &digits)] {
                    if !term.is_empty() {
                        any.push(format!("h.{column} LIKE {} ESCAPE '\\'", self.text(&contains_pattern(term))));
                    }
                }
            }
        }
        wheres.push(or(any));
        Some(format!("SELECT h.contact_id FROM contact_handles h WHERE {}", wheres.join(" AND ")))
    }
}

/// `NOT` that treats "unknown" (a NULL column) as "does not match", so `-assignee:me` keeps
/// unassigned tickets.
fn negate(negated: bool, cond: String) -> String {
    if negated { format!("NOT COALESCE(({cond}), FALSE)") } else { cond }
}

fn or(alternatives: Vec<String>) -> String {
    match alternatives.len() {
        0 => "1 = 0".to_owned(),
        1 => alternatives.into_iter().next().unwrap_or_default(),
        _ => format!("({})", alternatives.join(" OR ")),
    }
}

/// A term is read as a number when it has digits and no letters: `+1 (123)`, `3211`.
fn looks_like_number(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit()) && !text.chars().any(char::is_alphabetic)
}

/// The position of a status in new < open < pending < on_hold < solved < closed < spam.
pub fn status_rank(status: TicketStatus) -> i64 {
    TicketStatus::ALL.iter().position(|s| *s == status).unwrap_or(0) as i64
}

/// `%text%` for `LIKE … ESCAPE '\'`, lowercased, its wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 string: the text in double quotes (its own quotes doubled), which FTS5 reads as
/// the phrase of its tokens — never as query syntax.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A word in more messages than this is "common": cheaper to find by probing the newest
/// tickets than by collecting every match (about `sqrt(page × messages)` at inbox scale).
const COMMON_WORD_MESSAGES: i64 = 20_000;

/// The free-text terms of `query` that are one word found in more than [`COMMON_WORD_MESSAGES`]
/// messages (SQLite only: PostgreSQL's planner weighs this itself from its statistics).
pub(crate) async fn common_terms(conn: &mut Conn<'_>, query: &Query) -> Result<HashSet<String>> {
    let mut common = HashSet::new();
    if conn.backend() != Backend::Sqlite {
        return Ok(common);
    }
    for clause in query.clauses() {
        let Clause::Text { text, negated: false, .. } = clause else { continue };
        let words: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        // A phrase is far rarer than its words: collecting its matches stays cheap.
        if words.len() != 1 {
            continue;
        }
        let mut rarest = i64::MAX;
        for word in &words {
            let docs: Option<i64> = with_conn!(conn, c => {
                sqlx::query_scalar("SELECT doc FROM messages_fts_vocab WHERE term = $1")
                    .bind(word)
                    .fetch_optional(&mut *c)
                    .await?
            });
            rarest = rarest.min(docs.unwrap_or(0));
        }
        if rarest > COMMON_WORD_MESSAGES {
            common.insert(text);
        }
    }
    Ok(common)
}

// ---------------------------------------------------------------- the handle index

/// The keyword field a line's identities answer to, if any.
fn identity_field(kind: ChannelKind) -> Option<&'static str> {
    match kind {
        ChannelKind::Whatsapp => Some("whatsapp"),
        ChannelKind::Line => Some("line"),
        ChannelKind::Instagram => Some("instagram"),
        ChannelKind::X => Some("x"),
        ChannelKind::Telegram => Some("telegram"),
        ChannelKind::Twilio | ChannelKind::Dialpad | ChannelKind::Justcall => Some("phone"),
        ChannelKind::Email => Some("email"),
        _ => None,
    }
}

/// Every (field, text) a contact can be found by: its profile, and each identity's id,
/// username, name, phone and e-mail under the field of its line. A WhatsApp customer's
/// profile phone, as an agent typed it, is also their WhatsApp number.
pub(crate) fn handles_of(
    profile: &(Option<String>, Option<String>, Option<String>),
    identities: &[IdentityHandleRow],
) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut add = |field: &'static str, value: &Option<String>| {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let v = v.to_lowercase();
            if !out.iter().any(|(f, x)| *f == field && *x == v) {
                out.push((field, v));
            }
        }
    };
    let (name, email, phone) = profile;
    add("name", name);
    add("email", email);
    add("phone", phone);
    for identity in identities {
        add("name", &identity.name);
        add("email", &identity.email);
        add("phone", &identity.phone);
        let Some(field) = identity.kind.parse().ok().and_then(identity_field) else { continue };
        add(field, &Some(identity.external_id.clone()));
        add(field, &identity.username);
        if field == "whatsapp" {
            add(field, &identity.phone);
            add(field, phone);
        }
    }
    out
}

/// An identity as the handle index reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct IdentityHandleRow {
    pub kind: String,
    pub external_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
}

/// Rebuilds the handles of `contact` from its profile and identities (none once it is merged
/// into another). Called in the transaction that changed them.
pub async fn reindex_contact(conn: &mut Conn<'_>, contact: ContactId) -> Result<()> {
    type Profile = (Uuid, Option<String>, Option<String>, Option<String>, Option<Uuid>);
    let (profile, identities): (Option<Profile>, Vec<IdentityHandleRow>) = with_conn!(conn, c => {
        sqlx::query("DELETE FROM contact_handles WHERE contact_id = $1").bind(contact.0).execute(&mut *c).await?;
        let profile = sqlx::query_as(
            "SELECT workspace_id, name, email, phone, merged_into FROM contacts WHERE id = $1",
        )
        .bind(contact.0)
        .fetch_optional(&mut *c)
        .await?;
        let identities = sqlx::query_as(
            "SELECT a.kind, i.external_id, i.name, i.phone, i.email, i.username FROM identities i \
             JOIN channel_accounts a ON a.id = i.channel_account_id WHERE i.contact_id = $1 ORDER BY i.created_at",
        )
        .bind(contact.0)
        .fetch_all(&mut *c)
        .await?;
        (profile, identities)
    });
    let Some((workspace, name, email, phone, merged_into)) = profile else { return Ok(()) };
    if merged_into.is_some() {
        return Ok(());
    }
    let handles = handles_of(&(name, email, phone), &identities);
    if handles.is_empty() {
        return Ok(());
    }
    let mut p = Params::default();
    let rows: Vec<String> = handles
        .iter()
        .map(|(field, value)| {
            format!(
                "({}, {}, {}, {}, {})",
                p.push(Param::Uuid(workspace)),
                p.push(Param::Uuid(contact.0)),
                p.push(Param::Text((*field).to_owned())),
                p.push(Param::Text(value.clone())),
                p.push(Param::Text(phone_digits(value))),
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO contact_handles (workspace_id, contact_id, field, value, digits) VALUES {}",
        rows.join(", ")
    );
    with_conn!(conn, c => {
        crate::bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql)), &p.0).execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// Indexes every contact that has no handles yet: the contacts made before search existed.
pub(crate) async fn reindex_unindexed(conn: &mut Conn<'_>) -> Result<()> {
    let ids: Vec<Uuid> = with_conn!(conn, c => {
        sqlx::query_scalar(
            "SELECT id FROM contacts WHERE merged_into IS NULL \
             AND NOT EXISTS (SELECT 1 FROM contact_handles h WHERE h.contact_id = contacts.id)",
        )
        .fetch_all(&mut *c)
        .await?
    });
    for id in ids {
        reindex_contact(conn, id.into()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern(" 50%_off\\ "), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn fts_strings_are_always_one_quoted_phrase() {
        assert_eq!(fts_string(r#"a" OR b"#), r#""a"" OR b""#);
    }

    #[test]
    fn a_whatsapp_customer_is_found_by_the_profile_phone_as_typed() {
        let identity = IdentityHandleRow {
            kind: "whatsapp".into(),
            external_id: "11231233211".into(),
            name: Some("Ana".into()),
            phone: Some("+11231233211".into()),
            email: None,
            username: None,
        };
        let handles = handles_of(&(Some("Ana Lima".into()), None, Some("+1(123)123-3211".into())), &[identity]);
        assert!(handles.contains(&("whatsapp", "+1(123)123-3211".to_owned())));
        assert!(handles.contains(&("whatsapp", "11231233211".to_owned())));
        assert!(handles.contains(&("name", "ana".to_owned())));
        assert!(handles.contains(&("phone", "+1(123)123-3211".to_owned())));
    }

    #[test]
    fn numbers_are_terms_with_digits_and_no_letters() {
        assert!(looks_like_number("+1 (123) 123-3211"));
        assert!(!looks_like_number("order 12"));
        assert!(!looks_like_number("---"));
    }
}
