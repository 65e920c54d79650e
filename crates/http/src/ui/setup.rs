//! The first-run setup page (`/setup?key=…`): on a server with no agent yet, the person who
//! started it (the only one who saw the printed key) names the business and makes the first
//! admin, who is signed in and taken to the admin pages to connect lines.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_service::ServiceError;
use switchboard_service::first_run::FirstAdmin;

use super::{ClientAddr, Page, PageError, assets, see_other};
use crate::AppState;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    assets: &'static str,
    /// The key the link carried, when it is this node's; otherwise the page explains.
    key: Option<String>,
    business_name: String,
    name: String,
    email: String,
    error: Option<String>,
}

impl SetupPage {
    fn blank(key: Option<String>) -> Self {
        Self {
            assets: assets::version(),
            key,
            business_name: String::new(),
            name: String::new(),
            email: String::new(),
            error: None,
        }
    }
}

fn render(status: StatusCode, page: &SetupPage) -> Response {
    match Page::render(page) {
        Ok(Page(_, html)) => Page(status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupQuery {
    key: Option<String>,
}

/// `GET /setup?key=…`
pub async fn setup_form(State(state): State<AppState>, Query(q): Query<SetupQuery>) -> Response {
    if !state.service.first_run_open().await {
        return see_other("/sign-in");
    }
    match q.key {
        Some(key) if state.service.first_run_key_matches(&key) => render(StatusCode::OK, &SetupPage::blank(Some(key))),
        Some(_) => render(StatusCode::FORBIDDEN, &SetupPage::blank(None)),
        None => render(StatusCode::OK, &SetupPage::blank(None)),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    key: String,
    #[serde(default)]
    business_name: String,
    name: String,
    email: String,
    password: String,
    password_again: String,
}

/// `POST /setup`: makes the first admin and signs them in. The key is the form's only
/// credential, and a page of another site cannot know it, so it also stands for a CSRF token.
pub async fn setup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    axum::Form(form): axum::Form<SetupForm>,
) -> Response {
    if !state.service.first_run_open().await {
        return see_other("/sign-in");
    }
    if !state.service.first_run_key_matches(&form.key) {
        return render(StatusCode::FORBIDDEN, &SetupPage::blank(None));
    }
    let again = |error: String| SetupPage {
        key: Some(form.key.clone()),
        business_name: form.business_name.clone(),
        name: form.name.clone(),
        email: form.email.clone(),
        error: Some(error),
        ..SetupPage::blank(None)
    };
    if form.password != form.password_again {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &again("The two passwords differ.".into()));
    }
    let new = FirstAdmin {
        business_name: form.business_name.clone(),
        name: form.name.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
    };
    match state.service.first_admin(&form.key, new).await {
        Ok(_) => match state.service.sign_in(&form.email, &form.password, &client).await {
            Ok(session) => super::session::signed_in(&state, &session.token, "/admin/channels"),
            Err(e) => PageError::from(e).into_response(),
        },
        Err(ServiceError::Invalid { message, .. }) => render(StatusCode::UNPROCESSABLE_ENTITY, &again(message)),
        Err(ServiceError::Conflict { .. }) => see_other("/sign-in"),
        Err(e) => PageError::from(e).into_response(),
    }
}
