//! `switchboard bench ingest`: signed inbound webhooks → stored, threaded, searchable tickets,
//! against a running server (DESIGN §11: ≥ 20,000 messages/s on SQLite with p99
//! acknowledgement ≤ 10 ms at 10,000/s offered; ≥ 8,000 messages/s on PostgreSQL).
//!
//! It connects a generic `api` line, then offers signed webhooks from `--customers` customers
//! (so both new tickets and messages threaded onto existing ones are exercised), `--batch`
//! messages each, over `--concurrency` keep-alive connections, either
//! - open loop (`--rate`): every request has its due time on a fixed schedule, and latency
//!   runs from that due time, so a server that stalls is charged for everything queued behind
//!   the stall (no coordinated omission); or
//! - closed loop (`--max`): each connection sends its next request as soon as the last is
//!   answered — the throughput the server sustains.
//!
//! Afterwards it checks that what was acknowledged is stored: a sample of messages is found by
//! full-text search on their tickets, those tickets hold every acknowledged message of their
//! customer, and the line has one ticket per customer who wrote.
//!
//! The generator shares the machine with the server, so it is lean: the binary's one tokio
//! runtime, hand-written HTTP/1.1 on keep-alive connections (`wire`), each body built and
//! signed while its connection waits for its due time.

mod wire;

use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use switchboard_channels::simulate::{self, SimCustomer, SimLine};
use switchboard_domain::ChannelKind;
use tokio::time::Instant;

/// What a run is asked to do.
pub struct Options {
    pub url: String,
    pub token: String,
    /// `api` (the generic signed webhook), or a platform the simulator speaks (`whatsapp`, …).
    pub kind: ChannelKind,
    /// Messages per second offered (open loop); `None` is as fast as answers come (closed loop).
    pub rate: Option<f64>,
    pub seconds: f64,
    pub concurrency: usize,
    pub customers: u64,
    pub batch: u64,
    /// The server's process id, to follow its resident memory (Linux `/proc`).
    pub server_pid: Option<u32>,
    /// How many acknowledged messages to look up afterwards.
    pub verify: usize,
}

/// A request not answered within this is counted as failed (status 0) and its connection reopened.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Every this-many-th webhook keeps its answer, to be looked up after the run.
const SAMPLE_EVERY: u64 = 101;

struct Plan {
    address: std::net::SocketAddr,
    host: String,
    kind: ChannelKind,
    account: String,
    external_id: String,
    webhook_url: String,
    secrets: switchboard_channels::webhook::Secrets,
    run: u64,
    batch: u64,
    customers: u64,
    connections: u64,
    /// Webhooks per second and how many in all, in an open-loop run.
    schedule: Option<(f64, u64)>,
    start: Instant,
    end: Instant,
}

struct Shared {
    acked: AtomicU64,
    failed: AtomicU64,
    /// Acknowledged messages per customer.
    per_customer: Vec<AtomicU32>,
    /// The server's largest resident size seen, in kB (0: not followed).
    max_rss_kb: AtomicU64,
}

#[derive(Default)]
struct Tally {
    /// Microseconds from the due time to the answer (open loop) or from sending (closed loop).
    latencies: Vec<u32>,
    /// Microseconds from the request leaving to its answer.
    service: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    created: u64,
    appended: u64,
    samples: Vec<(u64, Vec<u8>)>,
    /// Webhooks of an open-loop schedule still waiting to leave when the run ended.
    unsent: u64,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    if options.rate.is_some_and(|r| r <= 0.0) || options.seconds <= 0.0 {
        bail!("--rate and --seconds must be above 0");
    }
    let base = options.url.trim_end_matches('/').to_owned();
    let host = base.strip_prefix("http://").context("--url must be http://host:port")?.to_owned();
    let address = host.to_socket_addrs()?.next().context("--url names no address")?;
    let client = switchboard_channels::http_client();
    let run = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 % 1_000_000_000) as u64;
    let external_id = format!("benchingest{run}");
    let secrets = if options.kind == ChannelKind::Api {
        [("secret".to_owned(), serde_json::Value::String(format!("bench-ingest-secret-{run}")))].into_iter().collect()
    } else if simulate::KINDS.contains(&options.kind) {
        if options.batch > 1 {
            bail!("--batch is for the api kind; a simulated platform delivery carries one message");
        }
        simulate::secrets_for(options.kind, &format!("bench{run}"))
    } else {
        bail!("--kind is api or one the simulator speaks ({:?})", simulate::KINDS.map(ChannelKind::as_str));
    };
    let line = client
        .post(format!("{base}/api/v1/channel-accounts"))
        .bearer_auth(&options.token)
        .json(&serde_json::json!({"kind": options.kind.as_str(), "name": format!("bench ingest {run}"),
                                  "external_id": external_id, "secrets": secrets}))
        .send()
        .await?
        .error_for_status()
        .context("connecting the bench's line")?
        .json::<serde_json::Value>()
        .await?;
    let account = line["id"].as_str().context("no account id")?.to_owned();
    let webhook_url = line["webhook_url"].as_str().context("no webhook URL")?.to_owned();

    let batch = options.batch.max(1);
    let connections = options.concurrency.max(1) as u64;
    let schedule = options.rate.map(|rate| (rate / batch as f64, wire::offered(rate / batch as f64, options.seconds)));
    let mode = match options.rate {
        Some(rate) => format!("open loop, {rate:.0} messages/s offered"),
        None => "closed loop, as fast as the server answers".to_owned(),
    };
    println!(
        "bench ingest: {mode} for {:.0}s over {connections} connections; {} customers, {batch} message(s) per webhook; \
         {} line {account}; load average {}",
        options.seconds,
        options.customers,
        options.kind,
        load_average()
    );
    println!(
        "(the load generator runs on these same cores: one tokio runtime, keep-alive connections, hand-written HTTP/1.1)"
    );

    let start = Instant::now();
    let plan = Arc::new(Plan {
        address,
        host,
        kind: options.kind,
        account,
        external_id,
        webhook_url,
        secrets,
        run,
        batch,
        customers: options.customers.max(1),
        connections,
        schedule,
        start,
        end: start + Duration::from_secs_f64(options.seconds),
    });
    let shared = Arc::new(Shared {
        acked: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        per_customer: (0..plan.customers).map(|_| AtomicU32::new(0)).collect(),
        max_rss_kb: AtomicU64::new(0),
    });
    let mut workers = tokio::task::JoinSet::new();
    for k in 0..connections {
        workers.spawn(worker(k, plan.clone(), shared.clone()));
    }
    let progress = tokio::spawn(progress(shared.clone(), options.server_pid));
    let mut tally = Tally::default();
    while let Some(done) = workers.join_next().await {
        let t = done?;
        tally.latencies.extend(t.latencies);
        tally.service.extend(t.service);
        for (status, n) in t.statuses {
            *tally.statuses.entry(status).or_default() += n;
        }
        tally.created += t.created;
        tally.appended += t.appended;
        tally.samples.extend(t.samples);
        tally.unsent += t.unsent;
    }
    let elapsed = start.elapsed().as_secs_f64();
    progress.abort();
    report(&options, &plan, &shared, &mut tally, elapsed);
    verify(&client, &base, &options, &plan, &shared, tally.samples).await
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// One connection's share of the run: webhooks `k`, `k + connections`, `k + 2·connections`, …
async fn worker(k: u64, plan: Arc<Plan>, shared: Arc<Shared>) -> Tally {
    let mut connection = wire::Connection::new(plan.address);
    let (mut body, mut request) = (Vec::new(), Vec::new());
    let mut tally = Tally::default();
    let mut n = k;
    loop {
        let due = match plan.schedule {
            Some((rate, total)) if n < total => {
                let due = plan.start + wire::due(n, rate);
                // A server that fell behind does not stretch the run: what could not leave by the
                // end is counted as not sent, its latency at least the time it has waited.
                let now = Instant::now();
                if now >= plan.end && now > due {
                    let left = (total - n).div_ceil(plan.connections);
                    for j in 0..left {
                        let due = plan.start + wire::due(n + j * plan.connections, rate);
                        tally.latencies.push(micros(now.saturating_duration_since(due)));
                    }
                    tally.unsent += left;
                    break;
                }
                Some(due)
            }
            Some(_) => break,
            None if Instant::now() >= plan.end => break,
            None => None,
        };
        let first = n * plan.batch;
        if plan.kind == ChannelKind::Api {
            wire::webhook_body(&mut body, plan.run, first, plan.batch, plan.customers);
            let secret = plan.secrets["secret"].as_str().unwrap_or_default();
            wire::signed_request(&mut request, &plan.host, &plan.account, secret, &body);
        } else if let Err(e) = platform_request(&plan, first, &mut request) {
            // Only a bug makes this fail (the kind and secrets were checked before the run).
            tracing::error!("building a {} webhook: {e}", plan.kind);
            break;
        }
        if let Some(due) = due {
            tokio::time::sleep_until(due).await;
        }
        let sent = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, connection.round_trip(&request)).await;
        let answered = Instant::now();
        tally.service.push(micros(answered - sent));
        tally.latencies.push(micros(answered - due.unwrap_or(sent)));
        let status = match answer {
            Ok(Ok(reply)) => {
                if reply.status == 200 {
                    tally.created += wire::occurrences(reply.body, br#""outcome":"created""#) as u64;
                    tally.appended += wire::occurrences(reply.body, br#""outcome":"appended""#) as u64;
                    if n.is_multiple_of(SAMPLE_EVERY) {
                        tally.samples.push((first, reply.body.to_vec()));
                    }
                }
                reply.status
            }
            Ok(Err(_)) => 0,
            Err(_) => {
                connection = wire::Connection::new(plan.address);
                0
            }
        };
        *tally.statuses.entry(status).or_default() += 1;
        if status == 200 {
            shared.acked.fetch_add(plan.batch, Ordering::Relaxed);
            for m in first..first + plan.batch {
                shared.per_customer[wire::customer_of(m, plan.customers) as usize].fetch_add(1, Ordering::Relaxed);
            }
        } else {
            shared.failed.fetch_add(plan.batch, Ordering::Relaxed);
        }
        n += plan.connections;
    }
    tally
}

/// A platform's own signed delivery of message `m`, as `switchboard simulate` builds it.
fn platform_request(plan: &Plan, m: u64, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let c = wire::customer_of(m, plan.customers);
    // Digits, as phone-number platforms and Telegram want; a new set of customers per run.
    let customer = SimCustomer { id: format!("{}{c:07}", 10_000 + plan.run % 90_000), name: format!("Customer {c}") };
    let line =
        SimLine { kind: plan.kind, external_id: &plan.external_id, secrets: &plan.secrets, url: &plan.webhook_url };
    let message_id = format!("{}{m:09}", plan.run);
    let text = wire::message_text(plan.run, m);
    let sim = simulate::customer_message(&line, &customer, &message_id, &text, time::OffsetDateTime::now_utc())?;
    let mut target = format!("/webhooks/{}/{}", plan.kind, plan.account);
    if !sim.query.is_empty() {
        target.push('?');
        target.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&sim.query).finish());
    }
    let headers: Vec<(&str, &str)> = sim.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    wire::request(out, &plan.host, &target, &headers, &sim.body);
    Ok(())
}

/// Prints acknowledged messages per second, the server's memory and the machine's load once a
/// second, noting the server's largest resident size.
async fn progress(shared: Arc<Shared>, pid: Option<u32>) {
    let started = Instant::now();
    let mut last = 0;
    let mut tick = tokio::time::interval_at(started + Duration::from_secs(1), Duration::from_secs(1));
    loop {
        tick.tick().await;
        let acked = shared.acked.load(Ordering::Relaxed);
        let rss = pid.and_then(resident_kb);
        if let Some(kb) = rss {
            shared.max_rss_kb.fetch_max(kb, Ordering::Relaxed);
        }
        println!(
            "  {:>4.0}s  {:>7} messages/s acknowledged  {:>6} failed in all{}  load {}",
            started.elapsed().as_secs_f64(),
            acked - last,
            shared.failed.load(Ordering::Relaxed),
            rss.map(|kb| format!("  server RSS {} MB", kb / 1024)).unwrap_or_default(),
            load_average()
        );
        last = acked;
    }
}

fn report(options: &Options, plan: &Plan, shared: &Shared, tally: &mut Tally, elapsed: f64) {
    let acked = shared.acked.load(Ordering::Relaxed);
    let failed = shared.failed.load(Ordering::Relaxed);
    let offered = match (options.rate, plan.schedule) {
        (Some(rate), Some((_, total))) => format!("{rate:.0}/s ({} messages)", total * plan.batch),
        _ => format!("as fast as answered ({} messages sent)", acked + failed),
    };
    tally.latencies.sort_unstable();
    tally.service.sort_unstable();
    let ms = |us: u32| us as f64 / 1000.0;
    let line = |name: &str, v: &[u32]| {
        println!(
            "{name}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(wire::percentile(v, 0.50)),
            ms(wire::percentile(v, 0.90)),
            ms(wire::percentile(v, 0.99)),
            ms(v.last().copied().unwrap_or(0)),
        )
    };
    println!("\noffered: {offered}");
    let threading = if plan.kind == ChannelKind::Api {
        format!("{} new tickets, {} threaded onto existing ones", tally.created, tally.appended)
    } else {
        "the platform's answers do not say which made new tickets".to_owned()
    };
    println!("achieved: {:.0} messages/s acknowledged ({acked} in {elapsed:.1}s); {threading}", acked as f64 / elapsed);
    if options.rate.is_some() {
        line("acknowledgement, from each request's due time (coordinated omission corrected)", &tally.latencies);
        line("service time, from the request leaving", &tally.service);
    } else {
        line("acknowledgement (closed loop, from the request leaving)", &tally.latencies);
    }
    let statuses: Vec<String> = tally
        .statuses
        .iter()
        .map(|(s, n)| if *s == 0 { format!("no answer: {n}") } else { format!("{s}: {n}") })
        .collect();
    println!("webhooks by status: {}", statuses.join(", "));
    if tally.unsent > 0 {
        println!(
            "not sent: {} webhooks were still waiting to leave when the run ended (the server fell behind); \
             they count in the acknowledgement percentiles with the time they had waited",
            tally.unsent
        );
    }
    if let kb @ 1.. = shared.max_rss_kb.load(Ordering::Relaxed) {
        println!("server RSS, largest seen: {} MB", kb / 1024);
    }
    println!("load average after the run: {}", load_average());
}

/// Acknowledged must mean stored: sampled messages are found by full-text search on the ticket
/// their webhook named, those tickets hold every acknowledged message of their customer, and the
/// line has a ticket per customer who wrote.
async fn verify(
    client: &reqwest::Client,
    base: &str,
    options: &Options,
    plan: &Plan,
    shared: &Shared,
    mut samples: Vec<(u64, Vec<u8>)>,
) -> anyhow::Result<()> {
    samples.sort_by_key(|(m, _)| *m);
    let step = (samples.len() / options.verify.max(1)).max(1);
    let chosen: Vec<_> = samples.into_iter().step_by(step).take(options.verify).collect();
    let get = |path: String| async move {
        let answer = client.get(format!("{base}{path}")).bearer_auth(&options.token).send().await?;
        anyhow::Ok(answer.error_for_status()?.json::<serde_json::Value>().await?)
    };
    let mut problems = Vec::new();
    for (message, answer) in &chosen {
        let word = wire::reference(plan.run, *message);
        let found = get(format!("/api/v1/search?q={word}")).await?;
        let found: Vec<&str> = found["tickets"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["id"].as_str()).collect())
            .unwrap_or_default();
        // The generic webhook answers with the ticket; the platforms' answers do not.
        let ticket = if plan.kind == ChannelKind::Api {
            let answer: serde_json::Value = serde_json::from_slice(answer)?;
            answer["messages"][0]["ticket_id"].as_str().context("an answer without a ticket")?.to_owned()
        } else {
            found.first().copied().unwrap_or_default().to_owned()
        };
        if found != [ticket.as_str()] {
            problems.push(format!("message {message} ({word}) is not found on its ticket alone: {found:?}"));
            continue;
        }
        let customer = wire::customer_of(*message, plan.customers);
        let acked = shared.per_customer[customer as usize].load(Ordering::Relaxed) as usize;
        let stored =
            get(format!("/api/v1/tickets/{ticket}/messages")).await?["messages"].as_array().map_or(0, |m| m.len());
        if stored < acked {
            problems.push(format!("ticket {ticket} holds {stored} messages, {acked} were acknowledged"));
        }
    }
    println!(
        "verified: {} sampled messages found by full-text search on their tickets, each holding all",
        chosen.len()
    );
    println!(
        "          of its customer's acknowledged messages{}",
        if problems.is_empty() { "" } else { " — NOT ALL" }
    );

    let writers = shared.per_customer.iter().filter(|n| n.load(Ordering::Relaxed) > 0).count();
    if writers <= 20_000 {
        let mut tickets = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/tickets?q=account:benchingest{}&limit=100", plan.run);
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = get(path).await?;
            tickets += page["tickets"].as_array().map_or(0, |t| t.len());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        println!("tickets on the line: {tickets}, customers with an acknowledged message: {writers}");
        if tickets < writers {
            problems.push(format!("{writers} customers were acknowledged but the line has {tickets} tickets"));
        }
    } else {
        println!("tickets on the line: not counted ({writers} customers wrote; the sample above stands for them)");
    }
    if !problems.is_empty() {
        bail!("acknowledged but not stored:\n  {}", problems.join("\n  "));
    }
    Ok(())
}

/// The 1-minute load average (Linux), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// A process's resident memory in kB (Linux), if it is running.
fn resident_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}
