//! The demo's history: a dozen tickets over the last three days, written through a second
//! service whose clock is set back to each moment in turn, with its own delivery worker sending
//! the agents' replies "then" — so reply windows, delivery ticks and the event log look as they
//! would have.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use switchboard_domain::{
    Agent, ChannelAccount, ChannelKind, Clock, InboundItem, InboundSender, ThreadRef, TicketId, TicketStatus,
    Visibility,
};
use switchboard_jobs::OutboxWorker;
use switchboard_service::compose::Draft;
use switchboard_service::tickets::{NewReply, TicketPatch};
use switchboard_service::{Actor, Service};
use time::OffsetDateTime;

use super::{DemoLine, regular};

/// A clock that is wherever the history script says it is.
struct ScriptClock(Mutex<OffsetDateTime>);

impl Clock for ScriptClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Writes the history through a service whose clock is set back to each moment in turn.
struct Script {
    service: Service,
    clock: Arc<ScriptClock>,
    worker: OutboxWorker,
    start: OffsetDateTime,
    message: usize,
}

impl Script {
    /// Moves the clock to `ago` before the real now.
    fn at(&mut self, ago: time::Duration) {
        *self.clock.0.lock().unwrap_or_else(|e| e.into_inner()) = self.start - ago;
    }

    /// A customer writes on `line`; returns the ticket it went to.
    async fn says(&mut self, line: &ChannelAccount, who: (&str, &str), text: &str) -> anyhow::Result<TicketId> {
        self.says_in(line, who, text, ThreadRef::Direct { key: None }).await
    }

    async fn says_in(
        &mut self,
        line: &ChannelAccount,
        (id, name): (&str, &str),
        text: &str,
        thread: ThreadRef,
    ) -> anyhow::Result<TicketId> {
        self.message += 1;
        let item = InboundItem {
            platform_message_id: format!("demo-history-{}", self.message),
            sender: InboundSender { external_id: id.into(), name: Some(name.into()), ..InboundSender::default() },
            thread,
            body: Some(text.into()),
            attachments: Vec::new(),
            sent_at: Some(self.clock.now()),
        };
        let reports = self.service.ingest(line.clone(), vec![item]).await?;
        reports.first().and_then(|r| r.ticket_id).context("the message raised no ticket")
    }

    /// An agent answers (publicly) and the answer is delivered at once, then.
    async fn replies(
        &mut self,
        agent: &Agent,
        ticket: TicketId,
        text: &str,
        status: Option<TicketStatus>,
    ) -> anyhow::Result<()> {
        let reply = NewReply {
            draft: Draft { body: Some(text.into()), ..Draft::default() },
            visibility: Visibility::Public,
            status,
            reply_to: None,
            private_reply_to: None,
        };
        self.service.add_message(&Actor { agent: agent.clone() }, ticket, reply).await?;
        self.worker.run_once().await?;
        Ok(())
    }

    async fn notes(&mut self, agent: &Agent, ticket: TicketId, text: &str) -> anyhow::Result<()> {
        let note = NewReply {
            draft: Draft { body: Some(text.into()), ..Draft::default() },
            visibility: Visibility::Internal,
            status: None,
            reply_to: None,
            private_reply_to: None,
        };
        self.service.add_message(&Actor { agent: agent.clone() }, ticket, note).await?;
        Ok(())
    }

    async fn patch(&mut self, agent: &Agent, ticket: TicketId, patch: TicketPatch) -> anyhow::Result<()> {
        self.service.patch_ticket(&Actor { agent: agent.clone() }, ticket, patch).await?;
        Ok(())
    }
}

fn assign(agent: &Agent) -> TicketPatch {
    TicketPatch { assignee_id: Some(Some(agent.id)), ..TicketPatch::default() }
}

fn status(status: TicketStatus) -> TicketPatch {
    TicketPatch { status: Some(status), ..TicketPatch::default() }
}

fn hours(h: i64) -> time::Duration {
    time::Duration::hours(h)
}

fn minutes(m: i64) -> time::Duration {
    time::Duration::minutes(m)
}

pub async fn write(service: &Service, admin: &Agent, agents: &[Agent], lines: &[DemoLine]) -> anyhow::Result<()> {
    let start = service.now();
    let clock = Arc::new(ScriptClock(Mutex::new(start)));
    let seeder = Service::new(service.db().clone(), clock.clone());
    let worker = OutboxWorker::new(seeder.clone(), Default::default());
    let mut s = Script { service: seeder, clock, worker, start, message: 0 };
    let line =
        |kind: ChannelKind| &lines.iter().find(|l| l.account.kind == kind).expect("every kind has a line").account;
    let (mira, jonas, aiko) = (&agents[0], &agents[1], &agents[2]);
    use ChannelKind as K;

    // WhatsApp: an order that went astray, three days ago: answered and solved. Its 24-hour
    // window has long closed, so a new message to Mira needs a template.
    s.at(hours(72));
    let t = s.says(line(K::Whatsapp), regular(K::Whatsapp), "Hi! My order #4411 hasn't arrived yet.").await?;
    s.at(hours(72) - minutes(12));
    s.patch(jonas, t, assign(jonas)).await?;
    s.replies(jonas, t, "Sorry about that, Mira! I've asked the courier: it will be with you tomorrow.", None).await?;
    s.at(hours(71));
    s.says(line(K::Whatsapp), regular(K::Whatsapp), "Great, thank you!").await?;
    s.replies(jonas, t, "You're welcome! Have a nice day.", Some(TicketStatus::Solved)).await?;

    // WhatsApp: a question from yesterday, assigned but not answered — outside the window now.
    s.at(hours(30));
    let t = s.says(line(K::Whatsapp), ("2348031234567", "Olu Adeyemi"), "Do you ship to Lagos?").await?;
    s.at(hours(29));
    s.patch(mira, t, assign(mira)).await?;
    s.notes(mira, t, "Checking with logistics whether Lagos is covered.").await?;

    // WhatsApp: a fresh question, inside the window, waiting for anyone.
    s.at(minutes(40));
    s.says(line(K::Whatsapp), ("5511987654321", "Ana Souza"), "Hi, can I change the size of the shoes I ordered?")
        .await?;

    // Messenger: answered, waiting on the customer.
    s.at(hours(5));
    let t = s.says(line(K::Messenger), regular(K::Messenger), "Are you open on Sunday?").await?;
    s.at(hours(5) - minutes(6));
    s.replies(aiko, t, "Yes, from 10:00 to 16:00. See you there!", Some(TicketStatus::Pending)).await?;

    // Instagram: comments under a post (a public thread), answered publicly.
    let post =
        || ThreadRef::Public { root_id: "17900000000000001".into(), title: Some("Summer collection ☀️".into()) };
    s.at(hours(2));
    let t = s
        .says_in(line(K::Instagram), ("17841400000000777", "Lena Fischer"), "Love the blue one! Price?", post())
        .await?;
    s.at(hours(2) - minutes(10));
    s.says_in(line(K::Instagram), ("17841400000000888", "Tom Baker"), "Do you ship to Norway?", post()).await?;
    s.at(hours(1));
    s.replies(aiko, t, "Yes, we ship to Norway: 3–5 days. The blue one is €49!", None).await?;

    // Instagram: a direct message, new.
    s.at(minutes(20));
    s.says(line(K::Instagram), regular(K::Instagram), "Is the blue dress back in stock in size M?").await?;

    // X: a discount code that did not work: answered and solved.
    s.at(hours(6));
    let t = s.says(line(K::X), regular(K::X), "My discount code SUMMER doesn't work :(").await?;
    s.at(hours(6) - minutes(15));
    s.replies(jonas, t, "Sorry! The code is SUMMER10 — it works until Sunday.", Some(TicketStatus::Solved)).await?;

    // LINE and WeChat: one new, one with the social team.
    s.at(hours(1));
    s.says(line(K::Line), regular(K::Line), "注文の状況を教えてください (Where is my order?)").await?;
    s.at(hours(20));
    let t = s.says(line(K::Wechat), regular(K::Wechat), "What is your return policy?").await?;
    s.at(hours(19));
    let social = TicketPatch { assignee_id: Some(Some(aiko.id)), ..TicketPatch::default() };
    s.patch(admin, t, social).await?;
    s.replies(aiko, t, "You can return anything within 30 days. Shall I send you a return label?", None).await?;

    // Telegram: charged twice; refunded and solved.
    s.at(hours(4));
    let t = s.says(line(K::Telegram), regular(K::Telegram), "Hello, I was charged twice for the same order.").await?;
    s.at(hours(4) - minutes(20));
    s.replies(mira, t, "I've refunded the second charge; you'll see it in 3–5 days.", Some(TicketStatus::Solved))
        .await?;

    // SMS on three providers.
    s.at(minutes(45));
    s.says(line(K::Twilio), regular(K::Twilio), "Can I change the delivery address?").await?;
    s.at(hours(3));
    let t = s.says(line(K::Dialpad), ("14155550188", "Peter Novak"), "Please call me back about my invoice.").await?;
    s.patch(admin, t, assign(jonas)).await?;
    s.at(hours(48));
    let t = s.says(line(K::Justcall), ("14155550177", "Grace Kim"), "Thanks for the quick refund!").await?;
    s.patch(mira, t, status(TicketStatus::Solved)).await?;

    // Marketplaces.
    s.at(minutes(90));
    s.says(line(K::Shopee), ("81234567", "shopper_81234567"), "Is this item original?").await?;
    s.at(minutes(25));
    let lazada = ThreadRef::Direct { key: Some("100200_2_1891549323_1_103".into()) };
    s.says_in(line(K::Lazada), ("1891549323", "Lazada buyer"), "When will my parcel ship?", lazada).await?;
    Ok(())
}
