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
    VERSION.get_or_init(|| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in APP_JS.bytes().chain(APP_CSS.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    })
}

/// `GET /assets/{version}/{name}`: an asset; an old version's URL still answers, uncached.
pub async fn asset(Path((asked, name)): Path<(String, String)>) -> Response {
    let (body, mime) = match name.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let cache = if asked == version() { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}
