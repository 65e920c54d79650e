//! Signing in and out, and the agent's availability.
//!
//! The sign-in form has no session yet, so its CSRF token is a double-submit one: a random
//! value in a short-lived cookie and in the form, which must match (a cross-site page can
//! post the form but cannot read or set the cookie).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_domain::Availability;
use switchboard_service::ServiceError;
use switchboard_service::sessions::SESSION_LIFETIME;

use super::{ClientAddr, CsrfForm, Page, PageError, assets, see_other};
use crate::AppState;
use crate::extract::{SESSION_COOKIE, cookie, same_secret};

const LOGIN_COOKIE: &str = "sb_login";

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    assets: &'static str,
    next: String,
    email: String,
    error: Option<String>,
    login_csrf: String,
    /// No agent exists yet: say where the first one is made.
    first_run: bool,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// A path on this server to go back to; anything else (another site, `//host`) is `/`.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains('\r') => {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The attributes of the UI's cookies: Secure when the public address is https.
fn cookie_attributes(state: &AppState) -> &'static str {
    if state.public_url.starts_with("https://") {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

fn random_token() -> String {
    // Not a credential: it only has to be unguessable by another site for a few minutes.
    uuid::Uuid::new_v4().simple().to_string()
}

async fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<String>,
) -> Response {
    let login_csrf = random_token();
    let first_run = state.service.first_run_open().await;
    let page = SignInPage { assets: assets::version(), next, email, error, login_csrf: login_csrf.clone(), first_run };
    match Page::render(&page) {
        Ok(Page(_, html)) => {
            let mut response = Page(status, html).into_response();
            let cookie = format!("{LOGIN_COOKIE}={login_csrf}; Max-Age=3600{}", cookie_attributes(state));
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /sign-in`
pub async fn sign_in_form(State(state): State<AppState>, Query(q): Query<SignInQuery>) -> Response {
    sign_in_page(&state, StatusCode::OK, local_path(q.next.as_deref()), String::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
    login_csrf: String,
}

/// `POST /sign-in`: checks the password, opens a session, goes to the page asked for.
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    if !cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_secret(c, &form.login_csrf)) {
        let error = "The sign-in form expired. Please try again.".to_owned();
        return sign_in_page(&state, StatusCode::FORBIDDEN, next, form.email, Some(error)).await;
    }
    match state.service.sign_in(&form.email, &form.password, &client).await {
        Ok(new) => signed_in(&state, &new.token, &next),
        Err(ServiceError::Unauthenticated) => {
            let error = "That e-mail and password do not match an agent.".to_owned();
            sign_in_page(&state, StatusCode::UNAUTHORIZED, next, form.email, Some(error)).await
        }
        Err(err @ ServiceError::TooManyAttempts { .. }) => {
            let message = PageError::from(err).message();
            sign_in_page(&state, StatusCode::TOO_MANY_REQUESTS, next, form.email, Some(message)).await
        }
        Err(other) => PageError::from(other).into_response(),
    }
}

/// Sets the session cookie of a new session and goes to `next`.
pub(super) fn signed_in(state: &AppState, token: &str, next: &str) -> Response {
    let attributes = cookie_attributes(state);
    let mut response = see_other(next);
    let session = format!("{SESSION_COOKIE}={token}; Max-Age={}{attributes}", SESSION_LIFETIME.whole_seconds());
    let clear_login = format!("{LOGIN_COOKIE}=; Max-Age=0{attributes}");
    for value in [session, clear_login] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// `POST /sign-out`: ends the session and forgets the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    form: CsrfForm<super::extract::Empty>,
) -> Result<Response, PageError> {
    state.service.sign_out(&form.session.session, &form.session.token).await?;
    let mut response = see_other("/sign-in");
    let clear = format!("{SESSION_COOKIE}=; Max-Age=0{}", cookie_attributes(&state));
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct AvailabilityForm {
    availability: String,
    back: Option<String>,
}

/// `POST /me/availability`: online or away, then back to the page.
pub async fn set_availability(
    State(state): State<AppState>,
    form: CsrfForm<AvailabilityForm>,
) -> Result<Response, PageError> {
    let availability: Availability = form.form.availability.parse()?;
    state.service.set_availability(&form.session.session.actor, availability).await?;
    Ok(see_other(&local_path(form.form.back.as_deref())))
}
