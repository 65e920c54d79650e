//! `switchboard bench search`: fills a database to inbox scale (by default 1 M tickets and
//! 5 M messages, DESIGN §11) and measures what agents wait for — each built-in view's first
//! page, the views' counts, a ticket page, a phone search and full-text searches — through the
//! same service calls the API makes (HTTP excluded), printing p50/p99 of each.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use switchboard_domain::clock::SystemClock;
use switchboard_service::search::BUILTIN_VIEWS;
use switchboard_service::{Actor, Service};
use switchboard_store::bench::{self, Size};
use switchboard_store::tickets::TicketFilter;
use switchboard_store::{Db, agents, tickets};

/// What to measure on.
pub struct Options {
    pub database: String,
    pub tickets: u64,
    pub messages_per_ticket: u64,
    pub agents: u64,
    pub iterations: usize,
    pub seed: u64,
}

const WORKSPACE: &str = "Bench";

pub async fn run(o: Options) -> anyhow::Result<()> {
    let db = Db::connect(&o.database).await.context("opening the bench database")?;
    let service = Service::new(db.clone(), Arc::new(SystemClock));
    let workspace = service.ensure_workspace(WORKSPACE).await?;
    let existing = {
        let mut pooled = db.acquire().await?;
        tickets::count(&mut pooled.conn(), workspace.id).await?
    };
    let agent_id = if existing == 0 {
        eprintln!(
            "filling: {} tickets, {} messages, {} agents (once; later runs reuse the data)",
            o.tickets,
            o.tickets * o.messages_per_ticket,
            o.agents
        );
        let started = Instant::now();
        let size = Size { tickets: o.tickets, messages_per_ticket: o.messages_per_ticket, agents: o.agents.max(1) };
        let filled = bench::fill(&db, workspace.id, size, o.seed, service.now(), |done, total| {
            progress(done, total, started.elapsed());
        })
        .await?;
        eprintln!();
        eprintln!("filled in {:.1?}; analysing", started.elapsed());
        bench::analyze(&db).await?;
        filled.agents[0]
    } else {
        eprintln!("reusing {existing} tickets of workspace `{WORKSPACE}`");
        let mut pooled = db.acquire().await?;
        let mut conn = pooled.conn();
        let all = agents::list(&mut conn, workspace.id).await?;
        all.into_iter().find(|a| a.email.starts_with("agent0-")).context("the bench agents are gone")?.id
    };
    let agent = {
        let mut pooled = db.acquire().await?;
        agents::get(&mut pooled.conn(), workspace.id, agent_id).await?.context("bench agent")?
    };
    let actor = Actor { agent };

    println!("{:<44} {:>9} {:>9} {:>9} {:>8}", "what", "p50", "p99", "max", "results");
    for view in BUILTIN_VIEWS {
        let name = format!("view `{}`, first page of 25", view.id);
        measure(&name, o.iterations, || async {
            Ok(service.view_tickets(&actor, view.id, None, 25).await?.tickets.len())
        })
        .await?;
    }
    measure("views with their counts (up to 1000)", o.iterations, || async {
        Ok(service.list_views(&actor).await?.len())
    })
    .await?;
    // A ticket page: the ticket, its conversation and its event log, for tickets spread
    // over the whole table.
    let sample = service.list_tickets(&actor, &TicketFilter::default(), None, 100).await?.tickets;
    let mut i = 0;
    measure("ticket page (ticket + messages + events)", o.iterations, || {
        i += 1;
        let id = sample[i % sample.len()].ticket.id;
        let (service, actor) = (&service, &actor);
        async move {
            service.get_ticket(actor, id).await?;
            let n = service.list_messages(actor, id).await?.len();
            service.list_events(actor, id).await?;
            Ok(n)
        }
    })
    .await?;
    for q in [
        r#"whatsapp:"3211""#,
        r#"phone:"(555) 12""#,
        r#"type:user name:"mei kim""#,
        "zanzibar",
        r#""late delivery" status<solved"#,
        "refund",
    ] {
        measure(&format!("search {q}"), o.iterations, || async {
            let found = service.search(&actor, q, 25).await?;
            Ok(found.users.len() + found.tickets.len())
        })
        .await?;
    }
    db.close().await;
    Ok(())
}

/// Runs `f` a few times to warm caches, then `iterations` times, and prints the spread.
async fn measure<F, Fut>(name: &str, iterations: usize, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut results = 0;
    for _ in 0..3 {
        results = f().await?;
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations.max(1) {
        let started = Instant::now();
        results = f().await?;
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "{name:<44} {:>9} {:>9} {:>9} {results:>8}",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*times.last().expect("at least one run"))
    );
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn progress(done: u64, total: u64, elapsed: Duration) {
    const WIDTH: u64 = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let left = if rate > 0.0 { (total - done) as f64 / rate } else { 0.0 };
    let bar: String = (0..WIDTH).map(|i| if i < filled { '#' } else { '-' }).collect();
    eprint!("\r[{bar}] {done}/{total} tickets, {rate:.0}/s, {left:.0} s left   ");
    let _ = std::io::stderr().flush();
}
