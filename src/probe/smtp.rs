//! A small SMTP client for probing, and the session opening every SMTP check shares.
//!
//! Written here rather than on lettre because probing needs what a mail-sending library hides:
//! 4xx/5xx replies as values (lettre turns them into `Err`), the exact transcript, commands a
//! sender never issues (VRFY, EXPN, AUTH with made-up credentials), a completed handshake
//! whatever the certificate, and control over pipelining and retries.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ProbeError;
use super::net::{NetOptions, connect};
use super::reply::{Capabilities, Reply, parse_reply};
use super::session::{OpenFailure, OpenFailureKind, Refusal};
use super::stream::Stream;
use super::tls::{TlsInfo, handshake};
use super::transcript::{Mark, Transcript};

/// A reply slower than this is noted in the transcript: Postfix sleeps
/// `smtpd_error_sleep_time` (1 s) per reply once a client made too many errors.
const SLOW_REPLY: Duration = Duration::from_millis(900);

/// One SMTP connection: sends commands, reads typed replies, records everything said.
pub struct SmtpClient {
    stream: Stream,
    buf: Vec<u8>,
    pub transcript: Transcript,
    timeout: Duration,
    tls: Option<TlsInfo>,
    /// Replies that took longer than [`SLOW_REPLY`].
    pub slow_replies: usize,
}

impl SmtpClient {
    /// Connects, and for implicit TLS (465) completes the handshake before anything is read.
    pub async fn connect(
        addr: SocketAddr,
        implicit_tls: Option<&str>,
        net: &NetOptions,
    ) -> Result<SmtpClient, (ProbeError, Transcript)> {
        let mut transcript = Transcript::default();
        let tcp = match connect(addr, net).await {
            Ok(tcp) => tcp,
            Err(err) => {
                transcript.note(&format!("connect to {addr}: {err}"));
                return Err((err, transcript));
            }
        };
        let mut client = SmtpClient {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
            transcript,
            timeout: net.timeout,
            tls: None,
            slow_replies: 0,
        };
        client.transcript.note(&format!("connected to {addr}"));
        if let Some(name) = implicit_tls
            && let Err(err) = client.upgrade(name).await
        {
            return Err((err, client.transcript));
        }
        Ok(client)
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// Reads one complete reply, bounded by the timeout.
    pub async fn read_reply(&mut self) -> Result<Reply, ProbeError> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    for line in reply.wire_lines() {
                        self.transcript.server(&line);
                    }
                    let took = started.elapsed();
                    if took >= SLOW_REPLY {
                        self.slow_replies += 1;
                        self.transcript
                            .note(&format!("that reply took {} ms", took.as_millis()));
                    }
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(err) => {
                    let shown =
                        String::from_utf8_lossy(&self.buf[..self.buf.len().min(120)]).into_owned();
                    self.transcript
                        .note(&format!("unparseable reply: {shown:?}"));
                    return Err(ProbeError::Garbage(err.to_string()));
                }
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await;
            match read {
                Err(_) => {
                    self.transcript.note(&format!(
                        "no complete reply within {} s",
                        self.timeout.as_secs_f32()
                    ));
                    return Err(ProbeError::Timeout {
                        during: "reply".into(),
                        after: self.timeout,
                    });
                }
                Ok(Err(err)) => {
                    self.transcript.note(&format!("read failed: {err}"));
                    return Err(ProbeError::Io(err.to_string()));
                }
                Ok(Ok(0)) => {
                    self.transcript.note("server closed the connection");
                    return Err(ProbeError::Closed);
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    async fn write_line(&mut self, line: &str) -> Result<(), ProbeError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        let write = async {
            self.stream.write_all(&bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                self.transcript.note(&format!("write failed: {err}"));
                Err(ProbeError::Io(err.to_string()))
            }
            Err(_) => Err(ProbeError::Timeout {
                during: "write".into(),
                after: self.timeout,
            }),
        }
    }

    /// Sends one command and waits for its reply.
    pub async fn command(&mut self, line: &str) -> Result<Reply, ProbeError> {
        self.transcript.client(line);
        self.write_line(line).await?;
        self.read_reply().await
    }

    /// Sends a command that carries a secret; the transcript shows `shown` instead.
    pub async fn command_redacted(&mut self, line: &str, shown: &str) -> Result<Reply, ProbeError> {
        self.transcript.client_redacted(shown);
        self.write_line(line).await?;
        self.read_reply().await
    }

    /// Upgrades the connection to TLS (after a `220` to STARTTLS, or at once for implicit TLS).
    pub async fn upgrade(&mut self, server_name: &str) -> Result<&TlsInfo, ProbeError> {
        if !self.buf.is_empty() {
            // RFC 3207 §6: anything the server sent before the handshake must be thrown away.
            self.transcript.note(&format!(
                "discarding {} byte(s) sent before the TLS handshake",
                self.buf.len()
            ));
            self.buf.clear();
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(ProbeError::Tls("connection is already TLS".into()));
        };
        match handshake(tcp, server_name, self.timeout).await {
            Ok((tls, info)) => {
                self.transcript.note(&info.describe());
                self.stream = Stream::Tls(Box::new(tls));
                Ok(self.tls.insert(info))
            }
            Err(err) => {
                self.transcript
                    .note(&format!("TLS handshake failed: {err}"));
                Err(err)
            }
        }
    }

    /// Says goodbye without waiting long: the verdicts are already in.
    pub async fn quit(mut self) {
        self.transcript.client("QUIT");
        let quick = Duration::from_millis(500).min(self.timeout);
        let _ = tokio::time::timeout(quick, async {
            if self.write_line("QUIT").await.is_ok() {
                let _ = self.read_reply().await;
            }
            let _ = self.stream.shutdown().await;
        })
        .await;
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
            .transcript
            .between(Mark::default_start(), self.opening_end)
    }

    pub fn mark(&self) -> Mark {
        self.client.transcript.mark()
    }

    /// Where the opening dialog ended.
    pub fn opening_mark(&self) -> Mark {
        self.opening_end
    }

    pub fn since(&self, mark: Mark) -> Vec<String> {
        self.client.transcript.since(mark)
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
        let mut client = match SmtpClient::connect(options.addr, tls_name, net).await {
            Ok(client) => client,
            Err((err, transcript)) => {
                let kind = if err.is_unreachable()
                    || matches!(err, ProbeError::Timeout { ref during, .. } if during == "connect")
                {
                    OpenFailureKind::Unreachable(err)
                } else {
                    OpenFailureKind::ImplicitTls(err)
                };
                return Err(OpenFailure {
                    kind,
                    evidence: transcript.lines().to_vec(),
                });
            }
        };
        let fail = |client: SmtpClient, kind| {
            let evidence = client.transcript.lines().to_vec();
            // Close in the background: the failure is already known.
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
        let helo_name = options
            .helo_name
            .clone()
            .unwrap_or_else(|| local_literal(options.addr, net));
        let (hello, capabilities) = match say_hello(&mut client, &helo_name).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(reply)) => {
                return fail(client, OpenFailureKind::HelloRefused(Refusal::from(&reply)));
            }
            Err(err) => return fail(client, OpenFailureKind::Broken(err)),
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
        if options.starttls && !options.implicit_tls {
            if !session.capabilities.has("STARTTLS") {
                return fail(session.client, OpenFailureKind::StartTlsNotOffered);
            }
            match session.client.command("STARTTLS").await {
                Ok(reply) if reply.code == 220 => {}
                Ok(reply) => {
                    return fail(
                        session.client,
                        OpenFailureKind::StartTlsRefused(Refusal::from(&reply)),
                    );
                }
                Err(err) => return fail(session.client, OpenFailureKind::Broken(err)),
            }
            if let Err(err) = session.client.upgrade(&options.server_name).await {
                return fail(session.client, OpenFailureKind::StartTlsHandshake(err));
            }
            // RFC 3207 §4.2: forget what was learnt in clear and ask again.
            match say_hello(&mut session.client, &session.helo_name).await {
                Ok(Ok((reply, caps))) => {
                    let clear_reply = std::mem::replace(&mut session.hello, reply);
                    let clear_caps = std::mem::replace(&mut session.capabilities, caps);
                    session.before_tls = Some((clear_reply, clear_caps));
                }
                Ok(Err(reply)) => {
                    return fail(
                        session.client,
                        OpenFailureKind::HelloRefused(Refusal::from(&reply)),
                    );
                }
                Err(err) => return fail(session.client, OpenFailureKind::Broken(err)),
            }
        }
        session.opening_end = session.client.transcript.mark();
        Ok(session)
    }
}

/// EHLO, falling back to HELO when EHLO is refused as a command (RFC 5321 §3.2).
/// The inner `Err` is a refusal of both.
async fn say_hello(
    client: &mut SmtpClient,
    name: &str,
) -> Result<Result<(Reply, Capabilities), Reply>, ProbeError> {
    let reply = client.command(&format!("EHLO {name}")).await?;
    if reply.code == 250 {
        let caps = Capabilities::from_ehlo(&reply);
        return Ok(Ok((reply, caps)));
    }
    if !matches!(reply.code, 500 | 502) {
        return Ok(Err(reply));
    }
    let reply = client.command(&format!("HELO {name}")).await?;
    if reply.code == 250 {
        Ok(Ok((reply, Capabilities::default())))
    } else {
        Ok(Err(reply))
    }
}

/// `[127.0.0.2]` / `[IPv6:::1]`: an honest HELO name for a client without one (RFC 5321 §4.1.3).
fn local_literal(peer: SocketAddr, net: &NetOptions) -> String {
    match net.bind {
        Some(std::net::IpAddr::V4(ip)) => format!("[{ip}]"),
        Some(std::net::IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        None if peer.ip().is_loopback() => "[127.0.0.1]".to_string(),
        None => "mailcheck.invalid".to_string(),
    }
}
