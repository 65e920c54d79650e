//! Files: what agents upload to attach to replies, and the customers' media fetched from the
//! platforms on first view and kept. Bytes live on disk under the files folder, one file per id;
//! rows in the database say what they are. Agents reach files through the API; platforms fetch
//! a reply's attachments through a signed public link (`/media/{id}/{signature}`), the
//! signature being the only key, as the platforms cannot send ours.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_channels::signature::hmac_sha256_hex;
use switchboard_channels::{MediaSource, SendOutcome};
use switchboard_domain::{Attachment, Direction, MessageId, WorkspaceId};
pub use switchboard_store::files::FileRow;
use switchboard_store::files::{self, NewFile};
use switchboard_store::{Conn, accounts, messages};
use uuid::Uuid;

use crate::{Actor, Service, ServiceError, ServiceResult};

/// The largest file an agent may upload.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// What may be uploaded: media the platforms carry, and common documents.
fn allowed(mime: &str) -> bool {
    let mime = mime.split(';').next().unwrap_or("").trim();
    ["image/", "video/", "audio/"].iter().any(|p| mime.starts_with(p))
        || [
            "application/pdf",
            "text/plain",
            "text/csv",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/zip",
        ]
        .contains(&mime)
}

/// The attachment kind the platforms use for a MIME type.
pub fn kind_of(mime: &str) -> &'static str {
    if mime.starts_with("image/") {
        "image"
    } else if mime.starts_with("video/") {
        "video"
    } else if mime.starts_with("audio/") {
        "audio"
    } else {
        "document"
    }
}

/// A file and its bytes.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub row: FileRow,
    pub bytes: Vec<u8>,
}

/// What a public media link is made of.
pub(crate) struct MediaLinks {
    public_url: String,
    key: String,
}

impl MediaLinks {
    fn signature(&self, id: Uuid) -> String {
        hmac_sha256_hex(self.key.as_bytes(), id.as_bytes())[..32].to_owned()
    }

    /// The address a platform fetches the file at.
    pub(crate) fn url(&self, file: &FileRow) -> String {
        format!("{}/media/{}/{}", self.public_url, file.id, self.signature(file.id))
    }

    /// The file id of one of our own public links, if `url` is one.
    fn file_of(&self, url: &str) -> Option<Uuid> {
        let rest = url.strip_prefix(&format!("{}/media/", self.public_url))?;
        let (id, _) = rest.split_once('/')?;
        id.parse().ok()
    }
}

fn random_hex() -> String {
    let mut raw = [0u8; 32];
    let _ = getrandom::fill(&mut raw);
    hex::encode(raw)
}

/// Turns uploaded file ids into attachments that link to them.
pub(crate) async fn attach(
    conn: &mut Conn<'_>,
    workspace: WorkspaceId,
    links: &MediaLinks,
    ids: &[Uuid],
) -> ServiceResult<Vec<Attachment>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let file = files::get(conn, workspace, *id)
            .await?
            .ok_or_else(|| ServiceError::invalid("files", format!("no uploaded file {id} in this workspace")))?;
        out.push(Attachment {
            kind: kind_of(&file.mime_type).to_owned(),
            url: Some(links.url(&file)),
            media_id: None,
            mime_type: Some(file.mime_type.clone()),
            filename: Some(file.filename.clone()),
        });
    }
    Ok(out)
}

impl Service {
    pub(crate) async fn media_links(&self, conn: &mut Conn<'_>) -> ServiceResult<MediaLinks> {
        let key = files::server_secret(conn, "media_key", random_hex).await?;
        Ok(MediaLinks { public_url: self.config().public_url, key })
    }

    fn path_of(&self, workspace: Uuid, id: Uuid) -> std::path::PathBuf {
        self.config().files_dir.join(workspace.to_string()).join(id.to_string())
    }

    /// Writes the bytes, then records the file: a crash in between leaves an unused file on
    /// disk, never a row without bytes.
    async fn store_file(&self, new: NewFile<'_>, bytes: &[u8]) -> ServiceResult<FileRow> {
        let path = self.path_of(new.workspace_id.0, new.id);
        let io = |e: std::io::Error| ServiceError::invalid("file", format!("the file could not be stored: {e}"));
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let partial = path.with_extension("part");
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        let mut tx = self.begin().await?;
        files::insert(&mut tx.conn(), &new, self.now()).await?;
        let row = files::get(&mut tx.conn(), new.workspace_id, new.id).await?.ok_or(ServiceError::NotFound("file"))?;
        tx.commit().await?;
        Ok(row)
    }

    async fn load_bytes(&self, row: FileRow) -> ServiceResult<StoredFile> {
        let bytes = tokio::fs::read(self.path_of(row.workspace_id, row.id))
            .await
            .map_err(|_| ServiceError::NotFound("file"))?;
        Ok(StoredFile { row, bytes })
    }

    /// Keeps a file an agent uploads, to attach to replies.
    pub async fn upload_file(
        &self,
        actor: &Actor,
        filename: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> ServiceResult<FileRow> {
        if bytes.is_empty() {
            return Err(ServiceError::invalid("file", "the file is empty"));
        }
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(ServiceError::invalid("file", format!("a file has at most {} MiB", MAX_UPLOAD_BYTES >> 20)));
        }
        if !allowed(mime_type) {
            return Err(ServiceError::invalid(
                "file",
                format!("`{mime_type}` files cannot be sent: images, video, audio, PDF and office documents can"),
            ));
        }
        let filename: String =
            filename.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(200).collect();
        let filename = if filename.trim().is_empty() { "file".to_owned() } else { filename };
        let sha = hex::encode(Sha256::digest(&bytes));
        let new = NewFile {
            id: Uuid::now_v7(),
            workspace_id: actor.workspace(),
            filename: &filename,
            mime_type: mime_type.split(';').next().unwrap_or(mime_type).trim(),
            size: bytes.len() as i64,
            sha256: &sha,
            source: "upload",
            inbound: None,
        };
        self.store_file(new, &bytes).await
    }

    /// A file of the caller's workspace.
    pub async fn read_file(&self, actor: &Actor, id: Uuid) -> ServiceResult<StoredFile> {
        let row = {
            let mut pooled = self.db().acquire().await?;
            files::get(&mut pooled.conn(), actor.workspace(), id).await?.ok_or(ServiceError::NotFound("file"))?
        };
        self.load_bytes(row).await
    }

    /// A file behind a signed public link (what platforms fetch); a wrong signature is "not found".
    pub async fn read_public_file(&self, id: Uuid, signature: &str) -> ServiceResult<StoredFile> {
        let row = {
            let mut pooled = self.db().acquire().await?;
            let mut conn = pooled.conn();
            let links = self.media_links(&mut conn).await?;
            let ok: bool = links.signature(id).as_bytes().ct_eq(signature.as_bytes()).into();
            if !ok {
                return Err(ServiceError::NotFound("file"));
            }
            files::get_any(&mut conn, id).await?.ok_or(ServiceError::NotFound("file"))?
        };
        self.load_bytes(row).await
    }

    /// The bytes of attachment `index` of a message: our own upload, or the customer's media,
    /// fetched from the platform on first view with the line's credentials and kept.
    pub async fn message_attachment(
        &self,
        actor: &Actor,
        message: MessageId,
        index: usize,
    ) -> ServiceResult<StoredFile> {
        let ws = actor.workspace();
        let mut pooled = self.db().acquire().await?;
        let mut conn = pooled.conn();
        let found = messages::get(&mut conn, ws, message).await?.ok_or(ServiceError::NotFound("message"))?;
        let attachment = found.attachments.get(index).cloned().ok_or(ServiceError::NotFound("attachment"))?;
        let links = self.media_links(&mut conn).await?;
        if let Some(file) = attachment.url.as_deref().and_then(|u| links.file_of(u)) {
            drop(pooled);
            return self.read_file(actor, file).await;
        }
        if let Some(row) = files::cached(&mut conn, message, index as i64).await? {
            drop(pooled);
            return self.load_bytes(row).await;
        }
        if found.direction != Direction::Inbound {
            return Err(ServiceError::NotFound("attachment"));
        }
        let conversation = switchboard_store::conversations::get(&mut conn, ws, found.conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let (account, secrets) = accounts::get_with_secrets(&mut conn, conversation.channel_account_id)
            .await?
            .ok_or(ServiceError::NotFound("channel account"))?;
        drop(pooled);
        let base = self.api_base(&account);
        let source =
            MediaSource { kind: account.kind, secrets: &secrets, api_base_url: &base, attachment: &attachment };
        let media = switchboard_channels::fetch_media(&switchboard_channels::http_client(), &source).await.map_err(
            |outcome| match outcome {
                SendOutcome::Transient { reason, .. } | SendOutcome::Unconfirmed { reason } => ServiceError::conflict(
                    "platform_unavailable",
                    format!("the platform did not hand the file over yet: {reason}"),
                ),
                SendOutcome::Permanent { code, message } => ServiceError::conflict(
                    "media_unavailable",
                    format!("the platform refused the file ({code}): {message}"),
                ),
                SendOutcome::Accepted { .. } => ServiceError::conflict("media_unavailable", "unexpected answer"),
            },
        )?;
        let mime = media
            .mime_type
            .clone()
            .or(attachment.mime_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let filename =
            media.filename.clone().or(attachment.filename.clone()).unwrap_or_else(|| attachment.kind.clone());
        let sha = hex::encode(Sha256::digest(&media.bytes));
        let new = NewFile {
            id: Uuid::now_v7(),
            workspace_id: ws,
            filename: &filename,
            mime_type: &mime,
            size: media.bytes.len() as i64,
            sha256: &sha,
            source: "inbound",
            inbound: Some((message, index as i64)),
        };
        match self.store_file(new, &media.bytes).await {
            Ok(row) => Ok(StoredFile { row, bytes: media.bytes }),
            // Two agents opened it at once: the other copy is kept; serve it.
            Err(ServiceError::Store(switchboard_store::StoreError::Conflict(_))) => {
                let mut pooled = self.db().acquire().await?;
                let row = files::cached(&mut pooled.conn(), message, index as i64)
                    .await?
                    .ok_or(ServiceError::NotFound("file"))?;
                drop(pooled);
                self.load_bytes(row).await
            }
            Err(e) => Err(e),
        }
    }
}
