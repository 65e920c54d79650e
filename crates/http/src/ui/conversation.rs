//! A ticket's conversation and event log as the ticket page shows them: who wrote, when, the
//! delivery ticks and the platform's error; each event in words.

use std::collections::HashMap;

use switchboard_domain::{AuthorKind, Direction, Event, Message, Visibility};
use time::OffsetDateTime;
use uuid::Uuid;

use super::view;

pub struct MessageRow {
    /// inbound, outbound or note
    pub class: &'static str,
    pub author: String,
    pub body: String,
    pub when: String,
    pub ticks: &'static str,
    pub delivery: &'static str,
    pub error: Option<String>,
    pub template: Option<String>,
    pub attachments: Vec<(String, String)>,
}

pub struct EventRow {
    pub when: String,
    pub who: String,
    pub text: String,
}

pub fn message_row(m: &Message, names: &HashMap<Uuid, String>, now: OffsetDateTime) -> MessageRow {
    let author = match (m.author_kind, m.author_id.and_then(|id| names.get(&id))) {
        (_, Some(name)) => name.clone(),
        (AuthorKind::Contact, None) => "Customer".into(),
        (AuthorKind::Agent, None) => "Agent".into(),
        (AuthorKind::Automation, None) => "Automation".into(),
        (AuthorKind::System, None) => "Switchboard".into(),
    };
    let (ticks, delivery) = view::delivery(m.delivery_status);
    let attachments = m
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let label = a.filename.clone().unwrap_or_else(|| a.kind.clone());
            // Only web links are linked as they are: never a `javascript:` or `data:` URL.
            let web = a.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"));
            let href = match (m.direction, web) {
                (Direction::Inbound, _) | (_, None) => format!("/api/v1/messages/{}/attachments/{i}", m.id.0),
                (_, Some(url)) => url.to_owned(),
            };
            (label, href)
        })
        .collect();
    MessageRow {
        class: match (m.direction, m.visibility) {
            (Direction::Note, _) | (_, Visibility::Internal) => "note",
            (Direction::Inbound, _) => "inbound",
            (Direction::Outbound, _) => "outbound",
        },
        author,
        body: m.body.clone().unwrap_or_default(),
        when: view::ago(now, m.created_at),
        ticks,
        delivery,
        error: m.error.as_ref().map(|e| format!("{} ({})", e.message, e.code)),
        template: m.template.as_ref().and_then(|t| t["name"].as_str()).map(str::to_owned),
        attachments,
    }
}

pub fn event_row(e: &Event, names: &HashMap<Uuid, String>, teams: &[switchboard_domain::Team]) -> EventRow {
    let d = &e.data;
    let s = |key: &str| d[key].as_str().unwrap_or("").to_owned();
    let name_of =
        |key: &str| d[key].as_str().and_then(|id| id.parse::<Uuid>().ok()).and_then(|id| names.get(&id).cloned());
    let text = match e.kind.as_str() {
        "created" => format!("Ticket created ({})", s("channel")),
        "status_changed" => format!("Status {} → {}", s("from"), s("to")),
        "assigned" => match name_of("to") {
            Some(n) => format!("Assigned to {n}"),
            None => "Unassigned".into(),
        },
        "team_changed" => {
            let to = d["to"].as_str().and_then(|id| teams.iter().find(|t| t.id.0.to_string() == id));
            match to {
                Some(team) => format!("Team set to {}", team.name),
                None => "Team removed".into(),
            }
        }
        "tag_added" => format!("Tag added: {}", s("tag")),
        "tag_removed" => format!("Tag removed: {}", s("tag")),
        "field_changed" => {
            format!("{} set to {}", s("field"), if d["to"].is_null() { "nothing".into() } else { d["to"].to_string() })
        }
        "priority_changed" => format!("Priority {} → {}", s("from"), s("to")),
        "message_queued" => "Reply queued".into(),
        "message_sent" => {
            let text = s("text");
            if text.is_empty() { "Reply sent".into() } else { format!("Reply {text}") }
        }
        "note_added" => "Internal note added".into(),
        "delivery_failed" => format!("Delivery failed: {} ({})", s("error"), s("code")),
        "merged" => "Contact merged".into(),
        "message_received" => "Customer wrote".into(),
        other => other.replace('_', " "),
    };
    let who = match (e.actor_kind, e.actor_id.and_then(|id| names.get(&id))) {
        (_, Some(n)) => n.clone(),
        (AuthorKind::Contact, None) => "Customer".into(),
        _ => "Switchboard".into(),
    };
    EventRow { when: view::when(e.created_at), who, text }
}
