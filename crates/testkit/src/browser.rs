//! A browser of one for page tests: keeps the cookies it is given, follows no redirect by
//! itself, and posts forms the way a browser does.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::TestApp;

pub struct Browser {
    /// For requests the helpers below do not make (an API call with the session cookie).
    pub client: reqwest::Client,
    base: String,
    /// The cookies held, by name: tests may save and restore them.
    pub cookies: Vec<(String, String)>,
}

/// What one request answered.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    /// The `Set-Cookie` headers, as sent.
    pub set_cookies: Vec<String>,
    pub csp: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        // Installs the TLS provider reqwest needs, even for plain HTTP.
        let _ = switchboard_channels::http_client();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { client, base: app.address.clone(), cookies: Vec::new() }
    }

    /// A browser signed in as `email`.
    pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> Self {
        let mut browser = Self::new(app);
        let signed = browser.sign_in(email, password).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "sign-in refused: {}", signed.body);
        browser
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// Sends `req` with the cookies held, and keeps the ones it sets.
    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let res = req.header(COOKIE, self.cookie_header()).send().await.unwrap();
        let set_cookies: Vec<String> =
            res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        for c in &set_cookies {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        Page {
            status: res.status(),
            location: res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()),
            csp: res.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()),
            set_cookies,
            body: res.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Opens the sign-in page and signs in, to land on the inbox.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/sign-in?next=/inbox").await;
        let token = hidden(&form.body, "login_csrf");
        self.post_form(
            "/sign-in",
            &[("email", email), ("password", password), ("next", "/inbox"), ("login_csrf", &token)],
        )
        .await
    }
}

/// The value of a hidden field of a page.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no field {name} in the page")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}
