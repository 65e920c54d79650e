//! The node's counters, served at `GET /metrics` in the Prometheus text format (DESIGN §9, §12).
//!
//! Plain atomics, no registry: every family is fixed when the node starts, labelled only with
//! names of ours (channel kinds, outcomes, route groups) — never a workspace, a customer or any
//! text a platform sent — so the output is safe to scrape and cheap to keep.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use switchboard_domain::ChannelKind;

use crate::ingest::Outcome;

/// What became of a webhook call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Authenticated and stored (or nothing to store).
    Accepted,
    /// Authentication failed: nothing stored (DESIGN §12: "a log line and a metric").
    Refused,
    /// Authenticated but unreadable, or for no known line: kept as a dead letter.
    DeadLetter,
    /// Authenticated but unreadable on the generic webhook: answered 400 for its developer.
    Invalid,
}

impl WebhookOutcome {
    const ALL: [WebhookOutcome; 4] = [Self::Accepted, Self::Refused, Self::DeadLetter, Self::Invalid];

    fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::DeadLetter => "dead_letter",
            Self::Invalid => "invalid",
        }
    }
}

/// What became of one attempt to send an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    Sent,
    /// To be tried again later.
    Retried,
    /// Failed for good (a permanent error, or out of attempts).
    Failed,
    /// May or may not have arrived, and may not be repeated.
    Uncertain,
}

impl SendResult {
    const ALL: [SendResult; 4] = [Self::Sent, Self::Retried, Self::Failed, Self::Uncertain];

    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retried => "retried",
            Self::Failed => "failed",
            Self::Uncertain => "uncertain",
        }
    }
}

const OUTCOMES: [Outcome; 7] = [
    Outcome::Created,
    Outcome::Appended,
    Outcome::Reopened,
    Outcome::Duplicate,
    Outcome::Blocked,
    Outcome::Updated,
    Outcome::Ignored,
];

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "created",
        Outcome::Appended => "appended",
        Outcome::Reopened => "reopened",
        Outcome::Duplicate => "duplicate",
        Outcome::Blocked => "blocked",
        Outcome::Updated => "updated",
        Outcome::Ignored => "ignored",
    }
}

/// The groups HTTP requests are counted in, by the start of their path.
pub const ROUTE_GROUPS: [&str; 6] = ["webhooks", "api", "widget", "pages", "media", "system"];

/// The route group of a request path.
pub fn route_group(path: &str) -> usize {
    let group = if path.starts_with("/webhooks/") {
        "webhooks"
    } else if path.starts_with("/api/") {
        "api"
    } else if path.starts_with("/widget/") {
        "widget"
    } else if path.starts_with("/media/") || path.starts_with("/assets/") {
        "media"
    } else if matches!(path, "/healthz" | "/metrics" | "/openapi.json") {
        "system"
    } else {
        "pages"
    };
    ROUTE_GROUPS.iter().position(|g| *g == group).unwrap_or(3)
}

/// Upper bounds (seconds) of the request-duration histogram's buckets.
const BUCKETS: [f64; 11] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Status classes counted: 2xx, 3xx, 4xx, 5xx (1xx is counted with 2xx).
const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

#[derive(Default)]
struct Histogram {
    /// Cumulative counts per bucket bound, then `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Microseconds, summed.
    sum_micros: AtomicU64,
}

/// The node's counters. One per [`crate::Service`]; cheap to update from any task.
#[derive(Default)]
pub struct Metrics {
    webhooks: [[AtomicU64; 4]; ChannelKind::ALL.len()],
    stored: [AtomicU64; OUTCOMES.len()],
    sends: [[AtomicU64; 4]; ChannelKind::ALL.len()],
    requests: [[AtomicU64; CLASSES.len()]; ROUTE_GROUPS.len()],
    durations: [Histogram; ROUTE_GROUPS.len()],
    agent_streams: AtomicI64,
    widget_streams: AtomicI64,
}

fn kind_index(kind: ChannelKind) -> usize {
    ChannelKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// Counts an open stream while it lives: keep it in the stream's state.
pub struct StreamGauge {
    metrics: Arc<Metrics>,
    widget: bool,
}

impl StreamGauge {
    fn open(metrics: &Arc<Metrics>, widget: bool) -> Self {
        metrics.streams(widget).fetch_add(1, Relaxed);
        Self { metrics: metrics.clone(), widget }
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        self.metrics.streams(self.widget).fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    pub fn webhook(&self, kind: ChannelKind, outcome: WebhookOutcome) {
        let at = WebhookOutcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.webhooks[kind_index(kind)][at].fetch_add(1, Relaxed);
    }

    pub fn stored(&self, outcome: Outcome) {
        let at = OUTCOMES.iter().position(|o| *o == outcome).unwrap_or(0);
        self.stored[at].fetch_add(1, Relaxed);
    }

    pub fn send(&self, kind: ChannelKind, result: SendResult) {
        let at = SendResult::ALL.iter().position(|r| *r == result).unwrap_or(0);
        self.sends[kind_index(kind)][at].fetch_add(1, Relaxed);
    }

    /// One HTTP request of `group` (see [`route_group`]) answered with `status` after `seconds`.
    pub fn request(&self, group: usize, status: u16, seconds: f64) {
        let group = group.min(ROUTE_GROUPS.len() - 1);
        let class = match status {
            ..300 => 0,
            300..400 => 1,
            400..500 => 2,
            _ => 3,
        };
        self.requests[group][class].fetch_add(1, Relaxed);
        let histogram = &self.durations[group];
        let first = BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(BUCKETS.len());
        for bucket in &histogram.buckets[first..] {
            bucket.fetch_add(1, Relaxed);
        }
        histogram.sum_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
    }

    fn streams(&self, widget: bool) -> &AtomicI64 {
        if widget { &self.widget_streams } else { &self.agent_streams }
    }

    /// Counts an agent's live stream until the guard is dropped.
    pub fn agent_stream(self: &Arc<Self>) -> StreamGauge {
        StreamGauge::open(self, false)
    }

    /// Counts a widget visitor's live stream until the guard is dropped.
    pub fn widget_stream(self: &Arc<Self>) -> StreamGauge {
        StreamGauge::open(self, true)
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let kinds = ChannelKind::ALL;
        family(&mut out, "switchboard_webhooks_total", "counter", "Webhook calls by channel kind and outcome.");
        for (k, kind) in kinds.iter().enumerate() {
            for (o, outcome) in WebhookOutcome::ALL.iter().enumerate() {
                let n = self.webhooks[k][o].load(Relaxed);
                let _ =
                    writeln!(out, "switchboard_webhooks_total{{kind=\"{kind}\",outcome=\"{}\"}} {n}", outcome.as_str());
            }
        }
        family(&mut out, "switchboard_inbound_items_total", "counter", "Inbound items stored, by what they did.");
        for (o, outcome) in OUTCOMES.iter().enumerate() {
            let n = self.stored[o].load(Relaxed);
            let _ = writeln!(out, "switchboard_inbound_items_total{{outcome=\"{}\"}} {n}", outcome_name(*outcome));
        }
        family(&mut out, "switchboard_sends_total", "counter", "Outbox send attempts by channel kind and result.");
        for (k, kind) in kinds.iter().enumerate() {
            for (r, result) in SendResult::ALL.iter().enumerate() {
                let n = self.sends[k][r].load(Relaxed);
                let _ = writeln!(out, "switchboard_sends_total{{kind=\"{kind}\",result=\"{}\"}} {n}", result.as_str());
            }
        }
        family(&mut out, "switchboard_http_requests_total", "counter", "HTTP requests by route group and status.");
        for (g, group) in ROUTE_GROUPS.iter().enumerate() {
            for (c, class) in CLASSES.iter().enumerate() {
                let n = self.requests[g][c].load(Relaxed);
                let _ = writeln!(out, "switchboard_http_requests_total{{group=\"{group}\",status=\"{class}\"}} {n}");
            }
        }
        family(
            &mut out,
            "switchboard_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request (to its first byte for streams), by route group.",
        );
        for (g, group) in ROUTE_GROUPS.iter().enumerate() {
            let histogram = &self.durations[g];
            for (b, bound) in BUCKETS.iter().enumerate() {
                let n = histogram.buckets[b].load(Relaxed);
                let _ = writeln!(
                    out,
                    "switchboard_http_request_duration_seconds_bucket{{group=\"{group}\",le=\"{bound}\"}} {n}"
                );
            }
            let count = histogram.buckets[BUCKETS.len()].load(Relaxed);
            let sum = histogram.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "switchboard_http_request_duration_seconds_bucket{{group=\"{group}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "switchboard_http_request_duration_seconds_sum{{group=\"{group}\"}} {sum}");
            let _ = writeln!(out, "switchboard_http_request_duration_seconds_count{{group=\"{group}\"}} {count}");
        }
        family(&mut out, "switchboard_live_streams", "gauge", "Open live event streams, by who holds them.");
        let _ = writeln!(out, "switchboard_live_streams{{holder=\"agent\"}} {}", self.agent_streams.load(Relaxed));
        let _ = writeln!(out, "switchboard_live_streams{{holder=\"widget\"}} {}", self.widget_streams.load(Relaxed));
        if let Some(rss) = resident_bytes() {
            family(&mut out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The process's resident memory, where the system says (Linux `/proc`).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_in_their_route_groups() {
        let group = |p: &str| ROUTE_GROUPS[route_group(p)];
        assert_eq!(group("/webhooks/whatsapp/1"), "webhooks");
        assert_eq!(group("/api/v1/tickets"), "api");
        assert_eq!(group("/widget/abc/embed.js"), "widget");
        assert_eq!(group("/assets/x/app.css"), "media");
        assert_eq!(group("/metrics"), "system");
        assert_eq!(group("/tickets/1"), "pages");
    }

    #[test]
    fn a_request_counts_in_its_class_and_every_bucket_from_its_duration_up() {
        let m = Metrics::default();
        m.request(1, 201, 0.003);
        m.request(1, 404, 3.0);
        let text = m.render();
        assert!(text.contains("switchboard_http_requests_total{group=\"api\",status=\"2xx\"} 1"));
        assert!(text.contains("switchboard_http_requests_total{group=\"api\",status=\"4xx\"} 1"));
        assert!(text.contains("switchboard_http_request_duration_seconds_bucket{group=\"api\",le=\"0.002\"} 0"));
        assert!(text.contains("switchboard_http_request_duration_seconds_bucket{group=\"api\",le=\"0.005\"} 1"));
        assert!(text.contains("switchboard_http_request_duration_seconds_bucket{group=\"api\",le=\"2.5\"} 1"));
        assert!(text.contains("switchboard_http_request_duration_seconds_bucket{group=\"api\",le=\"+Inf\"} 2"));
        assert!(text.contains("switchboard_http_request_duration_seconds_count{group=\"api\"} 2"));
    }

    #[test]
    fn stream_gauges_go_down_when_streams_end() {
        let m = Arc::new(Metrics::default());
        let a = m.agent_stream();
        let b = m.agent_stream();
        drop(a);
        assert!(m.render().contains("switchboard_live_streams{holder=\"agent\"} 1"));
        drop(b);
        assert!(m.render().contains("switchboard_live_streams{holder=\"agent\"} 0"));
    }

    #[test]
    fn every_sample_line_is_name_labels_and_a_number() {
        let m = Metrics::default();
        m.webhook(ChannelKind::Whatsapp, WebhookOutcome::Refused);
        m.stored(Outcome::Created);
        m.send(ChannelKind::Line, SendResult::Retried);
        for line in m.render().lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(series.starts_with("switchboard_") || series.starts_with("process_"), "{line}");
        }
        let text = m.render();
        assert!(text.contains("switchboard_webhooks_total{kind=\"whatsapp\",outcome=\"refused\"} 1"));
        assert!(text.contains("switchboard_inbound_items_total{outcome=\"created\"} 1"));
        assert!(text.contains("switchboard_sends_total{kind=\"line\",result=\"retried\"} 1"));
    }
}
