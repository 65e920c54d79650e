//! Files: uploads to attach to replies, downloads for agents, the signed public links platforms
//! fetch attachments from, and customers' media (fetched from the platform on first view).

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderName};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_domain::MessageId;
use switchboard_service::files::{FileRow, MAX_UPLOAD_BYTES, StoredFile};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, Authed};

#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    /// Pass in a message's `files` to attach it.
    pub id: Uuid,
    pub filename: String,
    pub mime_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<FileRow> for FileOut {
    fn from(f: FileRow) -> Self {
        Self {
            created_at: f.created_at(),
            id: f.id,
            filename: f.filename,
            mime_type: f.mime_type,
            size: f.size,
            sha256: f.sha256,
        }
    }
}

/// The largest upload request: the file plus the form around it.
pub const MAX_UPLOAD_REQUEST: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// Upload a file (multipart field `file`) to attach to replies: images, video, audio, PDF and
/// office documents, 16 MiB at most.
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = FileOut), (status = 422, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload_file(
    State(state): State<AppState>,
    Authed(actor): Authed,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<FileOut>), ApiError> {
    let bad = |m: String| ApiError::bad_request("invalid_body", m);
    while let Some(field) = multipart.next_field().await.map_err(|e| multipart_error(e.status(), e.body_text()))? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("file").to_owned();
        let mime = field.content_type().unwrap_or("application/octet-stream").to_owned();
        let bytes = field.bytes().await.map_err(|e| multipart_error(e.status(), e.body_text()))?;
        let saved = state.service.upload_file(&actor, &filename, &mime, bytes.to_vec()).await?;
        return Ok((StatusCode::CREATED, Json(saved.into())));
    }
    Err(bad("send the file in a multipart field named `file`".into()))
}

fn multipart_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "payload_too_large", format!("a file has at most {} MiB", MAX_UPLOAD_BYTES >> 20))
    } else {
        ApiError::bad_request("invalid_body", text)
    }
}

/// Serves stored bytes safely: never as a page of ours (no sniffing, sandboxed), and as a
/// download unless it is media a browser shows inline.
fn serve(file: StoredFile) -> Response {
    let inline = ["image/", "video/", "audio/"].iter().any(|p| file.row.mime_type.starts_with(p));
    let name: String = file.row.filename.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
    let disposition = format!("{}; filename=\"{name}\"", if inline { "inline" } else { "attachment" });
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.row.mime_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    headers.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static("sandbox"));
    response
}

/// Download a file of the workspace.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the bytes"), (status = 404, body = ErrorBody)))]
pub async fn download_file(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(serve(state.service.read_file(&actor, id).await?))
}

/// The bytes of a message's attachment: an upload of ours, or the customer's media, fetched
/// from the platform with the line's credentials on first view and kept.
#[utoipa::path(get, path = "/api/v1/messages/{id}/attachments/{index}", tag = "files",
    params(("id" = Uuid, Path), ("index" = usize, Path)),
    responses((status = 200, description = "the bytes"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn message_attachment(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((id, index)): ApiPath<(Uuid, usize)>,
) -> Result<Response, ApiError> {
    Ok(serve(state.service.message_attachment(&actor, MessageId(id), index).await?))
}

/// A reply's attachment, for the platform to fetch: the signature in the link is the key.
pub async fn public_media(
    State(state): State<AppState>,
    ApiPath((id, signature)): ApiPath<(Uuid, String)>,
) -> Result<Response, ApiError> {
    Ok(serve(state.service.read_public_file(id, &signature).await?))
}
