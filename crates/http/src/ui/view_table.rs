//! A view's ticket table in the inbox: the columns its admin chose, in their order, each cell
//! as text (names come from the view's table read, loaded once per page).

use switchboard_domain::ViewColumn;
use switchboard_service::views::ViewTable;
use time::OffsetDateTime;

use super::view;

/// One cell: its text, a link (the subject) or a status badge, and whether it is secondary.
pub struct Cell {
    pub text: String,
    pub link: Option<String>,
    /// The status class of a badge.
    pub badge: Option<&'static str>,
    pub muted: bool,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Cell { text: text.into(), link: None, badge: None, muted: false }
    }

    fn muted(text: impl Into<String>) -> Self {
        Cell { muted: true, ..Cell::text(text) }
    }
}

/// The headers and rows of a view's table.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A custom field's value as text: strings as they are, yes/no for a checkbox, numbers as written.
fn field_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_owned(),
        Some(other) => other.to_string(),
    }
}

fn cell(column: &ViewColumn, table: &ViewTable, t: &switchboard_domain::Ticket, now: OffsetDateTime) -> Cell {
    let name = |found: Option<&String>| found.cloned().unwrap_or_default();
    match column {
        ViewColumn::Number => Cell::text(t.number.to_string()),
        ViewColumn::Subject => Cell {
            link: Some(format!("/tickets/{}", t.id.0)),
            ..Cell::text(t.subject.clone().unwrap_or_else(|| "(no subject)".into()))
        },
        ViewColumn::Requester => Cell::text(match t.contact_id {
            Some(id) => table.requesters.get(&id).cloned().unwrap_or_else(|| "Unnamed customer".into()),
            None => String::new(),
        }),
        ViewColumn::Status => Cell { badge: Some(t.status.as_str()), ..Cell::text(view::status(t.status)) },
        ViewColumn::Priority => Cell::text(view::priority(t.priority)),
        ViewColumn::Channel => Cell::text(view::channel(t.channel)),
        ViewColumn::Account => Cell::text(name(table.accounts.get(&t.channel_account_id))),
        ViewColumn::Assignee => Cell::text(name(t.assignee_id.and_then(|a| table.agents.get(&a)))),
        ViewColumn::Team => Cell::text(name(t.team_id.and_then(|a| table.teams.get(&a)))),
        ViewColumn::Tags => Cell::text(t.tags.join(", ")),
        ViewColumn::Created => Cell::muted(view::when(t.created_at)),
        ViewColumn::Updated => Cell::muted(view::ago(now, t.updated_at)),
        ViewColumn::Field(key) => Cell::text(field_text(t.fields.get(key))),
    }
}

/// The table of a view's page.
pub fn table(table: &ViewTable, now: OffsetDateTime) -> Table {
    let headers = table
        .columns
        .iter()
        .map(|c| match c {
            ViewColumn::Field(key) => table.field_labels.get(key).cloned().unwrap_or_else(|| key.clone()),
            fixed => fixed.label().to_owned(),
        })
        .collect();
    let rows = table
        .page
        .tickets
        .iter()
        .map(|t| table.columns.iter().map(|c| cell(c, table, &t.ticket, now)).collect())
        .collect();
    Table { headers, rows }
}
