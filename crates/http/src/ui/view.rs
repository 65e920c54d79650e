//! Words and numbers as pages show them: channel and status names, times ago and left, the
//! reply window in a sentence, delivery ticks. Plain strings; templates escape them.

use switchboard_domain::{ChannelKind, DeliveryStatus, Priority, ReplyWindow, TicketStatus, WindowState};
use time::OffsetDateTime;

pub fn channel(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Whatsapp => "WhatsApp",
        ChannelKind::Messenger => "Messenger",
        ChannelKind::Instagram => "Instagram",
        ChannelKind::X => "X",
        ChannelKind::Line => "LINE",
        ChannelKind::Wechat => "WeChat",
        ChannelKind::Telegram => "Telegram",
        ChannelKind::Twilio => "SMS (Twilio)",
        ChannelKind::Dialpad => "SMS (Dialpad)",
        ChannelKind::Justcall => "SMS (JustCall)",
        ChannelKind::Shopee => "Shopee",
        ChannelKind::Lazada => "Lazada",
        ChannelKind::Email => "E-mail",
        ChannelKind::Widget => "Website chat",
        ChannelKind::Api => "API",
    }
}

pub fn status(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::New => "New",
        TicketStatus::Open => "Open",
        TicketStatus::Pending => "Pending",
        TicketStatus::OnHold => "On hold",
        TicketStatus::Solved => "Solved",
        TicketStatus::Closed => "Closed",
        TicketStatus::Spam => "Spam",
    }
}

pub fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "Low",
        Priority::Normal => "Normal",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}

/// "2 h 5 min", "3 days", "40 s".
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => match (s % 3600) / 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        },
        _ => match s / 86_400 {
            1 => "1 day".to_owned(),
            d => format!("{d} days"),
        },
    }
}

/// "5 min ago", "just now".
pub fn ago(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let s = (now - at).whole_seconds();
    if s < 30 { "just now".to_owned() } else { format!("{} ago", span(s)) }
}

/// An instant as people read it in a log: `2026-11-21 12:00 UTC`.
pub fn when(at: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// The reply window in a sentence, and whether it is a warning. `public`: the reply goes under
/// a post or review, for everyone to see.
pub fn window(kind: ChannelKind, public: bool, window: &ReplyWindow, now: OffsetDateTime) -> (String, bool) {
    let name = channel(kind);
    if public && window.state == WindowState::Always {
        return (format!("A public reply: everyone on {name} sees it. You can answer any time."), false);
    }
    let left = window.closes_at.map(|at| span((at - now).whole_seconds()));
    match (window.state, left) {
        (WindowState::Always, _) => (format!("{name}: you can send any time."), false),
        (WindowState::Open, Some(left)) => (format!("{name} window closes in {left}."), false),
        (WindowState::Open, None) => (format!("{name}: the reply window is open."), false),
        (WindowState::HumanAgent, left) => (
            format!(
                "Outside {name}'s 24-hour window: your reply goes out with the HUMAN_AGENT tag (a person answering){}.",
                left.map(|l| format!(", possible for {l} more")).unwrap_or_default()
            ),
            true,
        ),
        (WindowState::TemplateRequired, _) => {
            ("Outside the 24-hour window: pick a template. The customer's answer reopens the window.".to_owned(), true)
        }
        (WindowState::Closed, _) => (
            format!("{name}: the customer has not written recently, so nothing can be sent until they write again."),
            true,
        ),
    }
}

/// A delivery state as ticks and words.
pub fn delivery(status: Option<DeliveryStatus>) -> (&'static str, &'static str) {
    match status {
        Some(DeliveryStatus::Queued) => ("…", "Queued"),
        Some(DeliveryStatus::Sent) => ("✓", "Sent"),
        Some(DeliveryStatus::Delivered) => ("✓✓", "Delivered"),
        Some(DeliveryStatus::Read) => ("✓✓", "Read"),
        Some(DeliveryStatus::Failed) => ("⚠", "Failed"),
        None => ("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(40), "40 s");
        assert_eq!(span(600), "10 min");
        assert_eq!(span(3 * 3600), "3 h");
        assert_eq!(span(3 * 3600 + 300), "3 h 5 min");
        assert_eq!(span(86_400 * 2), "2 days");
    }
}
