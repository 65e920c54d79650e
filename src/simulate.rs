//! `switchboard simulate`: realistic, correctly signed customer messages of every platform sent
//! to a running server — the demo's feeder and a load generator. It connects the lines it needs
//! through the API (secrets derived from `--seed`, so a later run can reuse them with
//! `--account kind=id`), then sends `--count` messages from `--customers` customers at
//! `--rate` per second, and prints how the server answered.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use switchboard_channels::simulate::{self, SimCustomer, SimLine};
use switchboard_domain::ChannelKind;

/// What a simulation run is asked to do.
pub struct Options {
    pub url: String,
    pub token: Option<String>,
    pub kinds: Vec<ChannelKind>,
    pub accounts: Vec<(ChannelKind, String)>,
    pub customers: usize,
    pub rate: f64,
    pub count: usize,
    pub seed: String,
}

/// What simulated customers write.
pub(crate) const TEXTS: [&str; 8] = [
    "Hello, my parcel has not arrived yet.",
    "Hi! Can I change the delivery address of my order?",
    "The product arrived broken, what can I do?",
    "Do you ship to Norway?",
    "I was charged twice for the same order.",
    "Thanks, that solved it!",
    "Is the blue one back in stock?",
    "How do I return an item?",
];

const NAMES: [&str; 8] =
    ["Mira Lindqvist", "Jonas Berg", "Nina Okafor", "Aiko Tanaka", "Olu Adeyemi", "Li Wei", "Sam Porter", "Ana Lima"];

struct Line {
    kind: ChannelKind,
    id: String,
    external_id: String,
    webhook_url: String,
    secrets: serde_json::Map<String, serde_json::Value>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    if options.rate <= 0.0 {
        bail!("--rate must be above 0");
    }
    let client = switchboard_channels::http_client();
    let base = options.url.trim_end_matches('/').to_owned();
    let lines = lines(&client, &base, &options).await?;
    let run_id = time::OffsetDateTime::now_utc().unix_timestamp() % 1_000_000;
    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 0..options.count {
        let line = &lines[i % lines.len()];
        let n = i % options.customers.max(1);
        let customer = SimCustomer { id: format!("1555{:07}", n + 1), name: NAMES[n % NAMES.len()].to_owned() };
        let message_id = format!("{run_id}{i:06}");
        let sim =
            SimLine { kind: line.kind, external_id: &line.external_id, secrets: &line.secrets, url: &line.webhook_url };
        let text = TEXTS[(i / lines.len()) % TEXTS.len()];
        let request = simulate::customer_message(&sim, &customer, &message_id, text, time::OffsetDateTime::now_utc())
            .map_err(|e| anyhow::anyhow!("building a {} message: {e}", line.kind))?;
        let mut url = format!("{base}/webhooks/{}/{}", line.kind, line.id);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&request.query).finish());
        }
        let mut call = client.post(url).body(request.body);
        for (name, value) in request.headers {
            call = call.header(name, value);
        }
        tasks.spawn(async move {
            let sent = Instant::now();
            let status = call.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, sent.elapsed())
        });
        let due = interval.mul_f64((i + 1) as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let mut latencies = Vec::with_capacity(options.count);
    let mut failed = 0usize;
    while let Some(done) = tasks.join_next().await {
        let (status, took) = done?;
        if status != 200 {
            failed += 1;
        }
        latencies.push(took);
    }
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    println!(
        "sent {} messages over {} lines in {:.1}s: {} accepted, {failed} refused; latency p50 {:?}, p99 {:?}",
        options.count,
        lines.len(),
        started.elapsed().as_secs_f64(),
        options.count - failed,
        pct(0.50).copied().unwrap_or_default(),
        pct(0.99).copied().unwrap_or_default(),
    );
    if failed > 0 {
        bail!("{failed} messages were refused");
    }
    Ok(())
}

/// The lines to write to: the ones named with `--account`, plus one new line per kind that has none.
async fn lines(client: &reqwest::Client, base: &str, options: &Options) -> anyhow::Result<Vec<Line>> {
    let mut lines = Vec::new();
    for kind in &options.kinds {
        let secrets = simulate::secrets_for(*kind, &options.seed);
        let token = options.token.as_deref().context("--token (or SWITCHBOARD_TOKEN) is needed to reach the API")?;
        let account = match options.accounts.iter().find(|(k, _)| k == kind) {
            Some((_, id)) => {
                let res = client.get(format!("{base}/api/v1/channel-accounts/{id}")).bearer_auth(token).send().await?;
                res.error_for_status()?.json::<serde_json::Value>().await?
            }
            None => {
                let external_id = format!("sim{}{}", options.seed, kind.as_str().len() * 1000 + lines.len());
                let body = serde_json::json!({
                    "kind": kind.as_str(),
                    "name": format!("Simulated {kind}"),
                    "external_id": external_id,
                    "secrets": secrets,
                });
                let res = client
                    .post(format!("{base}/api/v1/channel-accounts"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await?;
                let status = res.status();
                let answer: serde_json::Value = res.json().await.unwrap_or_default();
                if !status.is_success() {
                    bail!("connecting a simulated {kind} line: {status} {answer}");
                }
                answer
            }
        };
        let field = |name: &str| account[name].as_str().map(str::to_owned).context("unexpected channel account answer");
        lines.push(Line {
            kind: *kind,
            id: field("id")?,
            external_id: field("external_id")?,
            webhook_url: field("webhook_url")?,
            secrets,
        });
    }
    if lines.is_empty() {
        bail!("no kinds to simulate");
    }
    Ok(lines)
}
