//! Reading a WhatsApp Business Account's message templates from the Graph API
//! (`GET {base}/{waba_id}/message_templates`), so that the registry shows what the platform
//! approved. *Unconfirmed in our digest*; coded from Meta's Graph API reference, defensively:
//! a template without a body text is skipped, not an error.

use serde::Deserialize;

use crate::send::{SendOutcome, call, classify_status};

/// A template as the platform has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTemplate {
    pub name: String,
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    /// APPROVED, PENDING, REJECTED, PAUSED, DISABLED… as the platform says, lowercased.
    pub status: String,
    /// The BODY component's text, with `{{1}}`-style placeholders.
    pub body: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Item>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    name: Option<String>,
    language: Option<String>,
    category: Option<String>,
    status: Option<String>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
}

/// The most pages read in one sync (100 templates each).
const MAX_PAGES: usize = 20;

/// Every template of the WhatsApp Business Account, following the pages. A failure is
/// reported as the send outcome it would be (permanent: wrong token or account; transient).
pub async fn fetch(
    http: &reqwest::Client,
    api_base_url: &str,
    waba_id: &str,
    access_token: &str,
) -> Result<Vec<RemoteTemplate>, SendOutcome> {
    let mut url = format!(
        "{}/{waba_id}/message_templates?fields=name,language,category,status,components&limit=100",
        api_base_url.trim_end_matches('/')
    );
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let reply = call(http.get(&url).bearer_auth(access_token)).await?;
        let (status, bytes) = (reply.status, reply.body);
        if let Some(outcome) = classify_status(status, reply.retry_after.as_deref()) {
            return Err(outcome);
        }
        if !(200..300).contains(&status) {
            let detail: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let code = detail["error"]["code"].as_i64().map(|c| c.to_string()).unwrap_or_else(|| status.to_string());
            let message = detail["error"]["message"].as_str().unwrap_or("the platform refused to list templates");
            return Err(SendOutcome::permanent(code, message));
        }
        let page: Page = serde_json::from_slice(&bytes)
            .map_err(|e| SendOutcome::permanent("unreadable", format!("the template list could not be read: {e}")))?;
        for item in page.data {
            let body = item
                .components
                .iter()
                .find(|c| c.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("body")))
                .and_then(|c| c.text.clone());
            if let (Some(name), Some(language), Some(body)) = (item.name, item.language, body) {
                out.push(RemoteTemplate {
                    name,
                    language,
                    category: item.category.unwrap_or_else(|| "UTILITY".into()).to_uppercase(),
                    status: item.status.unwrap_or_else(|| "pending".into()).to_lowercase(),
                    body,
                });
            }
        }
        match page.paging.and_then(|p| p.next) {
            Some(next) if next.starts_with(api_base_url.trim_end_matches('/')) => url = next,
            _ => break,
        }
    }
    Ok(out)
}
