//! The inbox: the views list with counts and a view's tickets (cursor pages), and the
//! notifier of the top bar (DESIGN §5).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_service::notifier::{Activity, NotifierRow};
use switchboard_service::search::ViewSummary;
use uuid::Uuid;

use super::view_table::{Table, table};
use super::{Layout, Page, PageError, Session, view};
use crate::AppState;
use crate::dto::{decode_cursor, encode_cursor};

/// A view of the list on the left.
pub struct ViewLink {
    pub id: String,
    pub name: String,
    pub count: String,
    pub selected: bool,
    /// Saved (not built-in) views can be deleted by their owner.
    pub deletable: bool,
    pub shared: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    views: Vec<ViewLink>,
    view_name: String,
    view_query: String,
    /// The view's tickets in its columns.
    table: Table,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    view: Option<String>,
    cursor: Option<String>,
}

fn view_links(views: Vec<ViewSummary>, selected: &str) -> Vec<ViewLink> {
    views
        .into_iter()
        .map(|v| ViewLink {
            selected: v.id == selected,
            count: if v.count_capped { format!("{}+", v.count) } else { v.count.to_string() },
            deletable: !v.builtin,
            shared: v.shared && !v.builtin,
            id: v.id,
            name: v.name,
        })
        .collect()
}

/// `GET /` and `GET /inbox?view=…&cursor=…`
pub async fn inbox(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InboxQuery>,
) -> Result<Page, PageError> {
    let actor = &session.session.actor;
    let view_id = q.view.unwrap_or_else(|| "mine".to_owned());
    let cursor = decode_cursor(q.cursor.as_deref()).map_err(|e| PageError::bad_request(e.message))?;
    let views = state.service.list_views(actor).await?;
    let current = views.iter().find(|v| v.id == view_id).ok_or_else(PageError::not_found)?;
    let (view_name, view_query) = (current.name.clone(), current.query.clone());
    let rows = state.service.view_table(actor, &view_id, cursor, 25).await?;
    let now = state.service.now();
    let next = encode_cursor(rows.page.next_cursor).map(|c| {
        form_urlencoded::Serializer::new(String::new()).append_pair("view", &view_id).append_pair("cursor", &c).finish()
    });
    let page = InboxPage {
        layout: Layout::new(&session.session, view_name.clone()),
        views: view_links(views, &view_id),
        table: table(&rows, now),
        view_name,
        view_query,
        next,
    };
    Page::render(&page)
}

pub struct NotifierLine {
    pub id: Uuid,
    pub number: i64,
    pub status: &'static str,
    pub status_class: &'static str,
    pub channel: &'static str,
    pub channel_class: &'static str,
    pub customer: String,
    pub activity: &'static str,
    pub when: String,
}

struct NotifierPanel {
    assigned: Vec<NotifierLine>,
    unassigned: Vec<NotifierLine>,
    waiting: bool,
    more_assigned: bool,
    more_unassigned: bool,
}

#[derive(Template)]
#[template(path = "notifier_fragment.html")]
struct NotifierFragment {
    panel: NotifierPanel,
}

#[derive(Template)]
#[template(path = "notifier_page.html")]
struct NotifierPage {
    layout: Layout,
    panel: NotifierPanel,
}

#[derive(Debug, Default, Deserialize)]
pub struct NotifierQuery {
    /// Only the panel, for the top bar's script.
    fragment: Option<String>,
}

fn line(r: &NotifierRow, now: time::OffsetDateTime) -> NotifierLine {
    NotifierLine {
        id: r.ticket_id.0,
        number: r.number,
        status: view::status(r.status),
        status_class: r.status.as_str(),
        channel: view::channel(r.channel),
        channel_class: r.channel.as_str(),
        // A public thread has no one customer: its subject (the post) names it.
        customer: r.customer.clone().or_else(|| r.subject.clone()).unwrap_or_else(|| "Unnamed customer".into()),
        activity: match r.activity {
            Activity::StartedNewChat => "Started a new chat",
            Activity::Replied => "Replied to the conversation",
        },
        when: view::ago(now, r.updated_at),
    }
}

/// `GET /notifier`: the notifier as a page, or (`?fragment=1`) the panel the top bar shows.
pub async fn notifier(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NotifierQuery>,
) -> Result<Response, PageError> {
    let n = state.service.notifier(&session.session.actor).await?;
    let now = state.service.now();
    let rows = switchboard_service::notifier::NOTIFIER_ROWS as usize;
    let panel = NotifierPanel {
        more_assigned: n.assigned.len() >= rows,
        more_unassigned: n.unassigned.len() >= rows,
        assigned: n.assigned.iter().map(|r| line(r, now)).collect(),
        unassigned: n.unassigned.iter().map(|r| line(r, now)).collect(),
        waiting: n.unassigned_waiting,
    };
    if q.fragment.is_some() {
        return Ok(Page::render(&NotifierFragment { panel })?.into_response());
    }
    let page = NotifierPage { layout: Layout::new(&session.session, "Notifications"), panel };
    Ok(Page::render(&page)?.into_response())
}
