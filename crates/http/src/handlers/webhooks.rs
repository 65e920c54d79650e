//! `/webhooks/{kind}/{account_id}`: platforms call these. Authenticate first — nothing from
//! an unauthenticated request is stored — then parse every item, then one ingest call that
//! answers only after the commit.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use switchboard_channels::{Answer, api};
use switchboard_domain::{ChannelAccountId, ChannelKind};
use switchboard_service::ingest::ItemReport;
use switchboard_service::webhooks::RawDelivery;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, RawBody};
use crate::ui::ClientAddr;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// One entry per message, in order: outcome is created, appended, reopened, duplicate or blocked.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<ItemReport>,
}

/// The generic signed webhook for integrators, on a channel account of kind `api`. Unlike
/// the platforms' webhooks, a malformed body is answered 400 with what is wrong: the caller
/// is a developer who can fix and resend it.
#[utoipa::path(post, path = "/webhooks/api/{account_id}", tag = "webhooks", params(("account_id" = Uuid, Path)),
    request_body(content = Object, description = "{messages: [{id, from: {id, name?, phone?, email?}, text, timestamp?, thread?: {id, public, title?}}]}; \
    header X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the raw body with the account's secret>"),
    responses((status = 200, body = IngestReport), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
        (status = 429, description = "too many failed calls from this address to this line this minute", body = ErrorBody)))]
pub async fn receive_api(
    State(state): State<AppState>,
    ApiPath(account_id): ApiPath<Uuid>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<IngestReport>, ApiError> {
    let signature = headers.get(api::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let messages = state.service.receive_api_webhook(ChannelAccountId(account_id), signature, &body, &client).await?;
    Ok(Json(IngestReport { messages }))
}

/// Every platform's webhook: `GET` for verification handshakes (Meta, X, WeChat), `POST` for
/// deliveries. Authenticated by the platform's own mechanism against the account in the URL;
/// answered the way the platform expects (WeChat `success`, Twilio empty TwiML, 200 elsewhere).
#[utoipa::path(post, path = "/webhooks/{kind}/{account_id}", tag = "webhooks",
    params(("kind" = String, Path, description = "whatsapp, messenger, instagram, x, line, wechat, telegram, twilio, dialpad, justcall, shopee, lazada"),
           ("account_id" = Uuid, Path)),
    request_body(content = String, description = "the platform's payload, signed as the platform signs it"),
    responses((status = 200, description = "accepted (or kept as a dead letter)"), (status = 401, body = ErrorBody),
              (status = 429, description = "too many failed calls from this address to this line this minute", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath((kind, account_id)): ApiPath<(String, Uuid)>,
    ClientAddr(client): ClientAddr,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<axum::response::Response, ApiError> {
    let kind: ChannelKind = kind.parse().map_err(|_| ApiError::not_found("webhook"))?;
    if matches!(kind, ChannelKind::Api | ChannelKind::Email | ChannelKind::Widget) {
        return Err(ApiError::not_found("webhook"));
    }
    let query = uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or(uri.path());
    let delivery = RawDelivery {
        method: method.as_str().to_owned(),
        // Platforms that sign the URL (Twilio) sign the address they called: ours, as public.
        url: format!("{}{path_and_query}", state.public_url.trim_end_matches('/')),
        query,
        headers: headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    let answer = state.service.receive_webhook(kind, ChannelAccountId(account_id), delivery, &client).await?;
    Ok(answer_response(answer))
}

fn answer_response(answer: Answer) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    match answer {
        Answer::Empty => StatusCode::OK.into_response(),
        Answer::Text(text) => ([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Answer::Xml(xml) => ([(CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response(),
        Answer::Json(value) => Json(value).into_response(),
    }
}
