//! `switchboard`: the one binary. `serve` runs everything; the other commands manage the
//! database and the people who use it (DESIGN §9). Every flag is also read from the
//! environment.

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use switchboard_domain::clock::SystemClock;
use switchboard_http::AppState;
use switchboard_service::{DEFAULT_WORKSPACE, Service};
use switchboard_store::Db;

mod bench_ingest;
mod bench_live;
mod bench_search;
mod demo;
mod simulate;

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Omnichannel support inbox: every customer message becomes a ticket")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DbArgs {
    /// sqlite://FILE (created if missing) or postgres://…
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://switchboard.db", global = true)]
    database: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything: API, webhooks and workers. Migrates on start.
    Serve {
        #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// The address platforms call; used in webhook URLs. Defaults to http://<listen>.
        #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
        public_url: Option<String>,
        /// Send every line's messages to `{this}/{kind}` instead of the platforms (the fake
        /// platforms, a proxy), unless a line has its own `api_base_url`.
        #[arg(long, env = "SWITCHBOARD_API_BASE_URL")]
        api_base_url: Option<String>,
        /// Where uploaded files and fetched media are kept.
        #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "switchboard-data")]
        data_dir: std::path::PathBuf,
        /// Load a demo workspace (agents, lines of every kind answered by built-in fake
        /// platforms, some history) and keep simulated customers writing in.
        #[arg(long, env = "SWITCHBOARD_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
        demo: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Run the fake platforms (the send endpoints of every platform) for the demo and manual tests.
    FakePlatforms {
        #[arg(long, env = "SWITCHBOARD_FAKE_LISTEN", default_value = "127.0.0.1:9090")]
        listen: String,
    },
    /// Apply migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Send realistic, correctly signed customer messages of every platform to a running server.
    Simulate {
        /// The server to send to.
        #[arg(long, env = "SWITCHBOARD_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An admin's API token, to connect the simulated lines.
        #[arg(long, env = "SWITCHBOARD_TOKEN")]
        token: Option<String>,
        /// The platforms to simulate.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "whatsapp,messenger,instagram,x,line,wechat,telegram,twilio"
        )]
        kinds: Vec<String>,
        /// Reuse a line an earlier run (with the same --seed) connected: `kind=account_id`; repeatable.
        #[arg(long = "account")]
        accounts: Vec<String>,
        /// How many different customers write.
        #[arg(long, default_value_t = 10)]
        customers: usize,
        /// Messages per second.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// How many messages in all.
        #[arg(long, default_value_t = 100)]
        count: usize,
        /// Derives the simulated lines' secrets; the same seed reuses them.
        #[arg(long, default_value = "demo")]
        seed: String,
    },
    /// The benchmark harness: inbox-scale search; inbound throughput and live streams of a running server.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Manage admin agents.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Signed inbound webhooks → stored tickets: throughput and acknowledgement latency of a
    /// running server, then a check that what was acknowledged is stored.
    Ingest {
        /// The server to measure.
        #[arg(long, env = "SWITCHBOARD_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An admin's API token (to connect the bench's line and check what was stored).
        #[arg(long, env = "SWITCHBOARD_TOKEN")]
        token: String,
        /// `api`, the generic signed webhook (cheapest to build), or a platform the simulator
        /// speaks (`whatsapp` with Meta's signature, `telegram`, …; one message per webhook).
        #[arg(long, default_value = "api")]
        kind: String,
        /// Offer this many messages per second on a fixed schedule (open loop; latency from
        /// each request's due time).
        #[arg(long, group = "mode")]
        rate: Option<f64>,
        /// Send as fast as the server acknowledges (closed loop): the throughput.
        #[arg(long, group = "mode")]
        max: bool,
        /// How long to offer load.
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        /// Keep-alive connections (each carries one request at a time).
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// How many different customers write (one ticket each; later messages thread onto it).
        #[arg(long, default_value_t = 10_000)]
        customers: u64,
        /// Messages per webhook.
        #[arg(long, default_value_t = 1)]
        batch: u64,
        /// The server's process id, to report its resident memory during the run.
        #[arg(long)]
        server_pid: Option<u32>,
        /// How many acknowledged messages to look up afterwards.
        #[arg(long, default_value_t = 20)]
        verify: usize,
    },
    /// Webhook → agents' live streams: opens many streams, sends messages, times the events.
    Live {
        /// The server to measure.
        #[arg(long, env = "SWITCHBOARD_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An admin's API token (the streams are that agent's).
        #[arg(long, env = "SWITCHBOARD_TOKEN")]
        token: String,
        /// Open the streams on this node instead (another node on the same database).
        #[arg(long)]
        stream_url: Option<String>,
        /// How many agents' streams to hold open.
        #[arg(long, default_value_t = 5000)]
        streams: usize,
        /// How many messages to send.
        #[arg(long, default_value_t = 100)]
        count: usize,
        /// Messages per second.
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
    },
    /// Fill a database to inbox scale (once) and measure views, the ticket page and searches.
    Search {
        /// The database to fill and measure; a separate one from production's.
        #[arg(long, env = "SWITCHBOARD_BENCH_DATABASE_URL", default_value = "sqlite://switchboard-bench.db")]
        database: String,
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
        #[arg(long, default_value_t = 5)]
        messages_per_ticket: u64,
        #[arg(long, default_value_t = 20)]
        agents: u64,
        /// Measured runs of each query.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create (or update) an admin agent.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, env = "SWITCHBOARD_ADMIN_PASSWORD")]
        password: String,
        #[arg(long)]
        name: Option<String>,
        /// The workspace (business) the admin belongs to; created if it does not exist.
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new API token for the agent with that e-mail.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for, to recognise it later.
        #[arg(long, default_value = "cli")]
        label: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve { listen, public_url, api_base_url, data_dir, demo, db } => {
            serve(Serve { listen, public_url, api_base_url, data_dir, demo }, &db.database).await
        }
        Command::FakePlatforms { listen } => {
            let fake = switchboard_fakes::FakePlatforms::spawn(&listen).await?;
            println!("fake platforms listening on {} (point SWITCHBOARD_API_BASE_URL here)", fake.base_url);
            shutdown_signal().await;
            Ok(())
        }
        Command::Simulate { url, token, kinds, accounts, customers, rate, count, seed } => {
            let kinds =
                kinds.iter().map(|k| k.parse::<switchboard_domain::ChannelKind>()).collect::<Result<Vec<_>, _>>()?;
            if let Some(kind) = kinds.iter().find(|k| !switchboard_channels::simulate::KINDS.contains(k)) {
                anyhow::bail!("the simulator does not speak {kind}");
            }
            let accounts = accounts
                .iter()
                .map(|a| {
                    let (kind, id) = a.split_once('=').context("--account takes kind=account_id")?;
                    Ok((kind.parse()?, id.to_owned()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            simulate::run(simulate::Options { url, token, kinds, accounts, customers, rate, count, seed }).await
        }
        Command::Bench {
            command: BenchCommand::Search { database, tickets, messages_per_ticket, agents, iterations, seed },
        } => {
            bench_search::run(bench_search::Options {
                database,
                tickets,
                messages_per_ticket,
                agents,
                iterations,
                seed,
            })
            .await
        }
        Command::Bench {
            command:
                BenchCommand::Ingest {
                    url,
                    token,
                    kind,
                    rate,
                    max,
                    seconds,
                    concurrency,
                    customers,
                    batch,
                    server_pid,
                    verify,
                },
        } => {
            if rate.is_none() && !max {
                anyhow::bail!("say --rate N (open loop) or --max (closed loop)");
            }
            bench_ingest::run(bench_ingest::Options {
                url,
                token,
                kind: kind.parse()?,
                rate,
                seconds,
                concurrency,
                customers,
                batch,
                server_pid,
                verify,
            })
            .await
        }
        Command::Bench { command: BenchCommand::Live { url, token, stream_url, streams, count, rate } } => {
            bench_live::live(bench_live::Options { url, stream_url, token, streams, count, rate }).await
        }
        Command::Migrate { db } => {
            connect(&db.database).await?.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Create { email, password, name, workspace, db } } => {
            let service = service(&db.database).await?;
            let agent = service.create_admin(&workspace, &email, &password, name.as_deref()).await?;
            println!("admin {} ({}) in workspace `{workspace}`", agent.email, agent.id);
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { email, label, db } } => {
            let service = service(&db.database).await?;
            println!("{}", service.create_token(&email, &label).await?);
            Ok(())
        }
    }
}

async fn connect(url: &str) -> anyhow::Result<Db> {
    Db::connect(url).await.with_context(|| format!("opening the database {}", redact(url)))
}

async fn service(url: &str) -> anyhow::Result<Service> {
    let db = connect(url).await?;
    let service = Service::new(db, Arc::new(SystemClock));
    // A fresh install has one workspace, so that its first admin has somewhere to live.
    service.ensure_workspace(DEFAULT_WORKSPACE).await?;
    Ok(service)
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    // Parameters may carry a password too (`?password=…`): they are not printed at all.
    let (url, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?…"),
        None => (url, ""),
    };
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}{query}", &url[..scheme], &url[at..]),
        _ => format!("{url}{query}"),
    }
}

/// What `serve` was asked to do.
struct Serve {
    listen: String,
    public_url: Option<String>,
    api_base_url: Option<String>,
    data_dir: std::path::PathBuf,
    demo: bool,
}

/// How often the demo's simulated customers write.
const DEMO_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
/// How often live events older than a day are pruned.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

async fn serve(options: Serve, database: &str) -> anyhow::Result<()> {
    let Serve { listen, public_url, api_base_url, data_dir, demo } = options;
    let service = service(database).await?;
    service.set_api_base_override(api_base_url);
    service.set_files_dir(data_dir.join("files"));
    let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr()?;
    let public_url = public_url.unwrap_or_else(|| format!("http://{local}"));
    service.set_public_url(&public_url);
    // The demo's history is written (and its replies delivered, "back then") before the
    // worker starts, so that the worker never sends a reply of three days ago as of now.
    let demo = if demo { Some(start_demo(&service).await?) } else { None };
    let worker = switchboard_jobs::OutboxWorker::new(service.clone(), Default::default()).spawn();
    let pruner = tokio::spawn({
        let service = service.clone();
        async move {
            loop {
                tokio::time::sleep(PRUNE_EVERY).await;
                match service.prune_live_events().await {
                    Ok(n) if n > 0 => tracing::debug!(live.pruned = n, "pruned old live events"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning live events failed"),
                }
            }
        }
    });
    tracing::info!("Switchboard listening on http://{local} (database {}, public URL {public_url})", redact(database));
    let feeder = demo.as_ref().map(|(loaded, fakes, token)| {
        // The feeder calls this server directly, wherever the public address points.
        let own = if local.ip().is_unspecified() {
            format!("http://127.0.0.1:{}", local.port())
        } else {
            format!("http://{local}")
        };
        print_demo(&public_url, loaded, fakes, token);
        demo::feed(&loaded.lines, &own, &public_url, DEMO_INTERVAL)
    });
    if let Some(key) = service.open_first_run().await? {
        println!(
            "\n  Switchboard has no admin yet. Open this link to name your business and make the first admin:\n\n  \
             {public_url}/setup?key={key}\n\n  \
             (it works once, on this server, until it restarts; or run `switchboard admin create`)\n"
        );
    }
    let state = AppState { service: service.clone(), public_url };
    switchboard_http::serve(listener, state, shutdown_signal()).await?;
    if let Some(feeder) = feeder {
        feeder.abort();
    }
    pruner.abort();
    // Let the worker finish the message in hand, so no send is cut between the platform's
    // acceptance and its record.
    worker.stop(std::time::Duration::from_secs(30)).await;
    service.db().close().await;
    Ok(())
}

/// Starts the fake platforms and loads the demo workspace.
async fn start_demo(service: &Service) -> anyhow::Result<(demo::Demo, switchboard_fakes::FakePlatforms, String)> {
    let fakes = switchboard_fakes::FakePlatforms::spawn("127.0.0.1:0").await.context("starting the fake platforms")?;
    let loaded = demo::load(service, &fakes.base_url).await.context("loading the demo")?;
    let token = service.create_token(demo::ADMIN.email, "demo").await?;
    Ok((loaded, fakes, token))
}

fn print_demo(public_url: &str, loaded: &demo::Demo, fakes: &switchboard_fakes::FakePlatforms, token: &str) {
    let agents: Vec<&str> = demo::AGENTS.iter().map(|a| a.email).collect();
    let kinds: Vec<&str> = switchboard_channels::simulate::KINDS.iter().map(|k| k.as_str()).collect();
    println!(
        "\n  Switchboard demo{}\n\n  \
         Open      {public_url}/ and sign in there\n  \
         Admin     {} / {}\n  \
         Agents    {} (password {})\n  \
         Simulator a customer writes every {} s ({})\n  \
         Replies   go to the built-in fake platforms at {} (see {}/_fake/requests)\n  \
         API token {token}  (curl -H 'Authorization: Bearer …' {public_url}/api/v1/tickets)\n",
        if loaded.history_written { " (workspace `Demo` loaded)" } else { " (workspace `Demo` was already loaded)" },
        demo::ADMIN.email,
        demo::ADMIN.password,
        agents.join(", "),
        demo::AGENTS[0].password,
        DEMO_INTERVAL.as_secs(),
        kinds.join(", "),
        fakes.base_url,
        fakes.base_url,
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(redact("postgres://u:secret@db:5432/x"), "postgres://…@db:5432/x");
        assert_eq!(redact("sqlite://switchboard.db"), "sqlite://switchboard.db");
        assert_eq!(redact("postgres://db/x?user=u&password=secret"), "postgres://db/x?…");
    }
}
