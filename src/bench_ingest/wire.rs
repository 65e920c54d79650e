//! The load generator's lean parts: the signed webhook bodies, a minimal HTTP/1.1 client over
//! one keep-alive connection, the open-loop schedule and the percentile maths. The generator
//! shares the machine's cores with the server it measures, so it writes requests by hand
//! into reused buffers and reads answers without a general HTTP stack.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// What customers write: the simulator's texts, each with a `ref` word that makes it findable alone.
use crate::simulate::TEXTS;

/// The customer who writes message `message` of a run: spread over `customers` by a
/// deterministic hash, so that some write several times in a row and the same customer
/// can sit twice in one group commit, as in real traffic.
pub fn customer_of(message: u64, customers: u64) -> u64 {
    // splitmix64's finaliser.
    let mut z = message.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % customers.max(1)
}

/// The one word that finds message `message` of run `run` by full-text search.
pub fn reference(run: u64, message: u64) -> String {
    format!("zq{run}x{message}")
}

/// What the customer writes in message `message` of run `run` (plain text, no JSON escapes needed).
pub fn message_text(run: u64, message: u64) -> String {
    format!("{} (ref {})", TEXTS[(message % TEXTS.len() as u64) as usize], reference(run, message))
}

/// Writes the generic webhook's body for messages `first..first + batch` of run `run`.
pub fn webhook_body(out: &mut Vec<u8>, run: u64, first: u64, batch: u64, customers: u64) {
    out.clear();
    let mut body = Adapter(out);
    let _ = body.write_str(r#"{"messages":["#);
    for m in first..first + batch {
        let c = customer_of(m, customers);
        if m != first {
            let _ = body.write_char(',');
        }
        let _ = write!(
            body,
            r#"{{"id":"{run}-{m}","from":{{"id":"{run}-c{c}","name":"Customer {c}"}},"text":"{}"}}"#,
            message_text(run, m),
        );
    }
    let _ = body.write_str("]}");
}

/// A whole `POST {target}` request with these headers and body, ready to write on a connection.
pub fn request(out: &mut Vec<u8>, host: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
    out.clear();
    let mut head = Adapter(out);
    let _ = write!(head, "POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// A whole signed `POST /webhooks/api/{account}` request (the generic webhook).
pub fn signed_request(out: &mut Vec<u8>, host: &str, account: &str, secret: &str, body: &[u8]) {
    let signature = switchboard_channels::signature::hmac_sha256_hex(secret.as_bytes(), body);
    let headers = [("Content-Type", "application/json"), ("X-Switchboard-Signature", &format!("sha256={signature}"))];
    request(out, host, &format!("/webhooks/api/{account}"), &headers, body);
}

/// `fmt::Write` into a byte buffer.
struct Adapter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Adapter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// When request `n` of an open-loop run at `rate` requests per second is due, from the start.
/// Latency is measured from this instant, not from when the request could leave: a server that
/// stalls delays every request queued behind the stall, and that delay is counted (the
/// "coordinated omission" a closed loop would hide).
pub fn due(n: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(n as f64 / rate)
}

/// How many requests an open-loop run of `seconds` at `rate` offers.
pub fn offered(rate: f64, seconds: f64) -> u64 {
    (rate * seconds).floor() as u64
}

/// The nearest-rank percentile (`p` in 0..=1) of sorted values; 0 for none.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One keep-alive HTTP/1.1 connection that sends a prepared request and reads the answer.
pub struct Connection {
    address: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

/// An answer: the status and the body's bytes (valid until the next request).
pub struct Reply<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl Connection {
    pub fn new(address: SocketAddr) -> Self {
        Self { address, stream: None, buf: Vec::with_capacity(16 * 1024) }
    }

    /// Sends `request` and reads the answer, connecting first if needed. An I/O error drops
    /// the connection; the next call opens a new one.
    pub async fn round_trip(&mut self, request: &[u8]) -> io::Result<Reply<'_>> {
        match self.exchange(request).await {
            Ok((status, start, end, keep)) => {
                if !keep {
                    self.stream = None;
                }
                Ok(Reply { status, body: &self.buf[start..end] })
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<(u16, usize, usize, bool)> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.address).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(request).await?;
        self.buf.clear();
        let head = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end + 4;
            }
            read_more(stream, &mut self.buf).await?;
        };
        let (status, length, keep) = parse_head(&self.buf[..head])?;
        while self.buf.len() < head + length {
            read_more(stream, &mut self.buf).await?;
        }
        Ok((status, head, head + length, keep))
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How many times `needle` occurs in `haystack` (outcomes in a webhook's answer).
pub fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Status, body length and whether the connection stays open, from a response head.
fn parse_head(head: &[u8]) -> io::Result<(u16, usize, bool)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let text = std::str::from_utf8(head).map_err(|_| bad("a response head that is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let (mut length, mut keep) = (None, true);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| bad("a bad Content-Length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(bad("chunked answers are not expected from a webhook"));
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep = false;
        }
    }
    Ok((status, length.unwrap_or(0), keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.50), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&values, 1.0), 100);
        assert_eq!(percentile(&values, 0.0), 1);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
        // Ten values: p90 is the ninth, p99 the tenth.
        let ten: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile(&ten, 0.90), 9);
        assert_eq!(percentile(&ten, 0.99), 10);
    }

    #[test]
    fn the_open_loop_schedule_spaces_requests_evenly_from_the_start() {
        assert_eq!(due(0, 10_000.0), Duration::ZERO);
        assert_eq!(due(1, 10_000.0), Duration::from_micros(100));
        assert_eq!(due(25_000, 10_000.0), Duration::from_millis(2_500));
        assert_eq!(offered(10_000.0, 30.0), 300_000);
        assert_eq!(offered(2.5, 3.0), 7);
    }

    #[test]
    fn customers_are_spread_over_all_and_repeat() {
        let seen: std::collections::HashSet<u64> = (0..10_000).map(|m| customer_of(m, 100)).collect();
        assert_eq!(seen.len(), 100);
        assert!((0..1000).all(|m| customer_of(m, 7) < 7));
        assert_eq!(customer_of(5, 1), 0);
    }

    #[test]
    fn the_bodies_are_signed_and_parse_as_the_generic_webhook_expects() {
        let mut body = Vec::new();
        webhook_body(&mut body, 42, 10, 3, 1000);
        let items = switchboard_channels::api::parse(&body).expect("the generic webhook parses the body");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].platform_message_id, "42-10");
        assert_eq!(items[0].sender.external_id, format!("42-c{}", customer_of(10, 1000)));
        assert!(items[2].body.as_deref().unwrap().ends_with("(ref zq42x12)"));

        let mut request = Vec::new();
        signed_request(&mut request, "127.0.0.1:8080", "acc", "s3cret", &body);
        let text = String::from_utf8(request).unwrap();
        let (head, sent) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(sent.as_bytes(), body.as_slice());
        assert!(head.starts_with("POST /webhooks/api/acc HTTP/1.1\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let signature = head.lines().find_map(|l| l.strip_prefix("X-Switchboard-Signature: ")).unwrap();
        switchboard_channels::api::verify("s3cret", &body, Some(signature)).expect("the signature verifies");
    }

    #[test]
    fn response_heads_give_status_length_and_keep_alive() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 42\r\n\r\n";
        assert_eq!(parse_head(head).unwrap(), (200, 42, true));
        let head = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n";
        assert_eq!(parse_head(head).unwrap(), (503, 0, false));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert_eq!(occurrences(br#"[{"outcome":"created"},{"outcome":"created"}]"#, br#""outcome":"created""#), 2);
    }
}
