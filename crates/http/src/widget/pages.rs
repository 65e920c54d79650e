//! What a website loads: the embed script (`/widget/{account}/embed.js`), the panel page it
//! frames (`/widget/{account}/panel`) and the panel's script and stylesheet
//! (`/widget/assets/{version}/…`), all embedded in the binary.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use switchboard_service::widget::WidgetSettings;
use uuid::Uuid;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::ui::assets::{content_hash, versioned};

const EMBED_JS: &str = include_str!("../../assets/widget-embed.js");
const PANEL_JS: &str = include_str!("../../assets/widget.js");
const PANEL_CSS: &str = include_str!("../../assets/widget.css");

/// A short hash of the panel's assets, so their URLs change when they do.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| content_hash(&[PANEL_JS, PANEL_CSS]))
}

/// `GET /widget/{account}/embed.js`: the one script a site pastes. It finds this server from
/// its own URL, so the tag works whatever address the site uses to reach us.
pub async fn embed_script(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<Response, ApiError> {
    let account = state.service.widget_account(id.into()).await?;
    // The id is a UUID: nothing in it can break out of the string it is placed in.
    let body = EMBED_JS.replace("__SWITCHBOARD_ACCOUNT__", &account.id.0.to_string());
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "widget/panel.html")]
struct PanelPage {
    account_id: String,
    name: String,
    assets: &'static str,
}

/// `GET /widget/{account}/panel`: the messenger itself, framed by the site. Only the line's
/// configured site origins may frame it (`frame-ancestors`); none configured, none may.
pub async fn panel(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> Result<Response, ApiError> {
    let account = state.service.widget_account(id.into()).await?;
    let settings = WidgetSettings::of(&account);
    let page = PanelPage { account_id: account.id.0.to_string(), name: account.name.clone(), assets: version() };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "widget panel failed to render");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
    })?;
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&panel_csp(&settings.allowed_origins)) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    headers.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The panel's policy: like the agent pages (only our own scripts and styles run), framed
/// only by the site's origins.
pub fn panel_csp(origins: &[String]) -> String {
    let ancestors = if origins.is_empty() { "'none'".to_owned() } else { origins.join(" ") };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
}

/// `GET /widget/assets/{version}/{name}`: the panel's script and stylesheet.
pub async fn asset(Path((asked, name)): Path<(String, String)>) -> Response {
    match name.as_str() {
        "widget.js" => versioned(&asked, version(), PANEL_JS, "text/javascript; charset=utf-8"),
        "widget.css" => versioned(&asked, version(), PANEL_CSS, "text/css; charset=utf-8"),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_panel_may_be_framed_only_by_the_configured_origins() {
        let csp = super::panel_csp(&["https://shop.example".into(), "http://127.0.0.1:5000".into()]);
        assert!(csp.ends_with("frame-ancestors https://shop.example http://127.0.0.1:5000"));
        assert!(super::panel_csp(&[]).ends_with("frame-ancestors 'none'"));
    }
}
