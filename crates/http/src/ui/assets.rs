//! The UI's script and stylesheet, embedded in the binary. Their URL carries a hash of their
//! content (`/assets/{version}/app.js`), so browsers may keep them for a year: a new build
//! has a new URL.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

/// A short hash of the assets' content (FNV-1a; it only needs to change when they do).
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| content_hash(&[APP_JS, APP_CSS]))
}

/// A short hash of some embedded files (FNV-1a): the version in their URLs.
pub fn content_hash(files: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in files.iter().flat_map(|f| f.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// An embedded file asked for under version `asked`: kept a year when that is the current
/// version (`current`), otherwise answered uncached (an old page after a deploy still works).
pub fn versioned(asked: &str, current: &str, body: &'static str, mime: &'static str) -> Response {
    let cache = if asked == current { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// `GET /assets/{version}/{name}`: an asset; an old version's URL still answers, uncached.
pub async fn asset(Path((asked, name)): Path<(String, String)>) -> Response {
    match name.as_str() {
        "app.js" => versioned(&asked, version(), APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => versioned(&asked, version(), APP_CSS, "text/css; charset=utf-8"),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
