//! A small SMTP client for probing, and the session opening every SMTP check shares.
//!
//! Written here rather than on lettre because probing needs what a mail-sending library hides:
//! 4xx/5xx replies as values (lettre turns them into `Err`), the exact transcript, commands a
//! sender never issues (VRFY, EXPN, AUTH with made-up credentials), a completed handshake
//! whatever the certificate, and control over pipelining and retries.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::ProbeError;
use super::conn::Conn;
use super::failure::{OpenFailure, OpenFailureKind, Refusal};
use super::net::NetOptions;
use super::reply::{Capabilities, Reply, parse_reply};
use super::session::{StartTls, start_tls};
use super::tls::TlsInfo;
use super::transcript::{Mark, Transcript};

/// A reply slower than this is noted in the transcript: Postfix sleeps
/// `smtpd_error_sleep_time` (1 s) per reply once a client made too many errors.
const SLOW_REPLY: Duration = Duration::from_millis(900);

/// One SMTP connection: sends commands, reads typed replies. The connection under it bounds
/// every read and write, records everything said and upgrades to TLS.
pub struct SmtpClient {
    pub conn: Conn,
    /// Replies that took longer than [`SLOW_REPLY`].
    pub slow_replies: usize,
}

impl SmtpClient {
    pub fn new(conn: Conn) -> SmtpClient {
        SmtpClient {
            conn,
            slow_replies: 0,
        }
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.conn.tls()
    }

    /// Reads one complete reply, bounded by the timeout, and records it.
    pub async fn read_reply(&mut self) -> Result<Reply, ProbeError> {
        let started = Instant::now();
        let reply = self
            .conn
            .read_with(|buf| parse_reply(buf).map_err(|e| e.to_string()), "reply")
            .await?;
        for line in reply.wire_lines() {
            self.conn.transcript.server(&line);
        }
        let took = started.elapsed();
        if took >= SLOW_REPLY {
            self.slow_replies += 1;
            self.conn
                .transcript
                .note(&format!("that reply took {} ms", took.as_millis()));
        }
        Ok(reply)
    }

    /// Sends one command and waits for its reply.
    pub async fn command(&mut self, line: &str) -> Result<Reply, ProbeError> {
        self.conn.send(line).await?;
        self.read_reply().await
    }

    /// Sends a command that carries a secret; the transcript shows `shown` instead.
    pub async fn command_redacted(&mut self, line: &str, shown: &str) -> Result<Reply, ProbeError> {
        self.conn.send_redacted(line, shown).await?;
        self.read_reply().await
    }

    /// Says goodbye without waiting long: the verdicts are already in.
    pub async fn quit(mut self) {
        let quick = Duration::from_millis(500).min(self.conn.timeout());
        let _ = tokio::time::timeout(quick, self.command("QUIT")).await;
        self.conn.close().await;
    }
}

/// How to open a session.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    pub addr: SocketAddr,
    /// Host name for SNI (the address when there is none).
    pub server_name: String,
    /// TLS from the first byte (465).
    pub implicit_tls: bool,
    /// STARTTLS after the first EHLO, then EHLO again.
    pub starttls: bool,
    /// The name to greet with; `None` uses the address literal of our end of the connection.
    pub helo_name: Option<String>,
    /// Pause before the one polite retry after a `421`/`4xx` greeting or a `454` to STARTTLS.
    pub retry_pause: Duration,
}

/// An opened SMTP session: greeted, EHLO'd (and upgraded, when asked).
pub struct Session {
    pub client: SmtpClient,
    pub greeting: Reply,
    /// The EHLO (or HELO) reply in force: after STARTTLS, the one after TLS.
    pub hello: Reply,
    pub capabilities: Capabilities,
    /// Before STARTTLS: the EHLO reply and capabilities seen in clear.
    pub before_tls: Option<(Reply, Capabilities)>,
    /// The HELO name used.
    pub helo_name: String,
    opening_end: Mark,
}

impl Session {
    /// The opening dialog: greeting, EHLO, STARTTLS and the EHLO after it.
    pub fn opening(&self) -> Vec<String> {
        self.client
            .conn
            .transcript
            .between(Mark::default_start(), self.opening_end)
    }

    pub fn mark(&self) -> Mark {
        self.client.conn.transcript.mark()
    }

    /// Where the opening dialog ended.
    pub fn opening_mark(&self) -> Mark {
        self.opening_end
    }

    pub fn since(&self, mark: Mark) -> Vec<String> {
        self.client.conn.transcript.since(mark)
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.client.tls()
    }

    /// Resets the transaction so the next check starts clean; `false` when the session died.
    pub async fn reset(&mut self) -> bool {
        matches!(self.client.command("RSET").await, Ok(reply) if reply.is_positive())
    }
}

impl Mark {
    fn default_start() -> Mark {
        Transcript::default().mark()
    }
}

impl From<&Reply> for Refusal {
    fn from(reply: &Reply) -> Refusal {
        Refusal {
            summary: reply.summary(),
            transient: reply.is_transient(),
            code: Some(reply.code),
        }
    }
}

impl Session {
    /// Opens a session, with one polite retry after a deferring greeting or a `454` to STARTTLS.
    pub async fn open(options: &OpenOptions, net: &NetOptions) -> Result<Session, OpenFailure> {
        match Session::open_once(options, net).await {
            Err(first) if first.retryable() => {
                tokio::time::sleep(options.retry_pause).await;
                Session::open_once(options, net)
                    .await
                    .map_err(|mut second| {
                        let mut evidence = first.evidence;
                        evidence.push(format!(
                            "* retrying once after {} ms",
                            options.retry_pause.as_millis()
                        ));
                        evidence.append(&mut second.evidence);
                        second.evidence = evidence;
                        second
                    })
            }
            other => other,
        }
    }

    async fn open_once(options: &OpenOptions, net: &NetOptions) -> Result<Session, OpenFailure> {
        let tls_name = options.implicit_tls.then_some(options.server_name.as_str());
        let mut client = SmtpClient::new(Conn::open(options.addr, tls_name, net).await?);
        let fail = |client: SmtpClient, kind| {
            let evidence = client.conn.transcript.lines().to_vec();
            // Say goodbye in the background: the failure is already known.
            tokio::spawn(client.quit());
            Err(OpenFailure { kind, evidence })
        };
        let greeting = match client.read_reply().await {
            Ok(reply) if reply.code == 220 => reply,
            Ok(reply) => {
                return fail(
                    client,
                    OpenFailureKind::GreetingRefused(Refusal::from(&reply)),
                );
            }
            Err(err) => return fail(client, OpenFailureKind::NoGreeting(err)),
        };
        let helo_name = options.helo_name.clone().unwrap_or_else(|| {
            helo_literal(
                net.bind_for(options.addr.ip())
                    .or(client.conn.local.map(|l| l.ip())),
            )
        });
        let (hello, capabilities) = match say_hello(&mut client, &helo_name).await {
            Ok(pair) => pair,
            Err(kind) => return fail(client, kind),
        };
        let mut session = Session {
            client,
            greeting,
            hello,
            capabilities,
            before_tls: None,
            helo_name,
            opening_end: Mark::default_start(),
        };
        if options.starttls
            && !options.implicit_tls
            && let Err(kind) = start_tls(&mut session, &options.server_name).await
        {
            return fail(session.client, kind);
        }
        session.opening_end = session.client.conn.transcript.mark();
        Ok(session)
    }
}

impl StartTls for Session {
    fn offers_start_tls(&self) -> Option<bool> {
        Some(self.capabilities.has("STARTTLS"))
    }

    async fn ask_start_tls(&mut self) -> Result<Result<(), Refusal>, ProbeError> {
        let reply = self.client.command("STARTTLS").await?;
        Ok(if reply.code == 220 {
            Ok(())
        } else {
            Err(Refusal::from(&reply))
        })
    }

    fn conn(&mut self) -> &mut Conn {
        &mut self.client.conn
    }

    async fn ask_again(&mut self) -> Result<(), OpenFailureKind> {
        let (hello, capabilities) = say_hello(&mut self.client, &self.helo_name).await?;
        let clear_hello = std::mem::replace(&mut self.hello, hello);
        let clear_capabilities = std::mem::replace(&mut self.capabilities, capabilities);
        self.before_tls = Some((clear_hello, clear_capabilities));
        Ok(())
    }
}

/// EHLO, falling back to HELO when EHLO is refused as a command (RFC 5321 §3.2).
async fn say_hello(
    client: &mut SmtpClient,
    name: &str,
) -> Result<(Reply, Capabilities), OpenFailureKind> {
    let reply = client
        .command(&format!("EHLO {name}"))
        .await
        .map_err(OpenFailureKind::Broken)?;
    if reply.code == 250 {
        let caps = Capabilities::from_ehlo(&reply);
        return Ok((reply, caps));
    }
    if !matches!(reply.code, 500 | 502) {
        return Err(OpenFailureKind::HelloRefused(Refusal::from(&reply)));
    }
    let reply = client
        .command(&format!("HELO {name}"))
        .await
        .map_err(OpenFailureKind::Broken)?;
    if reply.code == 250 {
        Ok((reply, Capabilities::default()))
    } else {
        Err(OpenFailureKind::HelloRefused(Refusal::from(&reply)))
    }
}

/// `[127.0.0.2]` / `[IPv6:::1]`: the address literal of our end of the connection, the honest
/// HELO name of a client without one (RFC 5321 §4.1.3); `mailcheck.invalid` when that address
/// is unknown. The one place every SMTP opener (probes, submission, raw TLS) gets it from.
pub fn helo_literal(ours: Option<IpAddr>) -> String {
    match ours {
        Some(IpAddr::V4(ip)) => format!("[{ip}]"),
        Some(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        None => "mailcheck.invalid".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helo_literal_is_the_address_in_rfc_5321_form() {
        assert_eq!(
            helo_literal(Some("127.0.100.2".parse().unwrap())),
            "[127.0.100.2]"
        );
        assert_eq!(
            helo_literal(Some("2001:db8::2".parse().unwrap())),
            "[IPv6:2001:db8::2]"
        );
        assert_eq!(helo_literal(None), "mailcheck.invalid");
    }
}
