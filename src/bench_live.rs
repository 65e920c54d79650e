//! `switchboard bench live`: how long a customer's message takes to reach agents' live streams
//! (DESIGN §11: webhook accepted → event on an agent's SSE stream, p99 ≤ 50 ms with 5,000
//! connected agents per node). It opens `--streams` event streams on a running server, then
//! sends `--count` signed messages, each from a new customer, one after another at `--rate`;
//! every stream should see one `ticket_created` per message, in order. The k-th event of each
//! stream is timed against the moment the k-th webhook was answered (and sent). With
//! `--stream-url` the streams are opened on another node of the same database, to time the
//! way across nodes (Postgres `NOTIFY`).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Options {
    pub url: String,
    /// Where the streams are opened, if not on `url`: another node on the same database.
    pub stream_url: Option<String>,
    pub token: String,
    pub streams: usize,
    pub count: usize,
    pub rate: f64,
}

const MARK: &[u8] = b"\nevent: ticket_created\n";

pub async fn live(options: Options) -> anyhow::Result<()> {
    let base = options.url.trim_end_matches('/').to_owned();
    let stream_base = options.stream_url.as_deref().unwrap_or(&base).trim_end_matches('/');
    let host = stream_base.strip_prefix("http://").context("the streams' URL must be http://host:port")?.to_owned();
    let client = switchboard_channels::http_client();
    let secret = format!("bench-{}", time::OffsetDateTime::now_utc().unix_timestamp_nanos());
    let line = client
        .post(format!("{base}/api/v1/channel-accounts"))
        .bearer_auth(&options.token)
        .json(&serde_json::json!({"kind": "api", "name": "bench live", "external_id": secret, "secrets": {"secret": secret}}))
        .send()
        .await?
        .error_for_status()?
        .json::<serde_json::Value>()
        .await?;
    let account = line["id"].as_str().context("no account id")?.to_owned();

    // Open the streams, a few hundred at a time, and wait until each has said `ready`.
    let started = Instant::now();
    let mut streams = tokio::task::JoinSet::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for i in 0..options.streams {
        let (host, token, ready) = (host.clone(), options.token.clone(), ready_tx.clone());
        let count = options.count;
        streams.spawn(async move { follow(&host, &token, count, ready).await });
        if i % 200 == 199 {
            for _ in 0..200 {
                ready_rx.recv().await.context("a stream failed to open")?;
            }
        }
    }
    for _ in 0..options.streams % 200 {
        ready_rx.recv().await.context("a stream failed to open")?;
    }
    println!("{} streams open in {:.1}s", options.streams, started.elapsed().as_secs_f64());

    let interval = Duration::from_secs_f64(1.0 / options.rate.max(0.1));
    let mut sent = Vec::with_capacity(options.count);
    for k in 0..options.count {
        let body = serde_json::to_vec(&serde_json::json!({"messages": [{
            "id": format!("{secret}-{k}"), "from": {"id": format!("{secret}-customer-{k}")}, "text": "Hello?"
        }]}))?;
        let signature = switchboard_channels::signature::hmac_sha256_hex(secret.as_bytes(), &body);
        let before = Instant::now();
        let answer = client
            .post(format!("{base}/webhooks/api/{account}"))
            .header("content-type", "application/json")
            .header("x-switchboard-signature", format!("sha256={signature}"))
            .body(body)
            .send()
            .await?;
        let acked = Instant::now();
        if !answer.status().is_success() {
            bail!("the webhook answered {}", answer.status());
        }
        sent.push((before, acked));
        tokio::time::sleep(interval.saturating_sub(before.elapsed())).await;
    }

    let mut from_ack = Vec::new();
    let mut from_send = Vec::new();
    let mut missing = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(done)) = tokio::time::timeout_at(deadline, streams.join_next()).await {
        let seen = done??;
        missing += options.count - seen.len();
        for (k, at) in seen.into_iter().enumerate() {
            from_ack.push(at.saturating_duration_since(sent[k].1));
            from_send.push(at.saturating_duration_since(sent[k].0));
        }
    }
    missing += streams.len() * options.count;
    streams.abort_all();
    let report = |name: &str, mut all: Vec<Duration>| {
        all.sort();
        let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied();
        println!(
            "{name}: p50 {:?}, p99 {:?}, max {:?} over {} deliveries",
            pct(0.50).unwrap_or_default(),
            pct(0.99).unwrap_or_default(),
            all.last().copied().unwrap_or_default(),
            all.len()
        );
    };
    report("webhook answered → event on a stream", from_ack);
    report("webhook sent → event on a stream", from_send);
    if missing > 0 {
        bail!("{missing} events did not arrive");
    }
    Ok(())
}

/// One agent's stream over a raw connection: the arrival time of each `ticket_created` event.
async fn follow(
    host: &str,
    token: &str,
    count: usize,
    ready: tokio::sync::mpsc::UnboundedSender<()>,
) -> anyhow::Result<Vec<Instant>> {
    let mut socket = tokio::net::TcpStream::connect(host).await?;
    socket.set_nodelay(true)?;
    let request = format!(
        "GET /api/v1/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await?;
    let mut seen = Vec::with_capacity(count);
    let mut window: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut is_ready = false;
    while seen.len() < count {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let now = Instant::now();
        window.extend_from_slice(&buf[..n]);
        if !is_ready && window.windows(13).any(|w| w == b"event: ready\n") {
            is_ready = true;
            let _ = ready.send(());
        }
        let mut start = 0;
        while let Some(at) = window[start..].windows(MARK.len()).position(|w| w == MARK) {
            seen.push(now);
            start += at + MARK.len();
        }
        // Keep a tail in case a marker is split across reads.
        let keep = window.len().saturating_sub(MARK.len());
        window.drain(..keep.max(start).min(window.len()));
    }
    Ok(seen)
}
