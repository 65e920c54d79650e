//! `serve --demo`: a living demo (DESIGN §9). It loads a demo workspace — agents with
//! passwords, two teams, a line of every kind whose sends go to the built-in fake platforms, a
//! couple of WhatsApp templates and a day or three of history — and then feeds it: every few
//! seconds a simulated customer writes on one of eight platforms, through the server's own
//! webhook routes, signed as the platform signs, so the whole real path runs.
//!
//! Loading is idempotent: lines and people are found before they are made, the history is
//! written only into a workspace without tickets, and every start points the lines at the fake
//! platforms of this run. Everything goes through the service's use cases; the history is
//! written by a second service whose clock is moved back in time, with its own delivery worker
//! sending the agents' replies "then", so that reply windows and delivery ticks look as they
//! would have.

use std::time::Duration;

use anyhow::Context;
use switchboard_channels::simulate::{self, SimCustomer, SimLine};
use switchboard_domain::{ChannelAccount, ChannelKind, Role};
use switchboard_service::accounts::ConnectAccount;
use switchboard_service::templates::TemplateInput;
use switchboard_service::tickets::TicketFilter;
use switchboard_service::{Actor, Service};
use time::OffsetDateTime;

mod history;

/// The demo's workspace.
pub const WORKSPACE: &str = "Demo";

/// Someone who signs in to the demo.
#[derive(Debug, Clone, Copy)]
pub struct Login {
    pub name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
}

pub const ADMIN: Login =
    Login { name: "Alex Admin", email: "admin@demo.switchboard.test", password: "switchboard-demo" };
pub const AGENTS: [Login; 3] = [
    Login { name: "Mira Lindqvist", email: "mira@demo.switchboard.test", password: "switchboard-demo" },
    Login { name: "Jonas Berg", email: "jonas@demo.switchboard.test", password: "switchboard-demo" },
    Login { name: "Aiko Tanaka", email: "aiko@demo.switchboard.test", password: "switchboard-demo" },
];

/// The demo's lines: kind, name, the platform's id of the business side.
const LINES: [(ChannelKind, &str, &str); 12] = [
    (ChannelKind::Whatsapp, "WhatsApp +1 555 010 0001", "15550100001"),
    (ChannelKind::Messenger, "Facebook page", "104000000000001"),
    (ChannelKind::Instagram, "Instagram @switchboard.demo", "17841400000000001"),
    (ChannelKind::X, "X @switchboard_demo", "1500000000000000001"),
    (ChannelKind::Line, "LINE official account", "Ud3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0"),
    (ChannelKind::Wechat, "WeChat official account", "gh_d3m0000000001"),
    (ChannelKind::Telegram, "Telegram @SwitchboardDemoBot", "100200300"),
    (ChannelKind::Twilio, "SMS +1 555 010 0002 (Twilio)", "+15550100002"),
    (ChannelKind::Dialpad, "SMS +1 555 010 0003 (Dialpad)", "+15550100003"),
    (ChannelKind::Justcall, "SMS +1 555 010 0004 (JustCall)", "+15550100004"),
    (ChannelKind::Shopee, "Shopee shop", "880001"),
    (ChannelKind::Lazada, "Lazada shop", "100200"),
];

/// A demo line with the secrets the feeder signs its webhooks with.
#[derive(Debug, Clone)]
pub struct DemoLine {
    pub account: ChannelAccount,
    pub secrets: serde_json::Map<String, serde_json::Value>,
}

/// What loading made (or found).
pub struct Demo {
    pub lines: Vec<DemoLine>,
    /// Whether the history was written now (false: the workspace had tickets already).
    pub history_written: bool,
}

/// The secrets of a demo line: the simulator's, made acceptable to the fake platforms.
fn secrets(kind: ChannelKind) -> serde_json::Map<String, serde_json::Value> {
    let mut secrets = simulate::secrets_for(kind, "demo");
    if kind == ChannelKind::Shopee {
        // Shopee partner ids are numbers.
        secrets.insert("partner_id".into(), "2001234".into());
    }
    secrets
}

/// Loads the demo workspace into `service`'s database; the lines' platform calls go to the fake
/// platforms at `fakes` (`http://host:port`, each platform under `/{kind}`).
pub async fn load(service: &Service, fakes: &str) -> anyhow::Result<Demo> {
    let admin = service.ensure_agent(WORKSPACE, ADMIN.email, ADMIN.name, Role::Admin, ADMIN.password).await?;
    let mut agents = Vec::new();
    for login in AGENTS {
        agents.push(service.ensure_agent(WORKSPACE, login.email, login.name, Role::Agent, login.password).await?);
    }
    let actor = Actor { agent: admin.clone() };
    service.ensure_team(&actor, "Customer care", &[agents[0].id, agents[1].id]).await?;
    service.ensure_team(&actor, "Social media", &[agents[0].id, agents[2].id]).await?;

    let existing = service.list_accounts(&actor).await?;
    let mut lines = Vec::new();
    for (kind, name, external_id) in LINES {
        let api_base_url = format!("{}/{kind}", fakes.trim_end_matches('/'));
        let account = match existing.iter().find(|a| a.kind == kind && a.external_id == external_id) {
            Some(account) => {
                service.set_account_api_base(&actor, account.id, Some(&api_base_url)).await?;
                account.clone()
            }
            None => {
                let input = ConnectAccount {
                    kind,
                    name: name.to_owned(),
                    external_id: external_id.to_owned(),
                    secrets: secrets(kind),
                    settings: Default::default(),
                    api_base_url: Some(api_base_url),
                };
                service.connect_account(&actor, input).await.with_context(|| format!("connecting the {kind} line"))?
            }
        };
        lines.push(DemoLine { account, secrets: secrets(kind) });
    }
    let whatsapp = &lines[0].account;
    for (name, body) in [
        ("order_update", "Hi {{1}}, your order {{2}} is on its way and should arrive {{3}}."),
        ("ticket_followup", "Hi {{1}}, we are following up on your request {{2}}. Reply to this message to continue."),
    ] {
        let input = TemplateInput {
            name: name.into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            body: body.into(),
        };
        service.save_template(&actor, whatsapp.id, input).await?;
    }

    let page = service.list_tickets(&actor, &TicketFilter::default(), None, 1).await?;
    let history_written = page.tickets.is_empty();
    if history_written {
        history::write(service, &admin, &agents, &lines).await.context("writing the demo's history")?;
    }
    Ok(Demo { lines, history_written })
}

/// The returning customers of the history, per line kind: `(platform id, name)`. The feeder
/// has them write again now and then.
const REGULARS: [(ChannelKind, &str, &str); 8] = [
    (ChannelKind::Whatsapp, "4915112345678", "Mira Lindqvist"),
    (ChannelKind::Messenger, "24968301827364510", "Jonas Berg"),
    (ChannelKind::Instagram, "17841405822304914", "Nina Okafor"),
    (ChannelKind::X, "1467726470533754880", "Sam Porter"),
    (ChannelKind::Line, "U4af4980629a1b2c3d4e5f60718293a4b", "Aiko Tanaka"),
    (ChannelKind::Wechat, "oQ1sTwZ9demoLiWei000000000", "Li Wei"),
    (ChannelKind::Telegram, "512345678", "Olu Adeyemi"),
    (ChannelKind::Twilio, "14155550123", "Ana Lima"),
];

fn regular(kind: ChannelKind) -> (&'static str, &'static str) {
    REGULARS.iter().find(|(k, _, _)| *k == kind).map(|(_, id, name)| (*id, *name)).unwrap_or(("0", "Customer"))
}

/// Customer texts the feeder sends.
const TEXTS: [&str; 12] = [
    "Hello, my parcel has not arrived yet.",
    "Hi! Can I change the delivery address of my order?",
    "The product arrived broken, what can I do?",
    "Do you ship to Norway?",
    "I was charged twice for the same order.",
    "Thanks, that solved it!",
    "Is the blue one back in stock?",
    "How do I return an item?",
    "Can I still add something to my order?",
    "What are your opening hours on Saturday?",
    "The tracking link doesn't work.",
    "Do you have a discount for students?",
];

const NAMES: [&str; 10] = [
    "Lena Fischer",
    "Tom Baker",
    "Priya Sharma",
    "Carlos Ruiz",
    "Emma Dubois",
    "Kofi Mensah",
    "Sofia Rossi",
    "Yuki Sato",
    "Noah Williams",
    "Fatima Zahra",
];

/// The `n`-th new customer the feeder invents on a line of `kind`, with an id of the
/// platform's shape.
fn newcomer(kind: ChannelKind, run: i64, n: usize) -> SimCustomer {
    let seq = (run % 100_000) * 100_000 + (n as i64 % 100_000);
    let id = match kind {
        ChannelKind::Line => format!("U{seq:032x}"),
        ChannelKind::Wechat => format!("oDemo{seq}"),
        // Phone numbers: digits of a +1 555 number.
        ChannelKind::Whatsapp | ChannelKind::Twilio => format!("1555{:07}", seq % 10_000_000),
        _ => format!("9{seq}"),
    };
    SimCustomer { id, name: NAMES[n % NAMES.len()].to_owned() }
}

/// Feeds the demo: every `interval`, a customer writes on one of the simulator's platforms —
/// a regular from the history now and then, mostly someone new — posted to `base` (this
/// server) as the platform would post it. Runs until aborted.
pub fn feed(lines: &[DemoLine], base: &str, public_url: &str, interval: Duration) -> tokio::task::JoinHandle<()> {
    let lines: Vec<DemoLine> = lines.iter().filter(|l| simulate::KINDS.contains(&l.account.kind)).cloned().collect();
    let base = base.trim_end_matches('/').to_owned();
    let public_url = public_url.trim_end_matches('/').to_owned();
    tokio::spawn(async move {
        let client = switchboard_channels::http_client();
        let run = OffsetDateTime::now_utc().unix_timestamp();
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        for i in 0usize.. {
            ticker.tick().await;
            let Some(line) = lines.get(i % lines.len().max(1)) else { return };
            let kind = line.account.kind;
            let customer = if i % 3 == 2 {
                let (id, name) = regular(kind);
                SimCustomer { id: id.into(), name: name.into() }
            } else {
                newcomer(kind, run, i)
            };
            let text = TEXTS[(i * 7) % TEXTS.len()];
            if let Err(e) = post(&client, &base, &public_url, line, &customer, &format!("{run}{i:05}"), text).await {
                tracing::warn!(channel.kind = %kind, "demo feeder: {e:#}");
            }
        }
    })
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    public_url: &str,
    line: &DemoLine,
    customer: &SimCustomer,
    message_id: &str,
    text: &str,
) -> anyhow::Result<()> {
    let path = format!("/webhooks/{}/{}", line.account.kind, line.account.id);
    // The platform signs (Twilio) the address it calls: the public one.
    let url = format!("{public_url}{path}");
    let sim =
        SimLine { kind: line.account.kind, external_id: &line.account.external_id, secrets: &line.secrets, url: &url };
    let request = simulate::customer_message(&sim, customer, message_id, text, OffsetDateTime::now_utc())?;
    let mut target = format!("{base}{path}");
    if !request.query.is_empty() {
        target.push('?');
        target.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&request.query).finish());
    }
    let mut call = client.post(target).body(request.body);
    for (name, value) in request.headers {
        call = call.header(name, value);
    }
    let status = call.send().await?.status();
    anyhow::ensure!(status.is_success(), "the webhook answered {status}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_testkit::TestApp;

    const COUNTS: [&str; 8] = [
        "SELECT COUNT(*) FROM channel_accounts",
        "SELECT COUNT(*) FROM agents",
        "SELECT COUNT(*) FROM teams",
        "SELECT COUNT(*) FROM team_members",
        "SELECT COUNT(*) FROM templates",
        "SELECT COUNT(*) FROM tickets",
        "SELECT COUNT(*) FROM messages",
        "SELECT COUNT(*) FROM contacts",
    ];

    async fn counts(app: &TestApp) -> Vec<i64> {
        let mut all = Vec::new();
        for sql in COUNTS {
            all.push(app.count(sql).await);
        }
        all
    }

    #[tokio::test]
    async fn the_demo_loads_people_lines_and_history_once() {
        let app = TestApp::spawn().await;
        let fakes = switchboard_fakes::FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let before = counts(&app).await;
        let demo = load(&app.service, &fakes.base_url).await.unwrap();
        assert!(demo.history_written);
        assert_eq!(demo.lines.len(), 12, "a line of every kind");
        let loaded = counts(&app).await;
        assert_eq!(loaded[0], 12);
        assert_eq!(loaded[1] - before[1], 4, "an admin and three agents");
        assert_eq!((loaded[2], loaded[3]), (2, 4), "two teams of two");
        assert_eq!(loaded[4], 2, "two WhatsApp templates");
        assert!(loaded[5] >= 12, "a dozen tickets or more: {}", loaded[5]);
        // The agents' replies were delivered through the fake platforms.
        let sent =
            app.count("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND delivery_status = 'sent'").await;
        assert!(sent >= 6, "{sent} replies sent");
        assert!(fakes.state.requests().iter().filter(|r| r.accepted).count() as i64 >= sent);
        assert_eq!(app.count("SELECT COUNT(*) FROM tickets WHERE status = 'solved'").await, 4);
        assert_eq!(app.count("SELECT COUNT(*) FROM tickets WHERE kind = 'public'").await, 1);

        // The demo's people sign in with the printed passwords.
        let admin = app.service.create_token(ADMIN.email, "t").await.unwrap();
        let answer = app.request(reqwest::Method::GET, "/api/v1/tickets?channel=whatsapp", Some(&admin), None).await;
        let windows: Vec<&str> = answer.body["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["reply_window"]["state"].as_str().unwrap())
            .collect();
        assert!(windows.contains(&"open") && windows.contains(&"template_required"), "{windows:?}");

        // A restart (with the fakes somewhere else) finds everything and duplicates nothing.
        let again = load(&app.service, "http://127.0.0.1:9").await.unwrap();
        assert!(!again.history_written);
        assert_eq!(counts(&app).await, loaded);
        assert_eq!(again.lines[0].account.id, demo.lines[0].account.id);
        let moved = app.service.get_account(&Actor { agent: find_admin(&app).await }, demo.lines[0].account.id).await;
        assert_eq!(moved.unwrap().api_base_url.as_deref(), Some("http://127.0.0.1:9/whatsapp"));
    }

    async fn find_admin(app: &TestApp) -> switchboard_domain::Agent {
        let token = app.service.create_token(ADMIN.email, "t").await.unwrap();
        app.service.authenticate_token(&token).await.unwrap().agent
    }

    #[tokio::test]
    async fn the_feeder_keeps_customers_writing_through_the_webhooks() {
        let app = TestApp::spawn().await;
        let fakes = switchboard_fakes::FakePlatforms::spawn("127.0.0.1:0").await.unwrap();
        let demo = load(&app.service, &fakes.base_url).await.unwrap();
        let inbound = "SELECT COUNT(*) FROM messages WHERE direction = 'inbound'";
        let (tickets, messages) = (app.count("SELECT COUNT(*) FROM tickets").await, app.count(inbound).await);
        let feeder = feed(&demo.lines, &app.address, &app.address, Duration::from_millis(50));
        // One round of the eight platforms: newcomers open tickets, regulars write on theirs.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while app.count(inbound).await < messages + 8 {
            assert!(tokio::time::Instant::now() < deadline, "the feeder's messages did not arrive");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        feeder.abort();
        assert!(app.count("SELECT COUNT(*) FROM tickets").await > tickets, "new customers open new tickets");
        assert_eq!(app.count("SELECT COUNT(*) FROM dead_letters").await, 0, "every platform's delivery was understood");
    }
}
