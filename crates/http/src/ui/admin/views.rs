//! `/admin/views`: the shared views in their order (move up, move down), editing one's name,
//! query and columns, and deleting it. New shared views are made with the conditions form of
//! `/views/new?from=admin`, which comes back here.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use switchboard_domain::ViewColumn;
use switchboard_service::fields::FieldDef;
use switchboard_service::views::{ViewPatch, columns_of};
use uuid::Uuid;

use super::{AdminForm, AdminSession, Nav, layout};
use crate::AppState;
use crate::ui::extract::Empty;
use crate::ui::views::{ColumnChoice, chosen_columns, column_choices};
use crate::ui::{Layout, Page, PageError, Session, see_other};

type Pairs = Vec<(String, String)>;

/// A shared view's row, with the whole order its Move up / Move down buttons would post.
pub struct ViewRow {
    pub id: Uuid,
    pub name: String,
    pub query: String,
    /// The column headers, joined.
    pub columns: String,
    pub up: Option<Vec<Uuid>>,
    pub down: Option<Vec<Uuid>>,
}

#[derive(Template)]
#[template(path = "admin/views.html")]
struct ViewsPage {
    layout: Layout,
    nav: Nav,
    views: Vec<ViewRow>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/view.html")]
struct ViewPage {
    layout: Layout,
    nav: Nav,
    id: Uuid,
    title: String,
    name: String,
    query: String,
    columns: Vec<ColumnChoice>,
    error: Option<String>,
}

fn column_label(id: &str, fields: &[FieldDef]) -> String {
    match ViewColumn::parse(id) {
        Some(ViewColumn::Field(key)) => fields.iter().find(|f| f.key == key).map_or(key, |f| f.label.clone()),
        Some(ViewColumn::Number) => "Number".to_owned(),
        Some(fixed) => fixed.label().to_owned(),
        None => id.to_owned(),
    }
}

/// `order` with the items at `a` and `b` swapped.
fn swapped(order: &[Uuid], a: usize, b: usize) -> Vec<Uuid> {
    let mut order = order.to_vec();
    order.swap(a, b);
    order
}

fn status_of(page: Page, failed: bool) -> Response {
    let mut page = page;
    if failed {
        page.0 = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    page.into_response()
}

async fn views_page(state: &AppState, session: &Session, error: Option<String>) -> Result<Response, PageError> {
    let actor = &session.session.actor;
    let shared = state.service.shared_views(actor).await?;
    let fields = state.service.list_fields(actor).await?;
    let order: Vec<Uuid> = shared.iter().map(|v| v.id).collect();
    let last = order.len().saturating_sub(1);
    let views = shared
        .into_iter()
        .enumerate()
        .map(|(i, v)| ViewRow {
            columns: columns_of(v.columns.as_deref())
                .iter()
                .map(|c| column_label(c, &fields))
                .collect::<Vec<_>>()
                .join(", "),
            up: (i > 0).then(|| swapped(&order, i - 1, i)),
            down: (i < last).then(|| swapped(&order, i, i + 1)),
            id: v.id,
            name: v.name,
            query: v.query,
        })
        .collect();
    let failed = error.is_some();
    let page =
        Page::render(&ViewsPage { layout: layout(session, "Views"), nav: Nav { current: "views" }, views, error })?;
    Ok(status_of(page, failed))
}

/// `GET /admin/views`
pub async fn list_views(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Response, PageError> {
    views_page(&state, &session, None).await
}

/// `POST /admin/views/order`: `ids` in their new order (what a Move button carries). A page
/// that another admin's change made stale is refused and shown again as it now is.
pub async fn order_views(State(state): State<AppState>, form: AdminForm<Pairs>) -> Result<Response, PageError> {
    let ids: Vec<String> = form.form.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect();
    match state.service.reorder_views(&form.session.session.actor, &ids).await {
        Ok(_) => Ok(see_other("/admin/views")),
        Err(err) => views_page(&state, &form.session, Some(PageError::from(err).message())).await,
    }
}

struct Draft {
    name: String,
    query: String,
    columns: Vec<String>,
}

async fn view_page(
    state: &AppState,
    session: &Session,
    id: Uuid,
    draft: Option<Draft>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let actor = &session.session.actor;
    let view = state.service.saved_view(actor, &id.to_string()).await?;
    let fields = state.service.list_fields(actor).await?;
    let draft = draft.unwrap_or_else(|| Draft {
        columns: columns_of(view.columns.as_deref()),
        name: view.name.clone(),
        query: view.query.clone(),
    });
    let failed = error.is_some();
    let page = Page::render(&ViewPage {
        layout: layout(session, &format!("View {}", view.name)),
        nav: Nav { current: "views" },
        id,
        title: view.name,
        columns: column_choices(&fields, &draft.columns),
        name: draft.name,
        query: draft.query,
        error,
    })?;
    Ok(status_of(page, failed))
}

/// `GET /admin/views/{id}`
pub async fn edit_view(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    view_page(&state, &session, id, None, None).await
}

/// `POST /admin/views/{id}`: name, query and columns; a refusal shows the form again as sent.
pub async fn update_view(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Pairs>,
) -> Result<Response, PageError> {
    let text = |key: &str| form.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    let columns = chosen_columns(&form.form).unwrap_or_default();
    let patch = ViewPatch { name: Some(text("name")), query: Some(text("query")), columns: Some(columns.clone()) };
    match state.service.update_view(&form.session.session.actor, &id.to_string(), patch).await {
        Ok(_) => Ok(see_other("/admin/views")),
        Err(err) => {
            let draft = Draft { name: text("name"), query: text("query"), columns };
            view_page(&state, &form.session, id, Some(draft), Some(PageError::from(err).message())).await
        }
    }
}

/// `POST /admin/views/{id}/delete`
pub async fn delete_view(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    form: AdminForm<Empty>,
) -> Result<Response, PageError> {
    state.service.delete_view(&form.session.session.actor, &id.to_string()).await?;
    Ok(see_other("/admin/views"))
}
