//! Inbound media: downloads the file behind an inbound [`Attachment`], the way its platform serves it.
//!
//! Parsers keep what the webhook gave: a platform media id to download with the account's credentials
//! (WhatsApp, Telegram, LINE, WeChat) or a URL (Messenger, Instagram, X, Twilio, Dialpad, JustCall, Shopee,
//! Lazada, WeChat `PicUrl`, LINE external content). [`fetch_media`] turns either into the bytes, with the MIME
//! type and file name when known. Like the senders it never retries: failures are classified as sends are
//! (429 and 5xx and no answer at all are transient, any other refusal is permanent with the HTTP status as its
//! code), and files larger than [`MAX_MEDIA_BYTES`] are refused (`too_large`), never cut short.

use std::time::Duration;

use base64::Engine as _;
use sha2::Digest as _;
use switchboard_domain::{Attachment, ChannelKind};

use crate::send::{SendOutcome, classify_status};
use crate::webhook::{Secrets, secret};

/// Where to fetch from and with what.
#[derive(Clone, Copy)]
pub struct MediaSource<'a> {
    /// The platform of the line the attachment arrived on.
    pub kind: ChannelKind,
    /// The line's secrets (access tokens, bot token, app id and secret, account SID and auth token).
    pub secrets: &'a Secrets,
    /// The line's API address, without a trailing slash, as for sending ([`crate::default_api_base`] by
    /// default; tests point it at the fakes).
    pub api_base_url: &'a str,
    pub attachment: &'a Attachment,
}

/// The bytes of an inbound attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub bytes: Vec<u8>,
    /// The type the platform gave (WhatsApp's media JSON, else the `Content-Type` of the download, else what
    /// the webhook said), without parameters.
    pub mime_type: Option<String>,
    /// The attachment's own file name, else the one of the download's `Content-Disposition`.
    pub filename: Option<String>,
}

/// The most bytes fetched (larger files are refused, not truncated).
pub const MAX_MEDIA_BYTES: usize = 32 * 1024 * 1024;

/// The most bytes read of a platform's JSON answer (a media lookup).
const ANSWER_LIMIT: usize = 1024 * 1024;

/// The most bytes of an error answer kept for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Sent on every media request: WhatsApp's media host (`lookaside.fbsbx.com`) is reported to refuse downloads
/// without a `User-Agent`, which reqwest does not send by itself.
const USER_AGENT: &str = concat!("Switchboard/", env!("CARGO_PKG_VERSION"), " (media download)");

/// How long to wait after WeChat's daily API limit (45009): it resets once a day.
const WECHAT_DAILY_LIMIT_WAIT: Duration = Duration::from_secs(3600);

/// Downloads the file of `source.attachment` from its platform:
///
/// - WhatsApp: `GET {base}/{media_id}` with the `access_token` (Bearer) gives the file's short-lived `url`,
///   `mime_type`, `sha256` and `file_size`; then `GET {url}` (another host in production, followed as given)
///   with the same Bearer token. The bytes are checked against `sha256`.
/// - Messenger, Instagram, X: the attachment's `url` (a CDN link), without credentials.
/// - Telegram: `GET {base}/bot{bot_token}/getFile?file_id={media_id}` gives `result.file_path`; then
///   `GET {base}/file/bot{bot_token}/{file_path}`.
/// - LINE: external content (`contentProvider.type = external`, kept as the `url`) from its URL without
///   credentials; otherwise `GET {data base}/v2/bot/message/{media_id}/content` with the
///   `channel_access_token` (Bearer). LINE serves content from `https://api-data.line.me`, not
///   `https://api.line.me`: the default base is swapped for it, any other base (a fake) is used as it is.
///   Stickers cannot be downloaded.
/// - Twilio: the `MediaUrl` with HTTP Basic `account_sid:auth_token` (when the line has both); Twilio answers
///   with a redirect to its CDN, which is followed (reqwest drops the credentials on the way to another host).
/// - WeChat: the `PicUrl` when there is one; otherwise, or when that URL is refused,
///   `GET {base}/cgi-bin/media/get?access_token=…&media_id=…` with the account's cached access token
///   (fetched again once when WeChat refuses it). A video answers `{"video_url"}`, which is then fetched.
/// - Dialpad, JustCall, Shopee, Lazada: by `url` when there is one, else `unsupported`.
/// - E-mail, widget and API lines have no platform to fetch from: `unsupported`.
///
/// Locations and contact cards have no file (`unsupported`); an attachment with neither an http(s) URL nor a
/// media id has no address to fetch (`no_source`); a line without the secret it needs is `missing_secret`.
pub async fn fetch_media(http: &reqwest::Client, source: &MediaSource<'_>) -> Result<Media, SendOutcome> {
    let attachment = source.attachment;
    let base = source.api_base_url.trim_end_matches('/');
    if matches!(attachment.kind.as_str(), "location" | "contacts") {
        return Err(unsupported(format!("a {} attachment has no file to download", attachment.kind)));
    }
    if matches!(source.kind, ChannelKind::Email | ChannelKind::Widget | ChannelKind::Api) {
        return Err(unsupported(format!("{} attachments are not fetched from a platform", source.kind)));
    }
    let url = web_url(attachment.url.as_deref());
    let media_id = attachment.media_id.as_deref().map(str::trim).filter(|id| !id.is_empty());
    if url.is_none() && media_id.is_none() {
        return Err(SendOutcome::permanent(
            "no_source",
            "no address to fetch: the attachment has neither a URL nor a media id",
        ));
    }
    let (fetched, mime_type) = match source.kind {
        ChannelKind::Whatsapp => whatsapp(http, source.secrets, base, media_id).await?,
        ChannelKind::Telegram => (telegram(http, source.secrets, base, media_id, url).await?, None),
        ChannelKind::Line => (line(http, source.secrets, base, attachment, media_id, url).await?, None),
        ChannelKind::Wechat => (wechat(http, source.secrets, base, media_id, url).await?, None),
        ChannelKind::Twilio => (twilio(http, source.secrets, url).await?, None),
        ChannelKind::Messenger
        | ChannelKind::Instagram
        | ChannelKind::X
        | ChannelKind::Dialpad
        | ChannelKind::Justcall
        | ChannelKind::Shopee
        | ChannelKind::Lazada => match url {
            Some(url) => (plain(http, url).await?, None),
            None => return Err(unsupported(format!("{} media are fetched by URL and this one has none", source.kind))),
        },
        ChannelKind::Email | ChannelKind::Widget | ChannelKind::Api => {
            return Err(unsupported(format!("{} attachments are not fetched from a platform", source.kind)));
        }
    };
    Ok(finish(fetched, attachment, mime_type))
}

// ---- Platforms ----

/// WhatsApp's two steps: the media lookup, then the download with the same token. The MIME type of the lookup.
async fn whatsapp(
    http: &reqwest::Client,
    secrets: &Secrets,
    base: &str,
    media_id: Option<&str>,
) -> Result<(Fetched, Option<String>), SendOutcome> {
    let token = need(secrets, "access_token", "WhatsApp")?;
    let Some(media_id) = media_id else {
        return Err(SendOutcome::permanent(
            "no_source",
            "no address to fetch: WhatsApp media are downloaded by media id and this attachment has none",
        ));
    };
    let lookup = download(http.get(format!("{base}/{}", segment(media_id))).bearer_auth(token), ANSWER_LIMIT).await?;
    let info = json_answer(&lookup.body, "WhatsApp's media lookup")?;
    let Some(url) = web_url(info.get("url").and_then(serde_json::Value::as_str)) else {
        return Err(unexpected("WhatsApp's media lookup gave no download URL"));
    };
    let size = info.get("file_size").and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()));
    if size.is_some_and(|size| size > MAX_MEDIA_BYTES as u64) {
        return Err(too_large(MAX_MEDIA_BYTES));
    }
    let mime_type = info.get("mime_type").and_then(serde_json::Value::as_str).and_then(essence);
    let fetched = download(http.get(url).bearer_auth(token), MAX_MEDIA_BYTES).await?;
    if let Some(expected) = info.get("sha256").and_then(serde_json::Value::as_str)
        && !checksum_matches(&fetched.body, expected)
    {
        return Err(SendOutcome::transient("the downloaded media does not match WhatsApp's sha256 checksum"));
    }
    Ok((fetched, mime_type))
}

/// Telegram: `getFile`, then the file by its path.
async fn telegram(
    http: &reqwest::Client,
    secrets: &Secrets,
    base: &str,
    media_id: Option<&str>,
    url: Option<&str>,
) -> Result<Fetched, SendOutcome> {
    let Some(file_id) = media_id else {
        return plain(http, url.unwrap_or_default()).await;
    };
    let token = need(secrets, "bot_token", "Telegram")?;
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("file_id", file_id).finish();
    // The token is in these URLs: errors never show them (see `transport`).
    let answer =
        download(http.get(format!("{base}/bot{token}/getFile?{query}")), ANSWER_LIMIT).await.map_err(|outcome| {
            match outcome {
                SendOutcome::Permanent { message, .. } if message.contains("file is too big") => {
                    SendOutcome::permanent(
                        "too_large",
                        "Telegram lets bots download files of at most 20 MB; this one is larger",
                    )
                }
                other => other,
            }
        })?;
    let body = json_answer(&answer.body, "Telegram's getFile")?;
    let Some(path) = body.pointer("/result/file_path").and_then(serde_json::Value::as_str).map(str::trim) else {
        return Err(unexpected("Telegram's getFile gave no file_path"));
    };
    if path.is_empty() {
        return Err(unexpected("Telegram's getFile gave no file_path"));
    }
    let path: Vec<String> = path.split('/').map(segment).collect();
    download(http.get(format!("{base}/file/bot{token}/{}", path.join("/"))), MAX_MEDIA_BYTES).await
}

/// LINE's content host: `api-data.line.me` in place of the default `api.line.me`; any other base as it is.
fn line_data_base(base: &str) -> String {
    match base.strip_prefix("https://api.line.me") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("https://api-data.line.me{rest}"),
        _ => base.to_owned(),
    }
}

/// LINE: external content from its URL, else the message content by message id.
async fn line(
    http: &reqwest::Client,
    secrets: &Secrets,
    base: &str,
    attachment: &Attachment,
    media_id: Option<&str>,
    url: Option<&str>,
) -> Result<Fetched, SendOutcome> {
    if attachment.kind == "sticker" {
        return Err(unsupported("LINE stickers are named by package and sticker id; there is no file to download"));
    }
    if let Some(url) = url {
        // External content only exists there; the channel token is not for that host.
        return plain(http, url).await;
    }
    let Some(message_id) = media_id else {
        return Err(SendOutcome::permanent("no_source", "no address to fetch: the LINE attachment has no message id"));
    };
    let token = need(secrets, "channel_access_token", "LINE")?;
    let address = format!("{}/v2/bot/message/{}/content", line_data_base(base), segment(message_id));
    download(http.get(address).bearer_auth(token), MAX_MEDIA_BYTES).await
}

/// Twilio: the media URL with the account's Basic credentials.
async fn twilio(http: &reqwest::Client, secrets: &Secrets, url: Option<&str>) -> Result<Fetched, SendOutcome> {
    let Some(url) = url else {
        return Err(unsupported("Twilio media are fetched by their MediaUrl and this attachment has none"));
    };
    let mut request = http.get(url);
    // Needed only when the account enabled "HTTP Basic Authentication for media access"; harmless otherwise.
    if let (Ok(account_sid), Ok(auth_token)) = (secret(secrets, "account_sid"), secret(secrets, "auth_token")) {
        request = request.basic_auth(account_sid, Some(auth_token));
    }
    download(request, MAX_MEDIA_BYTES).await
}

/// What WeChat's `media/get` answered.
enum WechatAnswer {
    /// The file itself.
    File,
    /// A video: its address.
    VideoUrl(String),
    /// WeChat refused the access token: fetch another.
    TokenRefused(String),
    Failed(SendOutcome),
}

/// Reads a `media/get` answer: WeChat answers errors (and videos) with JSON at HTTP 200.
fn wechat_answer(fetched: &Fetched) -> WechatAnswer {
    let content_type = fetched.content_type.as_deref().and_then(essence).unwrap_or_default();
    let textual = content_type.contains("json") || content_type.starts_with("text/");
    if !textual || !fetched.body.trim_ascii_start().starts_with(b"{") {
        return WechatAnswer::File;
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&fetched.body) else {
        return WechatAnswer::File;
    };
    if let Some(url) = body.get("video_url").and_then(serde_json::Value::as_str) {
        return match web_url(Some(url)) {
            Some(url) => WechatAnswer::VideoUrl(url.to_owned()),
            None => WechatAnswer::Failed(unexpected("WeChat gave a video address that is not an http(s) URL")),
        };
    }
    let message = body
        .get("errmsg")
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| error_text(&fetched.body), |m| m.chars().take(300).collect());
    match body.get("errcode").and_then(serde_json::Value::as_i64) {
        Some(40001 | 42001 | 40014) => WechatAnswer::TokenRefused(message),
        Some(-1) => WechatAnswer::Failed(SendOutcome::transient(format!("WeChat is busy ({message})"))),
        Some(45009) => WechatAnswer::Failed(SendOutcome::Transient {
            reason: format!("WeChat's daily API limit is reached ({message})"),
            retry_after: Some(WECHAT_DAILY_LIMIT_WAIT),
        }),
        // 40007 invalid (or expired: temporary media last 3 days) media id, …
        Some(code) if code != 0 => WechatAnswer::Failed(SendOutcome::permanent(
            code.to_string(),
            format!("WeChat refused the download: {message}"),
        )),
        _ => WechatAnswer::Failed(unexpected(format!("WeChat answered JSON instead of the file: {message}"))),
    }
}

/// WeChat: the `PicUrl`, else (or when it is refused) temporary media by media id.
async fn wechat(
    http: &reqwest::Client,
    secrets: &Secrets,
    base: &str,
    media_id: Option<&str>,
    url: Option<&str>,
) -> Result<Fetched, SendOutcome> {
    if let Some(url) = url {
        match plain(http, url).await {
            Err(SendOutcome::Permanent { .. }) if media_id.is_some() => {} // expired picture link: try the media id
            done => return done,
        }
    }
    let Some(media_id) = media_id else {
        return Err(SendOutcome::permanent("no_source", "no address to fetch: the WeChat attachment has no media id"));
    };
    let app_id = need(secrets, "app_id", "WeChat")?;
    let app_secret = need(secrets, "app_secret", "WeChat")?;
    let mut refused = String::new();
    for _ in 0..2 {
        let token = crate::wechat::access_token(http, base, app_id, app_secret).await?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("access_token", &token)
            .append_pair("media_id", media_id)
            .finish();
        let fetched = download(http.get(format!("{base}/cgi-bin/media/get?{query}")), MAX_MEDIA_BYTES).await?;
        match wechat_answer(&fetched) {
            WechatAnswer::File => return Ok(fetched),
            WechatAnswer::VideoUrl(url) => return plain(http, &url).await,
            WechatAnswer::Failed(outcome) => return Err(outcome),
            WechatAnswer::TokenRefused(message) => {
                crate::wechat::drop_token(base, app_id, &token);
                refused = message;
            }
        }
    }
    Err(SendOutcome::transient(format!("WeChat refused a fresh access token too ({refused})")))
}

/// A URL fetched as it is, without credentials.
async fn plain(http: &reqwest::Client, url: &str) -> Result<Fetched, SendOutcome> {
    if web_url(Some(url)).is_none() {
        return Err(SendOutcome::permanent("no_source", "no address to fetch: the attachment has no http(s) URL"));
    }
    download(http.get(url), MAX_MEDIA_BYTES).await
}

// ---- HTTP ----

/// A successful answer, read whole.
#[derive(Debug)]
struct Fetched {
    body: Vec<u8>,
    content_type: Option<String>,
    disposition: Option<String>,
}

/// Makes one GET and reads the answer, refusing a success body of more than `limit` bytes (by its
/// `Content-Length` before reading, else as soon as it is exceeded). Anything but a 2xx is classified.
async fn download(request: reqwest::RequestBuilder, limit: usize) -> Result<Fetched, SendOutcome> {
    let mut response = request.header(reqwest::header::USER_AGENT, USER_AGENT).send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let header = |name: reqwest::header::HeaderName| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let retry_after = header(reqwest::header::RETRY_AFTER);
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let disposition = header(reqwest::header::CONTENT_DISPOSITION);
    let success = response.status().is_success();
    if success && response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let cap = if success { limit } else { ERROR_BODY_LIMIT };
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > cap {
            if success {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk[..cap - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    if !success {
        return Err(refusal(status, retry_after.as_deref(), &body));
    }
    if status == 202 {
        return Err(SendOutcome::transient("the platform is still preparing the file (202)"));
    }
    Ok(Fetched { body, content_type, disposition })
}

/// No answer: transient, except a URL reqwest cannot even build a request for. Never shows the URL (Telegram's
/// carries the bot token, WeChat's the access token).
fn transport(err: reqwest::Error) -> SendOutcome {
    if err.is_builder() {
        return SendOutcome::permanent("invalid_url", "the media address is not a URL that can be fetched");
    }
    SendOutcome::from_transport(&err.without_url())
}

/// A non-2xx answer: 429 and 5xx are transient (Retry-After, or Telegram's `parameters.retry_after`), anything
/// else is permanent with the HTTP status as its code and the platform's error text.
fn refusal(status: u16, retry_after: Option<&str>, body: &[u8]) -> SendOutcome {
    if let Some(mut outcome) = classify_status(status, retry_after) {
        if let SendOutcome::Transient { retry_after: advice @ None, .. } = &mut outcome {
            *advice = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|b| b.pointer("/parameters/retry_after").and_then(serde_json::Value::as_u64))
                .map(Duration::from_secs);
        }
        return outcome;
    }
    SendOutcome::permanent(
        status.to_string(),
        format!("the platform refused the download ({status}): {}", error_text(body)),
    )
}

/// The platform's error message from the usual JSON shapes (Graph `error.message`, Telegram `description`,
/// LINE/Twilio `message`, WeChat `errmsg`), else the start of the body.
fn error_text(body: &[u8]) -> String {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let from_json = json.as_ref().and_then(|b| {
        ["/error/message", "/description", "/message", "/errmsg", "/error"]
            .iter()
            .find_map(|pointer| b.pointer(pointer).and_then(serde_json::Value::as_str))
            .map(str::to_owned)
    });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    let text: String = text.chars().take(300).collect();
    if text.is_empty() { "no details given".to_owned() } else { text }
}

fn json_answer(body: &[u8], what: &str) -> Result<serde_json::Value, SendOutcome> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or_else(|| unexpected(format!("{what} did not answer JSON")))
}

// ---- Small parts ----

use crate::send::{need_secret as need, unsupported};

fn unexpected(message: impl Into<String>) -> SendOutcome {
    SendOutcome::permanent("unexpected_answer", message)
}

fn too_large(limit: usize) -> SendOutcome {
    let size = if limit >= 1024 * 1024 && limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{limit} bytes")
    };
    SendOutcome::permanent("too_large", format!("the file is larger than {size}: Switchboard does not download it"))
}

/// `url` when it is an absolute http(s) URL (not `geo:` or a relative path).
fn web_url(url: Option<&str>) -> Option<&str> {
    let url = url?.trim();
    let parsed = reqwest::Url::parse(url).ok()?;
    (matches!(parsed.scheme(), "http" | "https") && parsed.has_host()).then_some(url)
}

/// One path segment, percent-encoded.
fn segment(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A MIME type without its parameters, lowercase; `None` when blank.
fn essence(content_type: &str) -> Option<String> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// Whether `body` has the SHA-256 `expected` (hex, or base64). A value that is neither a hex nor a base64 digest
/// is not held against the file.
fn checksum_matches(body: &[u8], expected: &str) -> bool {
    let expected = expected.trim();
    let digest = sha2::Sha256::digest(body);
    if expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::encode(digest).eq_ignore_ascii_case(expected);
    }
    match base64::engine::general_purpose::STANDARD.decode(expected) {
        Ok(decoded) if decoded.len() == 32 => decoded == digest.as_slice(),
        _ => true,
    }
}

/// The file name of a `Content-Disposition` header (`filename*=UTF-8''…` first, then `filename=`), without any
/// directory part.
fn disposition_filename(header: &str) -> Option<String> {
    let params: Vec<(String, &str)> = header
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim()))
        .collect();
    let extended = params.iter().find(|(k, _)| k == "filename*").and_then(|(_, v)| {
        let (charset, rest) = v.split_once('\'')?;
        let (_, encoded) = rest.split_once('\'')?;
        let bytes = percent_decode(encoded);
        if charset.eq_ignore_ascii_case("utf-8") {
            String::from_utf8(bytes).ok()
        } else {
            Some(bytes.iter().map(|&b| char::from(b)).collect()) // ISO-8859-1
        }
    });
    let plain = || {
        params.iter().find(|(k, _)| k == "filename").map(|(_, v)| {
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            v.replace("\\\"", "\"")
        })
    };
    let name = extended.or_else(plain)?;
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim().to_owned();
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The media: the type of the lookup (WhatsApp), else of the download unless it is the uninformative
/// `application/octet-stream`, else the webhook's; the attachment's file name, else the download's.
fn finish(fetched: Fetched, attachment: &Attachment, looked_up: Option<String>) -> Media {
    let downloaded = fetched.content_type.as_deref().and_then(essence);
    let given = attachment.mime_type.as_deref().and_then(essence);
    let mime_type = match (looked_up, downloaded) {
        (Some(mime), _) => Some(mime),
        (None, Some(mime)) if mime != "application/octet-stream" => Some(mime),
        (None, downloaded) => given.or(downloaded),
    };
    let filename = attachment
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .or_else(|| fetched.disposition.as_deref().and_then(disposition_filename));
    Media { bytes: fetched.body, mime_type, filename }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_client;
    use switchboard_fakes::{FakePlatforms, Fault, media_bytes};

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v))).collect()
    }

    fn attachment(kind: &str, url: Option<&str>, media_id: Option<&str>) -> Attachment {
        Attachment {
            kind: kind.to_owned(),
            url: url.map(str::to_owned),
            media_id: media_id.map(str::to_owned),
            mime_type: None,
            filename: None,
        }
    }

    async fn fetch(
        kind: ChannelKind,
        secrets: &Secrets,
        base: &str,
        attachment: &Attachment,
    ) -> Result<Media, SendOutcome> {
        fetch_media(&http_client(), &MediaSource { kind, secrets, api_base_url: base, attachment }).await
    }

    #[track_caller]
    fn permanent(result: Result<Media, SendOutcome>, expected: &str) -> String {
        match result {
            Err(SendOutcome::Permanent { code, message }) if code == expected => message,
            other => panic!("expected a permanent `{expected}` outcome, got {other:?}"),
        }
    }

    #[track_caller]
    fn transient(result: Result<Media, SendOutcome>) -> Option<Duration> {
        match result {
            Err(SendOutcome::Transient { retry_after, .. }) => retry_after,
            other => panic!("expected a transient outcome, got {other:?}"),
        }
    }

    fn header<'a>(recorded: &'a switchboard_fakes::Recorded, name: &str) -> Option<&'a str> {
        recorded.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    // ---- WhatsApp ----

    const WA_TOKEN: &str = "EAAG-wa-token";
    const WA_MEDIA: &str = "1111222233334444";

    #[tokio::test]
    async fn a_whatsapp_media_id_is_looked_up_then_downloaded_with_the_same_token() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/whatsapp", fake.base_url);
        let image = Attachment { filename: Some("receipt.jpg".into()), ..attachment("image", None, Some(WA_MEDIA)) };
        let media = fetch(ChannelKind::Whatsapp, &secrets(&[("access_token", WA_TOKEN)]), &base, &image).await.unwrap();
        assert_eq!(media.bytes, media_bytes(WA_MEDIA));
        assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!(media.filename.as_deref(), Some("receipt.jpg"));
        let calls = fake.state.accepted("whatsapp");
        let paths: Vec<&str> = calls.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, [format!("/{WA_MEDIA}"), format!("/media-bytes/{WA_MEDIA}")]);
        for call in &calls {
            assert_eq!(call.method, "GET");
            assert_eq!(header(call, "authorization"), Some(format!("Bearer {WA_TOKEN}").as_str()));
            assert!(header(call, "user-agent").is_some_and(|ua| ua.starts_with("Switchboard/")), "{call:?}");
        }
    }

    #[tokio::test]
    async fn a_whatsapp_document_keeps_the_type_of_the_media_lookup() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/whatsapp", fake.base_url);
        let document = attachment("document", None, Some("doc-2222"));
        let media =
            fetch(ChannelKind::Whatsapp, &secrets(&[("access_token", WA_TOKEN)]), &base, &document).await.unwrap();
        assert_eq!(media.bytes, media_bytes("doc-2222"));
        assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
    }

    #[tokio::test]
    async fn a_refused_whatsapp_token_or_an_unknown_media_id_is_permanent() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/whatsapp", fake.base_url);
        let image = attachment("image", None, Some(WA_MEDIA));
        let message = permanent(
            fetch(ChannelKind::Whatsapp, &secrets(&[("access_token", "invalid-token")]), &base, &image).await,
            "401",
        );
        assert!(message.contains("Invalid OAuth access token"), "{message}");
        let gone = attachment("image", None, Some("missing-5555"));
        permanent(fetch(ChannelKind::Whatsapp, &secrets(&[("access_token", WA_TOKEN)]), &base, &gone).await, "400");
        permanent(fetch(ChannelKind::Whatsapp, &Secrets::new(), &base, &image).await, "missing_secret");
        assert!(fake.state.accepted("whatsapp").is_empty());
    }

    #[tokio::test]
    async fn a_whatsapp_server_error_or_rate_limit_is_transient() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/whatsapp", fake.base_url);
        let token = secrets(&[("access_token", WA_TOKEN)]);
        let image = attachment("image", None, Some(WA_MEDIA));
        fake.state.fail_next("whatsapp", Fault::ServerError, 1);
        transient(fetch(ChannelKind::Whatsapp, &token, &base, &image).await);
        fake.state.fail_next("whatsapp", Fault::RateLimited, 1);
        assert_eq!(transient(fetch(ChannelKind::Whatsapp, &token, &base, &image).await), Some(Duration::from_secs(1)));
        assert_eq!(fetch(ChannelKind::Whatsapp, &token, &base, &image).await.unwrap().bytes, media_bytes(WA_MEDIA));
    }

    // ---- URL platforms ----

    #[tokio::test]
    async fn messenger_instagram_and_x_media_are_fetched_from_their_url_without_credentials() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let token = secrets(&[("access_token", "page-token")]);
        for (kind, name) in
            [(ChannelKind::Messenger, "photo.png"), (ChannelKind::Instagram, "reel.mp4"), (ChannelKind::X, "gif.gif")]
        {
            let url = format!("{}/files/{name}", fake.base_url);
            let image = attachment("image", Some(&url), Some("x-media-1"));
            let media = fetch(kind, &token, "http://unused.invalid", &image).await.unwrap();
            assert_eq!(media.bytes, media_bytes(name), "{kind}");
            assert_eq!(media.mime_type.as_deref(), Some(switchboard_fakes::media_mime_type(name)), "{kind}");
            assert_eq!(media.filename.as_deref(), Some(name), "{kind}: from Content-Disposition");
        }
        let calls = fake.state.accepted(switchboard_fakes::FILES_KIND);
        assert_eq!(calls.len(), 3);
        assert!(calls.iter().all(|r| header(r, "authorization").is_none()), "{calls:?}");
    }

    #[tokio::test]
    async fn a_url_the_cdn_does_not_have_is_permanent_and_its_failure_transient() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let gone = attachment("image", Some(&format!("{}/files/missing.jpg", fake.base_url)), None);
        let message = permanent(fetch(ChannelKind::Messenger, &Secrets::new(), "", &gone).await, "404");
        assert!(message.contains("404"), "{message}");
        let image = attachment("image", Some(&format!("{}/files/p.jpg", fake.base_url)), None);
        fake.state.fail_next(switchboard_fakes::FILES_KIND, Fault::ServerError, 1);
        transient(fetch(ChannelKind::Instagram, &Secrets::new(), "", &image).await);
        fake.state.fail_next(switchboard_fakes::FILES_KIND, Fault::Permanent("403".into()), 1);
        permanent(fetch(ChannelKind::Instagram, &Secrets::new(), "", &image).await, "403");
    }

    #[tokio::test]
    async fn a_closed_port_is_transient_and_a_url_platform_without_url_is_unsupported() {
        let closed = attachment("image", Some("http://127.0.0.1:9/files/p.jpg"), None);
        transient(fetch(ChannelKind::X, &Secrets::new(), "", &closed).await);
        let by_id = attachment("image", None, Some("1146654567674912769"));
        permanent(fetch(ChannelKind::X, &Secrets::new(), "", &by_id).await, "unsupported");
        let sticker = attachment("sticker", None, Some("1/2"));
        permanent(fetch(ChannelKind::Shopee, &Secrets::new(), "", &sticker).await, "unsupported");
    }

    #[tokio::test]
    async fn marketplace_and_sms_provider_media_go_by_url() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        for kind in [ChannelKind::Dialpad, ChannelKind::Justcall, ChannelKind::Shopee, ChannelKind::Lazada] {
            let url = format!("{}/files/{kind}.png", fake.base_url);
            let media = fetch(kind, &Secrets::new(), "", &attachment("image", Some(&url), None)).await.unwrap();
            assert_eq!(media.bytes, media_bytes(&format!("{kind}.png")), "{kind}");
            assert_eq!(media.mime_type.as_deref(), Some("image/png"), "{kind}");
        }
    }

    // ---- Twilio ----

    const SID: &str = "ACTEST00000000000000000000000001";

    #[tokio::test]
    async fn a_twilio_media_url_is_fetched_with_basic_auth() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let url = format!("{}/files/METEST0003.jpg", fake.base_url);
        let mms = Attachment { mime_type: Some("image/jpeg".into()), ..attachment("image", Some(&url), Some("ME3")) };
        let creds = secrets(&[("account_sid", SID), ("auth_token", "twilio-token")]);
        let media = fetch(ChannelKind::Twilio, &creds, "http://unused.invalid", &mms).await.unwrap();
        assert_eq!(media.bytes, media_bytes("METEST0003.jpg"));
        assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
        let calls = fake.state.accepted(switchboard_fakes::FILES_KIND);
        let expected =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SID}:twilio-token")));
        assert_eq!(header(&calls[0], "authorization"), Some(expected.as_str()));
        let wrong = secrets(&[("account_sid", SID), ("auth_token", "wrong-token")]);
        permanent(fetch(ChannelKind::Twilio, &wrong, "", &mms).await, "401");
    }

    // ---- Telegram ----

    const BOT: &str = "123456:TEST-bot-token";

    #[tokio::test]
    async fn a_telegram_file_id_goes_through_get_file_then_the_file_path() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/telegram", fake.base_url);
        let photo = attachment("image", None, Some("AgACAgTESTlarge"));
        let media = fetch(ChannelKind::Telegram, &secrets(&[("bot_token", BOT)]), &base, &photo).await.unwrap();
        assert_eq!(media.bytes, media_bytes("AgACAgTESTlarge"));
        assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
        let paths: Vec<String> = fake.state.accepted("telegram").into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            [
                format!("/bot{BOT}/getFile?file_id=AgACAgTESTlarge"),
                format!("/file/bot{BOT}/photos/AgACAgTESTlarge.jpg")
            ]
        );
        let voice = Attachment { mime_type: Some("audio/ogg".into()), ..attachment("audio", None, Some("voice-1")) };
        let media = fetch(ChannelKind::Telegram, &secrets(&[("bot_token", BOT)]), &base, &voice).await.unwrap();
        assert_eq!((media.bytes, media.mime_type.as_deref()), (media_bytes("voice-1"), Some("audio/ogg")));
    }

    #[tokio::test]
    async fn a_telegram_refusal_is_permanent_without_showing_the_token_and_a_failure_transient() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/telegram", fake.base_url);
        let photo = attachment("image", None, Some("AgACAgTESTlarge"));
        let message = permanent(
            fetch(ChannelKind::Telegram, &secrets(&[("bot_token", "1:invalid")]), &base, &photo).await,
            "401",
        );
        assert!(!message.contains("1:invalid"), "{message}");
        let token = secrets(&[("bot_token", BOT)]);
        let big = attachment("video", None, Some("big-video"));
        permanent(fetch(ChannelKind::Telegram, &token, &base, &big).await, "too_large");
        let unknown = attachment("image", None, Some("missing-file"));
        permanent(fetch(ChannelKind::Telegram, &token, &base, &unknown).await, "400");
        fake.state.fail_next("telegram", Fault::ServerError, 1);
        transient(fetch(ChannelKind::Telegram, &token, &base, &photo).await);
        fake.state.fail_next("telegram", Fault::Permanent("429".into()), 1);
        assert_eq!(transient(fetch(ChannelKind::Telegram, &token, &base, &photo).await), Some(Duration::from_secs(7)));
        permanent(fetch(ChannelKind::Telegram, &Secrets::new(), &base, &photo).await, "missing_secret");
        // Nothing answers on a closed port: the error names no URL, so not the token either.
        let closed = fetch(ChannelKind::Telegram, &token, "http://127.0.0.1:9", &photo).await;
        match closed {
            Err(SendOutcome::Transient { reason, .. }) => assert!(!reason.contains("TEST-bot-token"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    // ---- LINE ----

    const LINE_TOKEN: &str = "line-channel-token";

    #[tokio::test]
    async fn line_content_is_downloaded_by_message_id_with_the_channel_token() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/line", fake.base_url);
        let file = Attachment { filename: Some("menu.pdf".into()), ..attachment("document", None, Some("doc-5000")) };
        let media = fetch(ChannelKind::Line, &secrets(&[("channel_access_token", LINE_TOKEN)]), &base, &file).await;
        let media = media.unwrap();
        assert_eq!(media.bytes, media_bytes("doc-5000"));
        assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
        assert_eq!(media.filename.as_deref(), Some("menu.pdf"));
        let call = &fake.state.accepted("line")[0];
        assert_eq!(call.path, "/v2/bot/message/doc-5000/content");
        assert_eq!(header(call, "authorization"), Some(format!("Bearer {LINE_TOKEN}").as_str()));
    }

    #[tokio::test]
    async fn line_external_content_is_fetched_from_its_url_without_the_token() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/line", fake.base_url);
        let url = format!("{}/files/external.mp4", fake.base_url);
        let video = attachment("video", Some(&url), Some("500000000000000002"));
        let media = fetch(ChannelKind::Line, &secrets(&[("channel_access_token", LINE_TOKEN)]), &base, &video).await;
        assert_eq!(media.unwrap().bytes, media_bytes("external.mp4"));
        assert!(fake.state.accepted("line").is_empty());
        let calls = fake.state.accepted(switchboard_fakes::FILES_KIND);
        assert_eq!(header(&calls[0], "authorization"), None);
    }

    #[tokio::test]
    async fn a_line_refusal_is_permanent_a_failure_transient_and_a_sticker_unsupported() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/line", fake.base_url);
        let image = attachment("image", None, Some("500000000000000001"));
        let bad = secrets(&[("channel_access_token", "invalid-line-token")]);
        let message = permanent(fetch(ChannelKind::Line, &bad, &base, &image).await, "401");
        assert!(message.contains("Authentication failed"), "{message}");
        let token = secrets(&[("channel_access_token", LINE_TOKEN)]);
        let gone = attachment("image", None, Some("missing-1"));
        permanent(fetch(ChannelKind::Line, &token, &base, &gone).await, "404");
        fake.state.fail_next("line", Fault::ServerError, 1);
        transient(fetch(ChannelKind::Line, &token, &base, &image).await);
        let sticker = attachment("sticker", None, Some("11537/52002734"));
        permanent(fetch(ChannelKind::Line, &token, &base, &sticker).await, "unsupported");
    }

    #[test]
    fn line_content_comes_from_the_data_host_in_production_and_from_any_other_base_as_given() {
        assert_eq!(line_data_base("https://api.line.me"), "https://api-data.line.me");
        assert_eq!(line_data_base("https://api.line.me/"), "https://api-data.line.me/");
        assert_eq!(line_data_base("https://api.line.me.example"), "https://api.line.me.example");
        assert_eq!(line_data_base("http://127.0.0.1:4000/line"), "http://127.0.0.1:4000/line");
    }

    // ---- WeChat ----

    fn wechat_secrets(app_secret: &str) -> Secrets {
        secrets(&[("app_id", "wxTEST0000000000a1"), ("app_secret", app_secret)])
    }

    #[tokio::test]
    async fn wechat_temporary_media_are_fetched_with_the_cached_access_token() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/wechat", fake.base_url);
        let creds = wechat_secrets("app-secret");
        for id in ["MEDIA_ID_label", "MEDIA_ID_voice"] {
            let media = fetch(ChannelKind::Wechat, &creds, &base, &attachment("image", None, Some(id))).await.unwrap();
            assert_eq!(media.bytes, media_bytes(id));
            assert_eq!(media.mime_type.as_deref(), Some(switchboard_fakes::media_mime_type(id)));
            let extension = if id.contains("voice") { "ogg" } else { "jpg" };
            assert_eq!(media.filename, Some(format!("{id}.{extension}")), "from Content-disposition");
        }
        let paths: Vec<String> = fake.state.accepted("wechat").into_iter().map(|r| r.path).collect();
        assert_eq!(paths.iter().filter(|p| p.starts_with("/cgi-bin/token")).count(), 1, "{paths:?}");
        assert!(paths[1].starts_with("/cgi-bin/media/get?access_token=FAKE_ACCESS_TOKEN_"), "{paths:?}");
        assert!(paths[1].ends_with("&media_id=MEDIA_ID_label"), "{paths:?}");
    }

    #[tokio::test]
    async fn a_wechat_video_is_fetched_from_the_address_media_get_gives() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/wechat", fake.base_url);
        let video = attachment("video", None, Some("MEDIA_ID_video"));
        let media = fetch(ChannelKind::Wechat, &wechat_secrets("s"), &base, &video).await.unwrap();
        assert_eq!(media.bytes, media_bytes("MEDIA_ID_video.mp4"));
        assert_eq!(media.mime_type.as_deref(), Some("video/mp4"));
    }

    #[tokio::test]
    async fn a_wechat_picture_goes_by_its_pic_url_and_by_media_id_when_that_is_gone() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/wechat", fake.base_url);
        let url = format!("{}/files/picture-3307.jpg", fake.base_url);
        let image = attachment("image", Some(&url), Some("TEST_media_id_li_wei_0002"));
        let media = fetch(ChannelKind::Wechat, &wechat_secrets("s"), &base, &image).await.unwrap();
        assert_eq!(media.bytes, media_bytes("picture-3307.jpg"));
        assert!(fake.state.accepted("wechat").is_empty(), "no API call, no token");
        let gone = attachment("image", Some(&format!("{}/files/missing.jpg", fake.base_url)), Some("MEDIA_ID_2"));
        let media = fetch(ChannelKind::Wechat, &wechat_secrets("s"), &base, &gone).await.unwrap();
        assert_eq!(media.bytes, media_bytes("MEDIA_ID_2"));
    }

    #[tokio::test]
    async fn wechat_refusals_are_permanent_and_a_refused_token_is_fetched_again_once() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let base = format!("{}/wechat", fake.base_url);
        let image = attachment("image", None, Some("MEDIA_ID_label"));
        permanent(fetch(ChannelKind::Wechat, &wechat_secrets("invalid-secret"), &base, &image).await, "40125");
        let creds = wechat_secrets("app-secret");
        let unknown = attachment("image", None, Some("MEDIA_ID_invalid"));
        permanent(fetch(ChannelKind::Wechat, &creds, &base, &unknown).await, "40007");
        fake.state.fail_next("wechat", Fault::Permanent("40001".into()), 1);
        assert_eq!(
            fetch(ChannelKind::Wechat, &creds, &base, &image).await.unwrap().bytes,
            media_bytes("MEDIA_ID_label")
        );
        let tokens = fake.state.accepted("wechat").into_iter().filter(|r| r.path.starts_with("/cgi-bin/token")).count();
        assert_eq!(tokens, 2, "the refused token is replaced");
        fake.state.fail_next("wechat", Fault::Permanent("-1".into()), 1);
        transient(fetch(ChannelKind::Wechat, &creds, &base, &image).await);
        fake.state.fail_next("wechat", Fault::ServerError, 1);
        transient(fetch(ChannelKind::Wechat, &creds, &base, &image).await);
        permanent(fetch(ChannelKind::Wechat, &Secrets::new(), &base, &image).await, "missing_secret");
    }

    // ---- Every platform ----

    #[tokio::test]
    async fn an_attachment_with_neither_url_nor_media_id_has_no_address_to_fetch() {
        let creds = secrets(&[
            ("access_token", "t"),
            ("bot_token", BOT),
            ("channel_access_token", "t"),
            ("app_id", "a"),
            ("app_secret", "s"),
            ("account_sid", SID),
            ("auth_token", "t"),
        ]);
        let kinds = [
            ChannelKind::Whatsapp,
            ChannelKind::Messenger,
            ChannelKind::Instagram,
            ChannelKind::X,
            ChannelKind::Line,
            ChannelKind::Wechat,
            ChannelKind::Telegram,
            ChannelKind::Twilio,
            ChannelKind::Dialpad,
            ChannelKind::Justcall,
            ChannelKind::Shopee,
            ChannelKind::Lazada,
        ];
        for kind in kinds {
            let message = permanent(
                fetch(kind, &creds, "http://127.0.0.1:9", &attachment("image", None, None)).await,
                "no_source",
            );
            assert!(message.starts_with("no address to fetch"), "{kind}: {message}");
            let not_web = attachment("document", Some("  ftp://files.test/a.pdf "), Some(" "));
            permanent(fetch(kind, &creds, "http://127.0.0.1:9", &not_web).await, "no_source");
        }
    }

    #[tokio::test]
    async fn locations_contacts_and_lines_without_a_platform_are_unsupported() {
        let geo = attachment("location", Some("geo:52.52,13.405"), None);
        permanent(fetch(ChannelKind::Telegram, &Secrets::new(), "", &geo).await, "unsupported");
        permanent(
            fetch(ChannelKind::Whatsapp, &Secrets::new(), "", &attachment("contacts", None, None)).await,
            "unsupported",
        );
        let url = attachment("image", Some("https://cdn.test/a.png"), None);
        for kind in [ChannelKind::Email, ChannelKind::Widget, ChannelKind::Api] {
            permanent(fetch(kind, &Secrets::new(), "", &url).await, "unsupported");
        }
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_refused_not_truncated() {
        let fake = FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let url = format!("{}/files/p.jpg", fake.base_url);
        match download(http_client().get(&url), 4).await {
            Err(SendOutcome::Permanent { code, message }) => {
                assert_eq!(code, "too_large");
                assert!(message.contains("4 bytes"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let exact = media_bytes("p.jpg").len();
        assert_eq!(download(http_client().get(&url), exact).await.unwrap().body, media_bytes("p.jpg"));
        let message = permanent(Err(too_large(MAX_MEDIA_BYTES)), "too_large");
        assert!(message.contains("32 MiB"), "{message}");
    }

    // ---- Helpers ----

    #[test]
    fn the_file_name_comes_from_either_form_of_content_disposition_without_directories() {
        assert_eq!(disposition_filename("attachment; filename=\"a b.jpg\"").as_deref(), Some("a b.jpg"));
        assert_eq!(disposition_filename("attachment; filename=plain.pdf").as_deref(), Some("plain.pdf"));
        assert_eq!(
            disposition_filename("attachment; filename=\"x.pdf\"; filename*=UTF-8''%E5%9B%BE%E7%89%87.pdf").as_deref(),
            Some("图片.pdf")
        );
        assert_eq!(disposition_filename("attachment; filename=\"../../etc/passwd\"").as_deref(), Some("passwd"));
        assert_eq!(disposition_filename("inline").as_deref(), None);
        assert_eq!(disposition_filename("attachment; filename=\"\"").as_deref(), None);
    }

    #[test]
    fn a_whatsapp_checksum_is_compared_in_hex_or_base64() {
        let body = b"fake media 1";
        let digest = sha2::Sha256::digest(body);
        assert!(checksum_matches(body, &hex::encode(digest)));
        assert!(checksum_matches(body, &hex::encode(digest).to_uppercase()));
        assert!(checksum_matches(body, &base64::engine::general_purpose::STANDARD.encode(digest)));
        assert!(!checksum_matches(b"other bytes", &hex::encode(digest)));
        assert!(!checksum_matches(b"other bytes", &base64::engine::general_purpose::STANDARD.encode(digest)));
        assert!(checksum_matches(b"anything", "not a digest"));
    }

    #[test]
    fn the_mime_type_is_the_downloads_unless_it_says_nothing() {
        let fetched = |content_type: Option<&str>| Fetched {
            body: Vec::new(),
            content_type: content_type.map(str::to_owned),
            disposition: None,
        };
        let given = Attachment { mime_type: Some("audio/ogg; codecs=opus".into()), ..attachment("audio", None, None) };
        let mime = |f, looked_up: Option<&str>| finish(f, &given, looked_up.map(str::to_owned)).mime_type;
        assert_eq!(mime(fetched(Some("Audio/AMR; charset=binary")), None).as_deref(), Some("audio/amr"));
        assert_eq!(mime(fetched(Some("application/octet-stream")), None).as_deref(), Some("audio/ogg"));
        assert_eq!(mime(fetched(None), None).as_deref(), Some("audio/ogg"));
        assert_eq!(mime(fetched(Some("audio/amr")), Some("audio/mpeg")).as_deref(), Some("audio/mpeg"));
    }
}
