//! The customer messenger (website widget, DESIGN §6) over HTTP: the script a site pastes
//! (`/widget/{account}/embed.js`), the panel it frames (`/widget/{account}/panel`, an askama
//! page with its own script and stylesheet), and the JSON API both the panel and a mobile app
//! use (`/widget/api/…`).
//!
//! A visitor is known by the token the server issued, sent as `X-Widget-Token` (or, for the
//! event stream, which browsers open without headers, as `?token=`) — never by the agents'
//! session or API tokens. Handlers are thin: extract, one service call, respond.

pub mod api;
pub mod dto;
pub mod pages;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchboard_service::widget::WidgetVisitor;

use crate::AppState;
use crate::error::ApiError;

/// The header a visitor's token travels in.
pub const TOKEN_HEADER: &str = "x-widget-token";

/// The visitor behind the request's widget token; without a valid one, a 401.
pub struct Visitor(pub WidgetVisitor);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let from_header = parts.headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let token = from_header.or_else(|| token_from_query(parts.uri.query().unwrap_or(""))).unwrap_or_default();
        state.service.widget_visitor(token.trim()).await.map(Self).map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send the visitor token from POST /widget/api/visitors as `X-Widget-Token`",
            )
        })
    }
}

/// `token=` of a query string (tokens are hex with a prefix: nothing to decode).
fn token_from_query(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| pair.strip_prefix("token=")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_is_read_from_the_query_when_the_header_cannot_be_sent() {
        assert_eq!(super::token_from_query("a=1&token=sbw_ab").as_deref(), Some("sbw_ab"));
        assert_eq!(super::token_from_query("a=1"), None);
    }
}
