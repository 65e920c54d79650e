//! Personal and shared views built from conditions (status, assignee, team, tags, channel,
//! kind), which become a query of the search language; and the search box's results page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_domain::{ChannelKind, TicketKind, TicketStatus, ViewColumn};
use switchboard_service::fields::FieldDef;
use switchboard_service::search::NewView;
use switchboard_service::views::columns_of;

use super::contacts::{TicketRow, ticket_row};
use super::tickets::Choice;
use super::{CsrfForm, Layout, Page, PageError, Session, see_other, view};
use crate::AppState;

#[derive(Template)]
#[template(path = "new_view.html")]
struct NewViewPage {
    layout: Layout,
    statuses: Vec<Choice>,
    assignees: Vec<Choice>,
    teams: Vec<Choice>,
    channels: Vec<Choice>,
    kinds: Vec<Choice>,
    admin: bool,
    /// Opened from the admin's views page: shared ticked, and back there once saved.
    shared: bool,
    from_admin: bool,
    columns: Vec<ColumnChoice>,
    /// A condition per custom field: (key, label, the choices of a select, or none for a text box).
    field_conditions: Vec<(String, String, Option<Vec<Choice>>)>,
    error: Option<String>,
}

/// A column of the chooser: ticked or not, and its number in the order.
pub struct ColumnChoice {
    pub id: String,
    pub label: String,
    pub checked: bool,
    /// Its place among the ticked ones (1 first); empty when unticked.
    pub order: String,
}

/// Every column there is (the fixed ones, then the custom fields), `chosen` ticked and numbered.
pub fn column_choices(fields: &[FieldDef], chosen: &[String]) -> Vec<ColumnChoice> {
    let all = ViewColumn::FIXED
        .iter()
        .map(|c| (c.id(), c.label().to_owned()))
        .map(|(id, label)| if id == "number" { (id, "Number".to_owned()) } else { (id, label) })
        .chain(fields.iter().map(|f| (ViewColumn::Field(f.key.clone()).id(), format!("{} (field)", f.label))));
    all.map(|(id, label)| {
        let place = chosen.iter().position(|c| *c == id);
        ColumnChoice {
            checked: place.is_some(),
            order: place.map(|p| (p + 1).to_string()).unwrap_or_default(),
            id,
            label,
        }
    })
    .collect()
}

/// The ticked columns in the order their numbers give (unnumbered ones last, as listed);
/// `None` when the form had no chooser.
pub fn chosen_columns(pairs: &[(String, String)]) -> Option<Vec<String>> {
    if !pairs.iter().any(|(k, _)| k == "columns") {
        return None;
    }
    let order = |id: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.strip_prefix("order.") == Some(id))
            .and_then(|(_, v)| v.trim().parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    };
    let mut ticked: Vec<(u32, usize, String)> = pairs
        .iter()
        .filter(|(k, _)| k == "column")
        .enumerate()
        .map(|(i, (_, id))| (order(id), i, id.clone()))
        .collect();
    ticked.sort();
    Some(ticked.into_iter().map(|(_, _, id)| id).collect())
}

fn choices<T: Copy>(all: &[T], value: impl Fn(T) -> &'static str, label: impl Fn(T) -> String) -> Vec<Choice> {
    all.iter().map(|x| Choice { value: value(*x).to_owned(), label: label(*x), selected: false }).collect()
}

async fn new_view_page(
    state: &AppState,
    session: &Session,
    from_admin: bool,
    chosen: Option<&[String]>,
    error: Option<String>,
) -> Result<NewViewPage, PageError> {
    let (agents, teams) = state.service.people(&session.session.actor).await?;
    let fields = state.service.list_fields(&session.session.actor).await?;
    let default = columns_of(None);
    let who = |label: &str, value: &str| Choice { value: value.to_owned(), label: label.to_owned(), selected: false };
    let mut assignees = vec![who("Anyone", ""), who("Me", "me"), who("Nobody", "none")];
    assignees.extend(agents.iter().filter(|a| a.active).map(|a| who(&a.name, &a.name)));
    let mut team_choices = vec![who("Any team", ""), who("No team", "none")];
    team_choices.extend(teams.iter().map(|t| who(&t.name, &t.name)));
    Ok(NewViewPage {
        layout: Layout::new(&session.session, "New view"),
        statuses: choices(&TicketStatus::ALL, TicketStatus::as_str, |s| view::status(s).to_owned()),
        assignees,
        teams: team_choices,
        channels: choices(&ChannelKind::ALL, ChannelKind::as_str, |c| view::channel(c).to_owned()),
        kinds: choices(&[TicketKind::Direct, TicketKind::Public, TicketKind::Review], TicketKind::as_str, |k| {
            k.as_str().to_owned()
        }),
        admin: session.session.actor.require_admin().is_ok(),
        shared: from_admin,
        from_admin,
        columns: column_choices(&fields, chosen.unwrap_or(&default)),
        field_conditions: fields
            .iter()
            .map(|f| {
                let choice = |label: &str, value: &str| Choice {
                    value: value.to_owned(),
                    label: label.to_owned(),
                    selected: false,
                };
                let choices = match f.kind.as_str() {
                    "dropdown" => Some(
                        std::iter::once(choice("Any", ""))
                            .chain(f.options.iter().map(|o| choice(o, o)))
                            .chain(std::iter::once(choice("Not set", "none")))
                            .collect(),
                    ),
                    "checkbox" => Some(vec![choice("Any", ""), choice("Yes", "yes"), choice("No", "no")]),
                    _ => None,
                };
                (f.key.clone(), f.label.clone(), choices)
            })
            .collect(),
        error,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct NewViewQuery {
    /// `admin`: a shared view made from the admin's views page.
    from: Option<String>,
}

/// `GET /views/new` (`?from=admin`: a shared view, back to `/admin/views` once saved)
pub async fn new_view_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NewViewQuery>,
) -> Result<Page, PageError> {
    let from_admin = q.from.as_deref() == Some("admin") && session.session.actor.require_admin().is_ok();
    Page::render(&new_view_page(&state, &session, from_admin, None, None).await?)
}

/// The conditions of the form. Lists come as repeated fields (`status=open&status=new`).
#[derive(Debug, Default)]
pub struct ViewForm {
    name: String,
    status: Vec<String>,
    assignee: String,
    team: String,
    tags: String,
    channel: Vec<String>,
    kind: Vec<String>,
    /// More conditions written in the search language.
    extra: String,
    /// Custom fields' conditions: (key, value as typed or picked).
    fields: Vec<(String, String)>,
    shared: bool,
    /// The ticked columns in their order, when the form had the chooser.
    columns: Option<Vec<String>>,
    from_admin: bool,
}

impl ViewForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self { columns: chosen_columns(&pairs), ..Self::default() };
        for (key, value) in pairs {
            match key.as_str() {
                "name" => form.name = value,
                "status" => form.status.push(value),
                "assignee" => form.assignee = value,
                "team" => form.team = value,
                "tags" => form.tags = value,
                "channel" => form.channel.push(value),
                "kind" => form.kind.push(value),
                "extra" => form.extra = value,
                "shared" => form.shared = true,
                "from" => form.from_admin = value == "admin",
                other => {
                    if let Some(key) = other.strip_prefix("field.")
                        && !value.trim().is_empty()
                    {
                        form.fields.push((key.to_owned(), value.trim().to_owned()));
                    }
                }
            }
        }
        form
    }
}

/// A value as the search language reads it: bare when it can be, quoted otherwise.
fn value(raw: &str) -> String {
    if !raw.is_empty() && !raw.chars().any(|c| c.is_whitespace() || c == '"') {
        raw.to_owned()
    } else {
        format!("\"{}\"", raw.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The conditions as query text: terms on one field are any-of, different fields all-of.
pub fn conditions_to_query(form: &ViewForm) -> String {
    let mut terms: Vec<String> = Vec::new();
    terms.extend(form.status.iter().map(|s| format!("status:{}", value(s))));
    if !form.assignee.is_empty() {
        terms.push(format!("assignee:{}", value(&form.assignee)));
    }
    if !form.team.is_empty() {
        terms.push(format!("team:{}", value(&form.team)));
    }
    terms.extend(form.tags.split([' ', ',']).filter(|t| !t.is_empty()).map(|t| format!("tags:{}", value(t))));
    terms.extend(form.channel.iter().map(|c| format!("channel:{}", value(c))));
    terms.extend(form.kind.iter().map(|k| format!("kind:{}", value(k))));
    // A key the parser refuses makes the query fail with where and why, like any typed term.
    terms.extend(form.fields.iter().map(|(key, v)| format!("field.{key}:{}", value(v))));
    if !form.extra.trim().is_empty() {
        terms.push(form.extra.trim().to_owned());
    }
    terms.join(" ")
}

/// `POST /views`: saves the view and opens it; a query that does not parse shows the form
/// again with where and why.
pub async fn create_view(
    State(state): State<AppState>,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let conditions = ViewForm::from_pairs(form.form);
    let new = NewView {
        name: conditions.name.clone(),
        query: conditions_to_query(&conditions),
        shared: conditions.shared,
        columns: conditions.columns.clone(),
    };
    match state.service.create_view(&form.session.session.actor, new).await {
        Ok(_) if conditions.from_admin => Ok(see_other("/admin/views")),
        Ok(saved) => Ok(see_other(&format!("/inbox?view={}", saved.id))),
        Err(err) => {
            let message = PageError::from(err).message();
            let page = new_view_page(
                &state,
                &form.session,
                conditions.from_admin,
                conditions.columns.as_deref(),
                Some(message),
            );
            let mut page = Page::render(&page.await?)?;
            page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page.into_response())
        }
    }
}

/// `POST /views/{id}/delete`
pub async fn delete_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: CsrfForm<super::extract::Empty>,
) -> Result<Response, PageError> {
    state.service.delete_view(&form.session.session.actor, &id).await?;
    Ok(see_other("/inbox"))
}

pub struct UserRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    users: Vec<UserRow>,
    tickets: Vec<TicketRow>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /search?q=`: customers and tickets; a query that does not parse says where and why.
pub async fn search(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let mut layout = Layout::new(&session.session, format!("Search: {}", q.q));
    layout.query = q.q.clone();
    let mut page = SearchPage { layout, users: Vec::new(), tickets: Vec::new(), error: None };
    if q.q.trim().is_empty() {
        return Ok(Page::render(&page)?.into_response());
    }
    match state.service.search(&session.session.actor, &q.q, 25).await {
        Ok(found) => {
            let now = state.service.now();
            page.users = found
                .users
                .into_iter()
                .map(|v| UserRow {
                    id: v.contact.id.0,
                    name: v.contact.name.unwrap_or_else(|| "Unnamed customer".into()),
                    detail: [v.contact.email, v.contact.phone].into_iter().flatten().collect::<Vec<_>>().join(" · "),
                })
                .collect();
            page.tickets = found.tickets.iter().map(|t| ticket_row(&t.ticket, now)).collect();
            Ok(Page::render(&page)?.into_response())
        }
        Err(switchboard_service::ServiceError::InvalidQuery(err)) => {
            page.error = Some(format!("At character {}: {}", err.position + 1, err.message));
            let mut rendered = Page::render(&page)?;
            rendered.0 = axum::http::StatusCode::BAD_REQUEST;
            Ok(rendered.into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_become_query_text_with_quotes_where_needed() {
        let form = ViewForm {
            name: "VIP on WhatsApp".into(),
            status: vec!["new".into(), "open".into()],
            assignee: "Ana Agent".into(),
            team: "none".into(),
            tags: "vip, urgent".into(),
            channel: vec!["whatsapp".into()],
            kind: vec!["direct".into()],
            fields: vec![("plan".into(), "Gold plus".into()), ("vip".into(), "yes".into())],
            ..ViewForm::default()
        };
        assert_eq!(
            conditions_to_query(&form),
            r#"status:new status:open assignee:"Ana Agent" team:none tags:vip tags:urgent channel:whatsapp kind:direct field.plan:"Gold plus" field.vip:yes"#
        );
        assert!(switchboard_domain::search::parse(&conditions_to_query(&form)).is_ok());
    }

    #[test]
    fn ticked_columns_come_in_the_order_of_their_numbers_unnumbered_last() {
        let pairs =
            |list: &[(&str, &str)]| list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let form = pairs(&[
            ("columns", "1"),
            ("column", "number"),
            ("order.number", ""),
            ("column", "subject"),
            ("order.subject", "2"),
            ("column", "field.plan"),
            ("order.field.plan", "1"),
            ("order.status", "3"),
            ("column", "tags"),
        ]);
        assert_eq!(
            chosen_columns(&form),
            Some(vec!["field.plan".into(), "subject".into(), "number".into(), "tags".into()])
        );
        assert_eq!(
            chosen_columns(&pairs(&[("columns", "1")])),
            Some(vec![]),
            "nothing ticked is a choice, refused later"
        );
        assert_eq!(chosen_columns(&pairs(&[("name", "x")])), None, "no chooser: the default columns");
    }
}
