//! A small POP3 client for probing (RFC 1939, CAPA/STLS of RFC 2449/2595, response codes of
//! RFC 3206), and the session opening POP3 checks share. Hand-written for the reasons of
//! [`super::imap`]: refusals as values with their codes, the exact dialog, logins attempted in
//! clear on purpose, every read bounded. The reply parsers are sans-I/O.

use std::future::Future;
use std::net::SocketAddr;

use super::ProbeError;
use super::conn::{Conn, Parsed, split_line};
use super::failure::{OpenFailure, OpenFailureKind, Refusal};
use super::net::NetOptions;
use super::session::{MailboxSession, StartTls, start_tls};
use super::tls::TlsInfo;

/// Longest reply line accepted (RFC 2449 §4 allows 512 octets; servers write more).
pub const MAX_LINE: usize = 4096;
/// Most lines of a multi-line reply.
pub const MAX_LINES: usize = 1000;

/// One reply: `+OK text` or `-ERR [CODE] text`, with the lines of a multi-line body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    /// RFC 2449 §8 response code without brackets: `AUTH`, `SYS/TEMP`, `IN-USE`.
    pub code: Option<String>,
    pub text: String,
    /// The lines of a multi-line body, dot-unstuffed, without the final `.`.
    pub body: Vec<String>,
}

impl Reply {
    /// `-ERR [AUTH] Authentication failed.`
    pub fn summary(&self) -> String {
        let mut out = if self.ok { "+OK" } else { "-ERR" }.to_string();
        if let Some(code) = &self.code {
            out.push_str(&format!(" [{code}]"));
        }
        if !self.text.is_empty() {
            out.push(' ');
            out.push_str(&self.text);
        }
        out
    }

    /// Every line as sent (status line, then the body with its end marker).
    pub fn wire_lines(&self) -> Vec<String> {
        let mut lines = vec![self.summary()];
        if !self.body.is_empty() {
            lines.extend(self.body.iter().map(|l| {
                if l.starts_with('.') {
                    format!(".{l}")
                } else {
                    l.clone()
                }
            }));
            lines.push(".".into());
        }
        lines
    }
}

/// Parses a status line (`+OK ...` / `-ERR ...`).
pub fn parse_status_line(line: &str) -> Option<Reply> {
    let (ok, rest) = if let Some(rest) = line.strip_prefix("+OK") {
        (true, rest)
    } else if let Some(rest) = line.strip_prefix("-ERR") {
        (false, rest)
    } else {
        return None;
    };
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let rest = rest.trim_start();
    let (code, text) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((code, text)) => (Some(code.to_string()), text.trim_start()),
        None => (None, rest),
    };
    Some(Reply {
        ok,
        code,
        text: text.to_string(),
        body: Vec::new(),
    })
}

/// One single-line reply from `buf`.
pub fn parse_reply(buf: &[u8]) -> Parsed<Reply> {
    let Some((line, used)) = split_line(buf, MAX_LINE)? else {
        return Ok(None);
    };
    match parse_status_line(&line) {
        Some(reply) => Ok(Some((reply, used))),
        None => Err(format!("not a POP3 reply: {line:?}")),
    }
}

/// A reply that has a multi-line body when positive (CAPA, LIST...): up to the line `.`.
pub fn parse_multiline(buf: &[u8]) -> Parsed<Reply> {
    let Some((mut reply, mut pos)) = parse_reply(buf)? else {
        return Ok(None);
    };
    if !reply.ok {
        return Ok(Some((reply, pos)));
    }
    loop {
        let Some((line, used)) = split_line(&buf[pos..], MAX_LINE)? else {
            return Ok(None);
        };
        pos += used;
        if line == "." {
            return Ok(Some((reply, pos)));
        }
        if reply.body.len() >= MAX_LINES {
            return Err(format!("more than {MAX_LINES} lines in one reply"));
        }
        reply
            .body
            .push(line.strip_prefix('.').unwrap_or(&line).to_string());
    }
}

/// CAPA's answer (RFC 2449), uppercased capability names with their arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities(Vec<String>);

impl Capabilities {
    pub fn from_body(body: &[String]) -> Capabilities {
        Capabilities(body.iter().map(|l| l.trim().to_string()).collect())
    }

    /// Whether the capability `name` (first word) is listed.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    }

    /// The SASL mechanisms listed by `SASL ...`.
    pub fn sasl(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                words
                    .next()
                    .is_some_and(|w| w.eq_ignore_ascii_case("SASL"))
                    .then(|| words.collect::<Vec<_>>())
            })
            .flatten()
            .collect()
    }
}

/// One POP3 connection: sends commands, reads replies, records everything said.
pub struct Pop3Client {
    pub conn: Conn,
}

impl Pop3Client {
    pub async fn read(&mut self, multiline: bool) -> Result<Reply, ProbeError> {
        let reply = if multiline {
            self.conn.read_with(parse_multiline, "POP3 reply").await?
        } else {
            self.conn.read_with(parse_reply, "POP3 reply").await?
        };
        for line in reply.wire_lines() {
            self.conn.transcript.server(&line);
        }
        Ok(reply)
    }

    /// Sends one command and reads its single-line reply.
    pub async fn command(&mut self, line: &str) -> Result<Reply, ProbeError> {
        self.conn.send(line).await?;
        self.read(false).await
    }

    /// Sends a command whose positive reply has a body (CAPA).
    pub async fn command_multiline(&mut self, line: &str) -> Result<Reply, ProbeError> {
        self.conn.send(line).await?;
        self.read(true).await
    }

    /// Sends a command that carries a secret; the transcript shows `shown` instead.
    pub async fn command_redacted(&mut self, line: &str, shown: &str) -> Result<Reply, ProbeError> {
        self.conn.send_redacted(line, shown).await?;
        self.read(false).await
    }

    /// QUIT without waiting long.
    pub async fn quit(mut self) {
        let quick = std::time::Duration::from_millis(500).min(self.conn.timeout());
        let _ = tokio::time::timeout(quick, self.command("QUIT")).await;
        self.conn.close().await;
    }
}

/// How to open a POP3 session.
#[derive(Clone, Debug)]
pub struct Pop3Options {
    pub addr: SocketAddr,
    pub server_name: String,
    /// TLS from the first byte (995).
    pub implicit_tls: bool,
    /// STLS after the greeting, then CAPA again.
    pub starttls: bool,
}

/// An opened POP3 session: greeted, CAPA asked (and upgraded, when asked).
pub struct Pop3Session {
    pub client: Pop3Client,
    pub greeting: Reply,
    /// CAPA in force (empty when the server does not know CAPA).
    pub capabilities: Capabilities,
    /// Whether CAPA was answered at all (RFC 2449 is optional).
    pub capa_known: bool,
    /// Before STLS: the capabilities seen in clear.
    pub before_tls: Option<Capabilities>,
    opening_lines: usize,
}

impl Pop3Session {
    pub fn opening(&self) -> Vec<String> {
        let lines = self.client.conn.transcript.lines();
        lines[..self.opening_lines.min(lines.len())].to_vec()
    }

    pub fn transcript(&self) -> Vec<String> {
        self.client.conn.transcript.lines().to_vec()
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        self.client.conn.tls()
    }

    pub async fn quit(self) {
        self.client.quit().await;
    }

    pub async fn open(options: &Pop3Options, net: &NetOptions) -> Result<Pop3Session, OpenFailure> {
        let tls_name = options.implicit_tls.then_some(options.server_name.as_str());
        let mut client = Pop3Client {
            conn: Conn::open(options.addr, tls_name, net).await?,
        };
        let greeting = match client.read(false).await {
            Ok(reply) if reply.ok => reply,
            Ok(reply) => {
                let refusal = Refusal {
                    summary: reply.summary(),
                    transient: reply
                        .code
                        .as_deref()
                        .is_some_and(|c| c.starts_with("SYS/TEMP")),
                    code: None,
                };
                let kind = OpenFailureKind::GreetingRefused(refusal);
                return Err(client.conn.abandon(kind));
            }
            Err(err) => return Err(client.conn.abandon(OpenFailureKind::NoGreeting(err))),
        };
        let (capabilities, capa_known) = match ask_capabilities(&mut client).await {
            Ok(pair) => pair,
            Err(err) => return Err(client.conn.abandon(OpenFailureKind::Broken(err))),
        };
        let mut session = Pop3Session {
            client,
            greeting,
            capabilities,
            capa_known,
            before_tls: None,
            opening_lines: 0,
        };
        if options.starttls
            && !options.implicit_tls
            && let Err(kind) = start_tls(&mut session, &options.server_name).await
        {
            return Err(session.client.conn.abandon(kind));
        }
        session.opening_lines = session.client.conn.transcript.lines().len();
        Ok(session)
    }
}

impl StartTls for Pop3Session {
    /// Unknown without CAPA: STLS is tried anyway (RFC 2595 servers answer `-ERR`).
    fn offers_start_tls(&self) -> Option<bool> {
        self.capa_known.then(|| self.capabilities.has("STLS"))
    }

    async fn ask_start_tls(&mut self) -> Result<Result<(), Refusal>, ProbeError> {
        let reply = self.client.command("STLS").await?;
        Ok(if reply.ok {
            Ok(())
        } else {
            Err(Refusal::permanent(reply.summary()))
        })
    }

    fn conn(&mut self) -> &mut Conn {
        &mut self.client.conn
    }

    async fn ask_again(&mut self) -> Result<(), OpenFailureKind> {
        let (capabilities, _) = ask_capabilities(&mut self.client)
            .await
            .map_err(OpenFailureKind::Broken)?;
        self.before_tls = Some(std::mem::replace(&mut self.capabilities, capabilities));
        Ok(())
    }
}

/// CAPA; a server without it (`-ERR`) has unknown capabilities, which is not a failure.
async fn ask_capabilities(client: &mut Pop3Client) -> Result<(Capabilities, bool), ProbeError> {
    let reply = client.command_multiline("CAPA").await?;
    if reply.ok {
        Ok((Capabilities::from_body(&reply.body), true))
    } else {
        Ok((Capabilities::default(), false))
    }
}

impl MailboxSession for Pop3Session {
    fn open_on(
        addr: SocketAddr,
        server_name: String,
        implicit_tls: bool,
        starttls: bool,
        net: &NetOptions,
    ) -> impl Future<Output = Result<Self, OpenFailure>> + Send {
        let options = Pop3Options {
            addr,
            server_name,
            implicit_tls,
            starttls,
        };
        async move { Pop3Session::open(&options, net).await }
    }

    fn tls(&self) -> Option<&TlsInfo> {
        self.client.conn.tls()
    }

    fn opening(&self) -> Vec<String> {
        Pop3Session::opening(self)
    }

    fn transcript(&self) -> Vec<String> {
        Pop3Session::transcript(self)
    }

    fn talks_from_server_address(&self) -> bool {
        self.client.conn.from_server_address()
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        Pop3Session::quit(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_with_and_without_codes() {
        let (reply, used) = parse_reply(b"+OK mail.ref.test ready.\r\n")
            .unwrap()
            .unwrap();
        assert!(reply.ok);
        assert_eq!(used, 26);
        assert_eq!(reply.text, "mail.ref.test ready.");
        let (reply, _) = parse_reply(
            b"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(!reply.ok);
        assert_eq!(reply.code.as_deref(), Some("AUTH"));
        assert!(reply.text.starts_with("Plaintext"));
        assert_eq!(
            parse_status_line("-ERR [SYS/TEMP] busy").unwrap().summary(),
            "-ERR [SYS/TEMP] busy"
        );
        assert!(parse_status_line("+OKAY").is_none());
        assert!(parse_status_line("+OK").unwrap().text.is_empty());
    }

    #[test]
    fn multiline_capa_is_read_to_the_dot_and_unstuffed() {
        let raw = b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nSASL\r\n..odd\r\n.\r\nafter";
        let (reply, used) = parse_multiline(raw).unwrap().unwrap();
        assert_eq!(used, raw.len() - 5);
        let caps = Capabilities::from_body(&reply.body);
        assert!(caps.has("stls") && caps.has("TOP") && !caps.has("USER"));
        assert!(caps.sasl().is_empty());
        assert_eq!(reply.body.last().unwrap(), ".odd");
        assert_eq!(reply.wire_lines().last().unwrap(), ".");
        assert_eq!(parse_multiline(b"+OK\r\nTOP\r\n").unwrap(), None);
        // A negative reply has no body.
        let (reply, used) = parse_multiline(b"-ERR unknown command\r\nx")
            .unwrap()
            .unwrap();
        assert!(!reply.ok && used == 22);
    }

    #[test]
    fn sasl_mechanisms_and_user() {
        let caps = Capabilities::from_body(&["USER".into(), "SASL PLAIN LOGIN".into()]);
        assert!(caps.has("USER"));
        assert_eq!(caps.sasl(), ["PLAIN", "LOGIN"]);
    }

    #[test]
    fn garbage_and_partial_input() {
        assert!(parse_reply(b"220 smtp.example ESMTP\r\n").is_err());
        assert_eq!(parse_reply(b"+OK no end").unwrap(), None);
        assert!(parse_reply(&[b'+'; MAX_LINE + 2]).is_err());
        let raw = b"+OK\r\nTOP\r\n.\r\n";
        for end in 0..raw.len() {
            assert_eq!(parse_multiline(&raw[..end]).unwrap(), None);
        }
    }
}
